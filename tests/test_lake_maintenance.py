"""Lake maintenance over real Iceberg tables (the fixtures commit as the Flink sinks do): fewer
files, the same rows, snapshots expired only past their age, orphans only past theirs, and a
compaction that races a writer loses no row."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lake_fixture import (
    DAY_1,
    DAY_2,
    event,
    small_hand_checked_lake,
    write_table,
    write_uncommitted_file,
)

from pipeline import lake, lake_maintenance, lake_reader

NOW = timedelta(0)


def events(batch: int, count: int = 4) -> list[dict]:
    return [
        event(f"e{batch}-{i}", "page_view", f"{(DAY_1, DAY_2)[i % 2]} 10:{batch % 60:02}:00", "u1")
        for i in range(count)
    ]


def answers(root: Path) -> dict[str, list[tuple]]:
    """What a reader asks of every table: its rows, in full."""
    connection = lake.connect(root)
    return {
        table: connection.execute(f"select * from {table} order by all").fetchall()
        for table in lake.TABLES
    }


def maintain(root: Path, **ages) -> dict[str, lake_maintenance.TableMaintenance]:
    ages = {"min_age": NOW, "keep_snapshots_for": NOW, "orphan_age": NOW, **ages}
    return {r.table: r for r in lake_maintenance.maintain(root, log=lambda _: None, **ages)}


def test_compaction_leaves_one_file_per_partition_and_every_answer_the_same(tmp_path):
    small_hand_checked_lake(tmp_path)
    for batch in range(5):
        write_table(tmp_path, "silver/events", events(batch))
    before = answers(tmp_path)
    reports = maintain(tmp_path)
    assert answers(tmp_path) == before
    silver = reports["silver_events"]
    assert (silver.files_before, silver.files_after, silver.partitions_compacted) == (12, 2, 2)
    assert silver.rows == len(before["silver_events"])
    for table, scan in lake_reader.scans(tmp_path).items():
        days = {Path(path).parent.name for path in scan.files}
        assert len(scan.files) == len(days), table  # one file per partition


def test_files_younger_than_min_age_are_not_compacted(tmp_path):
    for batch in range(3):
        write_table(tmp_path, "silver/events", events(batch))
    reports = maintain(tmp_path, min_age=timedelta(hours=2))
    assert reports["silver_events"].files_after == reports["silver_events"].files_before == 6


def test_time_travel_reaches_back_as_far_as_snapshots_are_kept(tmp_path):
    write_table(tmp_path, "silver/events", events(0))
    first = lake_reader.scan(tmp_path, "silver_events")
    write_table(tmp_path, "silver/events", events(1))
    maintain(tmp_path, keep_snapshots_for=timedelta(hours=1), orphan_age=timedelta(hours=1))
    pinned = lake.connect(tmp_path, snapshots={"silver_events": first.snapshot_id})
    assert pinned.execute("select count(*) from silver_events").fetchone()[0] == 4
    maintain(tmp_path)  # now every snapshot but the current one expires
    with pytest.raises(lake_reader.LakeReadError, match=f"no snapshot {first.snapshot_id}"):
        lake.connect(tmp_path, snapshots={"silver_events": first.snapshot_id})
    assert lake.row_counts(tmp_path)["silver_events"] == 8


def test_orphans_are_removed_only_past_their_age(tmp_path):
    write_table(tmp_path, "silver/events", events(0))
    fresh = write_uncommitted_file(tmp_path, "silver/events", DAY_1)
    stale = write_uncommitted_file(tmp_path, "silver/events", DAY_2)
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).timestamp()
    os.utime(stale, (an_hour_ago, an_hour_ago))
    reports = maintain(tmp_path, orphan_age=timedelta(minutes=30))
    assert reports["silver_events"].orphans_removed == 1
    assert fresh.exists() and not stale.exists()
    assert lake.row_counts(tmp_path)["silver_events"] == 4


def test_a_compaction_racing_a_writer_loses_no_row(tmp_path):
    write_table(tmp_path, "silver/events", events(0))
    done = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for batch in range(1, 25):
                write_table(tmp_path, "silver/events", events(batch))
        except BaseException as error:  # reported below, not swallowed
            errors.append(error)
        finally:
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    rounds = 0
    while not done.is_set() or rounds == 0:
        lake_maintenance.maintain(
            tmp_path, tables=["silver_events"], min_age=NOW, keep_snapshots_for=NOW,
            orphan_age=timedelta(hours=1), log=lambda _: None,
        )  # fmt: skip
        rounds += 1
    thread.join()
    assert not errors, errors
    ids = lake.connect(tmp_path).execute("select event_id from silver_events").fetchall()
    assert sorted(row[0] for row in ids) == sorted(
        e["event_id"] for b in range(25) for e in events(b)
    )
    assert rounds > 1


def test_files_whose_snapshots_expired_are_still_compacted(tmp_path):
    write_table(tmp_path, "silver/events", events(0))
    write_table(tmp_path, "silver/events", events(1))
    maintain(tmp_path, min_age=timedelta(days=1))  # expires the first append, compacts nothing
    assert len(lake_reader.snapshot_log(tmp_path, "silver_events")) == 1
    reports = maintain(tmp_path)
    assert (reports["silver_events"].files_before, reports["silver_events"].files_after) == (4, 2)
    assert lake.row_counts(tmp_path)["silver_events"] == 8


def test_by_default_maintenance_never_rewrites_what_the_dashboard_reads():
    from dashboard import queries

    window = timedelta(minutes=queries.RECENT_WINDOWS + queries.RECENT_FILES_SLACK_MINUTES)
    assert window < lake_maintenance.MIN_AGE
