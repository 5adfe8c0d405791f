"""What parallelism and a second TaskManager buy on this machine, and what each job costs per
record: each job's catch-up over the same backlog (one simulated hour of shop traffic in a topic
of six partitions), alone, on stacks of its own (free ports, own state directory and lake):

    bronze,      1 TaskManager,  parallelism 1
    silver_gold, 1 TaskManager,  parallelism 1   (the default stack)
    silver_gold, 1 TaskManager,  parallelism 2
    silver_gold, 2 TaskManagers, parallelism 2   (slots spread: a subtask of each operator on each)

For each: records/s (records / seconds until the consumer lag is 0), the CPU the stack's JVMs
(broker, JobManager, TaskManagers) used meanwhile, in cores and in µs per record, and the last
checkpoint of the run (the whole state, what that incremental checkpoint uploaded, its time). On a
machine of 2 cores the JVMs already use most of both at parallelism 1, so a second subtask or
process can only add overhead here: the figures say how much, and the capacity model in
docs/scale-out.md uses the µs per record.

    python bench/bench_scale.py --sim-rate 200

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_gold_cost import completed_checkpoint, produce_hour

import stack
from pipeline import deploy, health
from stack.config import Config, load_config, private_stack_environ
from stack.processes import wait_until

PARTITIONS = 6


@dataclass(frozen=True)
class Shape:
    job: str
    taskmanagers: int
    parallelism: int

    @property
    def name(self) -> str:
        plural = "s" if self.taskmanagers > 1 else ""
        return f"{self.job}, {self.taskmanagers} TaskManager{plural}, p={self.parallelism}"


@dataclass(frozen=True)
class Result:
    shape: Shape
    records_per_s: float
    cores: float
    cpu_us_per_record: float
    # The last checkpoint of the catch-up: the whole state, what it uploaded, how long it took.
    state_bytes: int
    checkpointed_bytes: int
    checkpoint_ms: int


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
        deployment=f"{shape.job}-p{shape.parallelism}",
        lake_root=str(config.state_dir / f"lake-{shape.job}-p{shape.parallelism}"),
    )
    job_id, _ = deploy.submit(run, shape.job)
    deploy.wait_for_state(run, job_id, {"RUNNING"})
    started, cpu_before = time.monotonic(), jvm_cpu_seconds(config.state_dir)

    def caught_up() -> bool:
        row = next(row for row in health.pipeline_health(run) if row.job == shape.job)
        return bool(row.kafka_lag) and row.total_lag == 0

    if not wait_until(caught_up, timeout_s, interval_s=1.0):
        raise SystemExit(f"{shape.name}: not caught up within {timeout_s:.0f} s")
    elapsed = time.monotonic() - started
    cpu = jvm_cpu_seconds(config.state_dir) - cpu_before
    checkpoint = completed_checkpoint(run, job_id)
    deploy.cancel(run, job_id)
    deploy.wait_for_state(run, job_id, {"CANCELED"})
    return Result(
        shape,
        records / elapsed,
        cpu / elapsed,
        cpu / records * 1e6,
        checkpoint.get("state_size", 0),
        checkpoint.get("checkpointed_size", 0),
        checkpoint.get("end_to_end_duration", 0),
    )


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


# The stacks, each run in a process of its own: the PyFlink client's JVM keeps the first stack's
# configuration directory for the life of the process.
STACKS = {
    1: [Shape("bronze", 1, 1), Shape("silver_gold", 1, 1), Shape("silver_gold", 1, 2)],
    2: [Shape("silver_gold", 2, 2)],
}
RESULT = "result: "


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sim-rate", type=float, default=200, help="simulated events per second")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout-minutes", type=float, default=20)
    parser.add_argument("--taskmanagers", type=int, choices=sorted(STACKS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.taskmanagers:  # one stack, in the process the parent started
        for result in run_stack(args.taskmanagers, STACKS[args.taskmanagers], args):
            print(RESULT + json.dumps(dataclasses.asdict(result)), flush=True)
        return 0

    print(f"{os.cpu_count()} cores; catch-up of each job alone, topic of {PARTITIONS} partitions")
    results = []
    for taskmanagers in STACKS:
        command = [sys.executable, __file__, "--taskmanagers", str(taskmanagers)]
        command += ["--sim-rate", str(args.sim_rate), "--seed", str(args.seed)]
        command += ["--timeout-minutes", str(args.timeout_minutes)]
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
            for line in child.stdout:
                if line.startswith(RESULT):
                    fields = json.loads(line.removeprefix(RESULT))
                    results.append(Result(**{**fields, "shape": Shape(**fields["shape"])}))
                else:
                    print(line, end="", flush=True)
        if child.returncode:
            raise SystemExit(f"the stack with {taskmanagers} TaskManager(s) failed")
    print(
        f"\n{'job, shape':<40}{'records/s':>10}{'cores':>7}{'CPU µs/rec':>11}"
        f"{'state':>10}{'last checkpoint':>22}"
    )
    for r in results:
        print(
            f"{r.shape.name:<40}{r.records_per_s:>10,.0f}{r.cores:>7.2f}"
            f"{r.cpu_us_per_record:>11.0f}{r.state_bytes / 1e6:>7,.0f} MB"
            f"{r.checkpointed_bytes / 1e6:>10,.1f} MB in {r.checkpoint_ms / 1000:.1f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
