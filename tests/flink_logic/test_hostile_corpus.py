"""The hostile-input corpus (tests/hostile_payloads.py) through the views, without a broker: each
record is read once and ends in exactly one of silver, late or quarantine (a duplicate in none),
with the reason code or silver values the contract demands. tests/integration/test_hostile_input.py sends the same
corpus through Kafka into the lake, where what is left to check is the plumbing: bronze, the
Parquet files and the jobs surviving."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hostile_payloads import (
    DUPLICATE,
    GAPS,
    LATE,
    QUARANTINE,
    SILVER,
    corpus,
    expected_event_id,
)
from scenarios import Given, Results, Scenario

from stack.config import load_config

# As in the integration test: the records are produced ten minutes after the first event time.
PRODUCED_AFTER = timedelta(minutes=10)
VIEWS = ("events_checked", "events_late", "events_enriched")


DELAY = load_config().watermark_delay_seconds


def _records(start: datetime) -> list[Given]:
    return [Given(p.value, PRODUCED_AFTER, p.key) for p in corpus(start, DELAY)]


CORPUS = Scenario("hostile corpus", _records)
# The expectations do not depend on the start time.
PAYLOADS = corpus(datetime(2026, 1, 1, tzinfo=UTC), DELAY)


@dataclass(frozen=True)
class HostileRecord:
    index: int  # position in the corpus, so in the scenario's records
    scenario: Scenario = CORPUS
    views: tuple[str, ...] = VIEWS

    @property
    def payload(self):
        return PAYLOADS[self.index]


def _param(index: int) -> pytest.param:
    name = PAYLOADS[index].name
    marks = [pytest.mark.xfail(strict=True, reason=GAPS[name])] if name in GAPS else []
    return pytest.param(HostileRecord(index), marks=marks, id=name)


def _rows_of(results: Results, view: str, offset: int) -> list[dict]:
    return [row for row in results.rows(CORPUS, view) if row["kafka_offset"] == offset]


@pytest.mark.parametrize("record", [_param(index) for index in range(len(PAYLOADS))])
def test_hostile_record_lands_where_the_contract_says(record: HostileRecord, flink_results):
    payload = record.payload
    sent = flink_results.records(CORPUS)[record.index]
    checked = _rows_of(flink_results, "events_checked", sent.offset)
    assert len(checked) == 1, "read once"
    text = None if sent.value is None else sent.value.decode("utf-8", errors="replace")
    assert checked[0]["raw_payload"] == text

    reason = checked[0]["quarantine_reason"]
    late = _rows_of(flink_results, "events_late", sent.offset)
    silver = _rows_of(flink_results, "events_enriched", sent.offset)
    where = [QUARANTINE] * (reason is not None) + [LATE] * len(late) + [SILVER] * len(silver)
    expected = [] if payload.outcome == DUPLICATE else [payload.outcome]
    assert where == expected, f"{payload.why}; landed in {where} ({reason})"
    if payload.outcome == QUARANTINE:
        assert reason == payload.reason, payload.why
    elif payload.outcome == LATE:
        assert late[0]["event_id"] == expected_event_id(payload)
    elif payload.outcome == SILVER:
        assert silver[0]["event_id"] == expected_event_id(payload)
        got = {column: silver[0][column] for column in payload.silver}
        assert got == payload.silver, payload.why
