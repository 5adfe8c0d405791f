"""Replay of REES46 ("eCommerce behavior data from multi category store") CSV files into the
event contract. Ids are derived from the rows, so replaying a file twice re-sends the same
event_ids (the pipeline deduplicates them)."""

from __future__ import annotations

import csv
import gzip
import io
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson

from generator.contract import (
    ADD_TO_CART,
    CURRENCY,
    PRODUCT_VIEW,
    PURCHASE,
    REMOVE_FROM_CART,
    SOURCE_REES46,
    format_event_at,
)
from generator.model import Record

COLUMNS = (
    "event_time",
    "event_type",
    "product_id",
    "category_id",
    "category_code",
    "brand",
    "price",
    "user_id",
    "user_session",
)
EVENT_TYPES = {
    "view": PRODUCT_VIEW,
    "cart": ADD_TO_CART,
    "remove_from_cart": REMOVE_FROM_CART,
    "purchase": PURCHASE,
}
# Namespace of the uuid5 event_ids and order_ids of replayed rows.
REES46_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://rees46.com/open-cdp/clickstream")


def parse_event_time(text: str) -> int:
    """Epoch milliseconds of `2019-10-01 00:00:00 UTC`."""
    moment = datetime.strptime(text.removesuffix(" UTC"), "%Y-%m-%d %H:%M:%S")
    return int(moment.replace(tzinfo=UTC).timestamp()) * 1000


def row_event_id(row_number: int, line: list[str]) -> str:
    """uuid5 over the row number (1-based, header excluded) and the row's values."""
    return str(uuid.uuid5(REES46_NAMESPACE, f"{row_number}:{','.join(line)}"))


def row_to_event(row_number: int, line: list[str], shift_ms: int = 0) -> tuple[int, dict]:
    """(event time in epoch ms, contract event) of one CSV row (values in COLUMNS order)."""
    event_time, kind, product_id, category_id, category_code, brand, price, user_id, session = line
    event_ms = parse_event_time(event_time) + shift_ms
    event_id = row_event_id(row_number, line)
    event_type = EVENT_TYPES.get(kind, kind)  # unknown types pass through; silver rejects them
    category = category_code or f"category_{category_id}"
    unit_price = round(float(price), 2) if price else None
    event: dict = {
        "event_id": event_id,
        "event_type": event_type,
        "event_at": format_event_at(event_ms),
        "user_id": user_id,
    }
    if session:
        event["session_id"] = session
    if event_type == PURCHASE:
        item: dict = {"product_id": product_id, "category": category}
        if brand:
            item["brand"] = brand
        item["quantity"] = 1
        item["unit_price"] = unit_price
        event["order"] = {
            "order_id": str(uuid.uuid5(REES46_NAMESPACE, f"order:{event_id}")),
            "currency": CURRENCY,
            "items": [item],
        }
    else:
        event["product_id"] = product_id
        event["category"] = category
        if brand:
            event["brand"] = brand
        event["price"] = unit_price
        if event_type in (ADD_TO_CART, REMOVE_FROM_CART):
            event["quantity"] = 1
    event["source"] = SOURCE_REES46
    return event_ms, event


def read_rows(path: Path) -> Iterator[list[str]]:
    """Data rows of a REES46 CSV (optionally .gz), values in COLUMNS order."""
    raw = gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")  # noqa: SIM115
    with raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
        reader = csv.reader(text)
        header = next(reader, None)
        if header is None:
            return
        header = [name.strip() for name in header]
        missing = [name for name in COLUMNS if name not in header]
        if missing:
            raise ValueError(f"{path}: not a REES46 file, missing columns {missing}")
        if tuple(header) == COLUMNS:
            yield from reader
        else:
            positions = [header.index(name) for name in COLUMNS]
            for line in reader:
                yield [line[position] for position in positions]


def replay_records(
    path: Path,
    *,
    shift_to_ms: int | None = None,
    speedup: float = 0.0,
    limit: int | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Record]:
    """The rows of `path` as Kafka records, keyed by user_id, in file order.

    shift_to_ms: move all event times so the first row happens at this epoch ms (None = keep).
    speedup: pace sends by event time, `speedup` times faster than real (0 = no pacing).
    """
    rows = read_rows(path)
    shift_ms = 0
    first_ms: int | None = None
    started = 0.0
    for row_number, line in enumerate(rows, start=1):
        if limit is not None and row_number > limit:
            return
        if first_ms is None:
            try:
                first_ms = parse_event_time(line[0])
            except (ValueError, IndexError) as error:
                raise ValueError(f"{path}: data row 1: {error}") from error
            if shift_to_ms is not None:
                shift_ms = shift_to_ms - first_ms
            started = clock()
        try:
            event_ms, event = row_to_event(row_number, line, shift_ms)
        except ValueError as error:  # wrong column count, unreadable time or price
            raise ValueError(f"{path}: data row {row_number}: {error}") from error
        if speedup > 0:
            due = started + (event_ms - shift_ms - first_ms) / 1000 / speedup
            while (wait := due - clock()) > 0:
                if should_stop():
                    return
                sleep(min(wait, 0.2))
        yield Record(line[7], orjson.dumps(event), None, None, None, event["event_id"])
