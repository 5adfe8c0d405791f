"""The live data-quality panel reads what the stream counted per minute
(quality/record_outcomes_per_minute): a minute's rows add up, duplicates are what is left of
bronze, only the newest minutes count, and only recently written files are read, so a refresh
costs the same however large the lake grows. The gold panels read their last hour of files the
same way."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import pytest
from lake_fixture import write_table

from dashboard import queries

TABLE = "quality/record_outcomes_per_minute"
MINUTE = datetime(2024, 3, 1, 12, 0)


def outcome(minute: datetime, outcome: str, count: int, reason: str | None = None) -> dict:
    return {
        "window_start": minute,
        "window_end": minute + timedelta(minutes=1),
        "outcome": outcome,
        "reason": reason,
        "record_count": count,
    }


def age(files, seconds: float) -> None:
    """Make files look written `seconds` ago."""
    when = datetime.now().timestamp() - seconds
    for path in files:
        os.utime(path, (when, when))


def test_a_minutes_rows_add_up_and_duplicates_are_the_rest_of_bronze(tmp_path):
    # Minute 12:00 was counted in two 10 s windows; 12:01 in one.
    write_table(
        tmp_path,
        TABLE,
        [
            outcome(MINUTE, "bronze", 600),
            outcome(MINUTE, "silver", 580),
            outcome(MINUTE, "quarantine", 3, "invalid_json"),
        ],
    )
    write_table(
        tmp_path,
        TABLE,
        [
            outcome(MINUTE, "bronze", 400),
            outcome(MINUTE, "silver", 390),
            outcome(MINUTE, "quarantine", 2, "invalid_json"),
            outcome(MINUTE, "quarantine", 1, "missing_user_id"),
            outcome(MINUTE, "late", 4),
            outcome(MINUTE + timedelta(minutes=1), "bronze", 10),
            outcome(MINUTE + timedelta(minutes=1), "silver", 10),
        ],
    )
    outcomes = queries.record_outcomes(tmp_path)
    rows = outcomes.per_minute.set_index("window_start").to_dict("index")
    assert rows[MINUTE] == {
        "bronze_count": 1000,
        "silver_count": 970,
        "quarantine_count": 6,
        "late_count": 4,
        "duplicate_count": 20,
    }
    assert rows[MINUTE + timedelta(minutes=1)]["duplicate_count"] == 0
    assert list(outcomes.per_minute["window_start"]) == [MINUTE, MINUTE + timedelta(minutes=1)]
    reasons = dict(outcomes.quarantine_by_reason.itertuples(index=False))
    assert reasons == {"invalid_json": 5, "missing_user_id": 1}
    assert outcomes.total("bronze_count") == 1010
    assert outcomes.is_balanced


def test_more_records_out_than_in_breaks_the_identity(tmp_path):
    write_table(
        tmp_path,
        TABLE,
        [
            outcome(MINUTE, "bronze", 5),
            outcome(MINUTE, "silver", 6),  # a record written twice
            outcome(MINUTE + timedelta(minutes=1), "bronze", 5),
            outcome(MINUTE + timedelta(minutes=1), "silver", 5),
        ],
    )
    outcomes = queries.record_outcomes(tmp_path)
    assert outcomes.broken_minute_count == 1
    assert not outcomes.is_balanced


def test_only_the_newest_minutes_are_shown(tmp_path):
    write_table(
        tmp_path,
        TABLE,
        [outcome(MINUTE + timedelta(minutes=index), "bronze", index + 1) for index in range(10)],
    )
    outcomes = queries.record_outcomes(tmp_path, minutes=3)
    assert list(outcomes.per_minute["bronze_count"]) == [8, 9, 10]


@pytest.mark.parametrize("old_by_minutes", [70, 24 * 60])
def test_files_written_long_before_the_newest_are_not_read(tmp_path, old_by_minutes):
    old = write_table(tmp_path, TABLE, [outcome(MINUTE - timedelta(days=1), "bronze", 7)])
    new = write_table(tmp_path, TABLE, [outcome(MINUTE, "bronze", 5)])
    age(old, old_by_minutes * 60)
    age(new, 0)
    assert queries.recent_files(tmp_path, queries.RECORD_OUTCOMES, 60) == new
    assert queries.record_outcomes(tmp_path).total("bronze_count") == 5


def test_files_within_the_minutes_shown_are_read(tmp_path):
    earlier = write_table(tmp_path, TABLE, [outcome(MINUTE, "bronze", 7)])
    newer = write_table(tmp_path, TABLE, [outcome(MINUTE + timedelta(minutes=50), "bronze", 5)])
    age(earlier, 50 * 60)
    age(newer, 0)
    assert queries.record_outcomes(tmp_path).total("bronze_count") == 12


def test_no_counts_yet_is_empty_and_balanced(tmp_path):
    outcomes = queries.record_outcomes(tmp_path)
    assert outcomes.per_minute.empty and outcomes.quarantine_by_reason.empty
    assert outcomes.total("bronze_count") == 0
    assert outcomes.is_balanced


def test_the_gold_panels_read_only_the_last_hour_of_files(tmp_path):
    def events(minute: datetime, count: int) -> dict:
        return {
            "window_start": minute,
            "window_end": minute + timedelta(minutes=1),
            "event_type": "page_view",
            "event_count": count,
        }

    yesterday = write_table(tmp_path, "gold/events_per_minute", [events(MINUTE, 1_000)])
    hour_ago = write_table(
        tmp_path, "gold/events_per_minute", [events(MINUTE + timedelta(days=1), 30)]
    )
    now = write_table(
        tmp_path, "gold/events_per_minute", [events(MINUTE + timedelta(days=1, minutes=50), 12)]
    )
    age(yesterday, 24 * 3600)
    age(hour_ago, 50 * 60)
    age(now, 0)
    connection = queries.open_lake(tmp_path)
    try:
        assert dict(queries.events_by_type(connection).itertuples(index=False)) == {"page_view": 42}
    finally:
        connection.close()
