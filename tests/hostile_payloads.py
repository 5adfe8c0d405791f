"""A corpus of hostile Kafka records for the event topic, each with the outcome the contract
(docs/events.md, docs/lake.md) demands of the pipeline.

Every record must be accounted for: one bronze row per Kafka record, then exactly one of
silver (with the typed values given here), late, or quarantine (with the reason code given
here). GAPS names each known disagreement between the current Flink SQL and the contract: the
integration test marks that single case `xfail(strict=True)` so the suite stays green while the
gap stays visible, and turns red (XPASS) the day the SQL is fixed.

The corpus is built for one run on a single-partition topic, in production order: valid
warm-up events first (they advance the watermark and fill two gold windows), then the hostile
records, each valid-shaped one a little later in event time than the one before, so only the
records meant to be late are behind the watermark.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from generator.contract import format_event_at, to_epoch_ms

MAIN = "main"
ENCODING = "encoding"  # invalid UTF-8 in the key or value
BATCHES = (MAIN, ENCODING)

SILVER = "silver"
LATE = "late"
QUARANTINE = "quarantine"

NAMESPACE = uuid.UUID("5b4cbb6e-1a8f-4f65-9f0e-7d1a3c1f0a07")
WARM_UP_EVENTS = 24  # page views 5 s apart: two full one-minute windows before the hostile part
NESTING_DEPTH = 10_000
PRICE_MARK = 987654.32  # replaced by NaN / Infinity in the raw bytes
HUGE_PADDING = 900_000  # characters; the record stays below the broker's ~1 MB message limit


@dataclass(frozen=True)
class Payload:
    name: str
    value: bytes | None  # None: a Kafka record with a null value (a tombstone)
    outcome: str  # SILVER, LATE or QUARANTINE
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


def corpus(start_at: datetime) -> list[Payload]:
    """The records in production order. `start_at` is the event time of the first warm-up
    event; keep it a few minutes before now (event times more than max_future_minutes ahead of
    the Kafka timestamp are invalid)."""
    start_ms = to_epoch_ms(start_at)
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

    def silver(name: str, document: dict, why: str, *, key=b"U-hostile", batch=MAIN, **cols):
        return Payload(name, _dumps(document), SILVER, why, silver=cols, key=key, batch=batch)

    def quarantined(name: str, value: bytes | None, reason: str, why: str, batch=MAIN):
        return Payload(name, value, QUARANTINE, why, reason=reason, batch=batch)

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
            "beyond the JSON parsers' nesting limits (Jackson 1,000, Python's json ~1,000): "
            "not readable, so not a JSON object to the pipeline",
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
            {},  # replaced below: json.dumps cannot write duplicate keys
            "last duplicate wins, as in Python's json and Jackson (RFC 8259 leaves it open)",
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
        silver(
            "price_three_decimals",
            build.product_event("price_three_decimals", price=12.345),
            "a number > 0; silver keeps DECIMAL(12, 2), rounding half up",
            price=Decimal("12.35"),
        ),
        quarantined(
            "price_overflowing_decimal",
            _dumps(build.product_event("price_overflowing_decimal", price=1e20)),
            "invalid_price",
            "does not fit DECIMAL(12, 2): not a usable price",
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
    # Duplicate keys: the last event_type and event_id win.
    first, second = event_id("duplicate_json_keys-first"), event_id("duplicate_json_keys")
    duplicated = (
        _dumps(build.page_view("duplicate_json_keys", event_id=first))[:-1]
        + f',"event_type":"product_view","event_id":"{second}","product_id":"P00042",'
        '"price":3.5}'.encode()
    )
    payloads = [
        Payload(p.name, duplicated, SILVER, p.why, silver={"event_type": "product_view"})
        if p.name == "duplicate_json_keys"
        else p
        for p in payloads
    ]
    names = [p.name for p in payloads]
    assert len(names) == len(set(names)), "payload names must be unique"
    return payloads


def expected_event_id(payload: Payload) -> str:
    """The event_id silver should hold for a payload whose outcome is SILVER or LATE."""
    return event_id(payload.name)
