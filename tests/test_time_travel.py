"""Snapshots and time travel over a real Iceberg lake (written by the fixtures as the Flink sink
writes it): a pinned reader keeps its snapshot while the table grows, any table can be read as
of a time or a snapshot id through pipeline.lake, `jobs.py query` and dbt (var lake_as_of)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from lake_fixture import DAY_1, DAY_2, event, write_table, write_uncommitted_file

from pipeline import lake, lake_reader, marts

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def two_days(tmp_path):
    """silver/events written in two commits: day 1's three events, then day 2's two."""
    write_table(
        tmp_path,
        "silver/events",
        [event(f"a{i}", "page_view", f"{DAY_1} 10:0{i}:00", "u1") for i in range(3)],
    )
    first = lake_reader.scan(tmp_path, "silver_events")
    write_table(
        tmp_path,
        "silver/events",
        [event(f"b{i}", "page_view", f"{DAY_2} 10:0{i}:00", "u1") for i in range(2)],
    )
    return tmp_path, first


def event_ids(connection: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        row[0]
        for row in connection.execute("select event_id from silver_events order by 1").fetchall()
    ]


def test_a_reader_pinned_to_a_snapshot_keeps_it_while_the_table_grows(tmp_path):
    write_table(tmp_path, "silver/events", [event("a0", "page_view", f"{DAY_1} 10:00:00", "u1")])
    pinned = lake.connect(tmp_path)
    write_table(tmp_path, "silver/events", [event("b0", "page_view", f"{DAY_2} 10:00:00", "u1")])
    write_uncommitted_file(tmp_path, "silver/events", DAY_2)  # a checkpoint still writing
    assert event_ids(pinned) == ["a0"]
    assert event_ids(lake.connect(tmp_path)) == ["a0", "b0"]


def test_a_table_reads_as_of_a_time_or_a_snapshot(two_days):
    root, first = two_days
    assert event_ids(lake.connect(root)) == ["a0", "a1", "a2", "b0", "b1"]
    assert event_ids(lake.connect(root, as_of=first.committed_at)) == ["a0", "a1", "a2"]
    pinned = lake.connect(root, snapshots={"silver_events": first.snapshot_id})
    assert event_ids(pinned) == ["a0", "a1", "a2"]
    # Before the table's first commit it has no rows, but its columns.
    before = lake.connect(root, as_of=first.committed_at.replace(year=2020))
    assert event_ids(before) == []


def test_an_unknown_snapshot_is_a_clear_error(two_days):
    root, _ = two_days
    with pytest.raises(lake_reader.LakeReadError, match="silver_events has no snapshot 42"):
        lake.connect(root, snapshots={"silver_events": 42})
    with pytest.raises(lake_reader.LakeReadError, match="no lake table silver_event"):
        lake.connect(root, snapshots={"silver_event": 42})


def test_the_snapshot_log_lists_each_commit(two_days):
    root, first = two_days
    log = lake_reader.snapshot_log(root, "silver_events")
    assert [(s.operation, s.added_files, s.added_rows, s.total_rows) for s in log] == [
        ("append", 1, 3, 3),
        ("append", 1, 2, 5),
    ]
    assert log[0].snapshot_id == first.snapshot_id


def jobs(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CLICKSTREAM_LAKE_ROOT": str(root)}
    return subprocess.run(
        [sys.executable, "jobs.py", *args], cwd=REPO, env=env, capture_output=True, text=True
    )


def test_jobs_query_reads_now_as_of_a_time_and_at_a_snapshot(two_days):
    root, first = two_days
    count = "select count(*) as n from silver_events"
    now = jobs(root, "query", count)
    assert now.returncode == 0, now.stderr
    assert now.stdout.split() == ["n", "5"]
    then = jobs(root, "query", count, "--as-of", first.committed_at.isoformat())
    assert then.stdout.split() == ["n", "3"], then.stderr
    pinned = jobs(root, "query", count, "--snapshot", f"silver_events={first.snapshot_id}")
    assert pinned.stdout.split() == ["n", "3"], pinned.stderr
    listed = jobs(root, "snapshots", "silver_events")
    assert listed.returncode == 0 and str(first.snapshot_id) in listed.stdout.splitlines()[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "yesterday"], "cannot read 'yesterday' as a time"),
        (["--snapshot", "silver_events=latest"], "expected TABLE=SNAPSHOT_ID"),
        (["--snapshot", "silver_events=42"], "silver_events has no snapshot 42"),
    ],
)
def test_jobs_query_rejects_bad_pins_with_a_clear_error(two_days, args, message):
    root, _ = two_days
    result = jobs(root, "query", "select 1", *args)
    assert result.returncode == 1
    assert message in result.stderr


def test_dbt_reads_the_lake_as_of_the_var_lake_as_of(two_days, tmp_path_factory):
    root, first = two_days
    work = tmp_path_factory.mktemp("dbt")
    env = marts.dbt_env(
        str(root),
        DBT_DUCKDB_PATH=str(work / "clickstream.duckdb"),
        DBT_TARGET_PATH=str(work / "target"),
        DBT_LOG_PATH=str(work / "logs"),
    )
    dbt = str(Path(sys.executable).with_name("dbt"))

    def staged_events(*args: str) -> int:
        result = subprocess.run(
            [dbt, "run", "--select", "stg_lake__events", *args],
            cwd=REPO / "dbt_project",
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout[-3000:]
        with duckdb.connect(env["DBT_DUCKDB_PATH"], read_only=True) as connection:
            return connection.execute("select count(*) from staging.stg_lake__events").fetchone()[0]

    as_of = first.committed_at.isoformat()
    assert staged_events("--vars", f"{{lake_as_of: '{as_of}'}}") == 3
    assert staged_events() == 5
