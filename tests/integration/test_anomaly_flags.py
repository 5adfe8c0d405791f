"""The anomaly flags on the real stack, against the generator's labels.

A seeded run with the demo's settings (100 records per simulated second, 1% of sessions bots,
ten minutes of event time, every fault) goes through Kafka and the silver_gold job. Once the run
is over, the products gold/high_interest_products flags are exactly the ones the generator
injected with a conversion far below the shop's (the lukewarm ones, low but ordinary, are not),
the hot product is flagged within five minutes of event time, and the users gold/bot_suspects
flags are exactly the labelled bots, save those that started too close to the end to have had a
full minute (those may go either way).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from support import produce

from generator.model import GeneratorConfig
from generator.simulate import Simulation
from pipeline import deploy, lake
from stack.config import Config

pytestmark = pytest.mark.integration

START_AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SIM_RATE = 100.0
RECORDS = 60_000  # ten minutes of event time, as `make demo`
BOT_SETTLE = timedelta(minutes=2)


def test_flags_are_the_labelled_products_and_bots(pipeline_config: Config, tmp_path):
    simulation = Simulation(
        GeneratorConfig(seed=3, start_at=START_AT, sim_rate=SIM_RATE, bot_rate=0.01)
    )
    produce(pipeline_config, simulation.records(RECORDS), tmp_path / "truth.jsonl")
    labels = simulation.labels()
    end = START_AT + timedelta(seconds=RECORDS / SIM_RATE)
    settled_bots = {
        user
        for user, started_ms in simulation.bot_started_ms.items()
        if datetime.fromtimestamp(started_ms / 1000, UTC) <= end - BOT_SETTLE
    }
    assert len(labels["low_conversion_product_ids"]) == 3 and len(settled_bots) > 20

    job_id, started = deploy.submit(pipeline_config, "silver_gold")
    assert started
    state = deploy.wait_for_state(pipeline_config, job_id, {"FINISHED", "FAILED", "CANCELED"}, 600)
    assert state == "FINISHED", f"silver_gold ended {state}"

    connection = lake.connect(pipeline_config.lake_root)
    first_flagged = dict(
        connection.execute(
            "select product_id, min(window_end) from gold_high_interest_products "
            "where is_high_interest_low_conversion group by product_id"
        ).fetchall()
    )
    assert set(first_flagged) == set(labels["low_conversion_product_ids"])
    assert not set(first_flagged) & set(labels["lukewarm_product_ids"])
    hot_after = first_flagged[labels["hot_product_id"]] - START_AT.replace(tzinfo=None)
    assert hot_after <= timedelta(minutes=5)

    flagged_users = {
        user for (user,) in connection.execute("select user_id from gold_bot_suspects").fetchall()
    }
    assert settled_bots <= flagged_users <= set(labels["bot_user_ids"])
