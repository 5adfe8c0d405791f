"""The live data-quality panel reads what the stream counted per minute
(quality/record_outcomes_per_minute): a minute's rows add up, duplicates are what is left of
bronze, only the newest minutes count, and only the files of recently committed snapshots are
read, so a refresh costs the same however large the lake grows. The gold panels read their last
hour of commits the same way. Commit times are the Iceberg snapshots' own (`CommitClock` sets
them); a data file no snapshot references is never read."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from lake_fixture import commit_empty, write_table, write_uncommitted_file
from pyiceberg.table import snapshots

from dashboard import queries
from pipeline import lake_reader, lake_schema

TABLE = "quality/record_outcomes_per_minute"
MINUTE = datetime(2024, 3, 1, 12, 0)
# The newest commit of the recency tests: long before the wall clock, as in a replayed lake (what
# counts is the distance to the table's newest commit, not to now).
NEWEST_COMMIT = datetime(2024, 3, 2, 13, 0, tzinfo=UTC)


def outcome(minute: datetime, outcome: str, count: int, reason: str | None = None) -> dict:
    return {
        "window_start": minute,
        "window_end": minute + timedelta(minutes=1),
        "outcome": outcome,
        "reason": reason,
        "record_count": count,
    }


def events(minute: datetime, count: int) -> dict:
    return {
        "window_start": minute,
        "window_end": minute + timedelta(minutes=1),
        "event_type": "page_view",
        "event_count": count,
    }


class CommitClock:
    """The time the next snapshot is committed at. pyiceberg stamps a new snapshot with
    `time.time()` (the default of `Snapshot.timestamp_ms`, pyiceberg/table/snapshots.py); this
    replaces that module's clock only. Commits go forward in time, as on a real lake, and each
    is checked to carry the time it was given."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.at: datetime | None = None
        monkeypatch.setattr(snapshots, "time", SimpleNamespace(time=self._time))

    def _time(self) -> float:
        return time.time() if self.at is None else self.at.timestamp()

    def write(self, root: Path, table: str, rows: list[dict], at: datetime) -> list[str]:
        """write_table, its snapshot committed at `at`."""
        assert self.at is None or at > self.at, "commits are made in chronological order"
        self.at = at
        files = write_table(root, table, rows)
        committed = lake_reader.scan(root, lake_schema.by_folder()[table].name).committed_at
        assert committed == at, f"the snapshot was committed at {committed}, not at {at}"
        return files

    def commit_empty(self, root: Path, table: str, at: datetime) -> None:
        """commit_empty, its snapshot committed at `at`."""
        assert self.at is None or at > self.at, "commits are made in chronological order"
        self.at = at
        commit_empty(root, table)


@pytest.fixture
def clock(monkeypatch) -> CommitClock:
    return CommitClock(monkeypatch)


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
def test_files_committed_long_before_the_newest_are_not_read(tmp_path, clock, old_by_minutes):
    """Committed more than 60 + RECENT_FILES_SLACK_MINUTES minutes before the newest commit: not
    read, though still in the table."""
    old = clock.write(
        tmp_path,
        TABLE,
        [outcome(MINUTE - timedelta(days=1), "bronze", 7)],
        at=NEWEST_COMMIT - timedelta(minutes=old_by_minutes),
    )
    new = clock.write(tmp_path, TABLE, [outcome(MINUTE, "bronze", 5)], at=NEWEST_COMMIT)
    assert set(lake_reader.scan(tmp_path, queries.RECORD_OUTCOMES).files) == {*old, *new}
    recent = queries.recent_scan(tmp_path, queries.RECORD_OUTCOMES, 60)
    assert recent.files == tuple(sorted(new))
    assert recent.committed_at == NEWEST_COMMIT
    assert queries.record_outcomes(tmp_path).total("bronze_count") == 5


@pytest.mark.parametrize("earlier_by_minutes", [50, 64], ids=["within-the-hour", "within-slack"])
def test_files_committed_within_the_minutes_shown_and_the_slack_are_read(
    tmp_path, clock, earlier_by_minutes
):
    assert queries.RECENT_WINDOWS + queries.RECENT_FILES_SLACK_MINUTES > 64
    clock.write(
        tmp_path,
        TABLE,
        [outcome(MINUTE, "bronze", 7)],
        at=NEWEST_COMMIT - timedelta(minutes=earlier_by_minutes),
    )
    clock.write(
        tmp_path,
        TABLE,
        [outcome(MINUTE + timedelta(minutes=50), "bronze", 5)],
        at=NEWEST_COMMIT,
    )
    assert queries.record_outcomes(tmp_path).total("bronze_count") == 12


def test_recency_is_by_commit_not_by_window(tmp_path, clock):
    """Old windows committed recently (a late replay) are read; recent windows committed long
    before the newest commit are not: the bound is on commits."""
    clock.write(
        tmp_path, TABLE, [outcome(MINUTE, "bronze", 3)], at=NEWEST_COMMIT - timedelta(hours=3)
    )
    clock.write(
        tmp_path, TABLE, [outcome(MINUTE - timedelta(days=7), "bronze", 4)], at=NEWEST_COMMIT
    )
    outcomes = queries.record_outcomes(tmp_path)
    assert list(outcomes.per_minute["window_start"]) == [MINUTE - timedelta(days=7)]
    assert outcomes.total("bronze_count") == 4


def test_no_counts_yet_is_empty_and_balanced(tmp_path):
    outcomes = queries.record_outcomes(tmp_path)
    assert outcomes.per_minute.empty and outcomes.quarantine_by_reason.empty
    assert outcomes.total("bronze_count") == 0
    assert outcomes.is_balanced


def test_the_gold_panels_read_only_the_last_hour_of_commits(tmp_path, clock):
    table = "gold/events_per_minute"
    clock.write(tmp_path, table, [events(MINUTE, 1_000)], at=NEWEST_COMMIT - timedelta(days=1))
    clock.write(
        tmp_path,
        table,
        [events(MINUTE + timedelta(days=1), 30)],
        at=NEWEST_COMMIT - timedelta(minutes=50),
    )
    clock.write(
        tmp_path, table, [events(MINUTE + timedelta(days=1, minutes=50), 12)], at=NEWEST_COMMIT
    )
    connection = queries.open_lake(tmp_path)
    try:
        assert dict(queries.events_by_type(connection).itertuples(index=False)) == {"page_view": 42}
    finally:
        connection.close()


def test_a_data_file_no_snapshot_references_is_not_read(tmp_path):
    """A checkpoint still writing leaves data files in the table's folder that no snapshot
    references: a copy of committed rows (read, they would count twice) and a half-written file
    (read, it would fail). Neither is read, by the data-quality panel or the gold ones."""
    for table, row in (
        (TABLE, outcome(MINUTE, "bronze", 5)),
        ("gold/events_per_minute", events(MINUTE, 7)),
    ):
        [committed] = write_table(tmp_path, table, [row])
        uncommitted_copy = Path(committed).with_name(f"uncommitted-{Path(committed).name}")
        shutil.copyfile(committed, uncommitted_copy)
        garbage = write_uncommitted_file(tmp_path, table, MINUTE.date().isoformat())
        assert garbage.parent == uncommitted_copy.parent  # beside the committed file
        name = lake_schema.by_folder()[table].name
        assert queries.recent_scan(tmp_path, name).files == (committed,)
    assert queries.record_outcomes(tmp_path).total("bronze_count") == 5
    connection = queries.open_lake(tmp_path)
    try:
        assert dict(queries.events_by_type(connection).itertuples(index=False)) == {"page_view": 7}
    finally:
        connection.close()


def test_empty_commits_after_the_last_rows_do_not_age_them_out(tmp_path, clock):
    """A table without new rows for a while (the Flink sink commits an empty snapshot after 10
    such checkpoints): its newest rows are still the ones shown, and the snapshot log lists the
    empty commits with nothing added."""
    clock.write(tmp_path, TABLE, [outcome(MINUTE, "bronze", 5)], at=NEWEST_COMMIT)
    for hours in (1, 2):
        clock.commit_empty(tmp_path, TABLE, at=NEWEST_COMMIT + timedelta(hours=hours))
    assert queries.record_outcomes(tmp_path).total("bronze_count") == 5
    log = lake_reader.snapshot_log(tmp_path, queries.RECORD_OUTCOMES)
    assert [(entry.operation, entry.added_files) for entry in log] == [
        ("append", 1),
        ("append", 0),
        ("append", 0),
    ]


def test_a_refresh_reads_only_the_manifests_of_new_snapshots(tmp_path, monkeypatch):
    """A committed snapshot never changes: the dashboard reads each one's manifests once, and a
    later refresh only those committed since; what it reads is the same as from scratch."""
    changes = lake_reader.SnapshotChangesCache(size=100)
    monkeypatch.setattr(lake_reader, "SNAPSHOT_CHANGES", changes)
    files = [write_table(tmp_path, TABLE, [outcome(MINUTE, "bronze", n)]) for n in (1, 2, 3)]
    assert queries.record_outcomes(tmp_path).total("bronze_count") == 6
    assert changes.manifests_read == 3
    assert queries.record_outcomes(tmp_path).total("bronze_count") == 6
    assert changes.manifests_read == 3
    files.append(write_table(tmp_path, TABLE, [outcome(MINUTE, "bronze", 4)]))
    recent = queries.recent_scan(tmp_path, queries.RECORD_OUTCOMES)
    assert changes.manifests_read == 4
    assert recent.files == tuple(sorted(path for written in files for path in written))
    fresh = lake_reader.SnapshotChangesCache(size=100)
    monkeypatch.setattr(lake_reader, "SNAPSHOT_CHANGES", fresh)
    assert queries.recent_scan(tmp_path, queries.RECORD_OUTCOMES) == recent
    assert fresh.manifests_read == 4


def test_the_snapshot_cache_keeps_the_most_recently_used(tmp_path):
    for n in (1, 2, 3):
        write_table(tmp_path, TABLE, [outcome(MINUTE, "bronze", n)])
    table = lake_reader.load(tmp_path, queries.RECORD_OUTCOMES)
    first, second, third = table.snapshots()
    changes = lake_reader.SnapshotChangesCache(size=2)
    for snapshot in (first, second, first, third):  # the third pushes out `second`, not `first`
        changes.changes(table, snapshot)
    assert changes.manifests_read == 3
    changes.changes(table, first)
    assert changes.manifests_read == 3
    changes.changes(table, second)
    assert changes.manifests_read == 4
