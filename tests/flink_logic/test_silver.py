"""Silver: late routing at the watermark, keep-first deduplication, and events_enriched's
standardization and derived columns, each as given Kafka records and the rows they make."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from given import ABSENT, T, event, line, purchase
from scenarios import Case, assert_case

from generator.contract import standardize_browser, standardize_device_type
from stack.config import load_config

CONFIG = load_config()
DELAY = timedelta(seconds=CONFIG.watermark_delay_seconds)
MS = timedelta(milliseconds=1)
HIGH = Decimal(CONFIG.high_value_price)
CENT = Decimal("0.01")

LATE_ROUTING = [
    Case(
        "an event exactly at the watermark is late, 1 ms after it is on time",
        [
            event(at="00:10.000", event_id="wm-ahead"),
            event(at=T("00:10.000") - DELAY, event_id="wm-at"),
            event(at=T("00:10.000") - DELAY + MS, event_id="wm-after"),
        ],
        {
            "events_late": [{"event_id": "wm-at", "event_at": T("00:10.000") - DELAY}],
            "events_on_time": [{"event_id": "wm-ahead"}, {"event_id": "wm-after"}],
        },
    ),
    Case(
        "out of order within the watermark delay is on time and counted in its own window",
        [
            event(at="01:00.000", event_id="ooo-next-minute"),
            event(at=T("01:00.000") - DELAY + MS, event_id="ooo-previous-minute"),
        ],
        {
            "events_late": [],
            "events_per_minute": [
                {"window_start": T("00:00"), "event_count": 1},
                {"window_start": T("01:00"), "event_count": 1},
            ],
        },
    ),
    Case(
        "a late event is set aside: not in silver, not in its closed window",
        [
            event(at="01:30.000", event_id="closed-ahead"),
            event(at="00:30.000", event_id="closed-late"),
        ],
        {
            "events_late": [{"event_id": "closed-late"}],
            "events_enriched": [{"event_id": "closed-ahead"}],
            "events_per_minute": [{"window_start": T("01:00"), "event_count": 1}],
        },
    ),
    Case(
        "a quarantined far-future event does not move the watermark",
        [
            event(at="00:10.000", event_id="future-before"),
            event(at=T("00:10.000") + timedelta(days=400), kafka_at="00:10.000"),
            event(at=T("00:10.000") - DELAY + MS, event_id="future-after"),
        ],
        {
            "events_late": [],
            "events_on_time": [{"event_id": "future-before"}, {"event_id": "future-after"}],
        },
    ),
]

DEDUPLICATION = [
    Case(
        "a re-sent event: silver keeps the first arrival",
        [
            event(at="00:01.000", event_id="dup-first", browser="Firefox 120"),
            event(at="00:01.000", event_id="dup-first", browser="Chrome 119"),
        ],
        {
            "events_deduplicated": [{"event_id": "dup-first", "browser_raw": "Firefox 120"}],
            "events_enriched": [{"event_id": "dup-first", "browser": "firefox"}],
        },
    ),
    Case(
        "a copy arriving after other events, still on time, is counted once in its window",
        [
            event(at="00:05.000", event_id="dup-again"),
            event(at="00:08.000", event_id="dup-again-other"),
            event(at="00:05.000", event_id="dup-again"),
        ],
        {
            "events_enriched": [{"event_id": "dup-again"}, {"event_id": "dup-again-other"}],
            "events_per_minute": [{"window_start": T("00:00"), "event_count": 2}],
        },
    ),
    Case(
        "a quarantined record does not hide a valid one with its event_id",
        [
            event(at="00:01.000", event_id="dup-invalid-first", user_id=ABSENT),
            event(at="00:02.000", event_id="dup-invalid-first", user_id="U-2"),
        ],
        {
            "events_checked": [
                {"event_id": "dup-invalid-first", "quarantine_reason": "missing_user_id"},
                {"event_id": "dup-invalid-first", "quarantine_reason": None},
            ],
            "events_enriched": [{"event_id": "dup-invalid-first", "user_id": "U-2"}],
        },
    ),
    Case(
        "a copy behind the watermark is a duplicate, not a late event",
        [
            event(at="00:01.000", event_id="dup-then-late"),
            event(at="01:00.000", event_id="dup-advance"),
            event(at="00:01.000", kafka_at="01:00.000", event_id="dup-then-late"),
        ],
        {
            "events_late": [],
            "events_enriched": [{"event_id": "dup-then-late"}, {"event_id": "dup-advance"}],
        },
    ),
]
DEVICES = [
    ("mobile", "mobile"),
    ("Mobile", "mobile"),
    (" PHONE ", "mobile"),
    ("SmartPhone", "mobile"),
    ("desktop", "desktop"),
    ("PC", "desktop"),
    ("tablet", "tablet"),
    ("iPad", "tablet"),
    ("tv", "unknown"),
    ("mobile phone", "unknown"),
    ("", "unknown"),
    (None, "unknown"),
]

BROWSERS = [
    ("Chrome 119", "chrome"),
    ("CHROME", "chrome"),
    ("HeadlessChrome/119.0", "chrome"),
    ("Mozilla/5.0 (Windows NT 10.0) Chrome/119.0 Safari/537.36 Edg/119.0.2151.58", "edge"),
    ("Edg/119.0", "edge"),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", "firefox"),
    ("Safari", "safari"),
    ("Mozilla/5.0 (Macintosh) Version/17.0 Safari/605.1.15", "safari"),
    ("Opera", "other"),
    ("python-requests/2.31", "other"),
    ("   ", "unknown"),
    (None, "unknown"),
]


def _standardized(column: str, raw_field: str, raw: str | None, want: str) -> pytest.param:
    case = Case(
        f"{column} {raw!r} -> {want}",
        [event("page_view", **{raw_field: raw})],
        {"events_enriched": [{column: want}]},
    )
    return pytest.param(case, id=case.name)


ENRICHMENT = [
    Case(
        "product columns only on product events; quantity 1 when a cart event has none",
        [
            event("page_view", event_id="en-page", product_id="P-9", price=5.0, quantity=2),
            event("product_view", event_id="en-view", quantity=2),
            event("add_to_cart", event_id="en-cart"),
            event("remove_from_cart", event_id="en-remove", quantity=3),
            purchase("00:00", line("P-1", 1, 2.5), event_id="en-buy", price=5.0),
        ],
        {
            "events_enriched": [
                {"event_id": "en-page", "product_id": None, "price": None, "quantity": None},
                {"event_id": "en-view", "product_id": "P-1", "price": 10, "quantity": None},
                {"event_id": "en-cart", "product_id": "P-1", "price": 10, "quantity": 1},
                {"event_id": "en-remove", "product_id": "P-1", "price": 10, "quantity": 3},
                {"event_id": "en-buy", "product_id": None, "price": None, "quantity": None},
            ]
        },
    ),
    Case(
        "a purchase carries its order id and line count",
        [
            purchase("00:00", line("A", 1, 1), line("B", 2, 2), order_id="O-2", event_id="en-o2"),
            event("product_view", event_id="en-no-order", order={"order_id": "O-x"}),
        ],
        {
            "events_enriched": [
                {"event_id": "en-o2", "order_id": "O-2", "item_count": 2},
                {"event_id": "en-no-order", "order_id": None, "item_count": None},
            ]
        },
    ),
    Case(
        "the URL's host and path; no parts from an unparseable URL",
        [
            event(event_id="url-ok", page_url="https://shop.example.com/product/P-1?utm_source=x"),
            event(event_id="url-bad", page_url="http://[::1/%zz?"),
            event(event_id="url-none", page_url=ABSENT),
        ],
        {
            "events_enriched": [
                {
                    "event_id": "url-ok",
                    "url_domain": "shop.example.com",
                    "url_path": "/product/P-1",
                },
                {"event_id": "url-bad", "url_domain": None, "url_path": None},
                {"event_id": "url-none", "url_domain": None, "url_path": None},
            ]
        },
    ),
    Case(
        "high value: a product or an order line at or above high_value_price",
        [
            event("product_view", event_id="hv-at", price=float(HIGH)),
            event("product_view", event_id="hv-below", price=float(HIGH - CENT)),
            event("add_to_cart", event_id="hv-cart", price=float(HIGH + 1)),
            purchase("00:00", line("A", 1, 1), line("B", 1, float(HIGH)), event_id="hv-buy"),
            purchase("00:00", line("A", 9, float(HIGH - CENT)), event_id="hv-buy-below"),
            event("page_view", event_id="hv-page", price=float(HIGH)),
        ],
        {
            "events_enriched": [
                {"event_id": "hv-at", "is_high_value": True},
                {"event_id": "hv-below", "is_high_value": False},
                {"event_id": "hv-cart", "is_high_value": True},
                {"event_id": "hv-buy", "is_high_value": True},
                {"event_id": "hv-buy-below", "is_high_value": False},
                {"event_id": "hv-page", "is_high_value": False},
            ]
        },
    ),
    Case(
        "order lines as rows, numbered in order, with their totals",
        [
            purchase(
                "00:07.000",
                line("A", 2, 9.99, category="toys", brand="lego"),
                line("B", 3, 0.1),
                order_id="O-lines",
                device_type="iPad",
            ),
        ],
        {
            "order_items_flattened": [
                {
                    "order_id": "O-lines",
                    "line_number": 1,
                    "product_id": "A",
                    "category": "toys",
                    "brand": "lego",
                    "quantity": 2,
                    "unit_price": Decimal("9.99"),
                    "line_total": Decimal("19.98"),
                    "device_type": "tablet",
                    "event_at": T("00:07.000"),
                },
                {
                    "order_id": "O-lines",
                    "line_number": 2,
                    "product_id": "B",
                    "category": None,
                    "brand": None,
                    "quantity": 3,
                    "unit_price": Decimal("0.10"),
                    "line_total": Decimal("0.30"),
                    "device_type": "tablet",
                    "event_at": T("00:07.000"),
                },
            ]
        },
    ),
]

CASES = [
    *(pytest.param(case, id=case.name) for case in LATE_ROUTING + DEDUPLICATION + ENRICHMENT),
    *(_standardized("device_type", "device_type", raw, want) for raw, want in DEVICES),
    *(_standardized("browser", "browser", raw, want) for raw, want in BROWSERS),
]


@pytest.mark.parametrize("case", CASES)
def test_silver(case: Case, flink_results):
    assert_case(flink_results, case)


def test_python_reference_standardizes_like_the_sql():
    """generator.contract's copies of the rules (used to build expected silver) give the
    answers the SQL is tested for above."""
    assert [standardize_device_type(raw) for raw, _ in DEVICES] == [want for _, want in DEVICES]
    assert [standardize_browser(raw) for raw, _ in BROWSERS] == [want for _, want in BROWSERS]
