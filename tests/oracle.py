"""The one oracle for what the lake must hold: every gold table, and the accounting of bronze
records, worked out in plain Python from silver-shaped rows as docs/lake.md specifies them (never
with the pipeline's SQL), with the window size and thresholds of a ``stack.config.Config``.

The pipeline's integration tests compare Flink's lake with it, ``lake_fixture`` writes its gold
tables from it, and the dashboard tests derive every panel's expected figure from it.

Rows are dicts keyed by lake column names. Silver events need ``event_id``, ``event_type``,
``event_at`` (a naive UTC ``datetime``), ``user_id``, ``product_id``, ``category`` and
``device_type``; order items ``order_id``, ``event_id``, ``event_at``, ``product_id``,
``category``, ``quantity`` and ``line_total``.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from generator.contract import standardize_device_type
from stack.config import Config

Row = dict[str, Any]

EPOCH = datetime(1970, 1, 1)
CENT = Decimal("0.01")
PRODUCT_EVENT_TYPES = ("product_view", "add_to_cart", "remove_from_cart")


def window_start(at: datetime, minutes: int) -> datetime:
    """The start of the tumbling window of ``minutes`` holding ``at`` (aligned to the epoch)."""
    size = timedelta(minutes=minutes)
    return EPOCH + (at - EPOCH) // size * size


# --- gold ----------------------------------------------------------------------------------------


def expected_gold(
    events: Sequence[Mapping[str, Any]], order_items: Sequence[Mapping[str, Any]], config: Config
) -> dict[str, list[Row]]:
    """Every gold table (by lake table name), recomputed from silver events and order items.

    - events_per_minute and bot_suspects count events per one-minute window, whatever
      ``window_minutes`` is (the bot threshold is ``bot_events_per_minute``: more than it);
    - the other tables use ``window_minutes`` windows;
    - orders, revenue and device purchases come from order items (a purchase's device);
      items_sold is the sum of quantities; a missing category is 'unknown';
    - a product's purchase_count counts its order lines; conversion_rate = purchase_count /
      view_count (null without views);
    - high_interest_products (the high-interest, low-conversion flag): see
      ``_high_interest_products``;
    - sessions and session_metrics_per_window: see ``sessions`` and ``_session_metrics``.
    """
    per_minute = _Windows(1)
    per_window = _Windows(config.window_minutes)
    device_of = {row["event_id"]: row["device_type"] for row in events}

    events_by_type = per_minute.count(events, lambda row: (row["event_type"],))
    events_by_user = per_minute.count(events, lambda row: (row["user_id"],))
    users = per_window.group(events, lambda row: ())
    orders = per_window.group(order_items, lambda item: ())
    by_category = per_window.group(order_items, lambda item: (item["category"] or "unknown",))
    by_device = per_window.group(order_items, lambda item: (device_of[item["event_id"]],))
    interactions = [
        row for row in events if row["event_type"] in ("product_view", "add_to_cart")
    ] + [{**item, "event_type": "purchase"} for item in order_items]
    funnel = per_window.group(interactions, lambda row: (row["product_id"],))

    def product_funnel(rows: list[Mapping[str, Any]]) -> Row:
        views, carts, purchases = (
            sum(row["event_type"] == kind for row in rows)
            for kind in ("product_view", "add_to_cart", "purchase")
        )
        return {
            "view_count": views,
            "cart_count": carts,
            "purchase_count": purchases,
            "conversion_rate": purchases / views if views else None,
        }

    return {
        "gold_events_per_minute": [
            {**per_minute.bounds(start), "event_type": event_type, "event_count": count}
            for (start, event_type), count in events_by_type.items()
        ],
        "gold_revenue_per_window": [
            {
                **per_window.bounds(start),
                "order_count": len({item["order_id"] for item in rows}),
                "revenue": _money(item["line_total"] for item in rows),
            }
            for (start,), rows in orders.items()
        ],
        "gold_revenue_by_category_per_window": [
            {
                **per_window.bounds(start),
                "category": category,
                "items_sold": sum(item["quantity"] for item in rows),
                "revenue": _money(item["line_total"] for item in rows),
            }
            for (start, category), rows in by_category.items()
        ],
        "gold_active_users_per_window": [
            {**per_window.bounds(start), "active_users": len({row["user_id"] for row in rows})}
            for (start,), rows in users.items()
        ],
        "gold_purchases_by_device_per_window": [
            {
                **per_window.bounds(start),
                "device_type": device,
                "purchase_count": len({item["order_id"] for item in rows}),
                "revenue": _money(item["line_total"] for item in rows),
            }
            for (start, device), rows in by_device.items()
        ],
        "gold_bot_suspects": [
            {**per_minute.bounds(start), "user_id": user_id, "event_count": count}
            for (start, user_id), count in events_by_user.items()
            if count > config.bot_events_per_minute
        ],
        "gold_product_conversion_per_window": [
            {
                **per_window.bounds(start),
                "product_id": product_id,
                **product_funnel(rows),
            }
            for (start, product_id), rows in funnel.items()
        ],
        "gold_high_interest_products": _high_interest_products(interactions, config),
        "gold_sessions": (closed := sessions(events, order_items, config)),
        "gold_session_metrics_per_window": _session_metrics(closed, per_window),
        **_rollup_gold(events, order_items, config),
    }


def sessions(
    events: Sequence[Mapping[str, Any]], order_items: Sequence[Mapping[str, Any]], config: Config
) -> list[Row]:
    """A user's events in event-time order, split where the gap to the previous event is at least
    ``session_timeout_minutes``; per session its counts, the device of its first event (ties:
    the smallest event_id, compared as UTF-8), revenue = its purchases' line totals, bounced =
    one event, converted = a purchase. ``closed_at`` is the session window's last millisecond in
    Flink: the last event + the timeout - 2 ms (its gap is the timeout - 1 ms)."""
    timeout = timedelta(minutes=config.session_timeout_minutes)
    order_totals: dict[str, Decimal] = defaultdict(Decimal)
    for item in order_items:
        order_totals[item["event_id"]] += item["line_total"]
    by_user: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in events:
        by_user[row["user_id"]].append(row)
    rows = []
    for user_events in by_user.values():
        user_events.sort(key=lambda row: row["event_at"])
        session: list[Mapping[str, Any]] = []
        for row in user_events:
            if session and row["event_at"] - session[-1]["event_at"] >= timeout:
                rows.append(_session(session, order_totals, timeout))
                session = []
            session.append(row)
        rows.append(_session(session, order_totals, timeout))
    return rows


def _session(
    session: list[Mapping[str, Any]], order_totals: Mapping[str, Decimal], timeout: timedelta
) -> Row:
    def of_type(kind: str) -> list[Mapping[str, Any]]:
        return [row for row in session if row["event_type"] == kind]

    started_at, ended_at = session[0]["event_at"], session[-1]["event_at"]
    first = min(session, key=lambda row: (row["event_at"], row["event_id"].encode()))
    views = of_type("product_view")
    purchases = of_type("purchase")
    return {
        "user_id": first["user_id"],
        "started_at": started_at,
        "ended_at": ended_at,
        "duration_seconds": (ended_at - started_at) // timedelta(milliseconds=1) / 1000,
        "closed_at": ended_at + timeout - timedelta(milliseconds=2),
        "event_count": len(session),
        "product_view_count": len(views),
        "viewed_product_count": len({row["product_id"] for row in views} - {None}),
        "viewed_category_count": len({row["category"] for row in views} - {None}),
        "add_to_cart_count": len(of_type("add_to_cart")),
        "remove_from_cart_count": len(of_type("remove_from_cart")),
        "purchase_count": len(purchases),
        "revenue": _money(order_totals[row["event_id"]] for row in purchases),
        "device_type": first["device_type"],
        "is_converted": bool(purchases),
        "is_bounced": len(session) == 1,
    }


def _session_metrics(closed: Sequence[Row], per_window: _Windows) -> list[Row]:
    """Per window of ``closed_at`` and device of the sessions' first event: sessions closed,
    the median and 90th percentile duration (interpolated between the nearest two), the share
    that bounced and the share that converted."""
    groups = per_window.group(
        [{**row, "event_at": row["closed_at"]} for row in closed], lambda row: (row["device_type"],)
    )
    return [
        {
            **per_window.bounds(start),
            "device_type": device,
            "sessions_closed": len(rows),
            "median_duration_seconds": percentile([row["duration_seconds"] for row in rows], 0.5),
            "p90_duration_seconds": percentile([row["duration_seconds"] for row in rows], 0.9),
            "bounce_rate": sum(row["is_bounced"] for row in rows) / len(rows),
            "conversion_rate": sum(row["is_converted"] for row in rows) / len(rows),
        }
        for (start, device), rows in groups.items()
    ]


def percentile(values: Sequence[float], share: float) -> float:
    """The continuous percentile: linear interpolation between the two nearest ranks. Written in
    the order Flink's PERCENTILE computes it (1-based rank ``share * (n - 1) + 1``, then each
    neighbour weighted by its distance to the other), so the doubles agree to the last bit;
    DuckDB's quantile_cont may differ there."""
    ordered = sorted(values)
    rank = share * (len(ordered) - 1) + 1
    below, above = math.floor(rank), math.ceil(rank)
    if below == above:
        return ordered[below - 1]
    return (above - rank) * ordered[below - 1] + (rank - below) * ordered[above - 1]


def _rollup_gold(
    events: Sequence[Mapping[str, Any]], order_items: Sequence[Mapping[str, Any]], config: Config
) -> dict[str, list[Row]]:
    """The ``*_per_rollup_window`` tables: each ``rollup_minutes`` size's windows recomputed
    straight from silver (never from the finer windows' figures), with the same definitions as
    the ``window_minutes`` tables and the size in ``window_minutes``: distinct users and orders
    over the whole window, sums of line totals, the product funnel's counts."""
    device_of = {row["event_id"]: row["device_type"] for row in events}
    interactions = [
        (row["event_at"], row["product_id"], row["event_type"])
        for row in events
        if row["event_type"] in ("product_view", "add_to_cart")
    ] + [(item["event_at"], item["product_id"], "purchase") for item in order_items]
    tables: dict[str, list[Row]] = {
        f"gold_{name}_per_rollup_window": []
        for name in ("revenue", "active_users", "purchases_by_device", "product_conversion")
    }
    for minutes in config.rollup_minutes:
        windows = _Windows(minutes)

        def bounds(start: datetime, windows: _Windows = windows, minutes: int = minutes) -> Row:
            return {**windows.bounds(start), "window_minutes": minutes}

        users: dict[datetime, set[str]] = defaultdict(set)
        for row in events:
            users[window_start(row["event_at"], minutes)].add(row["user_id"])
        orders: dict[tuple, set[str]] = defaultdict(set)
        revenue: dict[tuple, Decimal] = defaultdict(Decimal)
        for item in order_items:
            start = window_start(item["event_at"], minutes)
            for key in ((start, None), (start, device_of[item["event_id"]])):
                orders[key].add(item["order_id"])
                revenue[key] += item["line_total"]
        funnel: dict[tuple, Counter[str]] = defaultdict(Counter)
        for at, product_id, event_type in interactions:
            funnel[window_start(at, minutes), product_id][event_type] += 1

        tables["gold_active_users_per_rollup_window"] += [
            {**bounds(start), "active_users": len(ids)} for start, ids in users.items()
        ]
        for (start, device), ids in orders.items():
            figures = {"revenue": revenue[start, device].quantize(CENT)}
            if device is None:
                tables["gold_revenue_per_rollup_window"].append(
                    {**bounds(start), "order_count": len(ids), **figures}
                )
            else:
                tables["gold_purchases_by_device_per_rollup_window"].append(
                    {**bounds(start), "device_type": device, "purchase_count": len(ids), **figures}
                )
        for (start, product_id), counts in funnel.items():
            views, purchases = counts["product_view"], counts["purchase"]
            tables["gold_product_conversion_per_rollup_window"].append(
                {
                    **bounds(start),
                    "product_id": product_id,
                    "view_count": views,
                    "cart_count": counts["add_to_cart"],
                    "purchase_count": purchases,
                    "conversion_rate": purchases / views if views else None,
                }
            )
    return tables


def _high_interest_products(interactions: Sequence[Mapping[str, Any]], config: Config) -> list[Row]:
    """Sliding windows ``hilc_window_minutes`` long, every ``hilc_slide_minutes``, over product
    views and purchased lines: a product with at least ``hilc_min_views`` views gets a row with
    its conversion, the rest of the shop's in that window (null when the rest has no views), the
    upper end of the Wilson score interval of its conversion at ``hilc_confidence`` (the share
    capped at 1), and the flag: that bound below ``hilc_conversion_ratio`` times the rest's."""
    size, slide = config.hilc_window_minutes, config.hilc_slide_minutes
    views: Counter[tuple] = Counter()
    purchases: Counter[tuple] = Counter()
    for row in interactions:
        newest = window_start(row["event_at"], slide)
        for back in range(size // slide):
            start = newest - timedelta(minutes=slide * back)
            for key in ((start, row["product_id"]), (start, None)):
                views[key] += row["event_type"] == "product_view"
                purchases[key] += row["event_type"] == "purchase"
    z = config.hilc_z
    rows = []
    for (start, product_id), view_count in views.items():
        if product_id is None or view_count < config.hilc_min_views:
            continue
        purchase_count = purchases[start, product_id]
        rest_views = views[start, None] - view_count
        rest_purchases = purchases[start, None] - purchase_count
        baseline = rest_purchases / rest_views if rest_views else None
        upper_bound = wilson_upper_bound(purchase_count, view_count, z)
        rows.append(
            {
                "window_start": start,
                "window_end": start + timedelta(minutes=size),
                "product_id": product_id,
                "view_count": view_count,
                "purchase_count": purchase_count,
                "conversion_rate": purchase_count / view_count,
                "baseline_conversion_rate": baseline,
                "conversion_upper_bound": upper_bound,
                "confidence": config.hilc_confidence,
                "is_high_interest_low_conversion": baseline is not None
                and upper_bound < config.hilc_conversion_ratio * baseline,
            }
        )
    return rows


def wilson_upper_bound(successes: int, trials: int, z: float) -> float:
    """The upper end of the Wilson score interval of ``successes`` in ``trials`` for the normal
    quantile ``z`` (successes above trials count as trials)."""
    n, share = float(trials), min(successes / trials, 1.0)
    return (
        share + z * z / (2 * n) + z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    ) / (1 + z * z / n)


@dataclass(frozen=True)
class _Windows:
    """Tumbling windows of ``minutes``, keyed by (window_start, *key)."""

    minutes: int

    def bounds(self, start: datetime) -> Row:
        return {"window_start": start, "window_end": start + timedelta(minutes=self.minutes)}

    def count(
        self, rows: Iterable[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], tuple]
    ) -> Counter[tuple]:
        return Counter((window_start(row["event_at"], self.minutes), *key(row)) for row in rows)

    def group(
        self, rows: Iterable[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], tuple]
    ) -> dict[tuple, list[Mapping[str, Any]]]:
        groups: dict[tuple, list[Mapping[str, Any]]] = defaultdict(list)
        for row in rows:
            groups[window_start(row["event_at"], self.minutes), *key(row)].append(row)
        return groups


def _money(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, Decimal("0")).quantize(CENT)


# --- silver from the generator's ground truth ----------------------------------------------------


def silver_from_payloads(payloads: Iterable[Mapping[str, Any]]) -> tuple[list[Row], list[Row]]:
    """Silver events and order items as the contract defines them, from the payloads of the
    events silver keeps (``generator.ground_truth.expected_silver_events``): standardized device
    types, a product only on product events, one item row per order line."""
    events, items = [], []
    for payload in payloads:
        event_at = datetime.strptime(payload["event_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
        event_type = payload["event_type"]
        row = {
            "event_id": payload["event_id"],
            "event_type": event_type,
            "event_at": event_at,
            "user_id": payload["user_id"],
            "product_id": payload.get("product_id") if event_type in PRODUCT_EVENT_TYPES else None,
            "category": payload.get("category"),
            "device_type": standardize_device_type(payload.get("device_type")),
        }
        events.append(row)
        if event_type != "purchase":
            continue
        for line_number, item in enumerate(payload["order"]["items"], start=1):
            quantity = int(item["quantity"])
            unit_price = Decimal(str(item["unit_price"]))
            items.append(
                {
                    "order_id": payload["order"]["order_id"],
                    "line_number": line_number,
                    "event_id": row["event_id"],
                    "user_id": row["user_id"],
                    "event_at": event_at,
                    "product_id": item["product_id"],
                    "category": item.get("category"),
                    "quantity": quantity,
                    "unit_price": unit_price,
                    "line_total": (unit_price * quantity).quantize(CENT),
                }
            )
    return events, items


# --- accounting ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Accounting:
    """bronze = silver + quarantine + late + duplicates, record by record (docs/lake.md)."""

    bronze: int
    silver: int
    quarantine: int
    late: int
    # bronze records with no silver, quarantine or late row whose event_id silver holds
    duplicates: int
    # bronze records with no silver, quarantine or late row that are no duplicate either
    unaccounted: int
    # silver, quarantine and late rows whose Kafka record is not in bronze
    rows_without_bronze: int
    quarantine_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def is_balanced(self) -> bool:
        return (
            self.bronze == self.silver + self.quarantine + self.late + self.duplicates
            and self.unaccounted == 0
            and self.rows_without_bronze == 0
        )


def accounting(
    bronze: Sequence[Mapping[str, Any]],
    silver: Sequence[Mapping[str, Any]],
    quarantine: Sequence[Mapping[str, Any]],
    late: Sequence[Mapping[str, Any]],
) -> Accounting:
    """Classify every bronze record by its Kafka coordinates (kafka_partition, kafka_offset): a
    silver, quarantine or late row, else a duplicate when its payload's event_id is in silver,
    else unaccounted."""

    def coordinates(row: Mapping[str, Any]) -> tuple[int, int]:
        return row["kafka_partition"], row["kafka_offset"]

    downstream = {coordinates(row) for row in (*silver, *quarantine, *late)}
    silver_ids = {row["event_id"] for row in silver}
    bronze_records = {coordinates(row) for row in bronze}
    duplicates = unaccounted = 0
    for record in bronze:
        if coordinates(record) in downstream:
            continue
        if _event_id(record["raw_payload"]) in silver_ids:
            duplicates += 1
        else:
            unaccounted += 1
    return Accounting(
        bronze=len(bronze),
        silver=len(silver),
        quarantine=len(quarantine),
        late=len(late),
        duplicates=duplicates,
        unaccounted=unaccounted,
        rows_without_bronze=len(downstream - bronze_records),
        quarantine_by_reason=dict(Counter(row["reason"] for row in quarantine)),
    )


def _event_id(raw_payload: str | None) -> str | None:
    try:
        payload = json.loads(raw_payload or "")
    except ValueError:
        return None
    return payload.get("event_id") if isinstance(payload, dict) else None


# --- record outcomes per minute ------------------------------------------------------------------


def record_outcomes_per_minute(
    bronze: Sequence[Mapping[str, Any]],
    silver: Sequence[Mapping[str, Any]],
    quarantine: Sequence[Mapping[str, Any]],
    late: Sequence[Mapping[str, Any]],
) -> list[Row]:
    """quality/record_outcomes_per_minute as docs/lake.md specifies it, one row per minute of
    Kafka timestamps, outcome and reason: every bronze record counts as ``bronze`` and, found by
    its Kafka coordinates, as ``quarantine`` (with its reason), ``late`` or ``silver``; a
    duplicate is none of these."""
    outcome_of: dict[tuple[int, int], tuple[str, str | None]] = {}
    for rows, outcome in ((silver, "silver"), (late, "late")):
        for row in rows:
            outcome_of[row["kafka_partition"], row["kafka_offset"]] = (outcome, None)
    for row in quarantine:
        outcome_of[row["kafka_partition"], row["kafka_offset"]] = ("quarantine", row["reason"])
    counts: Counter[tuple[datetime, str, str | None]] = Counter()
    for record in bronze:
        minute = record["kafka_timestamp"].replace(second=0, microsecond=0)
        counts[minute, "bronze", None] += 1
        found = outcome_of.get((record["kafka_partition"], record["kafka_offset"]))
        if found is not None:
            counts[minute, *found] += 1
    return [
        {
            "window_start": minute,
            "window_end": minute + timedelta(minutes=1),
            "outcome": outcome,
            "reason": reason,
            "record_count": count,
        }
        for (minute, outcome, reason), count in sorted(counts.items(), key=str)
    ]
