"""The generator against a real broker: every produced record lands in the topic exactly once
(injected duplicates included, as separate records), on the partition the ground truth says, and
a SIGTERM flushes everything before exiting cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from generator.cli import generate, replay
from generator.faults import default_partition
from generator.ground_truth import load_ground_truth, load_summary
from generator.rees46 import replay_records

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
REES46_SAMPLE = REPO_ROOT.parent / "shared" / "data" / "rees46-2019-10-sample.csv"


def read_topic(bootstrap_servers: str, topic: str) -> list[tuple[int, str, str]]:
    """(partition, key, value) of every record in `topic`, up to the current end."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": f"test-generator-{uuid.uuid4()}",
            "enable.auto.commit": False,
        }
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        remaining = {}
        for partition in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            if high > low:
                remaining[partition] = high
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in remaining])
        records = []
        deadline = time.monotonic() + 60
        while remaining and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=10_000, timeout=1.0):
                assert message.error() is None, message.error()
                partition = message.partition()
                records.append((partition, message.key().decode(), message.value().decode()))
                if message.offset() + 1 >= remaining.get(partition, 0):
                    remaining.pop(partition, None)
        assert not remaining, f"partitions not read to the end: {remaining}"
        return records
    finally:
        consumer.close()


def assert_topic_matches_ground_truth(topic_records, truth) -> None:
    """Same multiset of (key, value); each record on the partition its label implies."""
    assert len(topic_records) == len(truth)
    assert Counter((key, value) for _, key, value in topic_records) == Counter(
        (record.key, record.value) for record in truth
    )
    partitions = max(partition for partition, _, _ in topic_records) + 1
    explicit = Counter((r.partition, r.key, r.value) for r in truth if r.partition is not None)
    implicit = Counter(
        (default_partition(r.key, partitions), r.key, r.value) for r in truth if r.partition is None
    )
    assert Counter(topic_records) == explicit + implicit


def test_generate_sends_exactly_the_ground_truth(kafka_bootstrap, fresh_topic, tmp_path):
    path = tmp_path / "truth.jsonl"
    generate(
        count=5_000,
        bootstrap_servers=kafka_bootstrap,
        topic=fresh_topic,
        seed=11,
        start_at="2026-11-22T10:00:00Z",
        duplicate_rate=0.03,
        ground_truth=path,
    )
    truth = load_ground_truth(path)
    assert len(truth) == 5_000
    faults = Counter(record.fault for record in truth)
    assert all(faults[name] > 0 for name in ("duplicate", "out_of_order", "late", "malformed"))
    assert any(record.partition is not None for record in truth)

    assert_topic_matches_ground_truth(read_topic(kafka_bootstrap, fresh_topic), truth)
    summary = load_summary(path)
    assert summary["records"] == 5_000
    assert summary["generator"]["partitions"] == 3  # asked from the broker


def test_replay_sends_every_row_of_the_rees46_sample(kafka_bootstrap, fresh_topic, tmp_path):
    path = tmp_path / "rees46.jsonl"
    replay(REES46_SAMPLE, bootstrap_servers=kafka_bootstrap, topic=fresh_topic, ground_truth=path)
    topic_records = read_topic(kafka_bootstrap, fresh_topic)
    assert len(topic_records) == 1_000
    expected = Counter((r.key, r.value.decode()) for r in replay_records(REES46_SAMPLE))
    assert Counter((key, value) for _, key, value in topic_records) == expected
    assert_topic_matches_ground_truth(topic_records, load_ground_truth(path))


def test_sigterm_flushes_everything_and_reports(kafka_bootstrap, fresh_topic, tmp_path):
    path = tmp_path / "truth.jsonl"
    command = [sys.executable, "-m", "generator", "generate", "--rate", "2000", "--seed", "5"]
    command += ["--bootstrap-servers", kafka_bootstrap, "--topic", fresh_topic]
    command += ["--ground-truth", str(path), "--progress-interval", "0.5"]
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        time.sleep(4)  # unbounded run: only the signal ends it
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "SIGTERM" in stderr and "records produced" in stderr
    truth = load_ground_truth(path)
    assert len(truth) > 2_000
    assert f"sent {len(truth):,} of {len(truth):,} records" in stderr
    assert load_summary(path)["records"] == len(truth)
    assert_topic_matches_ground_truth(read_topic(kafka_bootstrap, fresh_topic), truth)
