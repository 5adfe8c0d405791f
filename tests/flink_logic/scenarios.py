"""Given/expect cases over the shared run: each case's records get a band of event time and a
range of Kafka offsets of their own in one input, so one job serves every case, and each view's
rows are split back by case (by Kafka offset, else by the window or event time they belong to).
Datetimes in a case are offsets from its start, a window boundary: T("01:00") in given.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

from flink_harness import FlinkViews, KafkaRecord

ValueTemplate = bytes | None | Callable[[datetime], bytes | None]


@dataclass(frozen=True)
class Given:
    """One Kafka record of a case: its value (bytes, or built from the case's start time) and its
    Kafka timestamp relative to the case's start."""

    value: ValueTemplate
    kafka_at: timedelta
    key: bytes | None = b"U-1"
    partition: int = 0

    def record(self, start: datetime, offset: int) -> KafkaRecord:
        value = self.value(start) if callable(self.value) else self.value
        return KafkaRecord(value, start + self.kafka_at, offset, self.key, self.partition)


Rows = Sequence[Mapping[str, object]]


@dataclass(frozen=True)
class Case:
    """Given these Kafka records, each named view holds exactly these rows (only the columns
    named in the rows are compared; datetimes as offsets from the case's start)."""

    name: str
    given: Sequence[Given]
    expect: Mapping[str, Rows]

    def __post_init__(self) -> None:
        for view, rows in self.expect.items():
            if len({tuple(sorted(row)) for row in rows}) > 1:
                raise ValueError(f"{self.name}: rows of {view} name different columns")

    @cached_property
    def scenario(self) -> Scenario:
        return Scenario(self.name, lambda _start: list(self.given))

    @property
    def views(self) -> list[str]:
        return list(self.expect)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, eq=False)
class Scenario:
    """Records laid out in a time band (and offset range) of their own in the shared input."""

    name: str
    build: Callable[[datetime], list[Given]]


@dataclass(frozen=True)
class Placed:
    scenario: Scenario
    start: datetime
    end: datetime
    offsets: range
    records: list[KafkaRecord]


class Results:
    """The rows of each view after one run over many scenarios, split by scenario: by Kafka
    offset when a row has one, else by the window it closes, else by event time (a session's:
    its last event's)."""

    def __init__(self, placed: list[Placed], rows: dict[str, list[dict]]) -> None:
        self.placed = {id(p.scenario): p for p in placed}
        self.by_scenario: dict[tuple[int, str], list[dict]] = {}
        for view, view_rows in rows.items():
            for row in view_rows:
                owner = self._owner(row, placed)
                if owner is None:
                    raise AssertionError(f"{view}: a row outside every case: {row}")
                self.by_scenario.setdefault((id(owner.scenario), view), []).append(row)

    @staticmethod
    def _owner(row: dict, placed: list[Placed]) -> Placed | None:
        if row.get("kafka_offset") is not None:
            return next((p for p in placed if row["kafka_offset"] in p.offsets), None)
        moment = row.get("window_end") or row.get("event_at") or row.get("ended_at")
        if moment is None:
            return None
        if "window_end" in row:
            moment -= timedelta(milliseconds=1)  # the last instant the window covers
        moment = moment.replace(tzinfo=UTC)  # TIMESTAMP columns hold UTC (table.local-time-zone)
        return next((p for p in placed if p.start <= moment < p.end), None)

    def start(self, scenario: Scenario) -> datetime:
        return self.placed[id(scenario)].start

    def records(self, scenario: Scenario) -> list[KafkaRecord]:
        return self.placed[id(scenario)].records

    def rows(self, scenario: Scenario, view: str) -> list[dict]:
        """Every row of `view` the scenario's records made, datetimes as they are."""
        return list(self.by_scenario.get((id(scenario), view), []))

    def relative_rows(self, scenario: Scenario, view: str, columns: Iterable[str]) -> list[dict]:
        """The scenario's rows of `view`, only `columns`, datetimes near its start as offsets."""
        start = self.start(scenario)
        wanted = list(columns)
        return [
            {column: _relative(row[column], start) for column in wanted}
            for row in self.rows(scenario, view)
        ]


def _relative(value: object, start: datetime) -> object:
    if isinstance(value, datetime) and value.tzinfo is None:
        offset = value.replace(tzinfo=UTC) - start
        if abs(offset) < BAND:
            return offset
    return value


# Each scenario gets a day of event time and its own offsets; windows (at most 99 minutes) and
# the watermark delay never reach from one scenario into the next.
BAND = timedelta(days=1)
FIRST_START = datetime(2026, 1, 1, tzinfo=UTC)


def lay_out(scenarios: Sequence[Scenario], align_minutes: int) -> list[Placed]:
    """Scenarios one after another in event time and offsets, each starting on a multiple of
    `align_minutes` since the epoch, so a case's windows start at offset 0 from its start."""
    placed: list[Placed] = []
    offset = 0
    window = timedelta(minutes=align_minutes)
    owners: dict[str, str] = {}  # event_id -> scenario
    for index, scenario in enumerate(scenarios):
        day = FIRST_START + index * BAND
        start = day - (day - datetime(1970, 1, 1, tzinfo=UTC)) % window
        given = scenario.build(start)
        records = [g.record(start, offset + n) for n, g in enumerate(given)]
        for event_id in {_event_id(record.value) for record in records} - {None}:
            other = owners.setdefault(event_id, scenario.name)
            if other != scenario.name:  # deduplication would join the two cases
                raise ValueError(
                    f"event_id {event_id!r} in two cases: {other!r}, {scenario.name!r}"
                )
        placed.append(
            Placed(scenario, start, start + BAND, range(offset, offset + len(records)), records)
        )
        offset += len(records)
    return placed


def _event_id(value: bytes | None) -> str | None:
    try:
        document = json.loads(value) if value else None
    except (ValueError, RecursionError):
        return None
    return document.get("event_id") if isinstance(document, dict) else None


def run_scenarios(
    harness: FlinkViews, scenarios: Sequence[Scenario], views: Iterable[str], align_minutes: int
) -> Results:
    placed = lay_out(scenarios, align_minutes)
    records = [record for p in placed for record in p.records]
    return Results(placed, harness.run(records, views))


def assert_case(results: Results, case: Case) -> None:
    """Each view of `case.expect` holds exactly the expected rows for the case's records, in any
    order, compared on the columns the expected rows name."""
    for view, expected in case.expect.items():
        columns = list(expected[0]) if expected else []
        got = results.relative_rows(case.scenario, view, columns)
        assert _same_rows(got, expected), (
            f"{case.name}: {view}\n  expected:{_listing(expected)}\n  got:{_listing(got)}"
        )


def _same_rows(got: Rows, expected: Rows) -> bool:
    """Equal as multisets (Decimal("2.50") == 2.5, so not by sorting on repr)."""
    remaining = [dict(row) for row in got]
    for row in expected:
        if dict(row) not in remaining:
            return False
        remaining.remove(dict(row))
    return not remaining


def _listing(rows: Rows) -> str:
    def shown(value: object) -> str:
        return _clock(value) if isinstance(value, timedelta) else repr(value)

    lines = sorted(
        "{" + ", ".join(f"{name}: {shown(value)}" for name, value in row.items()) + "}"
        for row in rows
    )
    return "".join(f"\n    {line}" for line in lines) or " (no rows)"


def _clock(offset: timedelta) -> str:
    """An offset from a case's start as +HH:MM:SS.mmm (or -HH:...)."""
    millis = abs(offset) // timedelta(milliseconds=1)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    seconds, millis = divmod(millis, 1000)
    sign = "-" if offset < timedelta(0) else "+"
    return f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"
