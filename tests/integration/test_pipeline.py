"""The medallion pipeline on the real stack, checked against the generator's ground truth.

A seeded run with duplicates, out-of-order, late and malformed records goes through Kafka and both
Flink jobs (bounded reads, so the final watermark closes every window). Every gold table must then
equal a DuckDB recomputation from the ground truth written here, not the pipeline's SQL, and the
accounting identity bronze = silver + quarantine + late + duplicates must hold exactly."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from support import dbt_build, produce

from generator.contract import standardize_device_type
from generator.ground_truth import (
    expected_layer_counts,
    expected_silver_events,
    load_ground_truth,
)
from generator.model import GeneratorConfig
from generator.rees46 import replay_records
from generator.simulate import simulate
from pipeline import deploy
from stack.config import Config

pytestmark = pytest.mark.integration

RECORDS = 20_000
REES46_SAMPLE = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "rees46-2019-10-sample.csv"
)


def run_pipeline(config: Config) -> None:
    """Both jobs, bounded by what the topic holds now; returns once they finished."""
    for job in ("bronze", "silver_gold"):
        job_id, started = deploy.submit(config, job)
        assert started
        state = deploy.wait_for_state(config, job_id, {"FINISHED", "FAILED", "CANCELED"}, 300)
        assert state == "FINISHED", f"{job} ended {state}"


def lake(config: Config) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    for table in (
        "bronze/events",
        "silver/events",
        "silver/order_items",
        "quarantine/events",
        "late/events",
        *(f"gold/{name}" for name in GOLD),
    ):
        name = table.replace("/", "_")
        files = list(Path(config.lake_root, table).glob("*/part-*"))
        if files:
            connection.execute(
                f"create view {name} as select * exclude (dt) from read_parquet("
                f"'{config.lake_root}/{table}/*/part-*', hive_partitioning = true)"
            )
    return connection


GOLD = (
    "events_per_minute",
    "revenue_per_window",
    "revenue_by_category_per_window",
    "active_users_per_window",
    "purchases_by_device_per_window",
    "bot_suspects",
    "product_conversion_per_window",
)


def _timestamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")


def expected_connection(events: list[dict]) -> duckdb.DuckDBPyConnection:
    """Silver events and order items as the contract defines them, built in Python."""
    connection = duckdb.connect()
    connection.execute(
        "create table events (event_id varchar, event_type varchar, event_at timestamp, "
        "user_id varchar, product_id varchar, device_type varchar)"
    )
    connection.execute(
        "create table items (order_id varchar, event_at timestamp, device_type varchar, "
        "product_id varchar, category varchar, quantity integer, unit_price decimal(12, 2))"
    )
    product_types = {"product_view", "add_to_cart", "remove_from_cart"}
    event_rows, item_rows = [], []
    for event in events:
        event_at = _timestamp(event["event_at"])
        device = standardize_device_type(event.get("device_type"))
        product_id = event.get("product_id") if event["event_type"] in product_types else None
        event_rows.append(
            (event["event_id"], event["event_type"], event_at, event["user_id"], product_id, device)
        )
        if event["event_type"] == "purchase":
            for item in event["order"]["items"]:
                item_rows.append(
                    (
                        event["order"]["order_id"],
                        event_at,
                        device,
                        item["product_id"],
                        item.get("category"),
                        int(item["quantity"]),
                        Decimal(str(item["unit_price"])),
                    )
                )
    connection.executemany("insert into events values (?, ?, ?, ?, ?, ?)", event_rows)
    if item_rows:
        connection.executemany("insert into items values (?, ?, ?, ?, ?, ?, ?)", item_rows)
    return connection


EXPECTED_GOLD = {
    "events_per_minute": """
        select time_bucket(interval 1 minute, event_at) as w, event_type, count(*)
        from events group by all""",
    "revenue_per_window": """
        select time_bucket(interval 1 minute, event_at) as w, count(distinct order_id),
            sum(quantity * unit_price)::decimal(12, 2)
        from items group by all""",
    "revenue_by_category_per_window": """
        select time_bucket(interval 1 minute, event_at) as w, coalesce(category, 'unknown'),
            sum(quantity), sum(quantity * unit_price)::decimal(12, 2)
        from items group by all""",
    "active_users_per_window": """
        select time_bucket(interval 1 minute, event_at) as w, count(distinct user_id)
        from events group by all""",
    "purchases_by_device_per_window": """
        select time_bucket(interval 1 minute, event_at) as w, device_type,
            count(distinct order_id), sum(quantity * unit_price)::decimal(12, 2)
        from items group by all""",
    "bot_suspects": """
        select time_bucket(interval 1 minute, event_at) as w, user_id, count(*)
        from events group by all having count(*) > 50""",
    "product_conversion_per_window": """
        with interactions as (
            select time_bucket(interval 1 minute, event_at) as w, product_id, event_type
            from events where event_type in ('product_view', 'add_to_cart')
            union all
            select time_bucket(interval 1 minute, event_at), product_id, 'purchase' from items
        ),
        counted as (
            select w, product_id,
                count(*) filter (event_type = 'product_view') as views,
                count(*) filter (event_type = 'add_to_cart') as carts,
                count(*) filter (event_type = 'purchase') as purchases
            from interactions group by all
        )
        select w, product_id, views, carts, purchases,
            case when views > 0 then purchases / views end,
            views >= 20 and purchases / views < 0.02
        from counted""",
}

ACTUAL_GOLD = {
    "events_per_minute": "select window_start, event_type, event_count from gold_events_per_minute",
    "revenue_per_window": "select window_start, order_count, revenue from gold_revenue_per_window",
    "revenue_by_category_per_window": "select window_start, category, items_sold, revenue "
    "from gold_revenue_by_category_per_window",
    "active_users_per_window": "select window_start, active_users from gold_active_users_per_window",
    "purchases_by_device_per_window": "select window_start, device_type, purchase_count, revenue "
    "from gold_purchases_by_device_per_window",
    "bot_suspects": "select window_start, user_id, event_count from gold_bot_suspects",
    "product_conversion_per_window": "select window_start, product_id, view_count, cart_count, "
    "purchase_count, conversion_rate, is_high_interest_low_conversion "
    "from gold_product_conversion_per_window",
}


def rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return sorted(connection.execute(sql).fetchall(), key=repr)


def assert_gold_matches_ground_truth(actual: duckdb.DuckDBPyConnection, events: list[dict]) -> None:
    expected = expected_connection(events)
    written = {row[0] for row in actual.execute("select view_name from duckdb_views()").fetchall()}
    for table in GOLD:
        want = rows(expected, EXPECTED_GOLD[table])
        got = rows(actual, ACTUAL_GOLD[table]) if f"gold_{table}" in written else []
        assert got == want, f"gold {table}: {len(got)} rows vs {len(want)} expected"


def assert_accounting_identity(actual: duckdb.DuckDBPyConnection, records) -> None:
    counts = expected_layer_counts(records)
    bronze = actual.execute("select count(*) from bronze_events").fetchone()[0]
    silver = actual.execute("select count(*) from silver_events").fetchone()[0]
    quarantine = dict(
        actual.execute("select reason, count(*) from quarantine_events group by 1").fetchall()
    )
    late = actual.execute("select count(*) from late_events").fetchone()[0] if counts.late else 0
    assert bronze == counts.bronze
    assert silver == counts.silver
    assert quarantine == counts.quarantine_by_reason
    assert late == counts.late
    assert bronze == silver + sum(quarantine.values()) + late + counts.duplicates


def test_seeded_run_matches_ground_truth(pipeline_config: Config, tmp_path):
    generator = GeneratorConfig(
        seed=20261122,
        start_at=datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
        sim_rate=100.0,
        bot_rate=0.02,
        late_after_fraction=0.5,  # every partition has set the watermark long before
    )
    truth = tmp_path / "truth.jsonl"
    produce(pipeline_config, simulate(generator, RECORDS), truth)
    records = load_ground_truth(truth)
    faults = Counter(record.fault for record in records)
    assert all(faults[name] > 0 for name in ("duplicate", "out_of_order", "late", "malformed"))

    run_pipeline(pipeline_config)
    actual = lake(pipeline_config)

    assert_accounting_identity(actual, records)
    events = expected_silver_events(records)
    silver_ids = {row[0] for row in actual.execute("select event_id from silver_events").fetchall()}
    assert silver_ids == {event["event_id"] for event in events}
    late_ids = {row[0] for row in actual.execute("select event_id from late_events").fetchall()}
    assert late_ids == {record.event_id for record in records if record.fault == "late"}
    assert actual.execute("select count(*) from gold_bot_suspects").fetchone()[0] > 0
    assert_gold_matches_ground_truth(actual, events)

    items = actual.execute(
        "select count(*), sum(line_total) = sum(quantity * unit_price) from silver_order_items"
    ).fetchone()
    want_items = sum(len(e["order"]["items"]) for e in events if e["event_type"] == "purchase")
    assert items == (want_items, True)

    # The batch side builds on this lake: every mart and every dbt test, reconciliation included.
    assert "ERROR=0" in dbt_build(pipeline_config.lake_root, tmp_path).replace(" ", "")


@pytest.mark.skipif(not REES46_SAMPLE.exists(), reason="needs ../shared/data (the REES46 sample)")
def test_rees46_sample_replays_into_every_layer(pipeline_config: Config, tmp_path):
    truth = tmp_path / "rees46.jsonl"
    produce(pipeline_config, replay_records(REES46_SAMPLE), truth)
    run_pipeline(pipeline_config)
    actual = lake(pipeline_config)
    assert actual.execute("select count(*) from bronze_events").fetchone()[0] == 1_000
    assert actual.execute("select count(*) from silver_events").fetchone()[0] == 1_000
    by_type = dict(
        actual.execute("select event_type, count(*) from silver_events group by 1").fetchall()
    )
    assert by_type == {"product_view": 987, "add_to_cart": 3, "purchase": 10}
    assert actual.execute("select count(*) from silver_order_items").fetchone()[0] == 10
    events = [record.event() for record in load_ground_truth(truth)]
    assert_gold_matches_ground_truth(actual, events)
    assert "ERROR=0" in dbt_build(pipeline_config.lake_root, tmp_path).replace(" ", "")
