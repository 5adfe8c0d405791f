"""What the deduplication state costs: every event_id is remembered for `dedup_state_ttl` after
its first arrival, so at steady state the state holds rate x retention ids. `jobs.py status`
prints it at the current input rate; `describe_dedup` gives it at stated rates (for `plan`).
The bytes per id were measured from real checkpoints (docs/operations.md, "State")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stack.config import Config

# RocksDB (the default state_backend): the deduplication operator's share of a full checkpoint
# divided by the ids it held, measured as docs/operations.md describes. The heap (hashmap) keeps
# Java objects per id, several times this, and snapshots all of it every checkpoint.
DEDUP_BYTES_PER_ID = 46

_UNITS_S = {
    "ms": 0.001,
    "milli": 0.001,
    "millis": 0.001,
    "millisecond": 0.001,
    "milliseconds": 0.001,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "min": 60.0,
    "m": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")


def duration_s(text: str) -> float:
    """A Flink duration ('10 s', '1 h', '500 ms', '90min'; a bare number is milliseconds) in
    seconds."""
    match = _DURATION.match(text.lower())
    if not match or (match.group(2) and match.group(2) not in _UNITS_S):
        raise ValueError(f"not a duration: {text!r} (e.g. '30 s', '10 min', '1 h')")
    number, unit = float(match.group(1)), match.group(2) or "ms"
    return number * _UNITS_S[unit]


@dataclass(frozen=True)
class DedupStateCost:
    """The deduplication state at steady state for one input rate."""

    records_per_s: float
    retention_s: float
    bytes_per_id: int = DEDUP_BYTES_PER_ID

    @property
    def ids(self) -> int:
        return round(self.records_per_s * self.retention_s)

    @property
    def size_bytes(self) -> int:
        return self.ids * self.bytes_per_id

    def describe(self) -> str:
        return (
            f"{self.records_per_s:,.0f} records/s x {format_duration(self.retention_s)} = "
            f"{self.ids:,} ids x {self.bytes_per_id} B = {format_bytes(self.size_bytes)}"
        )


def dedup_state_cost(config: Config, records_per_s: float) -> DedupStateCost:
    return DedupStateCost(records_per_s, duration_s(config.dedup_state_ttl))


def describe_dedup(config: Config, rates: tuple[float, ...] = (1_000, 10_000, 25_000)) -> str:
    """The retention setting, what it guarantees, and its cost at each rate (for `plan`)."""
    lines = [
        f"deduplication: an event_id is remembered for dedup_state_ttl = {config.dedup_state_ttl}"
        " after its first arrival; a copy arriving later passes as a new event",
    ]
    lines += [f"  state at {dedup_state_cost(config, rate).describe()}" for rate in rates]
    return "\n".join(lines)


def format_bytes(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(size) < 1000 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def format_duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
