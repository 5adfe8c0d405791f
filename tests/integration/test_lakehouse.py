"""The Iceberg lake under a running Flink job, on the real stack: every snapshot a reader sees is
whole checkpoints (each Kafka partition's offsets a gap-free prefix), a pinned reader keeps its
snapshot while the job commits, time travel returns the older state, maintenance compacts while
the job writes and loses nothing, another engine (Flink's own Iceberg reader) reads the same
rows, and a column added to the DDL ships through `deploy` with old rows NULL."""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from confluent_kafka import Producer

from pipeline import deploy, lake, lake_maintenance, lake_reader, upgrade
from stack.config import Config
from stack.processes import wait_until

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BATCH = 3_000


def produce(config: Config, first: int, count: int) -> None:
    producer = Producer(
        {"bootstrap.servers": config.bootstrap_servers, "enable.idempotence": True, "linger.ms": 5}
    )
    for n in range(first, first + count):
        producer.produce(config.kafka_topic, key=f"user-{n % 97}", value=f'{{"n": {n}}}')
        producer.poll(0)
    assert producer.flush(30) == 0


def produce_slowly(config: Config, first: int, count: int, chunks: int = 20) -> None:
    """The batch spread over ~10 s (pacing the producer, not waiting on the job), so the job
    commits it over several checkpoints while the test reads."""
    size = count // chunks
    for chunk in range(chunks):
        produce(config, first + chunk * size, size)
        time.sleep(0.5)


def offsets(scan: lake_reader.TableScan) -> list[tuple[int, int]]:
    return duckdb.sql(
        f"select kafka_partition, kafka_offset from ({scan.select_sql()}) order by all"
    ).fetchall()


def whole_checkpoints(pairs: list[tuple[int, int]]) -> bool:
    """Each partition's offsets run 0, 1, 2, ... with no gap and no repeat: what a snapshot of
    whole checkpoints holds (a torn commit would miss a file's offsets or repeat them)."""
    by_partition: dict[int, list[int]] = {}
    for partition, offset in pairs:
        by_partition.setdefault(partition, []).append(offset)
    return all(found == list(range(len(found))) for found in by_partition.values())


def bronze_count(config: Config) -> int:
    return lake.row_counts(config.lake_root)["bronze_events"]


def flink_reads(config: Config, sql: str) -> list[tuple]:
    """`sql` run by Flink in batch mode on the cluster, the lake tables read by Iceberg's own
    Flink source: an engine that shares no code with pipeline.lake_reader."""
    environment = deploy.client_environment(config, {}, batch=True)
    for sql_object in deploy.load_job(config, "bronze").ddl:
        environment.execute_sql(sql_object.statement.sql)
    with environment.execute_sql(sql).collect() as rows:
        return [tuple(row) for row in rows]


def test_the_lake_under_a_running_job(pipeline_config: Config, tmp_path):
    sql_dir = tmp_path / "flink_sql"
    shutil.copytree(ROOT / "flink_sql", sql_dir)
    config = replace(pipeline_config, kafka_bounded_mode="unbounded", sql_dir=sql_dir)
    root = config.lake_root
    assert upgrade.deploy_jobs(config, ["bronze"], log=print)
    try:
        produce(config, 0, BATCH)
        assert wait_until(lambda: bronze_count(config) == BATCH, timeout_s=120, interval_s=0.5)
        first = lake_reader.scan(root, "bronze_events")
        pinned = lake.connect(root)

        # While the job commits the next batch (and maintenance compacts beside it), every
        # snapshot read is whole checkpoints and the pinned reader keeps its snapshot.
        producer = threading.Thread(target=produce_slowly, args=(config, BATCH, BATCH))
        producer.start()
        seen, compactions, reads = set(), 0, 0
        while bronze_count(config) < 2 * BATCH or producer.is_alive():
            current = lake_reader.scan(root, "bronze_events")
            seen.add(current.snapshot_id)
            assert whole_checkpoints(offsets(current)), current.snapshot_id
            assert pinned.execute("select count(*) from bronze_events").fetchone()[0] == BATCH
            reads += 1
            if reads % 5 == 0:
                lake_maintenance.maintain(
                    root, tables=["bronze_events"], min_age=timedelta(0),
                    keep_snapshots_for=timedelta(hours=1), orphan_age=timedelta(hours=1),
                    log=print,
                )  # fmt: skip
                compactions += 1
        producer.join()
        assert len(seen) > 2 and compactions > 1
        now = lake_reader.scan(root, "bronze_events")
        assert whole_checkpoints(offsets(now)) and len(offsets(now)) == 2 * BATCH

        # Time travel: as of the first batch's commit, the first batch exactly.
        then = lake.connect(root, as_of=first.committed_at)
        assert then.execute("select count(*) from bronze_events").fetchone()[0] == BATCH
        assert offsets(lake_reader.scan(root, "bronze_events", as_of=first.committed_at)) == (
            offsets(first)
        )

        # Another engine: Flink's Iceberg source reads the same rows.
        assert flink_reads(
            config,
            "select count(*), count(distinct concat(cast(kafka_partition as string), ':', "
            "cast(kafka_offset as string))) from bronze_events",
        ) == [(2 * BATCH, 2 * BATCH)]

        # A column added to the DDL and the INSERT ships through deploy (a savepoint upgrade):
        # the Iceberg table gains it, old rows read NULL, new rows have it.
        ddl = sql_dir / "tables" / "bronze_events.sql"
        ddl.write_text(
            ddl.read_text().replace("    dt string\n", "    dt string,\n    payload_length int\n")
        )
        job = sql_dir / "jobs" / "bronze.sql"
        job.write_text(
            job.read_text()
            .replace("    ingested_at, dt\n)", "    ingested_at, dt, payload_length\n)")
            .replace(
                "as dt\nfrom kafka_events;",
                "as dt,\n    char_length(raw_payload) as payload_length\nfrom kafka_events;",
            )
        )
        logged: list[str] = []
        assert upgrade.deploy_jobs(config, ["bronze"], log=logged.append), logged
        assert "bronze_events: added column payload_length int" in logged
        produce(config, 2 * BATCH, BATCH)
        assert wait_until(lambda: bronze_count(config) == 3 * BATCH, timeout_s=120, interval_s=0.5)
        rows = (
            lake.connect(root)
            .execute(
                "select kafka_offset is not null, payload_length is null, "
                "payload_length = length(raw_payload), count(*) from bronze_events group by all "
                "order by all"
            )
            .fetchall()
        )
        assert rows == [(True, False, True, BATCH), (True, True, None, 2 * BATCH)]
        assert whole_checkpoints(offsets(lake_reader.scan(root, "bronze_events")))
    finally:
        for job in deploy.list_jobs(config):
            if job.is_active and job.name.startswith(config.deployment):
                deploy.cancel(config, job.job_id)
