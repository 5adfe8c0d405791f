"""What the dashboard must show for a lake, worked out in plain Python from the rows of its
silver, bronze, quarantine and late tables (never from gold, never with the dashboard's own
queries), so the tests of dashboard/ compare against an independent answer."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import duckdb
from lake_fixture import BOT_EVENTS_PER_WINDOW, HILC_MAX_CONVERSION_RATE, HILC_MIN_VIEWS

SESSION_TIMEOUT = timedelta(minutes=30)  # dbt var session_timeout_minutes


@dataclass(frozen=True)
class ExpectedDashboard:
    order_count: int
    revenue: Decimal
    items_by_category: dict[str, int]
    revenue_by_category: dict[str, Decimal]
    purchases_by_device: dict[str, int]
    revenue_by_device: dict[str, Decimal]
    events_by_type: dict[str, int]
    bot_events_per_minute: dict[str, int]  # user_id -> most events in one minute
    high_interest_low_conversion_views: dict[str, int]  # product_id -> views in flagged minutes
    bronze_count: int
    silver_count: int
    quarantine_count: int
    late_count: int
    duplicate_count: int
    quarantine_by_reason: dict[str, int]
    session_count: int
    converted_session_count: int


def lake_rows(lake_root: Path, table: str) -> list[dict[str, Any]]:
    """The rows of one lake table's committed files, as dicts ([] without files)."""
    if not list(Path(lake_root, table).glob("*/part-*")):
        return []
    relation = duckdb.sql(f"select * from read_parquet('{lake_root}/{table}/*/part-*')")
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def _minute(row: dict[str, Any]):
    return row["event_at"].replace(second=0, microsecond=0)


def _sessions(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """A user's events with gaps under 30 minutes belong together."""
    by_user: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in sorted(events, key=lambda row: row["event_at"]):
        by_user[row["user_id"]].append(row)
    sessions = []
    for rows in by_user.values():
        current = [rows[0]]
        for previous, row in pairwise(rows):
            if row["event_at"] - previous["event_at"] >= SESSION_TIMEOUT:
                sessions.append(current)
                current = []
            current.append(row)
        sessions.append(current)
    return sessions


def expected_dashboard(lake_root: Path) -> ExpectedDashboard:
    events = lake_rows(lake_root, "silver/events")
    items = lake_rows(lake_root, "silver/order_items")
    bronze = lake_rows(lake_root, "bronze/events")
    quarantine = lake_rows(lake_root, "quarantine/events")
    late = lake_rows(lake_root, "late/events")
    device_of = {row["event_id"]: row["device_type"] for row in events}

    items_by_category: Counter[str] = Counter()
    revenue_by_category: dict[str, Decimal] = defaultdict(Decimal)
    orders_by_device: dict[str, set[str]] = defaultdict(set)
    revenue_by_device: dict[str, Decimal] = defaultdict(Decimal)
    for item in items:
        category = item["category"] or "unknown"
        items_by_category[category] += item["quantity"]
        revenue_by_category[category] += item["line_total"]
        orders_by_device[device_of[item["event_id"]]].add(item["order_id"])
        revenue_by_device[device_of[item["event_id"]]] += item["line_total"]

    per_user_minute = Counter((row["user_id"], _minute(row)) for row in events)
    bots: dict[str, int] = {}
    for (user_id, _), count in per_user_minute.items():
        if count > BOT_EVENTS_PER_WINDOW:
            bots[user_id] = max(bots.get(user_id, 0), count)

    views = Counter(
        (row["product_id"], _minute(row)) for row in events if row["event_type"] == "product_view"
    )
    bought = Counter((item["product_id"], _minute(item)) for item in items)
    flagged: Counter[str] = Counter()
    for (product_id, minute), count in views.items():
        if (
            count >= HILC_MIN_VIEWS
            and bought[product_id, minute] / count < HILC_MAX_CONVERSION_RATE
        ):
            flagged[product_id] += count

    silver_ids = {row["event_id"] for row in events}
    resent = 0
    for record in bronze:
        try:
            event_id = json.loads(record["raw_payload"]).get("event_id")
        except ValueError:
            continue
        resent += event_id in silver_ids
    sessions = _sessions(events)

    return ExpectedDashboard(
        order_count=len({item["order_id"] for item in items}),
        revenue=sum((item["line_total"] for item in items), Decimal("0.00")),
        items_by_category=dict(items_by_category),
        revenue_by_category=dict(revenue_by_category),
        purchases_by_device={device: len(orders) for device, orders in orders_by_device.items()},
        revenue_by_device=dict(revenue_by_device),
        events_by_type=dict(Counter(row["event_type"] for row in events)),
        bot_events_per_minute=bots,
        high_interest_low_conversion_views=dict(flagged),
        bronze_count=len(bronze),
        silver_count=len(events),
        quarantine_count=len(quarantine),
        late_count=len(late),
        duplicate_count=resent - len(events),  # every copy beyond the first of a silver event
        quarantine_by_reason=dict(Counter(row["reason"] for row in quarantine)),
        session_count=len(sessions),
        converted_session_count=sum(
            any(row["event_type"] == "purchase" for row in session) for session in sessions
        ),
    )
