"""The deduplication retention's edge, on the real stack: an event_id is remembered for
`dedup_state_ttl` after its first arrival (processing time). A copy re-sent within it is dropped;
a copy re-sent after it passes as a new event. That is the documented cost of bounded state
(docs/operations.md, "State"): the retention is how late a re-sent copy may come and still be
caught. Run with a 3 s retention so the edge is seconds away."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from confluent_kafka import Producer

from generator.model import GeneratorConfig, Record
from generator.simulate import simulate
from pipeline import deploy, lake
from stack.config import Config
from stack.processes import wait_until

pytestmark = pytest.mark.integration

RETENTION_S = 3


def send(config: Config, records: list[Record]) -> list[int]:
    """Send to partition 0, in order; the records' offsets."""
    producer = Producer({"bootstrap.servers": config.bootstrap_servers, "acks": "all"})
    offsets: list[int] = []
    for record in records:
        producer.produce(
            config.kafka_topic,
            key=record.key,
            value=record.value,
            partition=0,
            on_delivery=lambda error, message: offsets.append(-1 if error else message.offset()),
        )
    assert producer.flush(30) == 0
    return offsets


def silver_rows(config: Config) -> list[tuple[str, int]]:
    if not lake.committed_files(config.lake_root, "silver_events"):
        return []
    with lake.connect(config.lake_root) as connection:
        return connection.execute(
            "select event_id, kafka_offset from silver_events order by kafka_offset"
        ).fetchall()


def test_a_copy_within_the_retention_is_dropped_and_one_after_it_passes_as_new(
    pipeline_config: Config,
):
    config = replace(
        pipeline_config, kafka_bounded_mode="unbounded", dedup_state_ttl=f"{RETENTION_S} s"
    )
    clean = GeneratorConfig(
        seed=31,
        start_at=datetime.now(UTC),
        duplicate_rate=0.0,
        out_of_order_rate=0.0,
        late_rate=0.0,
        malformed_rate=0.0,
    )
    first, second = list(simulate(clean, 2))
    # `first`, its copy at once, `second`: the copy is inside the retention.
    offsets = send(config, [first, first, second])
    job_id, _ = deploy.submit(config, "silver_gold")
    try:
        expected = [(first.event_id, offsets[0]), (second.event_id, offsets[2])]
        assert wait_until(lambda: silver_rows(config) == expected, timeout_s=120, interval_s=1), (
            silver_rows(config)
        )
        # Silver shows `first` was processed; wait out the retention, then re-send it.
        time.sleep(RETENTION_S + 2)
        (late_copy_offset,) = send(config, [first])
        expected.append((first.event_id, late_copy_offset))
        assert wait_until(lambda: silver_rows(config) == expected, timeout_s=120, interval_s=1), (
            silver_rows(config)
        )
    finally:
        deploy.cancel(config, job_id)
