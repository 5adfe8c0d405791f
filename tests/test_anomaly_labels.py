"""What the anomaly flags are measured against: the generator's labelled low-conversion products
(and the lukewarm ones that must not be flagged), the ground-truth summary that carries them, and
the settings of the high-interest/low-conversion rule in the typed config."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from statistics import NormalDist

import pytest
import typer
from typer.testing import CliRunner

from generator.cli import generate
from generator.ground_truth import load_summary
from generator.model import GeneratorConfig
from generator.simulate import Simulation
from stack.config import ConfigError, load_config

START = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
COUNT = 120_000


@pytest.fixture(scope="module")
def run() -> tuple[Simulation, Counter[str], Counter[str]]:
    """A seeded run's product views and purchased lines per product (valid records only)."""
    simulation = Simulation(GeneratorConfig(seed=11, start_at=START))
    views: Counter[str] = Counter()
    sold: Counter[str] = Counter()
    for record in simulation.records(COUNT):
        if record.fault not in (None, "out_of_order"):
            continue
        event = json.loads(record.value)
        if event["event_type"] == "product_view":
            views[event["product_id"]] += 1
        elif event["event_type"] == "purchase":
            sold.update(item["product_id"] for item in event["order"]["items"])
    return simulation, views, sold


def test_labels_name_the_hot_product_first_and_the_featured_products_by_seed():
    labels = Simulation(GeneratorConfig(seed=1, start_at=START)).labels()
    again = Simulation(GeneratorConfig(seed=1, start_at=START)).labels()
    other = Simulation(GeneratorConfig(seed=2, start_at=START)).labels()
    low, lukewarm = labels["low_conversion_product_ids"], labels["lukewarm_product_ids"]
    assert low[0] == labels["hot_product_id"] == "P00001"
    assert (len(low), len(lukewarm)) == (3, 3)
    assert not set(low) & set(lukewarm)
    assert labels == again
    assert (other["low_conversion_product_ids"], other["lukewarm_product_ids"]) != (low, lukewarm)


def test_featured_products_draw_their_share_and_convert_as_labelled(run):
    simulation, views, sold = run
    labels = simulation.labels()
    low = labels["low_conversion_product_ids"][1:]
    lukewarm = labels["lukewarm_product_ids"]
    featured = {*low, *lukewarm}
    ordinary = set(views) - featured - {labels["hot_product_id"]}

    def rate(products) -> float:
        return sum(sold[p] for p in products) / sum(views[p] for p in products)

    for product in featured:
        assert 0.025 < views[product] / views.total() < 0.04, product
    # low-converting: a tenth of an ordinary product's rate or less; lukewarm: in between
    assert rate(low) < 0.2 * rate(ordinary)
    assert 0.4 * rate(ordinary) < rate(lukewarm) < 0.9 * rate(ordinary)


def test_bots_are_labelled_with_when_they_started(run):
    simulation, _, _ = run
    assert simulation.labels()["bot_user_ids"] == list(simulation.bot_started_ms)
    starts = list(simulation.bot_started_ms.values())
    assert starts == sorted(starts) and starts[0] >= simulation.start_ms


def _nothing() -> None:
    """A placeholder command."""


def test_ground_truth_summary_carries_the_labels(tmp_path):
    app = typer.Typer()
    app.command()(generate)
    app.command()(_nothing)  # a second command keeps `generate` a subcommand
    path = tmp_path / "truth.jsonl"
    args = ["generate", "--count", "30000", "--dry-run", "--seed", "7", "--bot-rate", "0.02"]
    args += ["--start-at", "2026-11-22T10:00:00Z", "--ground-truth", str(path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = load_summary(path)
    simulation = Simulation(GeneratorConfig(seed=7, start_at=START, bot_rate=0.02))
    for _ in simulation.records(30_000):
        pass
    labels = simulation.labels()
    assert labels["bot_user_ids"]
    assert {name: summary[name] for name in labels} == labels


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("hilc_window_minutes", "25", "multiple of hilc_slide_minutes"),
        ("hilc_window_minutes", "120", "between 1 and 99"),
        ("hilc_slide_minutes", "0", "between 1 and 99"),
        ("hilc_min_views", "0", "hilc_min_views must be at least 1"),
        ("hilc_confidence", "0.5", "hilc_confidence must be in"),
        ("hilc_confidence", "1", "hilc_confidence must be in"),
        ("hilc_conversion_ratio", "0", "hilc_conversion_ratio must be in"),
        ("hilc_conversion_ratio", "1.5", "hilc_conversion_ratio must be in"),
    ],
)
def test_bad_rule_settings_are_rejected_with_the_setting_named(tmp_path, setting, value, message):
    environ = {f"CLICKSTREAM_{setting.upper()}": value}
    if setting == "hilc_window_minutes":
        environ["CLICKSTREAM_HILC_SLIDE_MINUTES"] = "2"
    with pytest.raises(ConfigError, match=message):
        load_config(path=tmp_path / "none.toml", environ=environ)


def test_the_flink_sql_gets_the_exact_quantile_of_the_confidence(tmp_path):
    config = load_config(
        path=tmp_path / "none.toml", environ={"CLICKSTREAM_HILC_CONFIDENCE": "0.95"}
    )
    params = config.sql_params("silver_gold")
    assert float(params["hilc_z"]) == NormalDist().inv_cdf(0.95) == config.hilc_z
    assert float(params["hilc_confidence"]) == 0.95
    assert (params["hilc_window_minutes"], params["hilc_slide_minutes"]) == ("30", "1")
