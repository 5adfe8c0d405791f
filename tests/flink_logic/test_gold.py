"""Gold windows: each view's numbers for events on both sides of a window boundary. A window
covers [start, end): an event at exactly its end counts in the next one. Every case starts on a
window boundary, so T("00:00") is a window start; WINDOW is the configured window_minutes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from given import T, event, line, purchase
from scenarios import Case, assert_case

from stack.config import load_config

CONFIG = load_config()
WINDOW = timedelta(minutes=CONFIG.window_minutes)
MINUTE = timedelta(minutes=1)  # events_per_minute and bot_suspects: always one minute
MS = timedelta(milliseconds=1)
ZERO = timedelta(0)
BOTS = CONFIG.bot_events_per_minute
HILC_VIEWS = CONFIG.hilc_min_views


def window(start: timedelta, size: timedelta = WINDOW) -> dict:
    return {"window_start": start, "window_end": start + size}


CASES = [
    Case(
        "events per minute and type: the last millisecond and the next minute's first",
        [
            event("page_view", ZERO),
            event("product_view", MINUTE - MS),
            event("page_view", MINUTE),
        ],
        {
            "events_per_minute": [
                {**window(ZERO, MINUTE), "event_type": "page_view", "event_count": 1},
                {**window(ZERO, MINUTE), "event_type": "product_view", "event_count": 1},
                {**window(MINUTE, MINUTE), "event_type": "page_view", "event_count": 1},
            ]
        },
    ),
    Case(
        "revenue per window: orders and the sum of line totals",
        [
            purchase(ZERO, line("A", 2, 10.0), line("B", 1, 0.99)),
            purchase(WINDOW - MS, line("C", 3, 1.5)),
            purchase(WINDOW, line("D", 1, 5.0)),
        ],
        {
            "revenue_per_window": [
                {**window(ZERO), "order_count": 2, "revenue": Decimal("25.49")},
                {**window(WINDOW), "order_count": 1, "revenue": Decimal("5.00")},
            ]
        },
    ),
    Case(
        "revenue by category: items sold and revenue, a line without category as 'unknown'",
        [
            purchase(ZERO, line("A", 2, 10.0, category="toys"), line("B", 1, 3.0)),
            purchase(WINDOW - MS, line("C", 1, 1.0, category="toys")),
            purchase(WINDOW, line("D", 4, 2.5, category="toys")),
        ],
        {
            "revenue_by_category_per_window": [
                {**window(ZERO), "category": "toys", "items_sold": 3, "revenue": Decimal("21.00")},
                {
                    **window(ZERO),
                    "category": "unknown",
                    "items_sold": 1,
                    "revenue": Decimal("3.00"),
                },
                {
                    **window(WINDOW),
                    "category": "toys",
                    "items_sold": 4,
                    "revenue": Decimal("10.00"),
                },
            ]
        },
    ),
    Case(
        "active users: distinct per window",
        [
            event("page_view", ZERO, user_id="U-a"),
            event("product_view", T("00:01"), user_id="U-a"),
            event("page_view", WINDOW - MS, user_id="U-b"),
            event("page_view", WINDOW, user_id="U-a"),
        ],
        {
            "active_users_per_window": [
                {**window(ZERO), "active_users": 2},
                {**window(WINDOW), "active_users": 1},
            ]
        },
    ),
    Case(
        "purchases and revenue by standardized device",
        [
            purchase(ZERO, line("A", 1, 10.0), line("B", 1, 2.0), device_type="Phone"),
            purchase(T("00:01"), line("C", 2, 1.0), device_type=" MOBILE "),
            purchase(WINDOW - MS, line("D", 1, 7.0), device_type="PC"),
            purchase(WINDOW, line("E", 1, 3.0), device_type="smartphone"),
        ],
        {
            "purchases_by_device_per_window": [
                {**window(ZERO), "device_type": "mobile", "purchase_count": 2, "revenue": 14},
                {**window(ZERO), "device_type": "desktop", "purchase_count": 1, "revenue": 7},
                {**window(WINDOW), "device_type": "mobile", "purchase_count": 1, "revenue": 3},
            ]
        },
    ),
    Case(
        "bot suspects: above the threshold within one minute, not at it, not across two minutes",
        [
            *(event("page_view", T("00:00") + n * MS, user_id="U-bot") for n in range(BOTS + 1)),
            *(event("page_view", T("00:00") + n * MS, user_id="U-busy") for n in range(BOTS)),
            *(event("page_view", MINUTE - MS, user_id="U-split") for _ in range(BOTS)),
            event("page_view", MINUTE, user_id="U-split"),
        ],
        {
            "bot_suspects": [
                {**window(ZERO, MINUTE), "user_id": "U-bot", "event_count": BOTS + 1},
            ]
        },
    ),
    Case(
        "product conversion: views, cart adds and purchased lines per product and window",
        [
            event("product_view", ZERO, product_id="P-c"),
            event("product_view", T("00:01"), product_id="P-c"),
            event("add_to_cart", T("00:02"), product_id="P-c"),
            event("remove_from_cart", T("00:03"), product_id="P-c"),
            purchase(WINDOW - MS, line("P-c", 2, 1.0), line("P-other", 1, 1.0)),
            purchase(WINDOW, line("P-c", 1, 1.0)),
        ],
        {
            "product_conversion_per_window": [
                {
                    **window(ZERO),
                    "product_id": "P-c",
                    "view_count": 2,
                    "cart_count": 1,
                    "purchase_count": 1,
                    "conversion_rate": 0.5,
                },
                {
                    **window(ZERO),
                    "product_id": "P-other",
                    "view_count": 0,
                    "cart_count": 0,
                    "purchase_count": 1,
                    "conversion_rate": None,
                },
                {
                    **window(WINDOW),
                    "product_id": "P-c",
                    "view_count": 0,
                    "cart_count": 0,
                    "purchase_count": 1,
                    "conversion_rate": None,
                },
            ]
        },
    ),
]


SLIDE = timedelta(minutes=CONFIG.hilc_slide_minutes)
SLIDING_WINDOW = timedelta(minutes=CONFIG.hilc_window_minutes)


def _sliding_windows_holding(moment: timedelta) -> list[dict]:
    """Every sliding window that holds `moment` (on a slide boundary)."""
    return [window(moment - n * SLIDE, SLIDING_WINDOW) for n in range(SLIDING_WINDOW // SLIDE)]


def _high_interest_case() -> Case:
    """P-cold: many views, no purchase, while the rest of the shop (P-warm and P-few) buys half
    as often as P-warm is viewed: flagged in every sliding window that holds the events. P-warm
    converts better than the rest of the shop, which never buys: not flagged. P-few: one view
    short of hilc_min_views, not judged (but in the shop's baseline)."""
    moment = T("10:00")
    views = max(HILC_VIEWS, 100)  # evidence enough for the flag at the default confidence and ratio
    bought = views // 2
    few = HILC_VIEWS - 1
    return Case(
        "high interest products: judged per sliding window against the rest of the shop",
        [
            *(event("product_view", moment, product_id="P-cold") for _ in range(views)),
            *(event("product_view", moment, product_id="P-warm") for _ in range(views)),
            *(event("product_view", moment, product_id="P-few") for _ in range(few)),
            purchase(moment, *(line("P-warm", 1, 1.0) for _ in range(bought))),
        ],
        {
            "high_interest_products": [
                *(
                    {
                        **sliding,
                        "product_id": "P-cold",
                        "view_count": views,
                        "purchase_count": 0,
                        "conversion_rate": 0.0,
                        "baseline_conversion_rate": bought / (views + few),
                        "is_high_interest_low_conversion": True,
                    }
                    for sliding in _sliding_windows_holding(moment)
                ),
                *(
                    {
                        **sliding,
                        "product_id": "P-warm",
                        "view_count": views,
                        "purchase_count": bought,
                        "conversion_rate": bought / views,
                        "baseline_conversion_rate": 0.0,
                        "is_high_interest_low_conversion": False,
                    }
                    for sliding in _sliding_windows_holding(moment)
                ),
            ]
        },
    )


CASES.append(_high_interest_case())


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_gold_window(case: Case, flink_results):
    assert_case(flink_results, case)
