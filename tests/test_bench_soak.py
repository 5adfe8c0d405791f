"""The soak benchmark's verdict (bench/bench_soak.py) on given samples: what counts as a steady
state, a bounded lag, flat heap, and a run too short to judge."""

from __future__ import annotations

import shlex
from dataclasses import replace

from bench import bench_soak
from bench.bench_soak import Soak, SoakSample
from stack.config import load_config

MB = 1_000_000
RATE = 10_000.0
RETENTION_S = 600.0


def steady_run(minutes: int = 20) -> list[SoakSample]:
    """Every 30 s: the dedup state fills for the retention then stays flat, lag hovers around
    one checkpoint of input, the heap saws between 300 and 500 MB."""
    samples = []
    for index in range(minutes * 2 + 1):
        at_s = 30.0 * index
        samples.append(
            SoakSample(
                at_s=at_s,
                records_in_per_s=RATE,
                lag=100_000 + (index % 3) * 20_000,
                state_size_bytes=int(min(at_s, RETENTION_S) * RATE * 46),
                checkpoint_max_ms=1_200,
                checkpointed_bytes=5 * MB,
                heap_used_bytes=(300 + (index % 4) * 60) * MB,
                heap_max_bytes=2_000 * MB,
                gc_ms_per_s=20.0,
                rss_bytes=3_000 * MB,
                restarts=0,
                failed_checkpoints=1,  # one triggered while the tasks were being deployed
                lake_bytes=index * 40 * MB,
                refresh_s=0.2,
            )
        )
    return samples


def soak(samples: list[SoakSample]) -> Soak:
    return Soak(
        rate=RATE,
        minutes=samples[-1].at_s / 60,
        retention_s=RETENTION_S,
        interval_s=10.0,
        samples=samples,
        checkpoints={"silver_gold": {1: 1_200, 2: 3_400}, "bronze": {1: 300}},
    )


def checks(run: Soak) -> dict[str, bool | None]:
    return {check.name: check.passed for check in bench_soak.verdict(run)}


def test_a_steady_run_passes_every_check_but_the_undrained_identity():
    found = checks(soak(steady_run()))
    assert found == {
        "state flat": True,
        "lag bounded": True,
        "checkpoints < interval": True,
        "no restarts": True,
        "heap flat": True,
        "accounting identity": False,  # the stream of this run was never drained
    }


def test_state_still_growing_past_the_retention_is_no_steady_state():
    samples = [
        replace(sample, state_size_bytes=int(sample.at_s * RATE * 46)) for sample in steady_run()
    ]
    check = bench_soak.state_check(samples, RETENTION_S)
    assert check.passed is False
    assert "+27.60 MB/min" in check.detail


def test_a_run_that_ends_before_the_retention_plus_five_minutes_is_not_judged():
    check = bench_soak.state_check(steady_run(minutes=12), RETENTION_S)
    assert check.passed is None
    assert check.detail.startswith("not judged: 2.0 min of samples past the retention")


def test_a_lag_that_keeps_growing_is_not_bounded():
    samples = [replace(sample, lag=100_000 + int(sample.at_s * 300)) for sample in steady_run()]
    check = bench_soak.lag_check(samples, RATE)
    assert check.passed is False
    assert "trend +300 records/s (limit 100)" in check.detail


def test_a_checkpoint_as_long_as_the_interval_or_a_failed_one_fails():
    run = soak(steady_run())
    run.checkpoints["silver_gold"][3] = 10_000
    assert bench_soak.checkpoint_check(run).passed is False
    samples = steady_run()
    samples[-1] = replace(samples[-1], failed_checkpoints=2)
    check = bench_soak.checkpoint_check(soak(samples))
    assert check.passed is False
    assert check.detail.endswith("1 failed")


def test_a_restart_fails():
    samples = steady_run()
    samples[-1] = replace(samples[-1], restarts=1)
    assert bench_soak.restart_check(samples).passed is False


def test_a_heap_whose_floor_rises_is_not_flat():
    samples = steady_run()
    third = len(samples) // 3
    rising = [
        replace(sample, heap_used_bytes=sample.heap_used_bytes + 400 * MB)
        if index >= 2 * third
        else sample
        for index, sample in enumerate(samples)
    ]
    assert bench_soak.heap_check(samples).passed is True
    assert bench_soak.heap_check(rising).passed is False


def test_the_state_is_judged_after_the_longest_anything_is_held():
    """Sessions stay open for session_timeout_minutes after their last event: with a timeout
    longer than the deduplication retention, the state only levels off after the timeout."""
    assert bench_soak.state_horizon_s(load_config(dedup_state_ttl="15 min")) == 30 * 60.0
    shorter = load_config(dedup_state_ttl="15 min", session_timeout_minutes=10)
    assert bench_soak.state_horizon_s(shorter) == 15 * 60.0


def test_a_kept_stack_is_stopped_by_the_command_it_prints(tmp_path):
    """`--keep` leaves the soak's stack running; the `jobs.py down` it prints names that stack's
    own state dir and ports, not the user's."""
    environ = bench_soak.soak_environ(tmp_path, {"dedup_state_ttl": "15 min"})
    command = shlex.split(bench_soak.down_command(environ))
    assert command[0] == "env" and command[-3:] == ["python", "jobs.py", "down"]
    printed = dict(word.split("=", 1) for word in command[1:-3])
    kept, stopped = load_config(environ=environ), load_config(environ=printed)
    assert stopped.state_dir == kept.state_dir == tmp_path
    assert stopped.local_ports() == kept.local_ports()
