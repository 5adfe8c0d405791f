"""Changing the SQL of a running job (issue 16), on the real stack: a comment-only change deploys
nothing; a new gold table is an upgrade through a savepoint that keeps the deduplication and
window state, so every layer still equals the ground truth exactly and a duplicate of an event
read before the upgrade is still dropped after it; `history` and `rollback` follow the versions."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import oracle
import pytest
from support import produce
from test_pipeline import comparable, table_rows

from generator.ground_truth import expected_silver_events, load_ground_truth
from generator.model import GeneratorConfig, Record
from generator.simulate import simulate
from pipeline import deploy, lake, lake_schema, upgrade, versions
from stack.config import Config
from stack.processes import StackError, wait_until

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
JOB = "silver_gold"
COPY_TABLE = """-- Gold: a second copy of the events per minute, added while the job runs.
create table gold_events_per_minute_copy (
    window_start timestamp(3),
    window_end timestamp(3),
    event_type string,
    event_count bigint,
    dt string
) partitioned by (dt) with (
    'connector' = 'filesystem',
    'path' = '${lake_root}/gold/events_per_minute_copy',
    'format' = 'parquet',
    'sink.partition-commit.policy.kind' = 'success-file',
    'sink.shuffle-by-partition.enable' = 'true'
);
"""
COPY_INSERT = """
-- The copy, first in the set (which renumbers every node the compiler gives out).
insert into gold_events_per_minute_copy (window_start, window_end, event_type, event_count, dt)
select window_start, window_end, event_type, event_count,
    cast(cast(window_start as date) as string) as dt
from events_per_minute;
"""


def _records(seed: int, start: datetime, count: int) -> list[Record]:
    generator = GeneratorConfig(seed=seed, start_at=start, sim_rate=2.0, late_rate=0.0)
    return list(simulate(generator, count))


def _silver_ids(config: Config) -> list[str]:
    connection = lake.connect(config.lake_root)
    if "silver_events" not in {
        r[0] for r in connection.execute("select view_name from duckdb_views()").fetchall()
    }:
        return []
    return [r[0] for r in connection.execute("select event_id from silver_events").fetchall()]


def test_comment_then_new_gold_table_then_rollback(pipeline_config: Config, tmp_path):
    sql_dir = tmp_path / "flink_sql"
    shutil.copytree(ROOT / "flink_sql", sql_dir)
    config = replace(pipeline_config, kafka_bounded_mode="unbounded", sql_dir=sql_dir)
    logged: list[str] = []

    first = _records(1601, START, 300)
    produce(config, first, tmp_path / "first.jsonl")
    assert upgrade.deploy_jobs(config, [JOB], log=logged.append), "\n".join(logged)
    [v1] = versions.versions(config, JOB)
    assert v1.meta["outcome"] == "running" and v1.meta["from_savepoint"] is None
    expected_first = {
        e["event_id"] for e in expected_silver_events(load_ground_truth(tmp_path / "first.jsonl"))
    }
    assert wait_until(
        lambda: set(_silver_ids(config)) >= expected_first, timeout_s=180, interval_s=1
    )

    # 1. A comment-only change: unchanged, nothing restarts, no new version.
    view = sql_dir / "views" / "events_per_minute.sql"
    view.write_text(
        "-- reviewed again: nothing changes\n" + view.read_text().replace("\n", "\n\n", 1)
    )
    [change] = upgrade.inspect(config, [JOB])
    assert change.unchanged
    logged.clear()
    assert upgrade.deploy_jobs(config, [JOB], log=logged.append), "\n".join(logged)
    assert any("unchanged" in line for line in logged), logged
    assert deploy.active_job(config, v1.settings["pipeline.name"]).job_id == v1.meta["job_id"]
    assert len(versions.versions(config, JOB)) == 1

    # 2. A new gold table, its INSERT first: plan says the new sink starts empty and every running
    #    stateful operator keeps its state; deploy upgrades through a savepoint.
    (sql_dir / "tables" / "gold_events_per_minute_copy.sql").write_text(COPY_TABLE)
    job_file = sql_dir / "jobs" / f"{JOB}.sql"
    job_file.write_text(job_file.read_text().replace("begin\n", "begin\n" + COPY_INSERT, 1))
    [change] = upgrade.inspect(config, [JOB])
    assert not change.unchanged
    upgrade.compile_changes(config, [change])
    assert [v.operator.split("] ")[1] for v in change.match.of("new")] == [
        "gold_events_per_minute_copy"
    ]
    assert not change.blocking
    kept = [v.operator for v in change.match.of("kept")]
    assert any(op.startswith("deduplicate[") for op in kept), kept
    assert sum(op.startswith("global-window-aggregate[") for op in kept) >= 5, kept
    described = "\n".join(upgrade.describe_change(change))
    assert "+++ new/tables/gold_events_per_minute_copy.sql" in described
    assert upgrade.new_sink_warnings(change) == []
    # Flink's own record agrees: the running job's checkpoint holds no state the new plan leaves
    assert change.checkpoint and change.unclaimed == []

    assert upgrade.deploy_jobs(config, [JOB], log=logged.append), "\n".join(logged)
    v1, v2 = versions.versions(config, JOB)
    assert v2.meta["outcome"] == "running" and v2.meta["from_savepoint"], v2.meta
    assert v2.meta["job_id"] != v1.meta["job_id"]
    restored = deploy.rest(config, "GET", f"/jobs/{v2.meta['job_id']}/checkpoints")["latest"][
        "restored"
    ]
    assert restored["is_savepoint"] and restored["external_path"] == v2.meta["from_savepoint"]

    # After the upgrade: more events, a duplicate of an event read before it, and events a day
    # later on every partition so that every window holding the others closes.
    second = _records(1602, START + timedelta(minutes=3), 300)
    again = next(r for r in first if r.fault is None)
    second.insert(150, again._replace(fault="duplicate"))
    flush = [
        r._replace(partition=i % 3)
        for i, r in enumerate(_records(1603, START + timedelta(days=1), 30))
    ]
    produce(config, second, tmp_path / "second.jsonl")
    produce(config, flush, tmp_path / "flush.jsonl")
    truth = [
        record
        for part in ("first", "second", "flush")
        for record in load_ground_truth(tmp_path / f"{part}.jsonl")
    ]
    events = expected_silver_events(truth)
    assert wait_until(
        lambda: len(_silver_ids(config)) >= len(events), timeout_s=240, interval_s=1
    ), (len(_silver_ids(config)), len(events))
    cutoff = (START + timedelta(hours=12)).replace(tzinfo=None)
    expected = oracle.expected_gold(*oracle.silver_from_payloads(events), config)

    def closed(rows: list[dict]) -> list[dict]:
        """Windows, and sessions, the stream has closed before the cutoff."""
        return [r for r in rows if r.get("window_end", r.get("closed_at")) <= cutoff]

    def gold_equal() -> bool:
        connection = lake.connect(config.lake_root)
        for name, table in lake_schema.lake_tables().items():
            if not name.startswith("gold_"):
                continue
            columns = [c.name for c in table.row_columns]
            got = comparable(closed(table_rows(connection, name)), columns)
            want = comparable(closed(expected[name]), columns)
            if got != want:
                return False
        return True

    assert wait_until(gold_equal, timeout_s=120, interval_s=2)
    silver = _silver_ids(config)
    assert len(silver) == len(set(silver)) == len(events)  # the re-sent duplicate was dropped
    assert set(silver) == {e["event_id"] for e in events}
    # The new table gets the windows that close after the upgrade, counted in full: 09:02 holds
    # only events read before the upgrade (its window state survived; a reset would lack it).
    open_at_upgrade = (START + timedelta(minutes=2)).replace(tzinfo=None)
    columns = ["window_start", "event_type", "event_count"]
    copy_rows = [
        dict(zip(columns, row, strict=True))
        for row in lake.connect(config.lake_root)
        .execute(
            f"select {', '.join(columns)} from read_parquet("
            f"'{config.lake_root}/gold/events_per_minute_copy/*/part-*') where window_end <= ?",
            [cutoff],
        )
        .fetchall()
    ]
    assert any(row["window_start"] == open_at_upgrade for row in copy_rows)
    assert comparable(copy_rows, columns) == comparable(
        [
            row
            for row in expected["gold_events_per_minute"]
            if open_at_upgrade <= row["window_start"] and row["window_end"] <= cutoff
        ],
        columns,
    )

    # 5. history lists both versions; rollback runs version 1 again from a fresh savepoint.
    lines = upgrade.history(config, JOB)
    assert "tables/gold_events_per_minute_copy.sql" in "\n".join(lines)
    back = upgrade.rollback(config, JOB, log=logged.append)
    try:
        assert back.number == 3 and back.meta["copy_of"] == 1 and back.meta["outcome"] == "running"
        assert versions.current(config, JOB).number == 3
        assert "copy of 1" in "\n".join(upgrade.history(config, JOB))
    finally:
        active = deploy.active_job(config, v1.settings["pipeline.name"])
        if active is not None:
            deploy.cancel(config, active.job_id)


def test_incompatible_window_is_refused_then_allowed_and_a_failing_version_rolls_back(
    pipeline_config: Config, tmp_path
):
    sql_dir = tmp_path / "flink_sql"
    shutil.copytree(ROOT / "flink_sql", sql_dir)
    config = replace(pipeline_config, kafka_bounded_mode="unbounded", sql_dir=sql_dir)
    logged: list[str] = []
    first = _records(1611, START, 100)
    produce(config, first, tmp_path / "first.jsonl")
    assert upgrade.deploy_jobs(config, [JOB], log=logged.append), "\n".join(logged)
    expected = {
        e["event_id"] for e in expected_silver_events(load_ground_truth(tmp_path / "first.jsonl"))
    }
    assert wait_until(lambda: set(_silver_ids(config)) >= expected, timeout_s=180, interval_s=1)

    # 3. One gold view's window size changes: incompatible, refused before anything stops.
    view = sql_dir / "views" / "revenue_per_window.sql"
    view.write_text(
        view.read_text().replace("interval '${window_minutes}' minute", "interval '7' minute")
    )
    [change] = upgrade.inspect(config, [JOB])
    upgrade.compile_changes(config, [change])
    [incompatible] = change.match.of("incompatible")
    assert incompatible.operator.startswith("global-window-aggregate[")
    assert "window" in incompatible.detail and "PT7M" in incompatible.detail, incompatible.detail
    # the running checkpoint's state the new plan leaves behind is exactly that operator's
    assert change.unclaimed == [f"{incompatible.old_id}_global-window-aggregate"]
    running = deploy.active_job(config, change.settings["pipeline.name"])
    with pytest.raises(StackError, match="cannot keep the state of global-window-aggregate"):
        upgrade.deploy_jobs(config, [JOB], log=logged.append)
    assert deploy.active_job(config, change.settings["pipeline.name"]).job_id == running.job_id

    assert upgrade.deploy_jobs(config, [JOB], allow_non_restored_state=True, log=logged.append)
    _, v2 = versions.versions(config, JOB)
    assert v2.meta["outcome"] == "running" and v2.meta["allow_non_restored_state"]
    # A duplicate of an event read before the upgrade, then a new event, in one partition: once
    # the new one is in silver the duplicate was read (and dropped) before it.
    again = next(r for r in first if r.fault is None)._replace(fault="duplicate", partition=0)
    marker = next(r for r in _records(1612, START + timedelta(minutes=2), 20) if r.fault is None)
    produce(config, [again, marker._replace(partition=0)], tmp_path / "again.jsonl")
    expected.add(marker.event_id)
    assert wait_until(lambda: marker.event_id in _silver_ids(config), timeout_s=120, interval_s=1)

    # 4. A version the cluster rejects: deploy rolls back to version 2 from the same savepoint.
    job_file = sql_dir / "jobs" / f"{JOB}.sql"
    job_file.write_text(
        job_file.read_text().replace(
            "set ", "set 'state.backend.type' = 'no-such-backend';\nset ", 1
        )
    )
    assert not upgrade.deploy_jobs(config, [JOB], log=logged.append)
    _, _, failed, back = versions.versions(config, JOB)
    try:
        assert failed.meta["outcome"] == "failed" and failed.meta["reason"], failed.meta
        assert back.meta["copy_of"] == 2 and back.meta["outcome"] == "running"
        assert back.meta["from_savepoint"] == failed.meta["from_savepoint"]
        assert versions.current(config, JOB).number == 4
        history = "\n".join(upgrade.history(config, JOB))
        assert "failed" in history and "copy of 2" in history
        # the duplicate re-sent after the first upgrade was dropped by the kept deduplication
        silver = _silver_ids(config)
        assert len(silver) == len(set(silver)) and set(silver) == expected
    finally:
        active = deploy.active_job(config, change.settings["pipeline.name"])
        if active is not None:
            deploy.cancel(config, active.job_id)
