"""The foundation end to end on the real stack: records produced to Kafka come out of a Flink SQL
job on the session cluster as Parquet that DuckDB reads back, every one exactly once."""

from __future__ import annotations

import duckdb
import pytest
from confluent_kafka import Producer

from pipeline import deploy, lake_reader
from stack.config import Config

pytestmark = pytest.mark.integration

RECORDS = 5_000


def produce(config: Config, values: list[str]) -> None:
    producer = Producer(
        {"bootstrap.servers": config.bootstrap_servers, "enable.idempotence": True, "linger.ms": 20}
    )
    for number, value in enumerate(values):
        producer.produce(config.kafka_topic, key=f"user-{number % 97}", value=value)
        producer.poll(0)
    assert producer.flush(30) == 0


def read_lake(config: Config, table: str) -> duckdb.DuckDBPyConnection:
    """The lake table (its folder, "bronze/events") at its current snapshot, as the view t."""
    table_scan = lake_reader.scan_identifier(config.lake_root, table.replace("/", "."))
    assert table_scan is not None, f"no Iceberg table {table} in {config.lake_root}"
    connection = duckdb.connect()
    connection.execute(f"create view t as {table_scan.select_sql()}")
    return connection


def test_bronze_job_lands_every_record_exactly_once(pipeline_config: Config):
    values = [f'{{"n": {n}}}' for n in range(RECORDS - 2)] + ["not json", '{"n": "\u00e9"}']
    produce(pipeline_config, values)

    job_id, started = deploy.submit(pipeline_config, "bronze")
    assert started
    assert deploy.wait_for_state(pipeline_config, job_id, {"FINISHED", "FAILED"}, 180) == "FINISHED"

    lake = read_lake(pipeline_config, "bronze/events")
    count, distinct_offsets, partitions = lake.execute(
        "select count(*), count(distinct (kafka_partition, kafka_offset)), "
        "count(distinct kafka_partition) from t"
    ).fetchone()
    assert (count, distinct_offsets, partitions) == (RECORDS, RECORDS, 3)
    payloads = sorted(row[0] for row in lake.execute("select raw_payload from t").fetchall())
    assert payloads == sorted(values)
    assert lake.execute(
        "select count(*) from t where kafka_topic <> ?", [pipeline_config.kafka_topic]
    ).fetchone() == (0,)


def test_submit_is_idempotent_and_job_has_a_readable_name(pipeline_config: Config):
    config = pipeline_config.__class__(
        **{**pipeline_config.__dict__, "kafka_bounded_mode": "unbounded"}
    )
    job_id, started = deploy.submit(config, "bronze")
    try:
        assert started
        again, started_again = deploy.submit(config, "bronze")
        assert (again, started_again) == (job_id, False)
        names = [job.name for job in deploy.list_jobs(config) if job.is_active]
        assert names.count(f"{config.deployment}: bronze") == 1
    finally:
        deploy.cancel(config, job_id)
    assert deploy.job_state(config, job_id) == "CANCELED"
