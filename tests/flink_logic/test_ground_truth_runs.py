"""Whole runs through the views, checked against the generator's ground truth and the one oracle
(tests/oracle.py): a seeded simulation with every kind of fault, and the REES46 sample. What
tests/integration/test_pipeline.py checks in the lake, minus Kafka, Parquet and dbt."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import oracle
import pytest
from scenarios import Given, Results, Scenario

from generator.contract import to_epoch_ms
from generator.ground_truth import GroundTruthRecord, expected_silver_events
from generator.model import GeneratorConfig, Record
from generator.rees46 import replay_records
from generator.simulate import simulate

REES46_SAMPLE = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "rees46-2019-10-sample.csv"
)
GOLD_VIEWS = (
    "events_per_minute",
    "revenue_per_window",
    "revenue_by_category_per_window",
    "active_users_per_window",
    "purchases_by_device_per_window",
    "bot_suspects",
    "product_conversion_per_window",
    "high_interest_products",
    "sessions",
    "session_metrics_per_window",
    "revenue_per_rollup_window",
    "active_users_per_rollup_window",
    "purchases_by_device_per_rollup_window",
    "product_conversion_per_rollup_window",
)
VIEWS = ("events_checked", "events_late", "events_enriched", "order_items_flattened", *GOLD_VIEWS)
# Kafka timestamps: the end of the run, so no event is beyond the far-future cut-off.
PRODUCED_AT = timedelta(hours=1)


@dataclass(eq=False)
class Run:
    """A scenario of generated records that remembers them as ground truth."""

    name: str
    records: object  # (start: datetime) -> Iterable[Record]
    truth: list[GroundTruthRecord] = field(default_factory=list)
    views: tuple[str, ...] = VIEWS

    def __post_init__(self) -> None:
        self.scenario = Scenario(self.name, self._build)

    def _build(self, start: datetime) -> list[Given]:
        records: list[Record] = list(self.records(start))
        self.truth = [
            GroundTruthRecord(
                seq, r.key, r.value.decode(), r.partition, r.fault, r.reason, r.event_id
            )
            for seq, r in enumerate(records)
        ]
        return [Given(r.value, PRODUCED_AT, r.key.encode()) for r in records]

    def __str__(self) -> str:
        return self.name


SEEDED = Run(
    "seeded simulation",
    lambda start: simulate(
        GeneratorConfig(
            seed=20261122,
            start_at=start,
            sim_rate=20.0,  # 3,000 records over 150 s: three one-minute windows
            bot_rate=0.05,
            duplicate_rate=0.02,
            late_rate=0.02,
            malformed_rate=0.02,
            late_after_fraction=0.5,
        ),
        3_000,
    ),
)
REES46 = Run(
    "REES46 sample",
    lambda start: replay_records(REES46_SAMPLE, shift_to_ms=to_epoch_ms(start)),
)
NEEDS_SAMPLE = pytest.mark.skipif(not REES46_SAMPLE.exists(), reason="needs ../shared/data")


def _rows(results: Results, run: Run, view: str) -> list[dict]:
    return results.rows(run.scenario, view)


def assert_gold_equals_the_oracle(results: Results, run: Run, config) -> None:
    events = expected_silver_events(run.truth)
    expected = oracle.expected_gold(*oracle.silver_from_payloads(events), config)
    for view in GOLD_VIEWS:
        want = expected[f"gold_{view}"]
        columns = list(want[0]) if want else []
        got = [{c: row[c] for c in columns} for row in _rows(results, run, view)]
        assert _comparable(got) == _comparable(want), f"{view}: {len(got)} vs {len(want)} rows"


def _comparable(rows: list[dict]) -> list[tuple]:
    """Sorted rows; doubles to 12 decimals (Java and Python may differ in the last bit)."""
    return sorted(
        (tuple(round(v, 12) if isinstance(v, float) else v for v in row.values()) for row in rows),
        key=repr,
    )


@pytest.mark.parametrize("run", [pytest.param(SEEDED, id=SEEDED.name)])
def test_seeded_run_matches_its_ground_truth(run: Run, flink_results: Results, logic_config):
    faults = Counter(record.fault for record in run.truth)
    assert all(faults[name] for name in ("duplicate", "out_of_order", "late", "malformed"))
    offsets = {record.offset: truth for record, truth in zip(
        flink_results.records(run.scenario), run.truth, strict=True
    )}  # fmt: skip

    reasons = {
        offsets[row["kafka_offset"]].seq: row["quarantine_reason"]
        for row in _rows(flink_results, run, "events_checked")
    }
    assert reasons == {truth.seq: truth.reason for truth in run.truth}
    late = sorted(row["event_id"] for row in _rows(flink_results, run, "events_late"))
    assert late == sorted(truth.event_id for truth in run.truth if truth.fault == "late")
    silver = sorted(row["event_id"] for row in _rows(flink_results, run, "events_enriched"))
    assert silver == sorted(event["event_id"] for event in expected_silver_events(run.truth))
    empty = [view for view in GOLD_VIEWS if not _rows(flink_results, run, view)]
    assert not empty, "a run that fills every gold view: pick other generator settings"
    assert_gold_equals_the_oracle(flink_results, run, logic_config)


@pytest.mark.parametrize("run", [pytest.param(REES46, id=REES46.name, marks=NEEDS_SAMPLE)])
def test_rees46_sample_is_all_silver(run: Run, flink_results: Results, logic_config):
    silver = _rows(flink_results, run, "events_enriched")
    assert Counter(row["event_type"] for row in silver) == {
        "product_view": 987,
        "add_to_cart": 3,
        "purchase": 10,
    }
    assert len(_rows(flink_results, run, "order_items_flattened")) == 10
    assert_gold_equals_the_oracle(flink_results, run, logic_config)
