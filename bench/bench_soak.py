"""Soak: hold a rate on the whole stack long enough for the state to reach its steady state, and
say whether it did.

It starts a stack of its own (free ports, its own state directory and lake, like the integration
tests), deploys both jobs, runs the generator at `--rate` for `--minutes`, and every
`--sample-seconds` samples what `jobs.py status` reads: Kafka lag, the silver_gold checkpoint's
state size and duration, TaskManager heap, RSS and GC time, records/s, and how long one dashboard
refresh of the lake takes. Then it lets the stream drain and checks the accounting identity
record by record (pipeline.lake.accounting). The verdict:

- steady state: silver_gold's state flat (or levelling off) once the run is past the
  deduplication retention and the session timeout, and the Kafka lag bounded (not growing,
  under a minute of input);
- every checkpoint faster than the checkpoint interval, none failed;
- no restarts;
- heap flat: the lowest heap use of the last third no higher than the middle third's (+10% of
  the heap);
- once drained, bronze = silver + quarantine + late + duplicates exactly, and bronze holds every
  record the generator sent.

    python bench/bench_soak.py --rate 10000 --minutes 30 --dedup-retention "15 min" \
        --session-timeout-minutes 10

Sizing (taskmanager_memory, kafka_heap, ...) comes from the defaults or your CLICKSTREAM_*
environment, as for every stack. Prints a table and the verdict; exit 1 when the verdict fails.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import stack
from bench import bench_dashboard
from pipeline import deploy, early_warning, health, lake, state_cost
from stack.config import ENV_PREFIX, Config, load_config, private_stack_environ
from stack.processes import wait_until

JOBS = ("bronze", "silver_gold")
STATEFUL_JOB = "silver_gold"
# The state is judged over samples this long after the retention has passed, at least.
MIN_STEADY_S = 300.0
LAG_GROWTH_SHARE = 0.01  # of the rate, per second: lag growing slower than this is bounded
LAG_BOUND_S = 60.0  # lag under this many seconds of input is bounded
HEAP_GROWTH_SHARE = 0.10  # of the heap


def soak_environ(state_dir: Path, overrides: dict[str, str]) -> dict[str, str]:
    """CLICKSTREAM_* for a stack nobody else uses (free ports, its own state and lake), with the
    soak's own settings."""
    environ = private_stack_environ(state_dir)
    environ.update({ENV_PREFIX + name.upper(): value for name, value in overrides.items()})
    return environ


@dataclass(frozen=True)
class SoakSample:
    at_s: float  # since the generator started
    records_in_per_s: float  # silver_gold's source
    lag: int  # the larger of the two jobs' Kafka consumer lags
    state_size_bytes: int | None  # silver_gold's latest checkpoint, whole state
    checkpoint_max_ms: int | None  # slowest checkpoint completed since the previous sample
    checkpointed_bytes: int | None  # written by silver_gold's latest checkpoint
    heap_used_bytes: int
    heap_max_bytes: int
    gc_ms_per_s: float | None
    rss_bytes: int | None
    restarts: int
    failed_checkpoints: int  # both jobs, since they started
    lake_bytes: int
    refresh_s: float  # one dashboard refresh of every lake panel


@dataclass
class Soak:
    rate: float
    minutes: float
    # the longest any state is held: the deduplication retention or the session timeout (an
    # open session stays until its last event is that old); the state is judged after it
    retention_s: float
    interval_s: float
    samples: list[SoakSample] = field(default_factory=list)
    # every completed checkpoint seen, per job: id -> duration (ms)
    checkpoints: dict[str, dict[int, int]] = field(default_factory=dict)
    accounting: list[lake.DailyAccounting] = field(default_factory=list)
    records_sent: int = 0
    drained_s: float | None = None


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool | None  # None: not judged (the run was too short)
    detail: str


def lake_bytes(lake_root: str) -> int:
    """The lake on disk: data files, Iceberg metadata and the catalog."""
    return sum(path.stat().st_size for path in Path(lake_root).rglob("*") if path.is_file())


def take_sample(config: Config, soak: Soak, started_at: float) -> SoakSample:
    rows = {row.job: row for row in health.pipeline_health(config)}
    taskmanagers = health.taskmanager_health(config)
    stateful = rows[STATEFUL_JOB]
    previous = max(soak.checkpoints.get(STATEFUL_JOB, {}), default=-1)
    for job, row in rows.items():
        seen = soak.checkpoints.setdefault(job, {})
        seen.update({sample.checkpoint_id: sample.duration_ms for sample in row.checkpoint_history})
    recent = [
        duration
        for checkpoint_id, duration in soak.checkpoints[STATEFUL_JOB].items()
        if checkpoint_id > previous
    ]
    taskmanager = taskmanagers[0] if taskmanagers else None
    return SoakSample(
        at_s=time.monotonic() - started_at,
        records_in_per_s=stateful.records_in_per_s or 0.0,
        lag=max(row.total_lag for row in rows.values()),
        state_size_bytes=stateful.state_size_bytes,
        checkpoint_max_ms=max(recent, default=None),
        checkpointed_bytes=stateful.checkpoint_size_bytes,
        heap_used_bytes=taskmanager.heap_used_bytes if taskmanager else 0,
        heap_max_bytes=taskmanager.heap_max_bytes if taskmanager else 0,
        gc_ms_per_s=taskmanager.gc_ms_per_s if taskmanager else None,
        rss_bytes=taskmanager.rss_bytes if taskmanager else None,
        restarts=sum(row.restarts or 0 for row in rows.values()),
        failed_checkpoints=sum(row.failed_checkpoints or 0 for row in rows.values()),
        lake_bytes=lake_bytes(config.lake_root),
        refresh_s=sum(bench_dashboard.refresh_timings(config.lake_root).values()),
    )


HEADER = (
    f"{'min':>5} {'in/s':>7} {'lag':>9} {'state MB':>9} {'ckpt s':>7} {'ckpt MB':>8} "
    f"{'heap MB':>8} {'GC ms/s':>8} {'RSS MB':>7} {'restarts':>8} {'lake MB':>8} {'refresh s':>9}"
)


def _mb(value: int | None) -> str:
    return "-" if value is None else f"{value / 1e6:,.1f}"


def format_sample(sample: SoakSample) -> str:
    checkpoint = (
        "-" if sample.checkpoint_max_ms is None else f"{sample.checkpoint_max_ms / 1000:.1f}"
    )
    gc = "-" if sample.gc_ms_per_s is None else f"{sample.gc_ms_per_s:.0f}"
    return (
        f"{sample.at_s / 60:>5.1f} {sample.records_in_per_s:>7,.0f} {sample.lag:>9,} "
        f"{_mb(sample.state_size_bytes):>9} {checkpoint:>7} {_mb(sample.checkpointed_bytes):>8} "
        f"{_mb(sample.heap_used_bytes):>8} {gc:>8} {_mb(sample.rss_bytes):>7} "
        f"{sample.restarts:>8} {_mb(sample.lake_bytes):>8} {sample.refresh_s:>9.2f}"
    )


# --- the verdict: pure functions of the samples ----------------------------------------------


def state_check(samples: Sequence[SoakSample], retention_s: float) -> Check:
    steady = [
        early_warning.Sample(sample.at_s, sample.state_size_bytes)
        for sample in samples
        if sample.at_s >= retention_s and sample.state_size_bytes is not None
    ]
    found = early_warning.trend(steady)
    span = steady[-1].at_s - steady[0].at_s if steady else 0.0
    if found is None or span < MIN_STEADY_S:
        return Check(
            "state flat",
            None,
            f"not judged: {span / 60:.1f} min of samples past the retention "
            f"({state_cost.format_duration(retention_s)}), {MIN_STEADY_S / 60:.0f} needed",
        )
    growth = f"{found.slope_per_s * 60 / 1e6:+,.2f} MB/min around {found.mean / 1e6:,.0f} MB"
    passed = found.is_flat or found.has_plateau
    return Check("state flat", passed, f"{growth} over the last {span / 60:.1f} min")


def lag_check(samples: Sequence[SoakSample], rate: float) -> Check:
    newer = list(samples[len(samples) // 2 :])
    if len(newer) < 3:
        return Check("lag bounded", None, "not judged: too few samples")
    trend = early_warning.slope([early_warning.Sample(s.at_s, s.lag) for s in newer])
    worst = max(sample.lag for sample in newer)
    passed = trend <= LAG_GROWTH_SHARE * rate and worst <= LAG_BOUND_S * rate
    return Check(
        "lag bounded",
        passed,
        f"last half: trend {trend:+,.0f} records/s (limit {LAG_GROWTH_SHARE * rate:,.0f}), "
        f"max {worst:,} ({worst / rate:.1f} s of input, limit {LAG_BOUND_S:.0f} s)",
    )


def checkpoint_check(soak: Soak) -> Check:
    """Every checkpoint seen faster than the interval, and none failed after the first sample
    (a checkpoint triggered while a job's tasks are still being deployed fails harmlessly)."""
    durations = [d for seen in soak.checkpoints.values() for d in seen.values()]
    if not durations or not soak.samples:
        return Check("checkpoints < interval", False, "no checkpoint completed")
    slowest = max(durations) / 1000
    failed = soak.samples[-1].failed_checkpoints - soak.samples[0].failed_checkpoints
    passed = slowest < soak.interval_s and failed == 0
    return Check(
        "checkpoints < interval",
        passed,
        f"{len(durations)} completed, slowest {slowest:.1f} s (interval {soak.interval_s:g} s), "
        f"{failed} failed",
    )


def restart_check(samples: Sequence[SoakSample]) -> Check:
    restarts = samples[-1].restarts if samples else 0
    return Check("no restarts", restarts == 0, f"{restarts} restarts")


def heap_check(samples: Sequence[SoakSample]) -> Check:
    third = len(samples) // 3
    if third < 2:
        return Check("heap flat", None, "not judged: too few samples")
    middle = min(sample.heap_used_bytes for sample in samples[third : 2 * third])
    last = min(sample.heap_used_bytes for sample in samples[2 * third :])
    heap_max = max(sample.heap_max_bytes for sample in samples)
    passed = last - middle <= HEAP_GROWTH_SHARE * heap_max
    return Check(
        "heap flat",
        passed,
        f"lowest use {middle / 1e6:,.0f} MB (middle third) -> {last / 1e6:,.0f} MB (last third)"
        f" of {heap_max / 1e6:,.0f} MB",
    )


def identity_check(soak: Soak) -> Check:
    if soak.drained_s is None:
        return Check("accounting identity", False, "the stream did not drain")
    days = soak.accounting
    bronze = sum(day.bronze_record_count for day in days)
    balanced = all(day.is_balanced for day in days) and bronze == soak.records_sent
    lines = "; ".join(day.describe() for day in days)
    return Check(
        "accounting identity",
        balanced,
        f"{soak.records_sent:,} records sent, bronze {bronze:,}; {lines}",
    )


def verdict(soak: Soak) -> list[Check]:
    return [
        state_check(soak.samples, soak.retention_s),
        lag_check(soak.samples, soak.rate),
        checkpoint_check(soak),
        restart_check(soak.samples),
        heap_check(soak.samples),
        identity_check(soak),
    ]


# --- the run ----------------------------------------------------------------------------------


def records_in_topic(config: Config) -> int:
    return sum(p.end_offset for p in health.consumer_lag(config, f"{config.deployment}-soak"))


def drain(config: Config, timeout_s: float) -> bool:
    """Both jobs have committed every record of the topic (offsets and files commit together, on
    a checkpoint)."""

    def drained() -> bool:
        rows = health.pipeline_health(config)
        return all(row.kafka_lag and row.total_lag == 0 for row in rows)

    return wait_until(drained, timeout_s, interval_s=5.0)


def state_horizon_s(config: Config) -> float:
    """How long the job holds what it holds longest: an id for the deduplication retention, an
    open session until its last event is session_timeout_minutes old. The state can only be
    flat after that."""
    return max(state_cost.duration_s(config.dedup_state_ttl), config.session_timeout_minutes * 60.0)


def run(config: Config, args: argparse.Namespace, log=print) -> Soak:
    soak = Soak(
        rate=args.rate,
        minutes=args.minutes,
        retention_s=state_horizon_s(config),
        interval_s=health.checkpoint_interval_s(config),
    )
    job_ids = [deploy.submit(config, job)[0] for job in JOBS]
    for job_id in job_ids:
        deploy.wait_for_state(config, job_id, {"RUNNING"})
    generator_argv = [
        *(sys.executable, "-m", "generator", "generate", "--rate", str(args.rate)),
        *("--duration", str(args.minutes * 60), "--seed", str(args.seed)),
        *("--progress-interval", "60"),
    ]
    generator_log = Path(config.state_dir) / "generator.log"
    with generator_log.open("w") as generator_output:
        generator = subprocess.Popen(
            generator_argv,
            cwd=Path(__file__).resolve().parents[1],
            stdout=subprocess.DEVNULL,
            stderr=generator_output,
        )
        started_at = time.monotonic()
        log(HEADER)
        try:
            while generator.poll() is None:
                next_at = started_at + (len(soak.samples) + 1) * args.sample_seconds
                while generator.poll() is None and time.monotonic() < next_at:
                    time.sleep(1.0)
                sample = take_sample(config, soak, started_at)
                soak.samples.append(sample)
                log(format_sample(sample))
        finally:
            if generator.poll() is None:
                generator.terminate()
                generator.wait(60)
    if generator.returncode != 0:
        raise RuntimeError(f"generator exited with {generator.returncode}: see {generator_log}")
    soak.records_sent = records_in_topic(config)
    drain_started = time.monotonic()
    if drain(config, args.drain_minutes * 60):
        soak.drained_s = time.monotonic() - drain_started
        log(f"drained {soak.drained_s:.0f} s after the generator stopped")
        soak.accounting = lake.accounting(config.lake_root)
    soak.samples.append(take_sample(config, soak, started_at))  # the drain's checkpoints too
    return soak


def report(soak: Soak, config: Config, log=print) -> bool:
    checks = verdict(soak)
    steady = all(check.passed for check in checks[:2])
    log(
        f"\nsoak: {soak.rate:,.0f} records/s for {soak.minutes:g} min, dedup retention "
        f"{config.dedup_state_ttl}, session timeout {config.session_timeout_minutes} min, "
        f"state backend {config.state_backend}, TaskManager "
        f"{config.taskmanager_memory}, checkpoint interval {config.checkpoint_interval}"
    )
    for check in checks:
        mark = {True: "PASS", False: "FAIL", None: "n/a "}[check.passed]
        log(f"  {mark} {check.name}: {check.detail}")
    passed = all(check.passed for check in checks)
    log(
        f"verdict: {'steady state reached' if steady else 'no steady state'}; "
        f"{'all checks pass' if passed else 'FAILED'}"
    )
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=10_000, help="records/s the generator sends")
    parser.add_argument("--minutes", type=float, default=30, help="how long it sends")
    parser.add_argument(
        "--dedup-retention",
        help="dedup_state_ttl for this run, e.g. '15 min' (default: the config's)",
    )
    parser.add_argument(
        "--session-timeout-minutes",
        type=int,
        help="session_timeout_minutes for this run (default: the config's, 30)",
    )
    parser.add_argument("--sample-seconds", type=float, default=30)
    parser.add_argument("--drain-minutes", type=float, default=15)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--state-dir", type=Path, help="default: a new temporary folder")
    parser.add_argument("--keep", action="store_true", help="leave the stack and lake running")
    parser.add_argument("--json", type=Path, help="write the samples and checks here")
    args = parser.parse_args(argv)

    state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="clickstream-soak-"))
    overrides = {"dedup_state_ttl": args.dedup_retention} if args.dedup_retention else {}
    if args.session_timeout_minutes:
        overrides["session_timeout_minutes"] = str(args.session_timeout_minutes)
    # A snapshot of the SQL: the soak reads it all along (status, state cost), and an edit to
    # flink_sql/ while it runs must not change or break what it measures.
    sql_snapshot = state_dir / "flink_sql"
    shutil.copytree(load_config().sql_dir, sql_snapshot)
    overrides["sql_dir"] = str(sql_snapshot.resolve())
    environ = soak_environ(state_dir.resolve(), overrides)
    os.environ.clear()
    os.environ.update(environ)
    config = load_config()
    print(f"soak stack in {state_dir} (Flink REST {config.rest_url})")
    started = stack.up(config)
    passed = False
    try:
        soak = run(config, args)
        passed = report(soak, config)
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "samples": [dataclasses.asdict(sample) for sample in soak.samples],
                        "checks": [dataclasses.asdict(check) for check in verdict(soak)],
                    },
                    indent=2,
                )
            )
    finally:
        if started and not args.keep:
            stack.down(config)
        elif started:
            print(f"the stack is still running; stop it with: {down_command(environ)}")
    return 0 if passed else 1


def down_command(environ: dict[str, str]) -> str:
    """`jobs.py down` for the soak's own stack (its state dir and ports), to paste in a shell."""
    settings = " ".join(
        f"{name}={shlex.quote(value)}"
        for name, value in sorted(environ.items())
        if name.startswith(ENV_PREFIX)
    )
    return f"env {settings} python jobs.py down"


if __name__ == "__main__":
    raise SystemExit(main())
