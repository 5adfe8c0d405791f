"""Builders for the Kafka records of a given/expect case. Times are offsets from the case's start
(a window boundary): `T("00:59.999")` is 59.999 s after it.

    event("add_to_cart", "00:05.000", quantity=2)      a valid cart event with one change
    event("page_view", "00:01.000", user_id=ABSENT)    ... with a field deleted
    purchase("00:10.000", line("P-1", 2, 9.99))       a valid purchase of one line
    raw(b"{not json")                                  any bytes as the record's value
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import datetime, timedelta

from scenarios import Given

from generator.contract import format_event_at, to_epoch_ms

ABSENT = object()  # a field value that deletes the field
_ids = itertools.count(1)


def T(text: str) -> timedelta:
    """An offset from the case's start: "MM:SS.mmm", "HH:MM:SS.mmm", with or without millis."""
    match = re.fullmatch(r"(?:(\d+):)?(\d+):(\d+)(?:\.(\d{3}))?", text)
    if not match:
        raise ValueError(f"not [HH:]MM:SS[.mmm]: {text!r}")
    hours, minutes, seconds, millis = match.groups()
    return timedelta(
        hours=int(hours or 0),
        minutes=int(minutes),
        seconds=int(seconds),
        milliseconds=int(millis or 0),
    )


def _offset(at: str | timedelta) -> timedelta:
    return at if isinstance(at, timedelta) else T(at)


def next_event_id() -> str:
    return f"event-{next(_ids):04d}"


def line(product_id: str | None, quantity: object, unit_price: object, **fields: object) -> dict:
    """One line item of an order."""
    item = {"product_id": product_id, "quantity": quantity, "unit_price": unit_price, **fields}
    return {name: value for name, value in item.items() if value is not ABSENT}


def event(
    kind: str = "page_view",
    at: str | timedelta = "00:00.000",
    *,
    kafka_at: str | timedelta | None = None,
    key: bytes | None = b"U-1",
    **fields: object,
) -> Given:
    """A valid event of type `kind`, `at` after the case's start (its Kafka timestamp too, unless
    `kafka_at`), with `fields` replacing the defaults; ABSENT deletes a field. An `event_at` given
    in `fields` is sent as is."""
    offset = _offset(at)
    document: dict[str, object] = {
        "event_id": next_event_id(),
        "event_type": kind,
        "event_at": None,  # filled in from the case's start
        "user_id": "U-1",
        "session_id": "S-1",
        "device_type": "mobile",
        "browser": "Chrome 119",
        "page_url": "https://shop.example.com/product/P-1",
        "referrer": None,
    }
    if kind in ("product_view", "add_to_cart", "remove_from_cart"):
        document.update(product_id="P-1", category="electronics.phone", brand="acme", price=10.0)
    if kind == "purchase":
        document["order"] = {
            "order_id": f"O-{document['event_id']}",
            "currency": "USD",
            "items": [line("P-1", 1, 10.0)],
        }
    sent_at = "event_at" in fields
    document.update(fields)
    document = {name: value for name, value in document.items() if value is not ABSENT}

    def value(start: datetime) -> bytes:
        payload = dict(document)
        if not sent_at:
            payload["event_at"] = format_event_at(to_epoch_ms(start + offset))
        return json.dumps(payload, separators=(",", ":")).encode()

    return Given(value, offset if kafka_at is None else _offset(kafka_at), key)


def purchase(at: str | timedelta, *lines: dict, order_id: str | None = None, **fields) -> Given:
    """A valid purchase of `lines` (at least one: `line(...)`)."""
    event_id = fields.pop("event_id", None) or next_event_id()
    order = {"order_id": order_id or f"O-{event_id}", "currency": "USD", "items": list(lines)}
    return event("purchase", at, event_id=event_id, order=order, **fields)


def raw(value: bytes | None, at: str | timedelta = "00:00.000", key: bytes | None = b"U-1"):
    """A record whose value is exactly `value` (None: a tombstone)."""
    return Given(value, _offset(at), key)
