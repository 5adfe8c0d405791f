"""Ground truth of a run: every produced Kafka record with its fault label, as JSON Lines, and
a `<file>.summary.json` sidecar with the counts. The loader and the `expected_*` helpers let
tests compute what bronze/silver/quarantine/late should hold."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from generator.contract import DUPLICATE, FAULTS, LATE, MALFORMED, REASONS
from generator.model import Record

CLEAN = "clean"


@dataclass(frozen=True, slots=True)
class GroundTruthRecord:
    seq: int
    key: str
    value: str  # the exact payload
    partition: int | None
    fault: str | None
    reason: str | None
    event_id: str | None

    @property
    def is_valid_on_time(self) -> bool:
        """Reaches silver unless its event_id was seen before (clean or out_of_order)."""
        return self.fault not in (MALFORMED, LATE)

    def event(self) -> dict:
        """The payload parsed (raises for an invalid_json record)."""
        return orjson.loads(self.value)


@dataclass(frozen=True)
class LayerCounts:
    """Expected rows per lake table for one run (docs/lake.md accounting identity)."""

    bronze: int
    silver: int
    quarantine: int
    late: int
    duplicates: int
    quarantine_by_reason: dict[str, int]


def summary_path(path: Path) -> Path:
    return path.with_name(path.name + ".summary.json")


class GroundTruthWriter:
    """Appends records in production order; `close()` writes the summary sidecar."""

    def __init__(self, path: Path, run_info: dict[str, Any] | None = None) -> None:
        self.path = path
        self.run_info = dict(run_info or {})
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] = open(path, "wb", buffering=1 << 20)  # noqa: SIM115
        self._seq = 0
        self._faults: Counter[str] = Counter()
        self._reasons: Counter[str] = Counter()

    def write(self, record: Record) -> None:
        key, value, partition, fault, reason, event_id = record
        self._file.write(
            orjson.dumps(
                {
                    "seq": self._seq,
                    "key": key,
                    "value": value.decode(),
                    "partition": partition,
                    "fault": fault,
                    "reason": reason,
                    "event_id": event_id,
                }
            )
        )
        self._file.write(b"\n")
        self._seq += 1
        self._faults[fault or CLEAN] += 1
        if reason is not None:
            self._reasons[reason] += 1

    def close(self, **extra: Any) -> dict[str, Any]:
        """Close the file and write the summary (run_info, counts, `extra`); returns it."""
        self._file.close()
        faults = {name: self._faults.get(name, 0) for name in (CLEAN, *FAULTS)}
        summary = {
            **self.run_info,
            **extra,
            "records": self._seq,
            "faults": faults,
            "reasons": {name: self._reasons[name] for name in REASONS if self._reasons[name]},
            "expected": {
                "bronze": self._seq,
                "silver": faults[CLEAN] + faults["out_of_order"],
                "quarantine": faults[MALFORMED],
                "late": faults[LATE],
                "duplicates": faults[DUPLICATE],
            },
        }
        summary_path(self.path).write_bytes(
            orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n"
        )
        return summary

    def __enter__(self) -> GroundTruthWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._file.closed:
            self.close()


def load_ground_truth(path: Path) -> list[GroundTruthRecord]:
    """The records of a ground-truth file, in production order."""
    with open(path, "rb") as file:
        return [GroundTruthRecord(**orjson.loads(line)) for line in file if line.strip()]


def load_summary(path: Path) -> dict[str, Any]:
    """The summary sidecar of a ground-truth file (pass the .jsonl path)."""
    return orjson.loads(summary_path(path).read_bytes())


def expected_layer_counts(records: list[GroundTruthRecord]) -> LayerCounts:
    """Rows expected in bronze, silver, quarantine and late, and the duplicates dropped."""
    faults = Counter(record.fault for record in records)
    reasons = Counter(record.reason for record in records if record.fault == MALFORMED)
    return LayerCounts(
        bronze=len(records),
        silver=len(expected_silver_events(records)),
        quarantine=faults[MALFORMED],
        late=faults[LATE],
        duplicates=faults[DUPLICATE],
        quarantine_by_reason={name: reasons[name] for name in REASONS if reasons[name]},
    )


def expected_silver_events(records: list[GroundTruthRecord]) -> list[dict]:
    """The parsed events silver keeps: valid, on time, first record of each event_id."""
    seen: set[str] = set()
    events = []
    for record in records:
        if not record.is_valid_on_time or record.event_id in seen:
            continue
        seen.add(record.event_id)  # type: ignore[arg-type]
        events.append(record.event())
    return events


def expected_late_event_ids(records: list[GroundTruthRecord]) -> list[str]:
    return [record.event_id for record in records if record.fault == LATE]  # type: ignore[misc]
