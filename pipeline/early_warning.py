"""Early warnings: signs that a job will fall behind, seen while it still keeps up. Pure functions
over metric samples (no I/O), so each rule is tested on given numbers; `pipeline.health` feeds
them Flink's checkpoint history and TaskManager metrics, and `bench/bench_soak.py` its samples.

- a checkpoint that takes more than half the checkpoint interval: at a full interval checkpoints
  queue up and the lake stops being committed;
- state that keeps growing with no plateau: past the deduplication retention the state should be
  flat; before it, growth is expected, but not past what the backend can hold;
- GC pressure: the TaskManager spends a large share of its time collecting garbage.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.state_cost import format_bytes, format_duration

# A checkpoint slower than this share of the interval, among the most recent ones, is a warning.
SLOW_CHECKPOINT_SHARE = 0.5
RECENT_CHECKPOINTS = 6
# Milliseconds of garbage collection per second of wall time above which GC is a warning.
GC_PRESSURE_MS_PER_S = 100.0
# Growth is only judged over at least this many samples spanning at least this long.
MIN_GROWTH_SAMPLES = 6
MIN_GROWTH_SPAN_S = 120.0
# Growth over the span smaller than this share of the mean size (or than MIN_GROWTH_BYTES) is
# flat; a second half that grows at least PLATEAU_SHARE as fast as the first has no plateau.
FLAT_SHARE = 0.05
MIN_GROWTH_BYTES = 1_000_000
PLATEAU_SHARE = 0.5


@dataclass(frozen=True)
class Sample:
    """One value at one time (seconds, any epoch)."""

    at_s: float
    value: float


@dataclass(frozen=True)
class Trend:
    """A least-squares slope over samples, and over their older and newer halves."""

    span_s: float
    mean: float
    last: float
    slope_per_s: float
    first_half_slope_per_s: float
    second_half_slope_per_s: float

    @property
    def growth(self) -> float:
        return self.slope_per_s * self.span_s

    @property
    def is_flat(self) -> bool:
        return self.growth <= max(FLAT_SHARE * self.mean, MIN_GROWTH_BYTES)

    @property
    def has_plateau(self) -> bool:
        """Growth is levelling off: the newer half grows much slower than the older one."""
        return self.second_half_slope_per_s < PLATEAU_SHARE * self.first_half_slope_per_s


def slope(samples: Sequence[Sample]) -> float:
    if len(samples) < 2 or samples[-1].at_s == samples[0].at_s:
        return 0.0
    return statistics.linear_regression(
        [sample.at_s for sample in samples], [sample.value for sample in samples]
    ).slope


def trend(samples: Sequence[Sample]) -> Trend | None:
    """The trend of samples (oldest first), or None when there are too few to judge."""
    ordered = sorted(samples, key=lambda sample: sample.at_s)
    if len(ordered) < MIN_GROWTH_SAMPLES:
        return None
    span = ordered[-1].at_s - ordered[0].at_s
    if span < MIN_GROWTH_SPAN_S:
        return None
    half = len(ordered) // 2
    return Trend(
        span_s=span,
        mean=statistics.fmean(sample.value for sample in ordered),
        last=ordered[-1].value,
        slope_per_s=slope(ordered),
        first_half_slope_per_s=slope(ordered[: half + 1]),
        second_half_slope_per_s=slope(ordered[half:]),
    )


def slow_checkpoint(job: str, durations_ms: Sequence[float], interval_s: float) -> str | None:
    """A warning when the slowest of the recent checkpoints took over half the interval."""
    if not durations_ms:
        return None
    slowest_s = max(durations_ms) / 1000
    limit_s = SLOW_CHECKPOINT_SHARE * interval_s
    if slowest_s <= limit_s:
        return None
    return (
        f"{job}: checkpoint took {slowest_s:.1f} s, over half the {interval_s:g} s interval "
        f"({len(durations_ms)} recent checkpoints); at a full interval they queue up and the lake "
        "stops being committed"
    )


def growing_state(
    job: str,
    sizes: Sequence[Sample],
    uptime_s: float,
    retention_s: float,
    budget_bytes: float | None = None,
) -> str | None:
    """A warning when the state keeps growing with no plateau: after the retention (when every
    id the state holds should be expiring as fast as new ones come), or before it when, at the
    current slope, it would outgrow `budget_bytes` by the time the retention is reached."""
    found = trend(sizes)
    if found is None or found.is_flat or found.has_plateau:
        return None
    per_min = format_bytes(found.slope_per_s * 60)
    observed = format_duration(round(found.span_s))
    if uptime_s - found.span_s >= retention_s:
        return (
            f"{job}: state grew {per_min}/min over the last {observed} with no plateau, although "
            f"the job has run past the deduplication retention ({format_duration(retention_s)}) "
            "that should keep it flat"
        )
    if budget_bytes is not None:
        projected = found.last + found.slope_per_s * max(0.0, retention_s - uptime_s)
        if projected > budget_bytes:
            return (
                f"{job}: state grew {per_min}/min over the last {observed} with no plateau; at "
                f"this rate it reaches {format_bytes(projected)} when the deduplication retention "
                f"({format_duration(retention_s)}) is reached, more than the "
                f"{format_bytes(budget_bytes)} it has room for"
            )
    return None


def gc_pressure(taskmanager: str, gc_ms_per_s: float | None) -> str | None:
    """A warning when the TaskManager spends over a tenth of its time in garbage collection."""
    if gc_ms_per_s is None or gc_ms_per_s <= GC_PRESSURE_MS_PER_S:
        return None
    return (
        f"{taskmanager}: {gc_ms_per_s:.0f} ms of every second in garbage collection (over "
        f"{GC_PRESSURE_MS_PER_S:.0f}): the heap is nearly full"
    )
