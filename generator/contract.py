"""The event contract shared by the generator, the Flink SQL and dbt (see docs/events.md).

Constants name the event types, fault labels and the contract's amount limits; the quarantine
reason codes are read from the SQL that assigns them. The two `standardize_*` functions are the
reference for silver's device/browser rules, so tests can compute expected silver values from
the ground truth.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

PAGE_VIEW = "page_view"
PRODUCT_VIEW = "product_view"
ADD_TO_CART = "add_to_cart"
REMOVE_FROM_CART = "remove_from_cart"
PURCHASE = "purchase"

EVENT_TYPES = (PAGE_VIEW, PRODUCT_VIEW, ADD_TO_CART, REMOVE_FROM_CART, PURCHASE)
PRODUCT_EVENT_TYPES = (PRODUCT_VIEW, ADD_TO_CART, REMOVE_FROM_CART)
CART_EVENT_TYPES = (ADD_TO_CART, REMOVE_FROM_CART)

SOURCE_SIMULATOR = "simulator"
SOURCE_REES46 = "rees46"
CURRENCY = "USD"

# Ground-truth fault labels (None = a clean record).
DUPLICATE = "duplicate"
OUT_OF_ORDER = "out_of_order"
LATE = "late"
MALFORMED = "malformed"
FAULTS = (DUPLICATE, OUT_OF_ORDER, LATE, MALFORMED)

# The SQL that gives each invalid record its quarantine reason: the one home of the codes.
CHECKS_SQL = Path(__file__).resolve().parents[1] / "flink_sql" / "views" / "events_checked.sql"


def reason_codes(sql: str) -> tuple[str, ...]:
    """The reason codes of events_checked's CASE (`then '<code>'`), in the order it checks them."""
    code_only = re.sub(r"--[^\n]*", "", sql)
    codes = re.findall(r"\bthen\s+'([^']*)'", code_only, flags=re.IGNORECASE)
    if not codes or any(re.fullmatch(r"[a-z][a-z_]*", code) is None for code in codes):
        raise ValueError(f"no reason codes, or one that is not snake_case, in: {codes}")
    return tuple(dict.fromkeys(codes))


# Quarantine reason codes, in the order silver checks them (docs/events.md).
REASONS = reason_codes(CHECKS_SQL.read_text())
AMOUNT_OUT_OF_RANGE = "amount_out_of_range"

# Amount limits (docs/events.md), enforced by events_checked ('amount_out_of_range'): every
# amount silver keeps then fits DECIMAL(12, 2) and INT, line totals included.
AMOUNT_DECIMALS = 2
MAX_QUANTITY = 1_000  # per cart event and per order line
MAX_PRICE = Decimal("100000.00")  # a product event's price, an order line's unit price
MAX_ORDER_TOTAL = Decimal("1000000.00")  # sum of quantity * unit_price over an order's lines

# Out-of-order events and re-sent duplicates stay within this much of the stream's simulated
# time, so any watermark delay >= 2 s keeps them on time.
MAX_DISORDER_MS = 2_000


def format_event_at(epoch_ms: int) -> str:
    """`2026-11-22T10:15:30.123Z` for a UTC epoch in milliseconds."""
    seconds, millis = divmod(epoch_ms, 1000)
    prefix = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{prefix}.{millis:03d}Z"


def parse_event_at(text: str) -> int:
    """UTC epoch milliseconds of an `event_at` string; ValueError if it breaks the contract."""
    if len(text) != 24 or text[10] != "T" or text[19] != "." or text[23] != "Z":
        raise ValueError(f"event_at is not YYYY-MM-DDTHH:MM:SS.mmmZ: {text!r}")
    moment = datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1000 + int(text[20:23])


def to_epoch_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def standardize_device_type(raw: str | None) -> str:
    """Silver's rule: lower(trim(device_type)) mapped to desktop / mobile / tablet / unknown."""
    value = (raw or "").strip().lower()
    if value in ("mobile", "phone", "smartphone"):
        return "mobile"
    if value in ("desktop", "pc"):
        return "desktop"
    if value in ("tablet", "ipad"):
        return "tablet"
    return "unknown"


def standardize_browser(raw: str | None) -> str:
    """Silver's rule: substring match on lower(browser), `edg` checked before `chrome`."""
    value = (raw or "").strip().lower()
    if not value:
        return "unknown"
    for needle, browser in (
        ("edg", "edge"),
        ("chrome", "chrome"),
        ("firefox", "firefox"),
        ("safari", "safari"),
    ):
        if needle in value:
            return browser
    return "other"
