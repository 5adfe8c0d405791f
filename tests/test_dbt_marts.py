"""The dbt marts, built by the real `dbt build` over the small hand-checked lake of
``lake_fixture.small_hand_checked_lake`` (read its docstring for the story of each user).

Expected values are worked out by hand from that story, not by re-running the models' SQL.
One build is shared by the value tests; the incremental tests work on a copy of it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import oracle
import pytest
from lake_fixture import (
    DAY_1,
    DAY_2,
    copy_lake,
    hand_checked_next_day,
    small_hand_checked_lake,
    write_table,
)

from pipeline import lake, lake_reader
from stack.config import load_config

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"
MARTS = ("sessions", "funnel_daily", "user_funnel", "product_performance", "data_quality_daily")
# Small thresholds so the tiny lake has a high-interest, low-conversion product-day: 2 views
# are enough, judged at a 60% confidence (z = 0.2533).
FLAG_VARS = {"hilc_min_views": 2, "hilc_confidence": 0.6}

D1, D2, D3 = date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)


def at(day: date, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day.isoformat()} {clock}")


@dataclass
class Warehouse:
    """A lake and the DuckDB warehouse dbt builds from it, side by side under ``root``."""

    root: Path

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def database(self) -> Path:
        return self.root / "clickstream.duckdb"

    def dbt(self, *args: str, vars: dict | None = None, expect_success: bool = True):
        """Run dbt in dbt_project/ against this lake; fails the test when dbt fails (or, with
        expect_success=False, when it succeeds)."""
        all_vars = {**FLAG_VARS, **(vars or {})}
        command = [
            str(Path(sys.executable).with_name("dbt")),
            *args,
            "--profiles-dir", str(DBT_PROJECT),
            "--vars", str(all_vars),
        ]  # fmt: skip
        env = {
            **os.environ,
            "LAKE_ROOT": str(self.lake),
            "DBT_DUCKDB_PATH": str(self.database),
            "DBT_TARGET_PATH": str(self.root / "target"),
            "DBT_LOG_PATH": str(self.root / "logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        result = subprocess.run(
            command, cwd=DBT_PROJECT, env=env, capture_output=True, text=True, timeout=300
        )
        output = result.stdout + result.stderr
        if expect_success and result.returncode != 0:
            pytest.fail(f"dbt {' '.join(args)} failed:\n{output[-6000:]}")
        if not expect_success and result.returncode == 0:
            pytest.fail(f"dbt {' '.join(args)} succeeded, expected a failure:\n{output[-3000:]}")
        return output

    def query(self, sql: str) -> list[tuple]:
        # Open and close per query: a DuckDB file open here would lock dbt out.
        with duckdb.connect(str(self.database), read_only=True) as con:
            return con.execute(sql).fetchall()

    def rows(self, table: str, columns: str = "*") -> list[tuple]:
        return self.query(f"select {columns} from {table} order by all")

    def marts(self) -> dict[str, list[tuple]]:
        return {mart: self.rows(mart) for mart in MARTS}

    def compiled(self, model: str) -> str:
        path = self.root / "target" / "compiled" / "clickstream" / "models" / "marts"
        return (path / f"{model}.sql").read_text()

    def copy(self, root: Path) -> Warehouse:
        copy_lake(self.lake, root / "lake")
        shutil.copy(self.database, root / "clickstream.duckdb")
        return Warehouse(root)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Warehouse:
    warehouse = Warehouse(tmp_path_factory.mktemp("hand_checked"))
    small_hand_checked_lake(warehouse.lake)
    warehouse.dbt("build")
    return warehouse


# --- the fixture itself --------------------------------------------------------------------------


def test_the_fixture_lake_is_an_iceberg_lake_laid_out_like_flinks(tmp_path):
    small_hand_checked_lake(tmp_path)
    catalog = lake_reader.catalog(tmp_path)
    assert {".".join(name) for ns in catalog.list_namespaces() for name in catalog.list_tables(ns)} >= {
        "bronze.events", "silver.events", "silver.order_items", "quarantine.events",
        "late.events", "gold.events_per_minute",
    }  # fmt: skip
    silver = lake_reader.scan(tmp_path, "silver_events")
    assert silver.snapshot_id is not None
    assert {Path(path).relative_to(tmp_path).parts[:4] for path in silver.files} == {
        ("silver", "events", "data", f"dt={DAY_1}"),
        ("silver", "events", "data", f"dt={DAY_2}"),
    }
    # The fixture's uncommitted garbage lies beside the committed files; no snapshot has it.
    on_disk = {str(path) for path in (tmp_path / "silver" / "events" / "data").rglob("*.parquet")}
    (uncommitted,) = on_disk - set(silver.files)
    assert Path(uncommitted).read_bytes().startswith(b"not parquet")


# --- mart values ---------------------------------------------------------------------------------

SESSION_COLUMNS = """
    user_id, session_date, started_at, ended_at, duration_seconds, event_count,
    viewed_product_count, viewed_category_count, add_to_cart_count, remove_from_cart_count,
    purchase_count, revenue, device_type, is_converted, client_session_count,
    is_client_session_match
"""


def test_sessions_split_after_30_minutes_of_inactivity(built):
    d = Decimal
    assert built.rows("sessions", SESSION_COLUMNS) == [
        # u1: 10:20 -> 10:50 is a gap of exactly 30 minutes, so two sessions; the client kept s1.
        ("u1", D1, at(D1, "10:00:00"), at(D1, "10:20:00"), 1200.0, 4, 1, 1, 1, 0, 1, d("200.00"),
         "desktop", True, 1, False),
        ("u1", D1, at(D1, "10:50:00"), at(D1, "10:55:00"), 300.0, 2, 1, 1, 0, 0, 0, d("0.00"),
         "desktop", False, 1, False),
        # u2: one session across midnight, dated by its start.
        ("u2", D1, at(D1, "23:50:00"), at(D2, "00:20:00"), 1800.0, 5, 1, 1, 1, 1, 1, d("200.00"),
         "mobile", True, 1, True),
        # u3: 08:45, 09:00, 09:29:59 (a gap of 29:59 stays), then a lone event at 11:00.
        ("u3", D2, at(D2, "08:45:00"), at(D2, "09:29:59"), 2699.0, 3, 1, 1, 0, 0, 0, d("0.00"),
         "tablet", False, 1, True),
        ("u3", D2, at(D2, "11:00:00"), at(D2, "11:00:00"), 0.0, 1, 0, 0, 0, 0, 0, d("0.00"),
         "tablet", False, 1, True),
        # u4 sent no client session id.
        ("u4", D2, at(D2, "12:00:00"), at(D2, "12:04:00"), 240.0, 5, 2, 2, 2, 0, 1, d("660.00"),
         "desktop", True, 0, False),
        # u5: two single-event sessions on day 1; the client's s5 spans both.
        ("u5", D1, at(D1, "15:00:00"), at(D1, "15:00:00"), 0.0, 1, 0, 0, 0, 0, 0, d("0.00"),
         "mobile", False, 1, False),
        ("u5", D1, at(D1, "23:59:59"), at(D1, "23:59:59"), 0.0, 1, 0, 0, 0, 0, 0, d("0.00"),
         "mobile", False, 1, False),
        ("u6", D2, at(D2, "14:00:00"), at(D2, "14:02:00"), 120.0, 3, 1, 1, 1, 1, 0, d("0.00"),
         "mobile", False, 1, True),
    ]  # fmt: skip


def test_session_ids_are_deterministic_and_unique(built):
    assert built.query(
        "select count(*), count(distinct session_id), min(length(session_id)) from sessions"
    ) == [(9, 9, 32)]


def test_funnel_daily_counts_users_through_the_steps_in_order(built):
    d = Decimal
    columns = """
        event_date, device_type, category, product_view_count, add_to_cart_count, order_count,
        revenue, viewed_user_count, carted_user_count, purchased_user_count, view_to_cart_rate,
        cart_to_purchase_rate, view_to_purchase_rate
    """
    assert built.rows("funnel_daily", columns) == [
        (D1, "desktop", "electronics.smartphone", 1, 1, 1, d("200.00"), 1, 1, 1, 1.0, 1.0, 1.0),
        (D1, "desktop", "home.kitchen", 1, 0, 0, d("0.00"), 1, 0, 0, 0.0, None, 0.0),
        # u2 viewed on day 1 and carted and bought after midnight: a viewer on day 1 only.
        (D1, "mobile", "electronics.smartphone", 1, 0, 0, d("0.00"), 1, 0, 0, 0.0, None, 0.0),
        # o3 is split by its items' categories: 160.00 of audio, 500.00 of smartphones.
        (D2, "desktop", "electronics.audio", 1, 1, 1, d("160.00"), 1, 1, 1, 1.0, 1.0, 1.0),
        (D2, "desktop", "electronics.smartphone", 1, 1, 1, d("500.00"), 1, 1, 1, 1.0, 1.0, 1.0),
        # u2's cart and order (no view that day) and u6's view and cart (no order).
        (D2, "mobile", "electronics.smartphone", 1, 2, 1, d("200.00"), 1, 1, 0, 1.0, 0.0, 0.0),
        (D2, "tablet", "home.kitchen", 2, 0, 0, d("0.00"), 1, 0, 0, 0.0, None, 0.0),
    ]  # fmt: skip


def test_user_funnel_has_each_users_furthest_stage_and_time_to_it(built):
    columns = "user_id, furthest_stage, furthest_stage_reached_at, seconds_to_furthest_stage"
    assert built.rows("user_funnel", columns) == [
        ("u1", "purchased", at(D1, "10:20:00"), 1200.0),
        ("u2", "purchased", at(D2, "00:20:00"), 1800.0),
        ("u3", "viewed_product", at(D2, "09:00:00"), 900.0),
        ("u4", "purchased", at(D2, "12:04:00"), 240.0),
        ("u5", "visited", at(D1, "15:00:00"), 0.0),
        ("u6", "added_to_cart", at(D2, "14:01:00"), 60.0),
    ]


def test_product_performance_flags_high_interest_low_conversion(built):
    d = Decimal
    columns = """
        product_id, event_date, view_count, viewer_count, add_to_cart_count,
        remove_from_cart_count, order_count, units_sold, revenue, conversion_rate,
        baseline_conversion_rate, is_high_interest_low_conversion
    """
    # The baseline is the rest of the day: day 1 has 3 views and 1 order (p1), day 2 has 5 views
    # and 3 orders (p1, p3, p4).
    assert built.rows("product_performance", columns) == [
        ("p1", D1, 2, 2, 1, 0, 1, 1, d("200.00"), 0.5, 0 / 1, False),
        ("p1", D2, 0, 0, 1, 1, 1, 1, d("200.00"), None, 2 / 5, False),
        ("p2", D1, 1, 1, 0, 0, 0, 0, d("0.00"), 0.0, 1 / 2, False),
        # 2 views (>= 2), no order, and at 60% confidence a conversion of at most 3.1% (the
        # Wilson bound), below 0.6 x the rest's 3 / 3: the only flagged product-day.
        ("p2", D2, 2, 1, 0, 0, 0, 0, d("0.00"), 0.0, 3 / 3, True),
        ("p3", D2, 1, 1, 1, 0, 1, 2, d("160.00"), 1.0, 2 / 4, False),
        ("p4", D2, 2, 2, 2, 1, 1, 1, d("500.00"), 0.5, 2 / 3, False),
    ]


def test_product_performance_bound_is_the_wilson_bound_of_the_flink_flag(built):
    """dbt's normal quantile (Acklam's approximation) and Wilson bound agree with Python's exact
    quantile (the z Flink is rendered with) and the oracle's bound."""
    z = load_config(hilc_confidence=FLAG_VARS["hilc_confidence"]).hilc_z
    rows = built.rows("product_performance", "order_count, view_count, conversion_upper_bound")
    for orders, views, bound in rows:
        if views == 0:
            assert bound is None
        else:
            assert bound == pytest.approx(oracle.wilson_upper_bound(orders, views, z), rel=1e-8)
    assert [bound for *_, bound in rows if bound is not None]  # some were computed


def test_normal_quantile_macro_is_the_exact_quantile(built):
    """The central region (jinja arithmetic) and the upper tail (DuckDB's ln and sqrt) of the
    macro against Python's exact inverse normal."""
    levels = (0.6, 0.9, 0.95, 0.975, 0.98, 0.99, 0.999, 0.9999)
    columns = ", ".join(f"{{{{ normal_quantile({p}) }}}} as z{n}" for n, p in enumerate(levels))
    output = built.dbt("--quiet", "show", "--inline", f"select {columns}", "--output", "json")
    (row,) = json.loads(output)["show"]
    for n, level in enumerate(levels):
        exact = load_config(hilc_confidence=level).hilc_z
        assert row[f"z{n}"] == pytest.approx(exact, rel=2e-9), level


def test_data_quality_daily_balances_bronze_against_everything_downstream(built):
    columns = """
        ingested_date, bronze_record_count, silver_event_count, quarantined_record_count,
        late_event_count, duplicate_record_count, quarantined_invalid_json_count,
        quarantined_missing_user_id_count, quarantined_invalid_price_count
    """
    rows = built.rows("data_quality_daily", columns)
    assert rows == [
        # day 1: 9 events ingested that day, a duplicate of e03, one invalid JSON record.
        (D1, 11, 9, 1, 0, 1, 1, 0, 0),
        # day 2: 15 events plus e21 (event at 23:59:59 the day before, ingested at 00:00:03),
        # a duplicate of e12, two quarantined records and one late event.
        (D2, 20, 16, 2, 1, 1, 0, 1, 1),
    ]
    for _, bronze, silver, quarantined, late, duplicates, *_ in rows:
        assert bronze == silver + quarantined + late + duplicates


# --- rebuilds ------------------------------------------------------------------------------------


def test_a_second_build_changes_nothing(built):
    before = built.marts()
    built.dbt("build")
    assert built.marts() == before


def test_incremental_build_adds_a_new_day_like_a_full_refresh(built, tmp_path):
    warehouse = built.copy(tmp_path)
    before = warehouse.marts()
    hand_checked_next_day(warehouse.lake)

    # No range given: rebuild from the newest loaded date (lookback_days 0 here) onwards.
    warehouse.dbt("build", vars={"lookback_days": 0})
    # (sessions also read the day before as context.)
    assert f"event_date >= date '{DAY_1}'" in warehouse.compiled("sessions")
    assert f"session_started_at as date) >= date '{DAY_2}'" in warehouse.compiled("sessions")
    assert f"event_date >= date '{DAY_2}'" in warehouse.compiled("funnel_daily")
    after = warehouse.marts()

    # Days before the new one are untouched; day 3 adds u7's session and u1's return.
    assert [row for row in after["sessions"] if row[2] != D3] == before["sessions"]
    assert warehouse.query(
        f"""
        select user_id, started_at, ended_at, event_count, add_to_cart_count
        from sessions where session_date = '{D3}' order by all
        """
    ) == [
        ("u1", at(D3, "09:00:00"), at(D3, "09:00:00"), 1, 0),
        ("u7", at(D3, "08:00:00"), at(D3, "08:02:00"), 3, 1),
    ]
    assert [row for row in after["funnel_daily"] if row[0] != D3] == before["funnel_daily"]
    assert len(after["funnel_daily"]) == len(before["funnel_daily"]) + 2
    assert len(after["product_performance"]) == len(before["product_performance"]) + 2
    assert warehouse.rows("data_quality_daily", "ingested_date, bronze_record_count")[-1] == (
        D3,
        4,
    )
    # u1 was already a buyer; coming back on day 3 only moves last_seen_at. u7 is new.
    assert warehouse.rows(
        "user_funnel", "user_id, furthest_stage, first_seen_at, last_seen_at"
    ) == [
        ("u1", "purchased", at(D1, "10:00:00"), at(D3, "09:00:00")),
        ("u2", "purchased", at(D1, "23:50:00"), at(D2, "00:20:00")),
        ("u3", "viewed_product", at(D2, "08:45:00"), at(D2, "11:00:00")),
        ("u4", "purchased", at(D2, "12:00:00"), at(D2, "12:04:00")),
        ("u5", "visited", at(D1, "15:00:00"), at(D1, "23:59:59")),
        ("u6", "added_to_cart", at(D2, "14:00:00"), at(D2, "14:02:00")),
        ("u7", "added_to_cart", at(D3, "08:00:00"), at(D3, "08:02:00")),
    ]

    # The incremental result is what a full refresh computes from scratch.
    warehouse.dbt("build", "--full-refresh")
    assert warehouse.marts() == after

    # A date range rebuilds exactly that range: wipe day 2 of the sessions, rebuild day 2.
    with duckdb.connect(str(warehouse.database)) as con:
        con.execute("delete from sessions where session_date = ?", [D2])
    warehouse.dbt("build", vars={"start_date": DAY_2, "end_date": DAY_2})
    assert f"session_started_at as date) <= date '{DAY_2}'" in warehouse.compiled("sessions")
    assert warehouse.marts() == after


# --- failure modes -------------------------------------------------------------------------------


def test_reconciliation_warns_when_gold_disagrees_with_silver(built, tmp_path):
    """One disagreeing window is a warning naming the test (docs/lake.md, "When a row breaks a
    test"): the marts read silver, not gold, and are built; tests/test_dbt_bad_rows.py shows
    the threshold beyond which the build fails."""
    warehouse = Warehouse(tmp_path)
    copy_lake(built.lake, warehouse.lake)
    with lake.connect(warehouse.lake) as con:
        rows = con.execute(
            f"""
            select window_start, window_end, event_type,
                event_count + case when window_start = timestamp '{DAY_1} 10:05:00' then 1
                    else 0 end as event_count
            from gold_events_per_minute
            """
        ).fetchall()
    names = ("window_start", "window_end", "event_type", "event_count")
    write_table(
        warehouse.lake,
        "gold/events_per_minute",
        [dict(zip(names, row, strict=True)) for row in rows],
        replace=True,
    )

    output = warehouse.dbt(
        "build",
        "--select",
        "+assert_gold_events_per_minute_match_silver",
        "--indirect-selection",
        "cautious",  # no test of a model this selection does not build
    )
    assert "WARN 1 assert_gold_events_per_minute_match_silver" in output


def test_rollup_reconciliation_warns_for_each_size_that_disagrees(built, tmp_path):
    """The rollup tables are recomputed from silver per size: a 10-minute window's count that is
    not its distinct users (here: the sum of its 5-minute windows' counts plus one) is named."""
    warehouse = Warehouse(tmp_path)
    copy_lake(built.lake, warehouse.lake)
    names = ("window_start", "window_end", "window_minutes", "active_users")
    with lake.connect(warehouse.lake) as con:
        rows = con.execute(
            f"""
            select {", ".join(names[:-1])},
                active_users + case when window_minutes = 10
                    and window_start = (select min(window_start) from
                        gold_active_users_per_rollup_window where window_minutes = 10) then 1
                    else 0 end
            from gold_active_users_per_rollup_window
            """
        ).fetchall()
    write_table(
        warehouse.lake,
        "gold/active_users_per_rollup_window",
        [dict(zip(names, row, strict=True)) for row in rows],
        replace=True,
    )

    output = warehouse.dbt(
        "build",
        "--select",
        "+assert_gold_active_users_per_rollup_window_match_silver",
        "+assert_gold_windows_are_window_minutes_long",
        "--indirect-selection",
        "cautious",
    )
    assert "WARN 1 assert_gold_active_users_per_rollup_window_match_silver" in output
    assert "PASS assert_gold_windows_are_window_minutes_long" in output


def test_an_empty_lake_builds_empty_marts_and_docs(tmp_path):
    warehouse = Warehouse(tmp_path)
    warehouse.lake.mkdir()
    output = warehouse.dbt("build")
    assert "tables at their current snapshots; no data yet in bronze_events" in output
    assert {mart: len(rows) for mart, rows in warehouse.marts().items()} == dict.fromkeys(MARTS, 0)

    warehouse.dbt("docs", "generate")
    catalog = json.loads((warehouse.root / "target" / "catalog.json").read_text())
    assert {f"model.clickstream.{mart}" for mart in MARTS} <= set(catalog["nodes"])


def test_dbt_sql_passes_sqlfluff():
    result = subprocess.run(
        [sys.executable, "-m", "sqlfluff", "lint", "--disable-progress-bar"],
        cwd=DBT_PROJECT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:]
