"""The early-warning rules of `jobs.py status` on given metric samples: slow checkpoints, state
that grows with no plateau, GC pressure; and the deduplication state's cost model."""

from __future__ import annotations

import math

import pytest

from pipeline import early_warning, health, state_cost
from pipeline.early_warning import Sample
from stack.config import load_config

MB = 1_000_000
INTERVAL_S = 10.0
RETENTION_S = 600.0


def every_10_s(sizes: list[float], start_s: float = 1_000.0) -> list[Sample]:
    return [Sample(start_s + 10 * index, size) for index, size in enumerate(sizes)]


def filling_then_flat(minutes: float, rate_bytes_per_s: float, retention_s: float) -> list[float]:
    """What a deduplication state looks like: it grows while ids arrive and none has expired
    yet, then stays flat once ids expire as fast as new ones come."""
    return [
        rate_bytes_per_s * min(at_s, retention_s) for at_s in range(0, int(minutes * 60) + 1, 10)
    ]


# --- slow checkpoints -------------------------------------------------------------------------


def test_checkpoints_within_half_the_interval_are_fine():
    assert early_warning.slow_checkpoint("silver_gold", [900, 4_000, 5_000], INTERVAL_S) is None


def test_a_checkpoint_over_half_the_interval_is_flagged_with_its_duration():
    warning = early_warning.slow_checkpoint("silver_gold", [900, 5_100, 1_200], INTERVAL_S)
    assert warning is not None
    assert warning.startswith("silver_gold: checkpoint took 5.1 s, over half the 10 s interval")


def test_no_checkpoint_yet_is_no_warning():
    assert early_warning.slow_checkpoint("bronze", [], INTERVAL_S) is None


# --- growing state ----------------------------------------------------------------------------


def test_linear_growth_past_the_retention_is_flagged():
    # 10 minutes of history, 1 MB more every 10 s, on a job that has run 30 minutes (> 10 + 10).
    sizes = every_10_s([100 * MB + index * MB for index in range(61)])
    warning = early_warning.growing_state("silver_gold", sizes, 1_800, RETENTION_S)
    assert warning is not None
    assert "state grew 6.0 MB/min over the last 10 min with no plateau" in warning
    assert "deduplication retention (10 min)" in warning


def test_growth_that_levels_off_is_a_plateau():
    # Filling for 10 minutes, then flat; the history covers minutes 5 to 15, across the knee.
    sizes = every_10_s(filling_then_flat(minutes=15, rate_bytes_per_s=50_000, retention_s=600))
    recent = sizes[30:]
    found = early_warning.trend(recent)
    assert found is not None and not found.is_flat and found.has_plateau
    assert early_warning.growing_state("silver_gold", recent, 900, RETENTION_S) is None


def test_flat_state_with_noise_is_not_growth():
    sizes = every_10_s([400 * MB + (MB if index % 2 else -MB) for index in range(61)])
    assert early_warning.trend(sizes).is_flat
    assert early_warning.growing_state("silver_gold", sizes, 7_200, RETENTION_S) is None


def test_too_little_history_is_not_judged():
    assert early_warning.trend(every_10_s([MB, 2 * MB, 3 * MB, 4 * MB, 5 * MB])) is None
    few_seconds = [Sample(1_000 + index, index * MB) for index in range(20)]
    assert early_warning.trend(few_seconds) is None
    assert early_warning.growing_state("j", few_seconds, 7_200, RETENTION_S) is None


def test_growth_before_the_retention_is_expected_while_it_fits():
    # Three minutes into a 10-minute retention, growing 6 MB/min: 60 MB at the end, room for 1 GB.
    sizes = every_10_s([index * MB for index in range(19)])
    assert early_warning.growing_state("j", sizes, 180, RETENTION_S, budget_bytes=1e9) is None
    assert early_warning.growing_state("j", sizes, 180, RETENTION_S, budget_bytes=None) is None


def test_growth_before_the_retention_that_will_not_fit_is_flagged():
    # The failure: the heap fills before the ids start to expire. 42 MB/min at minute 5
    # of a 1 h retention reaches ~2.5 GB; the heap has 2 GB.
    sizes = every_10_s([200 * MB + index * 7 * MB for index in range(31)])
    warning = early_warning.growing_state("silver_gold", sizes, 300, 3_600, budget_bytes=2e9)
    assert warning is not None
    assert "state grew 42.0 MB/min" in warning
    assert "more than the 2.0 GB it has room for" in warning
    projected = 410 * MB + 0.7 * MB * (3_600 - 300)
    assert f"reaches {state_cost.format_bytes(projected)}" in warning


# --- GC pressure ------------------------------------------------------------------------------


@pytest.mark.parametrize(("gc_ms_per_s", "flagged"), [(None, False), (3.5, False), (100, False)])
def test_little_gc_is_fine(gc_ms_per_s, flagged):
    assert (early_warning.gc_pressure("taskmanager tm-1", gc_ms_per_s) is not None) is flagged


def test_gc_over_a_tenth_of_the_time_is_flagged():
    warning = early_warning.gc_pressure("taskmanager tm-1", 240.0)
    assert warning == (
        "taskmanager tm-1: 240 ms of every second in garbage collection (over 100): the heap is "
        "nearly full"
    )


# --- the checkpoint history as Flink's REST API returns it ------------------------------------


def test_checkpoint_history_keeps_completed_checkpoints_oldest_first():
    document = {
        "history": [
            {"id": 12, "status": "IN_PROGRESS", "latest_ack_timestamp": 0},
            {
                "id": 11,
                "status": "COMPLETED",
                "latest_ack_timestamp": 1_700_000_020_500,
                "end_to_end_duration": 640,
                "state_size": 9_000,
                "checkpointed_size": 300,
            },
            {"id": 10, "status": "FAILED", "latest_ack_timestamp": 1_700_000_010_000},
            {
                "id": 9,
                "status": "COMPLETED",
                "latest_ack_timestamp": 1_700_000_000_000,
                "end_to_end_duration": 700,
                "state_size": 8_000,
                "checkpointed_size": 8_000,
            },
        ]
    }
    history = health.checkpoint_history(document)
    assert [sample.checkpoint_id for sample in history] == [9, 11]
    assert history[1] == health.CheckpointSample(11, 1_700_000_020.5, 640, 9_000, 300)


# --- the deduplication state's cost -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("10 s", 10),
        ("1 h", 3_600),
        ("10 min", 600),
        ("500 ms", 0.5),
        ("90min", 5_400),
        ("250", 0.25),
    ],
)
def test_flink_durations(text, seconds):
    assert math.isclose(state_cost.duration_s(text), seconds)


@pytest.mark.parametrize("text", ["", "ten minutes", "10 fortnights", "-1 s"])
def test_not_a_duration(text):
    with pytest.raises(ValueError, match="not a duration"):
        state_cost.duration_s(text)


def test_dedup_state_is_rate_times_retention_ids():
    cost = state_cost.DedupStateCost(records_per_s=10_000, retention_s=3_600, bytes_per_id=40)
    assert cost.ids == 36_000_000
    assert cost.size_bytes == 1_440_000_000
    assert cost.describe() == "10,000 records/s x 1 h = 36,000,000 ids x 40 B = 1.4 GB"


def test_the_plan_states_the_retention_and_its_cost_at_each_rate():
    config = load_config(dedup_state_ttl="15 min")
    text = state_cost.describe_dedup(config, rates=(1_000, 25_000))
    bytes_per_id = state_cost.DEDUP_BYTES_PER_ID
    assert "dedup_state_ttl = 15 min" in text
    assert f"1,000 records/s x 15 min = 900,000 ids x {bytes_per_id} B" in text
    assert f"25,000 records/s x 15 min = 22,500,000 ids x {bytes_per_id} B" in text
