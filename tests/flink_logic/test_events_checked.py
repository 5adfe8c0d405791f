"""events_checked: each record gets the reason code of the first rule it breaks (null when valid).

To add a rule: add its rows to REASONS below (a record that breaks only the new rule, and one
at each side of any limit); `test_every_reason_code_has_a_case` fails until there is one."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from flink_harness import load_job_sql
from given import ABSENT, event, line, purchase, raw
from scenarios import Case, assert_case

from generator.contract import MAX_ORDER_TOTAL, MAX_PRICE, MAX_QUANTITY, reason_codes
from stack.config import load_config

CONFIG = load_config()
CENT = Decimal("0.01")
FAR_FUTURE = timedelta(minutes=CONFIG.max_future_minutes)
MS = timedelta(milliseconds=1)


def money(amount: Decimal) -> float:
    """An amount as the JSON number a client sends (2 decimals)."""
    return float(amount)


# (reason code, what the record does, the record). None: the record is valid.
REASONS: list[tuple[str | None, str, object]] = [
    # --------------------------------------------------------------------------- valid records
    (None, "a valid page view", event("page_view")),
    (None, "a valid product view", event("product_view")),
    (None, "a valid cart add without quantity", event("add_to_cart")),
    (None, "a valid cart removal with quantity 1", event("remove_from_cart", quantity=1)),
    (None, "a valid purchase of two lines", purchase("00:00", line("A", 1, 1.5), line("B", 2, 3))),
    (None, "extra fields are ignored", event("page_view", ab_variant="B", nested={"a": [1]})),
    (None, "optional fields may be null", event("page_view", session_id=None, browser=None)),
    # ------------------------------------------------------------------------------ invalid_json
    ("invalid_json", "not JSON at all", raw(b"{not json")),
    ("invalid_json", "an empty value", raw(b"")),
    ("invalid_json", "a tombstone (null value)", raw(None)),
    ("invalid_json", "a JSON array, not an object", raw(b'[{"event_id": "x"}]')),
    ("invalid_json", "JSON null", raw(b"null")),
    ("invalid_json", "an object with trailing text", raw(b'{"event_id": "x"} trailing')),
    ("invalid_json", "invalid UTF-8", raw(b'{"event_id": "\xff\xfe"}')),
    ("invalid_json", "a Python repr", raw(b"{'event_id': 'x', 'user_id': None}")),
    # ---------------------------------------------------------------------- missing_event_id
    ("missing_event_id", "event_id absent", event("page_view", event_id=ABSENT)),
    ("missing_event_id", "event_id null", event("page_view", event_id=None)),
    ("missing_event_id", "event_id blank", event("page_view", event_id="  ")),
    ("missing_event_id", "an empty object", raw(b"{}")),
    # -------------------------------------------------------------------- missing_event_type
    ("missing_event_type", "event_type absent", event("page_view", event_type=ABSENT)),
    ("missing_event_type", "event_type empty", event("page_view", event_type="")),
    # -------------------------------------------------------------------- unknown_event_type
    ("unknown_event_type", "not one of the five", event("page_view", event_type="click")),
    ("unknown_event_type", "case matters", event("page_view", event_type="PAGE_VIEW")),
    # ---------------------------------------------------------------------- missing_event_at
    ("missing_event_at", "event_at absent", event("page_view", event_at=ABSENT)),
    ("missing_event_at", "event_at null", event("page_view", event_at=None)),
    ("missing_event_at", "event_at empty", event("page_view", event_at="")),
    # ---------------------------------------------------------------------- invalid_event_at
    ("invalid_event_at", "not a timestamp", event("page_view", event_at="yesterday")),
    ("invalid_event_at", "no milliseconds", event("page_view", event_at="2026-01-01T00:00:00Z")),
    (
        "invalid_event_at",
        "an offset instead of Z",
        event("page_view", event_at="2026-01-01T00:00:00.000+00:00"),
    ),
    ("invalid_event_at", "no such day", event("page_view", event_at="2026-02-30T10:00:00.000Z")),
    ("invalid_event_at", "epoch millis as a number", event("page_view", event_at=1767225600000)),
    (
        "invalid_event_at",
        "1 ms beyond max_future_minutes after the Kafka timestamp",
        event("page_view", FAR_FUTURE + MS, kafka_at="00:00.000"),
    ),
    (
        None,
        "exactly max_future_minutes after the Kafka timestamp",
        event("page_view", FAR_FUTURE, kafka_at="00:00.000"),
    ),
    # ----------------------------------------------------------------------- missing_user_id
    ("missing_user_id", "user_id absent", event("page_view", user_id=ABSENT)),
    ("missing_user_id", "user_id blank", event("page_view", user_id=" ")),
    # -------------------------------------------------------------------- missing_product_id
    ("missing_product_id", "a view without product", event("product_view", product_id=ABSENT)),
    ("missing_product_id", "a cart add, product empty", event("add_to_cart", product_id="")),
    # ------------------------------------------------------------------------- invalid_price
    ("invalid_price", "price absent", event("product_view", price=ABSENT)),
    ("invalid_price", "price zero", event("add_to_cart", price=0)),
    ("invalid_price", "price negative", event("remove_from_cart", price=-1.5)),
    ("invalid_price", "price as a string", event("product_view", price="12.50")),
    ("invalid_price", "price true", event("product_view", price=True)),
    ("invalid_price", "price of three decimals", event("product_view", price=12.345)),
    # ---------------------------------------------------------------------- invalid_quantity
    ("invalid_quantity", "quantity zero", event("add_to_cart", quantity=0)),
    ("invalid_quantity", "quantity as a string", event("add_to_cart", quantity="2")),
    ("invalid_quantity", "quantity fraction", event("remove_from_cart", quantity=1.5)),
    (None, "quantity null means absent (1)", event("add_to_cart", quantity=None)),
    # ------------------------------------------------------------------------- missing_order
    ("missing_order", "a purchase without order", event("purchase", order=ABSENT)),
    ("missing_order", "an order without items", purchase("00:00")),
    ("missing_order", "an order as a string", event("purchase", order="O-1")),
    # -------------------------------------------------------------------- invalid_order_item
    ("invalid_order_item", "a line without product", purchase("00:00", line(ABSENT, 1, 2.0))),
    ("invalid_order_item", "a line of quantity 0", purchase("00:00", line("A", 0, 2.0))),
    ("invalid_order_item", "a unit price of 0", purchase("00:00", line("A", 1, 0))),
    ("invalid_order_item", "a unit price as text", purchase("00:00", line("A", 1, "2.00"))),
    (
        "invalid_order_item",
        "one bad line among good ones",
        purchase("00:00", line("A", 1, 2.0), line("B", -1, 2.0)),
    ),
    # ------------------------------------------------- amount_out_of_range (generator.contract)
    (
        "amount_out_of_range",
        "price above the limit",
        event("product_view", price=money(MAX_PRICE + CENT)),
    ),
    (None, "price at the limit", event("product_view", price=money(MAX_PRICE))),
    (
        "amount_out_of_range",
        "quantity above the limit",
        event("add_to_cart", quantity=MAX_QUANTITY + 1),
    ),
    (None, "quantity at the limit", event("add_to_cart", quantity=MAX_QUANTITY)),
    (
        "amount_out_of_range",
        "an order line's unit price above the limit",
        purchase("00:00", line("A", 1, money(MAX_PRICE + CENT))),
    ),
    (
        "amount_out_of_range",
        "an order line's quantity above the limit",
        purchase("00:00", line("A", MAX_QUANTITY + 1, 1.0)),
    ),
    (
        "amount_out_of_range",
        "an order total above the limit",
        purchase("00:00", line("A", MAX_QUANTITY, money(MAX_ORDER_TOTAL / MAX_QUANTITY + CENT))),
    ),
    (
        None,
        "an order total at the limit",
        purchase("00:00", line("A", MAX_QUANTITY, money(MAX_ORDER_TOTAL / MAX_QUANTITY))),
    ),
    (
        "amount_out_of_range",
        "lines within the limits, their sum above the order limit",
        purchase("00:00", line("A", 1000, 500), line("B", 5, 100000), line("C", 1, 0.01)),
    ),
    (
        "amount_out_of_range",
        "a line total beyond DECIMAL(12, 2): 1,000 x 99,999,999.99",
        purchase("00:00", line("A", 1000, 99999999.99)),
    ),
    ("amount_out_of_range", "a price beyond DECIMAL(12, 2)", event("product_view", price=1e20)),
    (
        "amount_out_of_range",
        "a quantity beyond INT",
        event("remove_from_cart", quantity=3_000_000_000),
    ),
    (
        "invalid_order_item",
        "a unit price of three decimals",
        purchase("00:00", line("A", 1, 19.995)),
    ),
    # ------------------------------------------------------------------- first rule wins
    (
        "missing_event_id",
        "no event_id and no user_id: the first rule",
        event("page_view", event_id=ABSENT, user_id=ABSENT),
    ),
    (
        "missing_user_id",
        "no user_id and no price: user_id is checked first",
        event("product_view", user_id=ABSENT, price=ABSENT),
    ),
]


def _case(reason: str | None, what: str, given) -> pytest.param:
    case = Case(
        f"{reason or 'valid'}: {what}",
        [given],
        {"events_checked": [{"quarantine_reason": reason}]},
    )
    return pytest.param(case, id=case.name)


CASES = [_case(*row) for row in REASONS]


@pytest.mark.parametrize("case", CASES)
def test_quarantine_reason(case: Case, flink_results):
    assert_case(flink_results, case)


def test_every_reason_code_has_a_case(logic_config):
    """The reason codes are read from events_checked.sql itself, the rules' one home."""
    checked = next(o for o in load_job_sql(logic_config).objects if o.name == "events_checked")
    missing = set(reason_codes(checked.sql)) - {reason for reason, _, _ in REASONS}
    assert not missing, "add a case per new reason code"
