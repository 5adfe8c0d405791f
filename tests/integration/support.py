"""Helpers the integration tests share (importable because tests/integration is on sys.path)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import stack
from generator.ground_truth import GroundTruthWriter
from generator.model import Record
from generator.produce import DeliveryStats, KafkaSettings, open_producer, send_records
from stack.config import Config


@contextmanager
def own_stack(config: Config, label: str) -> Iterator[Config]:
    """A stack of a test module's own (its ports, state directory and shape in `config`): up for
    the `with` block, then down, whatever happened in it."""

    def log(message: str) -> None:
        print(f"[{label}] {message}")

    try:
        stack.up(config, log=log)
        yield config
    finally:
        stack.down(config, log=log)


def produce(config: Config, records: Iterable[Record], ground_truth: Path) -> None:
    """Send records with the generator's producer and write their ground truth. Small,
    uncompressed batches: a backlog is then fetched under a thousand records per partition at a
    time (fetch sizes count compressed bytes), so every partition holds the watermark early."""
    settings = KafkaSettings(
        bootstrap_servers=config.bootstrap_servers,
        topic=config.kafka_topic,
        batch_size=65_536,
        compression="none",
    )
    stats = DeliveryStats()
    with GroundTruthWriter(ground_truth) as writer:
        report = send_records(
            open_producer(settings, stats),
            stats,
            records,
            config.kafka_topic,
            ground_truth=writer,
            log=lambda _message: None,
        )
    assert report.ok, report.describe()


def dbt_build(lake_root: str | Path, workdir: Path) -> str:
    """`dbt build` (models and all their tests) over a lake Flink wrote; returns dbt's output."""
    project = Path(__file__).resolve().parents[2] / "dbt_project"
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "build", "--profiles-dir", str(project)],
        cwd=project,
        env={
            **os.environ,
            "LAKE_ROOT": str(lake_root),
            "DBT_DUCKDB_PATH": str(workdir / "clickstream.duckdb"),
            "DBT_TARGET_PATH": str(workdir / "dbt-target"),
            "DBT_LOG_PATH": str(workdir / "dbt-logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"dbt build failed:\n{output[-6000:]}"
    return output
