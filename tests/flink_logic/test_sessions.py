"""Streaming sessions: a session window per user over silver events (flink_sql/views/sessions.sql)
and the sessions closed per window (session_metrics_per_window), at their edges: a gap of exactly
the timeout and one millisecond less, a session across midnight, events arriving out of order that
join two sessions, the device of the first event when two share a millisecond. dbt's sessions
mart follows the same rules (dbt_project/models/marts/sessions.yml) and is reconciled with the
stream's sessions (dbt_project/tests/reconciliation/)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from given import T, event, line, purchase
from scenarios import Case, assert_case

from stack.config import load_config

CONFIG = load_config()
TIMEOUT = timedelta(minutes=CONFIG.session_timeout_minutes)
WINDOW = timedelta(minutes=CONFIG.window_minutes)
MS = timedelta(milliseconds=1)
ZERO = timedelta(0)
# A case starts at midnight; the previous case's events are hours before its own midnight.
BEFORE_MIDNIGHT = -T("00:10:00")


def closed_at(last_event: timedelta) -> timedelta:
    """Flink's window time of a session whose last event is at `last_event`."""
    return last_event + TIMEOUT - 2 * MS


def span(started_at: timedelta, ended_at: timedelta, event_count: int) -> dict:
    return {"started_at": started_at, "ended_at": ended_at, "event_count": event_count}


CASES = [
    Case(
        "a gap of exactly the timeout starts a new session, one millisecond less does not",
        [
            event("page_view", ZERO),
            event("page_view", TIMEOUT - MS),
            event("page_view", 2 * TIMEOUT - MS),
        ],
        {"sessions": [span(ZERO, TIMEOUT - MS, 2), span(2 * TIMEOUT - MS, 2 * TIMEOUT - MS, 1)]},
    ),
    Case(
        "users are sessionized apart when their events interleave; a lone event bounces; durations in ms",
        [
            event("page_view", T("00:00.900"), user_id="U-a"),
            event("page_view", T("00:01"), user_id="U-b"),
            event("product_view", T("00:02.100"), user_id="U-a"),
        ],
        {
            "sessions": [
                {
                    "user_id": "U-a",
                    **span(T("00:00.900"), T("00:02.100"), 2),
                    "duration_seconds": 1.2,
                    "is_bounced": False,
                    "closed_at": closed_at(T("00:02.100")),
                },
                {
                    "user_id": "U-b",
                    **span(T("00:01"), T("00:01"), 1),
                    "duration_seconds": 0.0,
                    "is_bounced": True,
                    "closed_at": closed_at(T("00:01")),
                },
            ]
        },
    ),
    Case(
        "a session across midnight: its counts, revenue from order lines, first event's device",
        [
            event(
                "product_view", BEFORE_MIDNIGHT, product_id="P-1", category="a", device_type="iPad"
            ),
            event(
                "product_view",
                BEFORE_MIDNIGHT + T("01:00"),
                product_id="P-2",
                category="b",
                device_type="pc",
            ),
            event(
                "product_view",
                BEFORE_MIDNIGHT + T("02:00"),
                product_id="P-1",
                category="a",
                device_type="pc",
            ),
            event("add_to_cart", BEFORE_MIDNIGHT + T("03:00"), product_id="P-1", device_type="pc"),
            event(
                "remove_from_cart", BEFORE_MIDNIGHT + T("04:00"), product_id="P-1", device_type="pc"
            ),
            purchase(
                T("00:10:00.250"), line("P-1", 2, 10.0), line("P-3", 1, 0.99), device_type="pc"
            ),
        ],
        {
            "sessions": [
                {
                    **span(BEFORE_MIDNIGHT, T("00:10:00.250"), 6),
                    "duration_seconds": 1200.25,
                    "product_view_count": 3,
                    "viewed_product_count": 2,
                    "viewed_category_count": 2,
                    "add_to_cart_count": 1,
                    "remove_from_cart_count": 1,
                    "purchase_count": 1,
                    "revenue": Decimal("20.99"),
                    "device_type": "tablet",
                    "is_converted": True,
                    "is_bounced": False,
                }
            ]
        },
    ),
    Case(
        "two first events in one millisecond: the device of the smaller event_id",
        [
            event("page_view", ZERO, event_id="tie-b", device_type="mobile"),
            event("page_view", ZERO, event_id="tie-a", device_type="desktop"),
        ],
        {"sessions": [{**span(ZERO, ZERO, 2), "device_type": "desktop"}]},
    ),
    Case(
        "an event arriving out of order within the watermark joins two sessions into one",
        [
            event("page_view", ZERO, device_type="mobile"),
            event("page_view", TIMEOUT, device_type="desktop"),
            event("page_view", TIMEOUT - T("00:01"), kafka_at=TIMEOUT, device_type="tablet"),
        ],
        {"sessions": [{**span(ZERO, TIMEOUT, 3), "device_type": "mobile"}]},
    ),
]


def _metrics_case() -> Case:
    """Four sessions whose last events fall in one minute, so they close in one window: three on
    mobile (0, 60 and 120 s; one bounced, one bought) and one on desktop."""
    window_start = closed_at(T("02:10")) // WINDOW * WINDOW
    return Case(
        "session metrics: sessions closed per window and device, percentiles and rates",
        [
            event("page_view", T("00:30"), user_id="U-m3"),
            event("page_view", T("01:30"), user_id="U-m2"),
            event("page_view", T("02:10"), user_id="U-m1"),
            event("page_view", T("02:20"), user_id="U-d1", device_type="desktop"),
            purchase(T("02:30"), line("P-1", 1, 5.0), user_id="U-m3"),
            event("page_view", T("02:30"), user_id="U-m2"),
            event("page_view", T("02:40"), user_id="U-d1", device_type="desktop"),
        ],
        {
            "session_metrics_per_window": [
                {
                    "window_start": window_start,
                    "window_end": window_start + WINDOW,
                    "device_type": "mobile",
                    "sessions_closed": 3,
                    "median_duration_seconds": 60.0,
                    # 60 + 0.8 x 60, to the last bit of Flink's arithmetic
                    "p90_duration_seconds": pytest.approx(108.0, rel=1e-15),
                    "bounce_rate": 1 / 3,
                    "conversion_rate": 1 / 3,
                },
                {
                    "window_start": window_start,
                    "window_end": window_start + WINDOW,
                    "device_type": "desktop",
                    "sessions_closed": 1,
                    "median_duration_seconds": 20.0,
                    "p90_duration_seconds": 20.0,
                    "bounce_rate": 0.0,
                    "conversion_rate": 0.0,
                },
            ]
        },
    )


CASES.append(_metrics_case())


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_sessions(case: Case, flink_results):
    assert_case(flink_results, case)
