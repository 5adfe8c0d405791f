"""What the dashboard must show for a lake, worked out from the rows of its silver, bronze,
quarantine and late tables through the one oracle (oracle.py: gold recomputed from silver, the
accounting record by record), never from the lake's gold tables and never with the dashboard's
own queries, so the tests of dashboard/ compare against an independent answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import oracle

from dashboard.queries import RECENT_WINDOWS
from pipeline import lake_reader, lake_schema
from stack.config import Config


@dataclass(frozen=True)
class ExpectedDashboard:
    order_count: int
    revenue: Decimal
    items_by_category: dict[str, int]
    revenue_by_category: dict[str, Decimal]
    purchases_by_device: dict[str, int]
    revenue_by_device: dict[str, Decimal]
    events_by_type: dict[str, int]
    peak_active_users: int  # most distinct users in one window
    bot_events_per_minute: dict[str, int]  # user_id -> most events in one flagged minute
    # product_id -> views in the newest sliding window that flagged it
    high_interest_low_conversion_views: dict[str, int]
    # Data quality: the newest RECENT_WINDOWS minutes of Kafka timestamps.
    bronze_count: int
    silver_count: int
    quarantine_count: int
    late_count: int
    duplicate_count: int
    quarantine_by_reason: dict[str, int]
    session_count: int
    converted_session_count: int
    # Live sessions (gold/sessions): device -> sessions, median and p90 duration, bounce and
    # conversion rates.
    live_sessions_by_device: dict[str, tuple[int, float, float, float, float]]
    # The windowed panels at each rollup size (the resolution picker), by size in minutes.
    rollups: dict[int, ExpectedRollup] = field(default_factory=dict)


@dataclass(frozen=True)
class ExpectedRollup:
    """What the active users, revenue and device panels show at one rollup size."""

    active_windows: list  # window_start of every window with an active user, oldest first
    peak_active_users: int
    newest_active_users: int
    window_count: int  # windows with orders
    order_count: int
    revenue: Decimal
    purchases_by_device: dict[str, int]
    revenue_by_device: dict[str, Decimal]


def lake_rows(lake_root: Path, table: str) -> list[dict[str, Any]]:
    """The rows of one lake table (by folder, e.g. "silver/events") at its current snapshot, as
    dicts ([] without committed data). Read through the table format, so a data file no snapshot
    references is not read."""
    scan = lake_reader.scan(lake_root, lake_schema.by_folder()[table].name)
    if not scan.files:
        return []
    relation = duckdb.sql(scan.select_sql())
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def _sum_by(rows: list[dict[str, Any]], key: str, measure: str) -> dict[Any, Any]:
    totals: dict[Any, Any] = {}
    for row in rows:
        totals[row[key]] = totals.get(row[key], 0) + row[measure]
    return totals


def expected_dashboard(lake_root: Path, config: Config) -> ExpectedDashboard:
    events = lake_rows(lake_root, "silver/events")
    items = lake_rows(lake_root, "silver/order_items")
    quarantine = lake_rows(lake_root, "quarantine/events")
    late = lake_rows(lake_root, "late/events")
    bronze = lake_rows(lake_root, "bronze/events")
    accounting = oracle.accounting(bronze, events, quarantine, late)
    assert accounting.is_balanced, accounting
    # The data-quality panels show the newest minutes the stream counted (by Kafka timestamp).
    outcomes = oracle.record_outcomes_per_minute(bronze, events, quarantine, late)
    newest_minutes = sorted({row["window_start"] for row in outcomes})[-RECENT_WINDOWS:]
    recent = [row for row in outcomes if row["window_start"] in newest_minutes]
    counted = _sum_by(recent, "outcome", "record_count")
    gold = oracle.expected_gold(events, items, config)
    revenue = gold["gold_revenue_per_window"]
    by_category = gold["gold_revenue_by_category_per_window"]
    by_device = gold["gold_purchases_by_device_per_window"]

    bots: dict[str, int] = {}
    for row in gold["gold_bot_suspects"]:
        bots[row["user_id"]] = max(bots.get(row["user_id"], 0), row["event_count"])
    newest_flag: dict[str, dict[str, Any]] = {}
    for row in gold["gold_high_interest_products"]:
        newest = newest_flag.get(row["product_id"])
        if row["is_high_interest_low_conversion"] and (
            newest is None or row["window_end"] > newest["window_end"]
        ):
            newest_flag[row["product_id"]] = row
    sessions = gold["gold_sessions"]

    return ExpectedDashboard(
        order_count=sum(row["order_count"] for row in revenue),
        revenue=sum((row["revenue"] for row in revenue), Decimal("0.00")),
        items_by_category=_sum_by(by_category, "category", "items_sold"),
        revenue_by_category=_sum_by(by_category, "category", "revenue"),
        purchases_by_device=_sum_by(by_device, "device_type", "purchase_count"),
        revenue_by_device=_sum_by(by_device, "device_type", "revenue"),
        events_by_type=_sum_by(gold["gold_events_per_minute"], "event_type", "event_count"),
        peak_active_users=max(
            (row["active_users"] for row in gold["gold_active_users_per_window"]), default=0
        ),
        bot_events_per_minute=bots,
        high_interest_low_conversion_views={
            product_id: row["view_count"] for product_id, row in newest_flag.items()
        },
        bronze_count=counted.get("bronze", 0),
        silver_count=counted.get("silver", 0),
        quarantine_count=counted.get("quarantine", 0),
        late_count=counted.get("late", 0),
        duplicate_count=counted.get("bronze", 0)
        - sum(counted.get(outcome, 0) for outcome in ("silver", "quarantine", "late")),
        quarantine_by_reason=_sum_by(
            [row for row in recent if row["outcome"] == "quarantine"], "reason", "record_count"
        ),
        session_count=len(sessions),
        converted_session_count=sum(session["is_converted"] for session in sessions),
        live_sessions_by_device=_live_sessions_by_device(sessions),
        rollups={minutes: _rollup(gold, minutes) for minutes in config.rollup_minutes},
    )


def _rollup(gold: dict[str, list[dict[str, Any]]], minutes: int) -> ExpectedRollup:
    def of_size(table: str) -> list[dict[str, Any]]:
        return [row for row in gold[table] if row["window_minutes"] == minutes]

    active = sorted(
        of_size("gold_active_users_per_rollup_window"), key=lambda row: row["window_start"]
    )
    revenue = of_size("gold_revenue_per_rollup_window")
    by_device = of_size("gold_purchases_by_device_per_rollup_window")
    return ExpectedRollup(
        active_windows=[row["window_start"] for row in active][-RECENT_WINDOWS:],
        peak_active_users=max((row["active_users"] for row in active), default=0),
        newest_active_users=active[-1]["active_users"] if active else 0,
        window_count=len(revenue),
        order_count=sum(row["order_count"] for row in revenue),
        revenue=sum((row["revenue"] for row in revenue), Decimal("0.00")),
        purchases_by_device=_sum_by(by_device, "device_type", "purchase_count"),
        revenue_by_device=_sum_by(by_device, "device_type", "revenue"),
    )


def _live_sessions_by_device(
    sessions: list[dict[str, Any]],
) -> dict[str, tuple[int, float, float, float, float]]:
    by_device: dict[str, list[dict[str, Any]]] = {}
    for session in sessions:
        by_device.setdefault(session["device_type"], []).append(session)
    return {
        device: (
            len(rows),
            oracle.percentile([row["duration_seconds"] for row in rows], 0.5),
            oracle.percentile([row["duration_seconds"] for row in rows], 0.9),
            sum(row["is_bounced"] for row in rows) / len(rows),
            sum(row["is_converted"] for row in rows) / len(rows),
        )
        for device, rows in by_device.items()
    }
