"""Rollup windows (docs/lake.md, "Window sizes"): the window_minutes gold cascaded to the two
rollup_minutes sizes. Distinct users and orders stay distinct across the finer windows a coarser
one is made of; sums and the product funnel add up; a window covers [start, end) at every size.
Every case starts on a boundary of every size (conftest aligns to all of them), so T("00:00")
is a window start; R1 and R2 are the configured rollup sizes, WINDOW the finest."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from given import event, line, purchase
from scenarios import Case, assert_case

from stack.config import load_config

CONFIG = load_config()
WINDOW = timedelta(minutes=CONFIG.window_minutes)
R1, R2 = (timedelta(minutes=size) for size in CONFIG.rollup_minutes)
MS = timedelta(milliseconds=1)
ZERO = timedelta(0)


def rollup(start: timedelta, size: timedelta) -> dict:
    return {
        "window_start": start,
        "window_end": start + size,
        "window_minutes": size // timedelta(minutes=1),
    }


def holding(moment: timedelta, size: timedelta) -> timedelta:
    """The start of the window of `size` that holds `moment`."""
    return moment // size * size


CASES = [
    Case(
        "active users: a user in two finer windows of a rollup window counts once, per size",
        [
            event("page_view", ZERO, user_id="U-a"),
            event("page_view", WINDOW, user_id="U-a"),  # the next finer window
            event("page_view", R1 - MS, user_id="U-b"),
            event("page_view", R1, user_id="U-a"),  # the next R1 window, the same R2 window
            event("page_view", R2 - MS, user_id="U-b"),
            event("page_view", R2, user_id="U-c"),  # the next R2 window
        ],
        {
            "active_users_per_rollup_window": [
                {**rollup(ZERO, R1), "active_users": 2},  # U-a twice, U-b
                *(
                    [{**rollup(R1, R1), "active_users": 2}]  # U-a, U-b
                    if holding(R2 - MS, R1) == R1
                    else [
                        {**rollup(R1, R1), "active_users": 1},
                        {**rollup(holding(R2 - MS, R1), R1), "active_users": 1},
                    ]
                ),
                {**rollup(R2, R1), "active_users": 1},
                {**rollup(ZERO, R2), "active_users": 2},  # U-a three times, U-b twice
                {**rollup(R2, R2), "active_users": 1},
            ],
        },
    ),
    Case(
        "revenue: an order_id in two finer windows is one order of the rollup windows",
        [
            purchase(ZERO, line("A", 2, 10.0), line("B", 1, 0.99), order_id="O-twice"),
            purchase(WINDOW, line("C", 1, 5.0), order_id="O-twice"),
            purchase(R1 - MS, line("D", 3, 1.5)),
            purchase(R1, line("E", 1, 4.0)),
            purchase(R2 - MS, line("F", 1, 1.0)),
            purchase(R2, line("G", 1, 2.0)),
        ],
        {
            "revenue_per_rollup_window": [
                *(
                    [
                        {**rollup(ZERO, R1), "order_count": 2, "revenue": Decimal("30.49")},
                        {**rollup(R1, R1), "order_count": 2, "revenue": Decimal("5.00")},
                    ]
                    if holding(R2 - MS, R1) == R1
                    else [
                        {**rollup(ZERO, R1), "order_count": 2, "revenue": Decimal("30.49")},
                        {**rollup(R1, R1), "order_count": 1, "revenue": Decimal("4.00")},
                        {
                            **rollup(holding(R2 - MS, R1), R1),
                            "order_count": 1,
                            "revenue": Decimal("1.00"),
                        },
                    ]
                ),
                {**rollup(R2, R1), "order_count": 1, "revenue": Decimal("2.00")},
                {**rollup(ZERO, R2), "order_count": 4, "revenue": Decimal("35.49")},
                {**rollup(R2, R2), "order_count": 1, "revenue": Decimal("2.00")},
            ],
        },
    ),
    Case(
        "purchases by device: distinct orders per device at the rollup sizes",
        [
            purchase(ZERO, line("A", 1, 10.0), order_id="O-split", device_type="Phone"),
            purchase(WINDOW, line("B", 1, 2.0), order_id="O-split", device_type="mobile"),
            purchase(R1 - MS, line("C", 1, 7.0), device_type="PC"),
            purchase(R2 - MS, line("D", 1, 3.0), device_type="tablet"),
        ],
        {
            "purchases_by_device_per_rollup_window": [
                {**rollup(ZERO, R1), "device_type": "mobile", "purchase_count": 1, "revenue": 12},
                {**rollup(ZERO, R1), "device_type": "desktop", "purchase_count": 1, "revenue": 7},
                {
                    **rollup(holding(R2 - MS, R1), R1),
                    "device_type": "tablet",
                    "purchase_count": 1,
                    "revenue": 3,
                },
                {**rollup(ZERO, R2), "device_type": "mobile", "purchase_count": 1, "revenue": 12},
                {**rollup(ZERO, R2), "device_type": "desktop", "purchase_count": 1, "revenue": 7},
                {**rollup(ZERO, R2), "device_type": "tablet", "purchase_count": 1, "revenue": 3},
            ],
        },
    ),
    Case(
        "product funnel: views, cart adds and purchased lines summed over the finer windows",
        [
            event("product_view", ZERO, product_id="P-f"),
            event("product_view", WINDOW, product_id="P-f"),
            event("add_to_cart", WINDOW + MS, product_id="P-f"),
            event("remove_from_cart", R1 - MS, product_id="P-f"),
            purchase(R1 - MS, line("P-f", 2, 1.0), line("P-f", 1, 1.0)),
            event("product_view", R1, product_id="P-f"),
            event("product_view", R2, product_id="P-f"),
            purchase(R2 + MS, line("P-f", 1, 1.0)),
        ],
        {
            "product_conversion_per_rollup_window": [
                {
                    **rollup(ZERO, R1),
                    "product_id": "P-f",
                    "view_count": 2,
                    "cart_count": 1,
                    "purchase_count": 2,
                    "conversion_rate": 1.0,
                },
                {
                    **rollup(R1, R1),
                    "product_id": "P-f",
                    "view_count": 1,
                    "cart_count": 0,
                    "purchase_count": 0,
                    "conversion_rate": 0.0,
                },
                {
                    **rollup(R2, R1),
                    "product_id": "P-f",
                    "view_count": 1,
                    "cart_count": 0,
                    "purchase_count": 1,
                    "conversion_rate": 1.0,
                },
                {
                    **rollup(ZERO, R2),
                    "product_id": "P-f",
                    "view_count": 3,
                    "cart_count": 1,
                    "purchase_count": 2,
                    "conversion_rate": 2 / 3,
                },
                {
                    **rollup(R2, R2),
                    "product_id": "P-f",
                    "view_count": 1,
                    "cart_count": 0,
                    "purchase_count": 1,
                    "conversion_rate": 1.0,
                },
            ],
        },
    ),
    Case(
        "rollup boundaries: the last millisecond of a window and the next one's first, per size",
        [
            event("page_view", R1 - MS, user_id="U-1"),
            event("page_view", R1, user_id="U-2"),
            event("page_view", R2 - MS, user_id="U-3"),
            event("page_view", R2, user_id="U-4"),
        ],
        {
            "active_users_per_rollup_window": [
                {**rollup(ZERO, R1), "active_users": 1},
                *(
                    [{**rollup(R1, R1), "active_users": 2}]
                    if holding(R2 - MS, R1) == R1
                    else [
                        {**rollup(R1, R1), "active_users": 1},
                        {**rollup(holding(R2 - MS, R1), R1), "active_users": 1},
                    ]
                ),
                {**rollup(R2, R1), "active_users": 1},
                {**rollup(ZERO, R2), "active_users": 3},
                {**rollup(R2, R2), "active_users": 1},
            ],
        },
    ),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_rollup_window(case: Case, flink_results):
    assert_case(flink_results, case)
