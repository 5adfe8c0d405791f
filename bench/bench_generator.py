"""Generator throughput: simulated records per second, without Kafka and into a broker.

    python bench/bench_generator.py [--bootstrap-servers 127.0.0.1:9092] [--count 200000]
                                    [--compression lz4] [--topic bench.generator] [--no-kafka]

Prints e.g. `generator: 61,234 events/s (200,000 events, lz4)`. The Kafka figure counts from
the first record to the last acknowledgement (flush included), with the ground truth off.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from confluent_kafka.admin import AdminClient, NewTopic

from generator.model import GeneratorConfig
from generator.produce import (
    DeliveryStats,
    KafkaSettings,
    open_producer,
    send_records,
)
from generator.simulate import Simulation

START_AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def bench_simulation(count: int, seed: int = 1) -> float:
    """Records per second of the pure simulation (payloads serialized, nothing sent)."""
    records = Simulation(GeneratorConfig(seed=seed, start_at=START_AT)).records(count)
    started = time.perf_counter()
    for _ in records:
        pass
    return count / (time.perf_counter() - started)


def bench_kafka(
    bootstrap_servers: str, topic: str, count: int, compression: str, seed: int = 1
) -> float:
    """Records per second produced into `topic` and acknowledged (acks=all, idempotent)."""
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    if topic not in admin.list_topics(timeout=10).topics:
        admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])[
            topic
        ].result(timeout=30)
    settings = KafkaSettings(bootstrap_servers, topic, compression)
    stats = DeliveryStats()
    producer = open_producer(settings, stats)
    simulation = Simulation(GeneratorConfig(seed=seed, start_at=START_AT, partitions=3))
    report = send_records(
        producer, stats, simulation.records(count), topic, progress_interval_s=3600
    )
    if not report.ok:
        raise SystemExit(f"benchmark run failed:\n{report.describe()}")
    return report.produced / report.elapsed_s


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    parser.add_argument("--topic", default="bench.generator")
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--compression", default="lz4")
    parser.add_argument("--no-kafka", action="store_true", help="only the pure simulation")
    args = parser.parse_args(argv)
    pure = bench_simulation(args.count)
    print(f"generator (no Kafka): {pure:,.0f} events/s ({args.count:,} events)")
    if not args.no_kafka:
        rate = bench_kafka(args.bootstrap_servers, args.topic, args.count, args.compression)
        print(f"generator: {rate:,.0f} events/s ({args.count:,} events, {args.compression})")


if __name__ == "__main__":
    main()
