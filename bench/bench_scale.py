"""What parallelism and a second TaskManager buy on this machine: the silver_gold job's catch-up
rate over the same backlog (one simulated hour of shop traffic in a topic of six partitions), on
stacks of its own (free ports, own state directory and lake), in three shapes:

    1 TaskManager,  parallelism 1   (the default stack)
    1 TaskManager,  parallelism 2
    2 TaskManagers, parallelism 2   (slots spread: one subtask of each operator on each)

For each: records/s (records / seconds until the consumer lag is 0), and the CPU the stack's
JVMs (broker, JobManager, TaskManagers) used meanwhile, in cores and in µs per record. On a
machine of 2 cores the JVMs already use most of both at parallelism 1, so a second subtask or
process can only add overhead here: the figures say how much, and the capacity model in
docs/scale-out.md uses the µs per record.

    python bench/bench_scale.py --sim-rate 200

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_gold_cost import produce_hour

import stack
from pipeline import deploy, health
from stack.config import Config, load_config, private_stack_environ
from stack.processes import wait_until

JOB = "silver_gold"
PARTITIONS = 6


@dataclass(frozen=True)
class Shape:
    taskmanagers: int
    parallelism: int

    @property
    def name(self) -> str:
        plural = "s" if self.taskmanagers > 1 else ""
        return f"{self.taskmanagers} TaskManager{plural}, parallelism {self.parallelism}"


@dataclass(frozen=True)
class Result:
    shape: Shape
    records_per_s: float
    cores: float
    cpu_us_per_record: float


def jvm_cpu_seconds(state_dir: Path) -> float:
    """User + system CPU of every live JVM whose command line names the stack's state dir."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"java" not in command or str(state_dir).encode() not in command:
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def catch_up(config: Config, shape: Shape, records: int, timeout_s: float) -> Result:
    run = replace(
        config,
        parallelism=shape.parallelism,
        deployment=f"p{shape.parallelism}",
        lake_root=str(config.state_dir / f"lake-p{shape.parallelism}"),
    )
    job_id, _ = deploy.submit(run, JOB)
    deploy.wait_for_state(run, job_id, {"RUNNING"})
    started, cpu_before = time.monotonic(), jvm_cpu_seconds(config.state_dir)

    def caught_up() -> bool:
        row = next(row for row in health.pipeline_health(run) if row.job == JOB)
        return bool(row.kafka_lag) and row.total_lag == 0

    if not wait_until(caught_up, timeout_s, interval_s=1.0):
        raise SystemExit(f"{shape.name}: not caught up within {timeout_s:.0f} s")
    elapsed = time.monotonic() - started
    cpu = jvm_cpu_seconds(config.state_dir) - cpu_before
    deploy.cancel(run, job_id)
    deploy.wait_for_state(run, job_id, {"CANCELED"})
    return Result(shape, records / elapsed, cpu / elapsed, cpu / records * 1e6)


def run_stack(taskmanagers: int, shapes: list[Shape], args) -> list[Result]:
    state_dir = Path(tempfile.mkdtemp(prefix="clickstream-bench-scale-")).resolve()
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(private_stack_environ(state_dir))
    config = load_config(taskmanagers=taskmanagers, kafka_partitions=PARTITIONS)
    try:
        stack.up(config)
        records = produce_hour(config, args.sim_rate, args.seed)
        print(f"{taskmanagers} TaskManager(s): backlog of {records:,} records", flush=True)
        results = []
        for shape in shapes:
            results.append(catch_up(config, shape, records, args.timeout_minutes * 60))
            print(f"  {shape.name}: {results[-1].records_per_s:,.0f} records/s", flush=True)
        return results
    finally:
        stack.down(config)
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(state_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sim-rate", type=float, default=200, help="simulated events per second")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout-minutes", type=float, default=20)
    args = parser.parse_args(argv)
    print(f"{os.cpu_count()} cores; silver_gold catch-up, topic of {PARTITIONS} partitions")
    results = run_stack(1, [Shape(1, 1), Shape(1, 2)], args)
    results += run_stack(2, [Shape(2, 2)], args)
    print(f"\n{'shape':<34}{'records/s':>12}{'cores used':>12}{'CPU µs/record':>15}")
    for result in results:
        print(
            f"{result.shape.name:<34}{result.records_per_s:>12,.0f}{result.cores:>12.2f}"
            f"{result.cpu_us_per_record:>15.0f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
