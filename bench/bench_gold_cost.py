"""What the session windows and the rollup windows cost: the silver_gold job without both, with
the rollups only, and whole, over the same backlog of one simulated hour of shop traffic, on a
stack of its own (free ports, its own state directory and lake).

For each variant: the catch-up rate (records the source read / seconds until the consumer lag is
0 with the state committed, so a checkpoint interval at most is part of it), then the whole state
of the first checkpoint after that. The session windows hold every user
active in the last session_timeout_minutes of event time, so one simulated hour is past their
steady state; the deduplication holds every id (its retention is processing time).

    python bench/bench_gold_cost.py --sim-rate 200

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import stack
from generator.model import GeneratorConfig
from generator.produce import DeliveryStats, KafkaSettings, open_producer, send_records
from generator.simulate import simulate
from pipeline import deploy, health, lake_schema
from stack.config import Config, load_config, private_stack_environ
from stack.processes import wait_until

JOB = "silver_gold"
# From the lake contract (the Flink DDL), so a new session or rollup table is counted too.
SESSION_TABLES = tuple(
    name for name in lake_schema.lake_tables() if name.startswith("gold_session")
)
ROLLUP_TABLES = tuple(name for name in lake_schema.lake_tables() if name.endswith("_rollup_window"))


@dataclass(frozen=True)
class Variant:
    name: str
    records_per_s: float
    state_bytes: int


def without(sql_dir: Path, into: Path, tables: tuple[str, ...]) -> Path:
    """A copy of the SQL project whose silver_gold job does not insert into `tables`."""
    shutil.copytree(sql_dir, into)
    job = into / "jobs" / f"{JOB}.sql"
    text = job.read_text()
    for table in tables:
        # one insert: its comment line, the statement, up to the blank line or the end
        text, count = re.subn(rf"--[^\n]*\ninsert into {table} \(.*?;\n\n", "", text, flags=re.S)
        if count != 1:
            raise SystemExit(f"{job}: no insert into {table} to remove")
    job.write_text(text)
    return into


def produce_hour(config: Config, sim_rate: float, seed: int) -> int:
    generator = GeneratorConfig(
        seed=seed, start_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC), sim_rate=sim_rate
    )
    count = int(sim_rate * 3600)
    stats = DeliveryStats()
    settings = KafkaSettings(bootstrap_servers=config.bootstrap_servers, topic=config.kafka_topic)
    report = send_records(
        open_producer(settings, stats),
        stats,
        simulate(generator, count),
        config.kafka_topic,
        log=lambda _message: None,
    )
    if not report.ok:
        raise SystemExit(report.describe())
    return count


def completed_checkpoint(config: Config, job_id: str) -> dict:
    latest = deploy.rest(config, "GET", f"/jobs/{job_id}/checkpoints").get("latest") or {}
    return latest.get("completed") or {}


def run_variant(config: Config, name: str, records: int, timeout_s: float) -> Variant:
    job_id, _ = deploy.submit(config, JOB)
    deploy.wait_for_state(config, job_id, {"RUNNING"})
    started = time.monotonic()

    def caught_up() -> bool:
        row = next(row for row in health.pipeline_health(config) if row.job == JOB)
        return bool(row.kafka_lag) and row.total_lag == 0

    if not wait_until(caught_up, timeout_s, interval_s=1.0):
        raise SystemExit(f"{name}: not caught up within {timeout_s:.0f} s")
    elapsed = time.monotonic() - started
    # The first checkpoint that starts after the catch-up holds the state at the end of the hour.
    seen = completed_checkpoint(config, job_id).get("id", 0)
    wait_until(
        lambda: completed_checkpoint(config, job_id).get("id", 0) > seen + 1, 120, interval_s=1.0
    )
    state_bytes = completed_checkpoint(config, job_id)["state_size"]
    deploy.cancel(config, job_id)
    deploy.wait_for_state(config, job_id, {"CANCELED"})
    return Variant(name, records / elapsed, state_bytes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sim-rate", type=float, default=200, help="simulated events per second")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout-minutes", type=float, default=20)
    args = parser.parse_args(argv)

    state_dir = Path(tempfile.mkdtemp(prefix="clickstream-bench-gold-cost-")).resolve()
    environ = private_stack_environ(state_dir)
    os.environ.clear()
    os.environ.update(environ)
    config = load_config()
    started = stack.up(config)
    try:
        records = produce_hour(config, args.sim_rate, args.seed)
        print(f"backlog: one simulated hour, {records:,} records ({args.sim_rate:g}/s of sim time)")
        timeout_s = args.timeout_minutes * 60
        variants = [
            run_variant(
                load_config(
                    sql_dir=without(config.sql_dir, state_dir / name, tables), deployment=name
                ),
                label,
                records,
                timeout_s,
            )
            for name, label, tables in (
                ("base", "1-minute gold", SESSION_TABLES + ROLLUP_TABLES),
                ("rollups", "+ rollups", SESSION_TABLES),
            )
        ]
        variants.append(
            run_variant(load_config(deployment="all"), "+ sessions", records, timeout_s)
        )
    finally:
        if started:
            stack.down(config)
        shutil.rmtree(state_dir, ignore_errors=True)

    print(f"\n{'variant':<18}{'catch-up records/s':>20}{'state after 1 h':>18}")
    for variant in variants:
        print(
            f"{variant.name:<18}{variant.records_per_s:>20,.0f}"
            f"{variant.state_bytes / 1e6:>15,.1f} MB"
        )
    for before, after in itertools.pairwise(variants):
        print(
            f"{after.name} cost {1 - after.records_per_s / before.records_per_s:.0%} of the "
            f"catch-up rate and {(after.state_bytes - before.state_bytes) / 1e6:,.1f} MB of state"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
