"""dashboard/queries.py over lakes written by lake_fixture: each panel's data against the answer
worked out from silver rows (dashboard_expected), the identity check, and the empty states."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dashboard_expected import ExpectedDashboard, expected_dashboard
from lake_fixture import (
    DAY_2,
    bot_view_count,
    hand_checked_anomalies,
    small_hand_checked_lake,
    write_uncommitted_file,
)

from dashboard import queries
from stack.config import Config, load_config


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config()


@pytest.fixture(scope="module")
def lake_root(tmp_path_factory, config: Config) -> Path:
    root = tmp_path_factory.mktemp("dashboard") / "lake"
    small_hand_checked_lake(root)
    hand_checked_anomalies(root, config)
    # A checkpoint still writing: data files no snapshot references beside the committed ones
    # (write_lake leaves some in silver/events and gold/bot_suspects too). Not Parquet: a panel
    # that read one would fail.
    for table in (
        "gold/events_per_minute",
        "gold/revenue_per_window",
        "quality/record_outcomes_per_minute",
    ):
        write_uncommitted_file(root, table, DAY_2)
    return root


@pytest.fixture(scope="module")
def expected(lake_root: Path, config: Config) -> ExpectedDashboard:
    return expected_dashboard(lake_root, config)


@pytest.fixture
def lake(lake_root: Path):
    connection = queries.open_lake(lake_root)
    yield connection
    connection.close()


def as_dict(frame, key: str, value: str) -> dict:
    return dict(zip(frame[key], frame[value], strict=True))


def test_revenue_orders_and_devices_match_the_order_items(lake, expected):
    totals = queries.revenue_totals(lake)
    assert (totals.order_count, totals.revenue) == (expected.order_count, expected.revenue)
    # o1 200.00 + o2 200.00 + o3 660.00, and o8 25.00 of hand_checked_anomalies
    assert totals.revenue == Decimal("1085.00")
    by_category = queries.revenue_by_category(lake)
    assert as_dict(by_category, "category", "items_sold") == expected.items_by_category
    assert as_dict(by_category, "category", "revenue") == {
        category: float(revenue) for category, revenue in expected.revenue_by_category.items()
    }
    by_device = queries.purchases_by_device(lake)
    assert as_dict(by_device, "device_type", "purchase_count") == expected.purchases_by_device
    assert as_dict(by_device, "device_type", "revenue") == {
        device: float(revenue) for device, revenue in expected.revenue_by_device.items()
    }
    per_window = queries.revenue_per_window(lake)
    assert per_window["revenue"].sum() == float(expected.revenue)


def test_live_sessions_are_the_sessions_of_the_silver_events(lake, expected):
    by_device = queries.live_sessions_by_device(lake)
    got = {
        row.device_type: (
            row.sessions_closed,
            row.median_duration_seconds,
            row.p90_duration_seconds,
            row.bounce_rate,
            row.conversion_rate,
        )
        for row in by_device.itertuples()
    }
    assert got.keys() == expected.live_sessions_by_device.keys()
    for device, figures in expected.live_sessions_by_device.items():
        assert got[device] == pytest.approx(figures), device
    assert len(got) > 1, "a lake with sessions on several devices"
    per_window = queries.sessions_closed_per_window(lake)
    assert per_window["sessions_closed"].sum() == sum(
        row[0] for row in expected.live_sessions_by_device.values()
    )


def test_traffic_matches_the_silver_events(lake, expected):
    assert as_dict(queries.events_by_type(lake), "event_type", "event_count") == (
        expected.events_by_type
    )
    per_minute = queries.events_per_minute(lake)
    assert per_minute["event_count"].sum() == expected.silver_count
    active = queries.active_users_per_window(lake)
    assert active["window_start"].is_monotonic_increasing
    assert active["active_users"].max() == expected.peak_active_users


def test_each_rollup_resolution_reads_its_windows(lake, expected, config):
    """The resolution picker's sizes: window_minutes reads the *_per_window tables, each rollup
    size its rows of the *_per_rollup_window tables, against the oracle's recomputation."""
    finest, *rollups = queries.resolutions(config)
    assert finest.table("active_users") == "gold_active_users_per_window"
    assert [r.minutes for r in rollups] == list(config.rollup_minutes)
    for resolution in rollups:
        want = expected.rollups[resolution.minutes]
        active = queries.active_users_per_window(lake, resolution)
        assert list(active["window_start"]) == want.active_windows
        assert (active["active_users"].max(), active["active_users"].iloc[-1]) == (
            want.peak_active_users,
            want.newest_active_users,
        )
        totals = queries.revenue_totals(lake, resolution)
        assert totals == queries.RevenueTotals(want.window_count, want.order_count, want.revenue)
        assert queries.revenue_per_window(lake, resolution)["revenue"].sum() == float(want.revenue)
        by_device = queries.purchases_by_device(lake, resolution)
        assert as_dict(by_device, "device_type", "purchase_count") == want.purchases_by_device
    # the lake's activity falls in fewer windows of the coarsest size than of the finest
    finest_windows = queries.active_users_per_window(lake)["window_start"]
    assert len(expected.rollups[config.rollup_minutes[-1]].active_windows) < len(finest_windows)


def test_anomalies_are_the_bot_and_the_product_nobody_buys(lake, expected, config):
    bots = queries.bot_suspects(lake)
    assert as_dict(bots, "user_id", "max_events_per_minute") == expected.bot_events_per_minute
    assert expected.bot_events_per_minute == {"u9": bot_view_count(config)}
    products = queries.high_interest_low_conversion(lake)
    assert as_dict(products, "product_id", "view_count") == (
        expected.high_interest_low_conversion_views
    )
    assert expected.high_interest_low_conversion_views == {"p9": bot_view_count(config)}
    assert list(products["purchase_count"]) == [0]


def test_data_quality_shows_the_newest_minutes_the_stream_counted(lake_root, expected):
    outcomes = queries.record_outcomes(lake_root)
    totals = {
        name: outcomes.total(name)
        for name in ("bronze_count", "silver_count", "quarantine_count", "late_count")
    }
    assert totals == {
        "bronze_count": expected.bronze_count,
        "silver_count": expected.silver_count,
        "quarantine_count": expected.quarantine_count,
        "late_count": expected.late_count,
    }
    assert outcomes.total("duplicate_count") == expected.duplicate_count
    assert outcomes.is_balanced
    reasons = outcomes.quarantine_by_reason
    assert as_dict(reasons, "reason", "record_count") == expected.quarantine_by_reason


@pytest.mark.parametrize(
    "has_uncommitted_files", [False, True], ids=["no-lake", "only-uncommitted-files"]
)
def test_a_lake_without_committed_files_reads_as_empty(tmp_path, has_uncommitted_files):
    """No catalog at all, or tables that exist with only data files no snapshot references (a
    checkpoint still writing; not even Parquet, so reading one fails): every panel is empty."""
    root = tmp_path / "lake"
    if has_uncommitted_files:
        for table in (
            "silver/events",
            "bronze/events",
            "gold/events_per_minute",
            "gold/revenue_per_window",
            "quality/record_outcomes_per_minute",
        ):
            garbage = write_uncommitted_file(root, table, DAY_2)
            assert garbage.is_file() and garbage.is_relative_to(root / table)
    lake = queries.open_lake(root)
    assert not queries.has_table(lake, "gold_events_per_minute")
    for frame in (
        queries.events_per_minute(lake),
        queries.events_by_type(lake),
        queries.revenue_per_window(lake),
        queries.revenue_by_category_per_window(lake),
        queries.revenue_by_category(lake),
        queries.active_users_per_window(lake),
        queries.purchases_by_device(lake),
        queries.bot_suspects(lake),
        queries.high_interest_low_conversion(lake),
        queries.record_outcomes(root).per_minute,
        queries.record_outcomes(root).quarantine_by_reason,
    ):
        assert frame.empty
        assert len(frame.columns) >= 2
    assert queries.revenue_totals(lake) == queries.RevenueTotals(0, 0, Decimal("0.00"))
    assert queries.record_outcomes(root).is_balanced


def test_a_missing_warehouse_is_none_and_missing_marts_are_empty(tmp_path):
    assert queries.open_warehouse(tmp_path / "clickstream.duckdb") is None
    duckdb.connect(str(tmp_path / "clickstream.duckdb")).close()  # dbt has not built anything
    warehouse = queries.open_warehouse(tmp_path / "clickstream.duckdb")
    assert queries.session_totals(warehouse) is None
    assert queries.funnel_by_date(warehouse).empty
    assert queries.sessions_by_device(warehouse).empty


def test_marts_are_summed_over_the_funnel_cells_and_the_sessions(tmp_path):
    path = tmp_path / "clickstream.duckdb"
    with duckdb.connect(str(path)) as warehouse:
        warehouse.execute(
            """
            create table funnel_daily as select * from (values
                (date '2024-03-01', 'desktop', 'a', 10, 4, 5, 2, 1),
                (date '2024-03-01', 'mobile', 'b', 6, 2, 3, 2, 1)
            ) as cells(event_date, device_type, category, product_view_count, add_to_cart_count,
                viewed_user_count, carted_user_count, purchased_user_count);
            create table sessions as select * from (values
                ('desktop', true, 120.00, 60.0),
                ('desktop', false, 0.00, 0.0),
                ('mobile', false, 0.00, 30.0)
            ) as rows(device_type, is_converted, revenue, duration_seconds)
            """
        )
    warehouse = queries.open_warehouse(path)
    funnel = queries.funnel_by_date(warehouse).iloc[0]
    assert (funnel["product_view_count"], funnel["purchased_user_count"]) == (16, 2)
    assert funnel["view_to_purchase_rate"] == pytest.approx(2 / 8)
    totals = queries.session_totals(warehouse)
    assert (totals.session_count, totals.converted_session_count) == (3, 1)
    assert totals.conversion_rate == pytest.approx(1 / 3)
    assert totals.revenue == Decimal("120.00")
    by_device = queries.sessions_by_device(warehouse)
    assert as_dict(by_device, "device_type", "session_count") == {"desktop": 2, "mobile": 1}
