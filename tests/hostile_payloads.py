"""A corpus of hostile Kafka records for the event topic, each with the outcome the contract
(docs/events.md, docs/lake.md) demands of the pipeline.

Every record must be accounted for: one bronze row per Kafka record, then exactly one of
silver (with the typed values given here), late, quarantine (with the reason code given here),
or none at all for a re-sent event_id (a duplicate). GAPS names each known disagreement between the current Flink SQL and the contract: the
integration test marks that single case `xfail(strict=True)` so the suite stays green while the
gap stays visible, and turns red (XPASS) the day the SQL is fixed.

The corpus is built for one run on a single-partition topic whose watermark advances after
every record (`watermark_emit_strategy = on-event`), in production order: valid warm-up events
first (they advance the watermark and fill two gold windows), then the hostile records, each
valid-shaped one a little later in event time than the one before, so only the records meant to
be late are behind the watermark. `replay_twice` is a batch of its own: a REES46 file replayed
twice into one topic.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from generator.contract import (
    AMOUNT_OUT_OF_RANGE,
    MAX_ORDER_TOTAL,
    MAX_PRICE,
    MAX_QUANTITY,
    format_event_at,
    to_epoch_ms,
)
from generator.rees46 import replay_records

MAIN = "main"
ENCODING = "encoding"  # invalid UTF-8 in the key or value
REPLAY = "replay"  # a REES46 file replayed twice (replay_twice)
BATCHES = (MAIN, ENCODING, REPLAY)

SILVER = "silver"
LATE = "late"
QUARANTINE = "quarantine"
DUPLICATE = "duplicate"  # an event_id seen before: no silver, late or quarantine row

NAMESPACE = uuid.UUID("5b4cbb6e-1a8f-4f65-9f0e-7d1a3c1f0a07")
WARM_UP_EVENTS = 24  # page views 5 s apart: two full one-minute windows before the hostile part
NESTING_DEPTH = 10_000
MAX_NESTING_DEPTH = 1_000  # PayloadJson: levels of a payload, its own object included
MAX_NUMBER_LENGTH = 1_000  # PayloadJson: characters of one number
AMOUNT_MARK = 987654.31  # replaced by an amount written exactly as given, in the raw bytes
# MAX_QUANTITY units at this price and 5 at MAX_PRICE: an order total of exactly MAX_ORDER_TOTAL.
AT_LIMIT_PRICE = float((MAX_ORDER_TOTAL - 5 * MAX_PRICE) / MAX_QUANTITY)
PRICE_MARK = 987654.32  # replaced by NaN / Infinity in the raw bytes
HUGE_PADDING = 900_000  # characters; the record stays below the broker's ~1 MB message limit


@dataclass(frozen=True)
class Payload:
    name: str
    value: bytes | None  # None: a Kafka record with a null value (a tombstone)
    outcome: str  # SILVER, LATE, QUARANTINE or DUPLICATE
    why: str  # the contract rule that decides the outcome
    reason: str | None = None  # the quarantine reason code
    silver: dict[str, object] = field(default_factory=dict)  # expected silver columns
    key: bytes | None = b"U-hostile"
    # Records that may poison a lake table for its readers run in a lake of their own, so the
    # other cases stay readable whatever happens to these.
    batch: str = MAIN

    def __post_init__(self) -> None:
        assert (self.outcome == QUARANTINE) == (self.reason is not None), self.name
        assert self.outcome == SILVER or not self.silver, self.name


# Where the Flink SQL disagrees with the contract: payload name -> what happens instead (the
# integration test marks these xfail(strict=True), so a case turns red once fixed). None now.
GAPS: dict[str, str] = {}

# Batches whose lake a reader cannot read in full: batch -> why. None now.
LAKE_GAPS: dict[str, str] = {}


def event_id(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))


def _dumps(document: object) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


class _Builder:
    """Valid events of each type, with increasing event times from `start_ms`."""

    def __init__(self, start_ms: int) -> None:
        self.next_ms = start_ms

    def event_at(self) -> str:
        self.next_ms += 100
        return format_event_at(self.next_ms)

    def page_view(self, name: str, **changes: object) -> dict:
        event = {
            "event_id": event_id(name),
            "event_type": "page_view",
            "event_at": self.event_at(),
            "user_id": "U-hostile",
            "session_id": "S-hostile",
            "device_type": "Mobile",
            "browser": "Chrome 119",
            "page_url": "https://shop.example.com/c/phones?utm_source=x",
            "referrer": None,
            "source": "simulator",
        }
        return _apply(event, changes)

    def product_event(self, name: str, event_type: str = "product_view", **changes) -> dict:
        event = {
            **self.page_view(name),
            "event_type": event_type,
            "product_id": "P00042",
            "category": "electronics.smartphone",
            "brand": "samsung",
            "price": 199.99,
            "page_url": "https://shop.example.com/product/P00042",
        }
        if event_type != "product_view":
            event["quantity"] = 2
        return _apply(event, changes)

    def purchase(self, name: str, **changes: object) -> dict:
        event = {
            **self.page_view(name),
            "event_type": "purchase",
            "order": {
                "order_id": f"O-{event_id(name)}",
                "currency": "USD",
                "items": [
                    {
                        "product_id": "P00042",
                        "category": "electronics.smartphone",
                        "brand": "samsung",
                        "quantity": 1,
                        "unit_price": 199.99,
                    },
                    {"product_id": "P00007", "quantity": 3, "unit_price": 4.5},
                ],
            },
            "page_url": "https://shop.example.com/checkout/confirmation",
        }
        return _apply(event, changes)


_DELETE = object()


def _apply(event: dict, changes: dict) -> dict:
    for name, value in changes.items():
        if value is _DELETE:
            event.pop(name, None)
        else:
            event[name] = value
    return event


def _raw_amount(document: dict, text: str) -> bytes:
    """The payload with AMOUNT_MARK written as `text` (json.dumps would write 12.350 as 12.35)."""
    return _dumps(document).replace(str(AMOUNT_MARK).encode(), text.encode())


def _order(order_id: str, *lines: tuple[int, object]) -> dict:
    """An order of (quantity, unit_price) lines, each with a product."""
    items = [
        {"product_id": f"P{n:05d}", "quantity": quantity, "unit_price": unit_price}
        for n, (quantity, unit_price) in enumerate(lines, start=1)
    ]
    return {"order_id": order_id, "currency": "USD", "items": items}


def corpus(start_at: datetime, watermark_delay_seconds: int = 5) -> list[Payload]:
    """The records in production order. `start_at` is the event time of the first warm-up
    event; keep it a few minutes before now (event times more than max_future_minutes ahead of
    the Kafka timestamp are invalid). `watermark_delay_seconds` is the pipeline's, for the
    cases at the watermark's boundary."""
    start_ms = to_epoch_ms(start_at)
    delay_ms = watermark_delay_seconds * 1_000
    build = _Builder(start_ms + WARM_UP_EVENTS * 5_000)
    payloads = [
        Payload(
            f"warm_up_{n:02d}",
            _dumps(
                {
                    "event_id": event_id(f"warm_up_{n:02d}"),
                    "event_type": "page_view",
                    "event_at": format_event_at(start_ms + n * 5_000),
                    "user_id": f"U-warm-{n % 3}",
                }
            ),
            SILVER,
            "a plain valid event",
            silver={"device_type": "unknown", "browser": "unknown"},
            key=f"U-warm-{n % 3}".encode(),
        )
        for n in range(WARM_UP_EVENTS)
    ]

    def silver(
        name: str, document: dict | bytes, why: str, *, key=b"U-hostile", batch=MAIN, **cols
    ):
        value = document if isinstance(document, bytes) else _dumps(document)
        return Payload(name, value, SILVER, why, silver=cols, key=key, batch=batch)

    def quarantined(name: str, value: bytes | None, reason: str, why: str, batch=MAIN):
        return Payload(name, value, QUARANTINE, why, reason=reason, batch=batch)

    def out_of_range(name: str, value: bytes, why: str):
        return quarantined(name, value, AMOUNT_OUT_OF_RANGE, f"above the limits: {why}")

    valid_view = _dumps(build.page_view("encoding_base"))
    payloads += [
        # ---------------------------------------------------------------- encoding and framing
        quarantined(
            "invalid_utf8_whole_value",
            b"\xc3\x28\xa0\xa1\xff\xfe\x80",
            "invalid_json",
            "not UTF-8, not JSON",
            batch=ENCODING,
        ),
        quarantined(
            "invalid_utf8_inside_a_string",
            _dumps(build.page_view("invalid_utf8_inside_a_string", brand="BRAND")).replace(
                b"BRAND", b"bad\xff\xfebytes"
            ),
            "invalid_json",
            "the value must be UTF-8 (events.md); a JSON text with invalid bytes is not JSON",
            batch=ENCODING,
        ),
        silver(
            "invalid_utf8_kafka_key",
            build.page_view("invalid_utf8_kafka_key"),
            "the key is not part of the contract silver reads",
            key=b"\xff\xfe-key",
            batch=ENCODING,
            user_id="U-hostile",
        ),
        quarantined(
            "utf8_bom_prefix",
            b"\xef\xbb\xbf" + _dumps(build.page_view("utf8_bom_prefix")),
            "invalid_json",
            "a BOM is not part of a JSON text (RFC 8259 8.1: senders MUST NOT add one)",
        ),
        silver(
            "unicode_nul_emoji_rtl",
            build.page_view("unicode_nul_emoji_rtl", brand="a\u0000b \U0001f6d2 \u05e9\u05dc"),
            "any Unicode text is a valid string, NUL included",
            brand="a\u0000b \U0001f6d2 \u05e9\u05dc",
        ),
        quarantined("empty_value", b"", "invalid_json", "an empty value is not a JSON object"),
        quarantined(
            "whitespace_value", b" \n\t ", "invalid_json", "whitespace is not a JSON object"
        ),
        quarantined(
            "null_kafka_value",
            None,
            "invalid_json",
            "a tombstone (null value) is not a JSON object; bronze keeps it with a null payload",
        ),
        quarantined("json_null_literal", b"null", "invalid_json", "JSON null is not a JSON object"),
        quarantined(
            "json_string_value", b'"page_view"', "invalid_json", "a JSON string is not an object"
        ),
        quarantined(
            "top_level_array", b"[" + valid_view + b"]", "invalid_json", "an array, not an object"
        ),
        quarantined(
            "trailing_garbage",
            _dumps(build.page_view("trailing_garbage")) + b"garbage",
            "invalid_json",
            "the value must be exactly one JSON object",
        ),
        quarantined(
            "two_concatenated_objects",
            _dumps(build.page_view("two_concatenated_objects")) + valid_view,
            "invalid_json",
            "the value must be exactly one JSON object",
        ),
        quarantined(
            "truncated_object",
            _dumps(build.page_view("truncated_object"))[:-9],
            "invalid_json",
            "cut off in flight",
        ),
        quarantined(
            "nan_price",
            _dumps(build.product_event("nan_price", price=PRICE_MARK)).replace(
                b"987654.32", b"NaN"
            ),
            "invalid_json",
            "NaN is not JSON",
        ),
        quarantined(
            "infinity_price",
            _dumps(build.product_event("infinity_price", price=PRICE_MARK)).replace(
                b"987654.32", b"Infinity"
            ),
            "invalid_json",
            "Infinity is not JSON",
        ),
        quarantined(
            "single_quoted_python_repr",
            repr(build.page_view("single_quoted_python_repr")).encode(),
            "invalid_json",
            "a Python repr is not JSON",
        ),
        # ------------------------------------------------------------------ size and nesting
        quarantined(
            "nested_10000_levels_top_level",
            b"[" * NESTING_DEPTH + b"]" * NESTING_DEPTH,
            "invalid_json",
            "not an object (and deeper than any parser's nesting limit)",
        ),
        quarantined(
            "nested_10000_levels_in_an_extra_field",
            _dumps(build.page_view("nested_10000_levels_in_an_extra_field", extra="DEEP")).replace(
                b'"DEEP"', b"[" * NESTING_DEPTH + b"]" * NESTING_DEPTH
            ),
            "invalid_json",
            "deeper than the payload's nesting limit (1,000 levels, events.md): not read at all",
        ),
        silver(
            "nested_1000_levels_in_an_extra_field",
            _dumps(build.page_view("nested_1000_levels_in_an_extra_field", extra="DEEP")).replace(
                b'"DEEP"', b"[" * (MAX_NESTING_DEPTH - 1) + b"]" * (MAX_NESTING_DEPTH - 1)
            ),
            "unknown fields are ignored up to the nesting limit: 1,000 levels, the event's own "
            "object included",
            device_type="mobile",
        ),
        quarantined(
            "nested_1001_levels_in_an_extra_field",
            _dumps(build.page_view("nested_1001_levels_in_an_extra_field", extra="DEEP")).replace(
                b'"DEEP"', b"[" * MAX_NESTING_DEPTH + b"]" * MAX_NESTING_DEPTH
            ),
            "invalid_json",
            "one level beyond the payload's nesting limit (events.md)",
        ),
        silver(
            "number_of_1000_characters_in_an_extra_field",
            _dumps(
                build.page_view("number_of_1000_characters_in_an_extra_field", extra="N")
            ).replace(b'"N"', b"1" * MAX_NUMBER_LENGTH),
            "a number of up to 1,000 characters is read (and ignored in an unknown field)",
            device_type="mobile",
        ),
        quarantined(
            "number_of_1001_characters_in_an_extra_field",
            _dumps(
                build.page_view("number_of_1001_characters_in_an_extra_field", extra="N")
            ).replace(b'"N"', b"1" * (MAX_NUMBER_LENGTH + 1)),
            "invalid_json",
            "a number beyond the payload's number limit (events.md)",
        ),
        silver(
            "huge_900kb_extra_field",
            build.product_event("huge_900kb_extra_field", padding="x" * HUGE_PADDING),
            "unknown extra fields are ignored, whatever their size",
            price=Decimal("199.99"),
            product_id="P00042",
        ),
        silver(
            "unknown_extra_fields",
            build.page_view(
                "unknown_extra_fields",
                ab_variant="B",
                nested={"a": [1, {"b": None}], "c": {"d": "e"}},
                **{"": "empty key"},
            ),
            "unknown extra fields (an empty key among them) are allowed and ignored",
            device_type="mobile",
            browser="chrome",
            url_domain="shop.example.com",
            url_path="/c/phones",
        ),
        silver(
            "duplicate_json_keys",
            # json.dumps cannot write duplicate keys: the last event_type and event_id win.
            _dumps(
                build.page_view(
                    "duplicate_json_keys", event_id=event_id("duplicate_json_keys-first")
                )
            )[:-1]
            + f',"event_type":"product_view","event_id":"{event_id("duplicate_json_keys")}",'
            '"product_id":"P00042","price":3.5}'.encode(),
            "last duplicate wins, as in Python's json and Jackson (RFC 8259 leaves it open)",
            event_type="product_view",
        ),
        # ----------------------------------------------------------------- types and numbers
        quarantined(
            "price_as_string",
            _dumps(build.product_event("price_as_string", price="12.50")),
            "invalid_price",
            'numbers are JSON numbers, never strings: "price": "12.50" is invalid (events.md)',
        ),
        quarantined(
            "quantity_as_string",
            _dumps(build.product_event("quantity_as_string", "add_to_cart", quantity="2")),
            "invalid_quantity",
            "quantity present but not an integer >= 1 (a string is not an integer)",
        ),
        quarantined(
            "quantity_as_object",
            _dumps(build.product_event("quantity_as_object", "add_to_cart", quantity={"n": 2})),
            "invalid_quantity",
            "quantity present but not an integer >= 1",
        ),
        quarantined(
            "quantity_fraction",
            _dumps(build.product_event("quantity_fraction", "remove_from_cart", quantity=1.5)),
            "invalid_quantity",
            "quantity present but not an integer >= 1",
        ),
        silver(
            "quantity_null",
            build.product_event("quantity_null", "add_to_cart", quantity=None),
            '"absent and null mean the same": quantity defaults to 1',
            quantity=1,
            price=Decimal("199.99"),
        ),
        silver(
            "price_with_exponent",
            build.product_event("price_with_exponent", price=1.25e2),
            "1.25e2 is a JSON number > 0",
            price=Decimal("125.00"),
        ),
        # ----------------------------------------------------- amounts: decimals and limits
        quarantined(
            "price_three_decimals",
            _dumps(build.product_event("price_three_decimals", price=12.345)),
            "invalid_price",
            "at most 2 decimals (events.md): 12.345 is not rounded, it is invalid",
        ),
        silver(
            "price_trailing_zero_decimal",
            _raw_amount(
                build.product_event("price_trailing_zero_decimal", price=AMOUNT_MARK), "12.350"
            ),
            "a trailing zero is no third decimal: 12.350 is 12.35",
            price=Decimal("12.35"),
        ),
        silver(
            "price_at_the_limit",
            build.product_event("price_at_the_limit", price=float(MAX_PRICE)),
            "the highest price the contract allows",
            price=MAX_PRICE,
            is_high_value=True,
        ),
        out_of_range(
            "price_above_the_limit",
            _dumps(build.product_event("price_above_the_limit", price=float(MAX_PRICE) + 0.01)),
            "a price one cent above the limit",
        ),
        out_of_range(
            "price_99999999_99",
            _dumps(build.product_event("price_99999999_99", price=99_999_999.99)),
            "fits DECIMAL(12, 2), but is above the limit",
        ),
        out_of_range(
            "price_overflowing_decimal",
            _dumps(build.product_event("price_overflowing_decimal", price=1e20)),
            "beyond DECIMAL(12, 2) is still a number above the limit, never a null",
        ),
        silver(
            "cart_quantity_at_the_limit",
            build.product_event("cart_quantity_at_the_limit", "add_to_cart", quantity=1_000),
            "the largest quantity the contract allows",
            quantity=MAX_QUANTITY,
        ),
        out_of_range(
            "cart_quantity_above_the_limit",
            _dumps(
                build.product_event(
                    "cart_quantity_above_the_limit", "add_to_cart", quantity=MAX_QUANTITY + 1
                )
            ),
            "one unit above the limit",
        ),
        out_of_range(
            "cart_quantity_beyond_int",
            _dumps(
                build.product_event(
                    "cart_quantity_beyond_int", "remove_from_cart", quantity=3_000_000_000
                )
            ),
            "an integer beyond INT is still an integer above the limit",
        ),
        out_of_range(
            "purchase_line_total_overflowing_decimal",
            _dumps(
                build.purchase(
                    "purchase_line_total_overflowing_decimal",
                    order=_order("O-overflow", (1_000, 99_999_999.99)),
                )
            ),
            "1,000 x 99,999,999.99 overflowed silver's DECIMAL(12, 2) line_total to null",
        ),
        silver(
            "purchase_at_the_order_total_limit",
            build.purchase(
                "purchase_at_the_order_total_limit",
                order=_order("O-at-limit", (MAX_QUANTITY, AT_LIMIT_PRICE), (5, float(MAX_PRICE))),
            ),
            "the largest quantity, the highest unit price and an order total of exactly "
            "1,000,000.00",
            item_count=2,
            is_high_value=True,
        ),
        out_of_range(
            "purchase_order_total_above_the_limit",
            _dumps(
                build.purchase(
                    "purchase_order_total_above_the_limit",
                    order=_order(
                        "O-above-limit",
                        (MAX_QUANTITY, AT_LIMIT_PRICE),
                        (5, float(MAX_PRICE)),
                        (1, 0.01),
                    ),
                )
            ),
            "each line within the limits, the order total one cent above",
        ),
        out_of_range(
            "order_item_quantity_above_the_limit",
            _dumps(
                build.purchase(
                    "order_item_quantity_above_the_limit",
                    order=_order("O-qty-limit", (1, 9.99), (MAX_QUANTITY + 1, 1.0)),
                )
            ),
            "a line's quantity one unit above the limit",
        ),
        out_of_range(
            "order_item_unit_price_above_the_limit",
            _dumps(
                build.purchase(
                    "order_item_unit_price_above_the_limit",
                    order=_order("O-price-limit", (1, float(MAX_PRICE) + 0.01)),
                )
            ),
            "a line's unit price one cent above the limit",
        ),
        quarantined(
            "order_item_unit_price_three_decimals",
            _dumps(
                build.purchase(
                    "order_item_unit_price_three_decimals",
                    order=_order("O-three-decimals", (1, 19.995)),
                )
            ),
            "invalid_order_item",
            "at most 2 decimals (events.md): 19.995 is not rounded to 20.00, it is invalid",
        ),
        quarantined(
            "price_boolean",
            _dumps(build.product_event("price_boolean", price=True)),
            "invalid_price",
            "not a number",
        ),
        quarantined(
            "price_null",
            _dumps(build.product_event("price_null", price=None)),
            "invalid_price",
            "product event whose price is missing",
        ),
        quarantined(
            "price_negative_zero",
            _dumps(build.product_event("price_negative_zero", price=-0.0)),
            "invalid_price",
            "price <= 0",
        ),
        quarantined(
            "order_items_as_object",
            _dumps(
                build.purchase(
                    "order_items_as_object",
                    order={
                        "order_id": "O-items-object",
                        "currency": "USD",
                        "items": {"product_id": "P00042", "quantity": 1, "unit_price": 9.99},
                    },
                )
            ),
            "missing_order",
            "purchase without a list of items",
        ),
        quarantined(
            "order_items_empty",
            _dumps(
                build.purchase(
                    "order_items_empty",
                    order={"order_id": "O-empty", "currency": "USD", "items": []},
                )
            ),
            "missing_order",
            "purchase without items",
        ),
        quarantined(
            "order_as_string",
            _dumps(build.purchase("order_as_string", order="O-123")),
            "missing_order",
            "purchase without an order object",
        ),
        quarantined(
            "order_item_quantity_as_object",
            _dumps(
                build.purchase(
                    "order_item_quantity_as_object",
                    order={
                        "order_id": "O-qty-object",
                        "currency": "USD",
                        "items": [{"product_id": "P00042", "quantity": {"n": 1}, "unit_price": 9}],
                    },
                )
            ),
            "invalid_order_item",
            "an item whose quantity is not an integer",
        ),
        quarantined(
            "order_item_unit_price_as_string",
            _dumps(
                build.purchase(
                    "order_item_unit_price_as_string",
                    order={
                        "order_id": "O-price-string",
                        "currency": "USD",
                        "items": [{"product_id": "P00042", "quantity": 1, "unit_price": "9.99"}],
                    },
                )
            ),
            "invalid_order_item",
            "unit_price must be a number > 0, and numbers are never strings",
        ),
        silver(
            "purchase_valid",
            build.purchase("purchase_valid"),
            "a valid purchase with two lines",
            item_count=2,
            is_high_value=False,
            product_id=None,
            price=None,
        ),
        # ---------------------------------------------------------------------- timestamps
        Payload(
            "event_at_1900",
            _dumps(build.page_view("event_at_1900", event_at="1900-01-01T00:00:00.000Z")),
            LATE,
            "a valid timestamp far behind the watermark",
        ),
        Payload(
            "event_at_1970_epoch",
            _dumps(build.page_view("event_at_1970_epoch", event_at="1970-01-01T00:00:00.000Z")),
            LATE,
            "a valid timestamp far behind the watermark",
        ),
        quarantined(
            "event_at_2999",
            _dumps(build.page_view("event_at_2999", event_at="2999-01-01T00:00:00.000Z")),
            "invalid_event_at",
            "more than max_future_minutes ahead of the Kafka timestamp",
        ),
        quarantined(
            "event_at_epoch_millis_number",
            _dumps(build.page_view("event_at_epoch_millis_number", event_at=start_ms)),
            "invalid_event_at",
            "not YYYY-MM-DDTHH:MM:SS.mmmZ",
        ),
        quarantined(
            "event_at_epoch_millis_string",
            _dumps(build.page_view("event_at_epoch_millis_string", event_at=str(start_ms))),
            "invalid_event_at",
            "not YYYY-MM-DDTHH:MM:SS.mmmZ",
        ),
        quarantined(
            "event_at_without_millis",
            _dumps(
                build.page_view(
                    "event_at_without_millis", event_at=format_event_at(start_ms)[:19] + "Z"
                )
            ),
            "invalid_event_at",
            "not YYYY-MM-DDTHH:MM:SS.mmmZ (no milliseconds)",
        ),
        quarantined(
            "event_at_with_offset",
            _dumps(
                build.page_view(
                    "event_at_with_offset", event_at=format_event_at(start_ms)[:23] + "+00:00"
                )
            ),
            "invalid_event_at",
            "not YYYY-MM-DDTHH:MM:SS.mmmZ (an offset instead of Z)",
        ),
        quarantined(
            "event_at_february_30",
            _dumps(build.page_view("event_at_february_30", event_at="2026-02-30T10:00:00.000Z")),
            "invalid_event_at",
            "no such day",
        ),
        quarantined(
            "event_at_empty_string",
            _dumps(build.page_view("event_at_empty_string", event_at="")),
            "missing_event_at",
            '"missing" means absent, null or empty (events.md)',
        ),
        quarantined(
            "event_at_absent",
            _dumps(build.page_view("event_at_absent", event_at=_DELETE)),
            "missing_event_at",
            "missing = absent, null or empty",
        ),
        # --------------------------------------------------------------- empty and null fields
        quarantined("empty_object", b"{}", "missing_event_id", "no event_id"),
        quarantined(
            "event_id_empty",
            _dumps(build.page_view("event_id_empty", event_id="")),
            "missing_event_id",
            "missing = absent, null or empty",
        ),
        quarantined(
            "event_id_whitespace",
            _dumps(build.page_view("event_id_whitespace", event_id="   ")),
            "missing_event_id",
            "blank is empty",
        ),
        quarantined(
            "event_id_null",
            _dumps(build.page_view("event_id_null", event_id=None)),
            "missing_event_id",
            "missing = absent, null or empty",
        ),
        quarantined(
            "event_type_empty",
            _dumps(build.page_view("event_type_empty", event_type="")),
            "missing_event_type",
            '"missing" means absent, null or empty (events.md)',
        ),
        quarantined(
            "event_type_null",
            _dumps(build.page_view("event_type_null", event_type=None)),
            "missing_event_type",
            "missing = absent, null or empty",
        ),
        quarantined(
            "event_type_upper_case",
            _dumps(build.page_view("event_type_upper_case", event_type="PAGE_VIEW")),
            "unknown_event_type",
            "not one of the five (case matters)",
        ),
        quarantined(
            "user_id_empty",
            _dumps(build.page_view("user_id_empty", user_id="")),
            "missing_user_id",
            "missing = absent, null or empty",
        ),
        quarantined(
            "product_id_empty",
            _dumps(build.product_event("product_id_empty", product_id="")),
            "missing_product_id",
            "missing = absent, null or empty",
        ),
        silver(
            "optional_fields_null",
            build.product_event(
                "optional_fields_null",
                session_id=None,
                category=None,
                brand=None,
                device_type=None,
                browser=None,
                page_url=None,
                referrer=None,
            ),
            "optional fields may be null",
            session_id=None,
            brand=None,
            device_type="unknown",
            browser="unknown",
            url_domain=None,
        ),
        silver(
            "empty_kafka_key",
            build.page_view("empty_kafka_key"),
            "the key is not part of the contract silver reads",
            key=b"",
        ),
        silver(
            "null_kafka_key",
            build.page_view("null_kafka_key"),
            "the key is not part of the contract silver reads",
            key=None,
        ),
        silver(
            "sql_and_markup_in_strings",
            build.page_view(
                "sql_and_markup_in_strings",
                user_id="'; drop table silver_events; --",
                browser="<script>alert(1)</script>",
                page_url="javascript:alert(1)",
            ),
            "strings are data, never code",
            user_id="'; drop table silver_events; --",
            browser="other",
            url_domain=None,
        ),
        silver(
            "page_url_unparseable",
            build.page_view("page_url_unparseable", page_url="http://[::1/%zz?"),
            "page_url is free text; an unparseable URL has no domain or path",
            page_url="http://[::1/%zz?",
            url_domain=None,
            url_path=None,
        ),
    ]
    # The watermark's boundary (events.md): after the newest event so far, one exactly
    # watermark_delay_seconds behind it is late, one 1 ms less behind is on time.
    newest = build.page_view("watermark_newest_event")
    newest_ms = build.next_ms
    payloads += [
        silver("watermark_newest_event", newest, "the newest event so far"),
        Payload(
            "watermark_exactly_the_delay_behind",
            _dumps(
                build.page_view(
                    "watermark_exactly_the_delay_behind",
                    event_at=format_event_at(newest_ms - delay_ms),
                )
            ),
            LATE,
            "at the watermark (newest - watermark_delay_seconds) is late",
        ),
        silver(
            "watermark_1ms_less_than_the_delay_behind",
            build.page_view(
                "watermark_1ms_less_than_the_delay_behind",
                event_at=format_event_at(newest_ms - delay_ms + 1),
            ),
            "1 ms ahead of the watermark is on time",
        ),
    ]
    # Re-sent records (events.md, On time, late or duplicate): an event_id seen before is a
    # duplicate even when the copy is behind the watermark; a quarantined record is quarantined
    # again (it has no identity to deduplicate).
    sent = {p.name: p for p in payloads}
    payloads += [
        Payload(
            "resent_on_time_event_now_behind_the_watermark",
            sent["warm_up_00"].value,
            DUPLICATE,
            "a copy of a silver event, now behind the watermark: a duplicate, not late",
            key=sent["warm_up_00"].key,
        ),
        Payload(
            "resent_late_event",
            sent["event_at_1900"].value,
            DUPLICATE,
            "a copy of a late event: a duplicate, not late again",
        ),
        quarantined(
            "resent_quarantined_record",
            sent["price_above_the_limit"].value,
            AMOUNT_OUT_OF_RANGE,
            "an invalid record re-sent is quarantined again",
        ),
    ]
    names = [p.name for p in payloads]
    assert len(names) == len(set(names)), "payload names must be unique"
    return payloads


def expected_event_id(payload: Payload) -> str:
    """The event_id silver should hold for a payload whose outcome is SILVER or LATE."""
    return event_id(payload.name)


def replay_twice(path: Path) -> list[Payload]:
    """A REES46 file replayed twice into one topic (`jobs.py replay`, no --shift-to-now): the
    first pass is valid and in event-time order, so on time; the second re-sends every event_id
    and is all duplicates, although its 2019 event times are by then behind the watermark."""
    records = list(replay_records(path))
    return [
        Payload(
            f"replay_{pass_}_{number:04d}",
            record.value,
            outcome,
            why,
            key=record.key.encode(),
            batch=REPLAY,
        )
        for pass_, outcome, why in (
            ("first", SILVER, "a valid REES46 row, on time"),
            ("second", DUPLICATE, "the same event_id again: a duplicate, late or not"),
        )
        for number, record in enumerate(records)
    ]
