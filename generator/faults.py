"""Faults injected on purpose: malformed payloads (one quarantine reason each) and the
partitioner maths behind duplicates re-sent to another partition."""

from __future__ import annotations

import random

import orjson

from generator.contract import (
    CART_EVENT_TYPES,
    MAX_ORDER_TOTAL,
    MAX_PRICE,
    MAX_QUANTITY,
    PRODUCT_EVENT_TYPES,
    PURCHASE,
    REASONS,
)

# Event types a malformed record of each reason is built from; None = any event type.
REASON_EVENT_TYPES: dict[str, tuple[str, ...] | None] = {
    "invalid_json": None,
    "missing_event_id": None,
    "missing_event_type": None,
    "unknown_event_type": None,
    "missing_event_at": None,
    "invalid_event_at": None,
    "missing_user_id": None,
    "missing_product_id": PRODUCT_EVENT_TYPES,
    "invalid_price": PRODUCT_EVENT_TYPES,
    "invalid_quantity": CART_EVENT_TYPES,
    "missing_order": (PURCHASE,),
    "invalid_order_item": (PURCHASE,),
    "amount_out_of_range": (*PRODUCT_EVENT_TYPES, PURCHASE),
}
# Every reason events_checked.sql assigns has a way to be triggered here, and no other.
assert tuple(REASON_EVENT_TYPES) == REASONS, (tuple(REASON_EVENT_TYPES), REASONS)

UNKNOWN_EVENT_TYPES = ("click", "checkout_started", "wishlist_add", "video_play")
INVALID_EVENT_ATS = ("not-a-timestamp", "yesterday", "22/11/2026 10:15:30", "1732270530")
INVALID_QUANTITIES: tuple[object, ...] = ("two", 0, -1)
# Prices above the limit: just above it, the 99,999,999.99, beyond DECIMAL(12, 2).
OUT_OF_RANGE_PRICES = (float(MAX_PRICE) + 0.01, 99_999_999.99, 1e20)


def corrupt(event: dict, reason: str, rng: random.Random) -> tuple[bytes, str | None]:
    """The payload of `event` broken in exactly one way, so silver quarantines it with `reason`.

    `event` must be a valid event of a type REASON_EVENT_TYPES allows for `reason`; it is
    modified in place. Returns (payload, event_id readable from the payload or None).
    """
    event_id = event["event_id"]
    if reason == "invalid_json":
        payload = orjson.dumps(event)
        if rng.random() < 0.7:  # truncated in flight: never a complete JSON object
            return payload[: rng.randrange(1, len(payload) - 1)], None
        # a client that wrote a Python repr instead of JSON (single quotes, None)
        return repr(event).encode(), None
    if reason in ("missing_event_id", "missing_event_type", "missing_event_at", "missing_user_id"):
        field_name = reason.removeprefix("missing_")
        if rng.random() < 0.5:
            del event[field_name]
        else:
            event[field_name] = None
        if field_name == "event_id":
            event_id = None
    elif reason == "unknown_event_type":
        event["event_type"] = rng.choice(UNKNOWN_EVENT_TYPES)
    elif reason == "invalid_event_at":
        event["event_at"] = rng.choice(INVALID_EVENT_ATS)
    elif reason == "missing_product_id":
        del event["product_id"]
    elif reason == "invalid_price":
        choice = rng.randrange(3)
        event["price"] = ("abc", -event["price"], 0)[choice]
    elif reason == "invalid_quantity":
        event["quantity"] = rng.choice(INVALID_QUANTITIES)
    elif reason == "missing_order":
        del event["order"]
    elif reason == "amount_out_of_range":
        _out_of_range(event, rng)
    elif reason == "invalid_order_item":
        item = rng.choice(event["order"]["items"])
        choice = rng.randrange(4)
        if choice == 0:
            item["quantity"] = 0
        elif choice == 1:
            item["unit_price"] = -item["unit_price"]
        elif choice == 2:
            item["unit_price"] = "abc"
        else:
            del item["product_id"]
    else:
        raise ValueError(f"unknown quarantine reason {reason!r}")
    return orjson.dumps(event), event_id


def _out_of_range(event: dict, rng: random.Random) -> None:
    """One amount beyond the contract's limits, every value still a valid number otherwise."""
    choice = rng.randrange(3)
    if event["event_type"] != PURCHASE:
        if event["event_type"] in CART_EVENT_TYPES and choice == 0:
            event["quantity"] = MAX_QUANTITY + 1
        else:
            event["price"] = rng.choice(OUT_OF_RANGE_PRICES)
        return
    item = rng.choice(event["order"]["items"])
    if choice == 0:
        item["quantity"] = MAX_QUANTITY + 1
    elif choice == 1:
        item["unit_price"] = rng.choice(OUT_OF_RANGE_PRICES)
    else:  # each line within the limits, their sum above the order total's
        item["quantity"] = MAX_QUANTITY
        item["unit_price"] = float(MAX_ORDER_TOTAL / MAX_QUANTITY) + 0.01


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 hash (Java client and librdkafka `murmur2_random`), as a signed int."""
    m = 0x5BD1E995
    mask = 0xFFFFFFFF
    length = len(data)
    h = (0x9747B28C ^ length) & mask
    for offset in range(0, length - length % 4, 4):
        k = int.from_bytes(data[offset : offset + 4], "little")
        k = (k * m) & mask
        k ^= k >> 24
        k = (k * m) & mask
        h = ((h * m) & mask) ^ k
    tail = length - length % 4
    remaining = length % 4
    if remaining == 3:
        h ^= data[tail + 2] << 16
    if remaining >= 2:
        h ^= data[tail + 1] << 8
    if remaining >= 1:
        h ^= data[tail]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def default_partition(key: str, partitions: int) -> int:
    """The partition the producer's murmur2 partitioner picks for `key`."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def other_partition(key: str, partitions: int, rng: random.Random) -> int:
    """A partition other than `key`'s own (its own if the topic has a single partition)."""
    if partitions < 2:
        return 0
    own = default_partition(key, partitions)
    return (own + 1 + rng.randrange(partitions - 1)) % partitions
