"""Write small lakes in the exact layout of docs/lake.md, for tests of anything that reads the lake.

A lake table is an Iceberg table of the lake's catalog (``catalog.db`` at the root), written here
as the Flink sink writes it (pipeline.lake_writer: one snapshot per ``write_table``, Parquet files
with Iceberg field ids under ``<folder>/data/dt=YYYY-MM-DD/``). Each table's identifier (its
folder), columns, types and what ``dt`` is the date of come from the Flink DDL
(pipeline.lake_schema); gold rows and the accounting come from the one oracle (oracle.py), with the
thresholds and window size of the test session's config (stack.config).

Public API:

- ``event(...)`` / ``purchase(...)`` build silver rows (derived columns filled in one place);
- ``write_table(root, table, rows)`` writes rows of one table (``"silver/events"``, …);
- ``write_lake(root, events, order_items, duplicates=…, quarantine=…, late=…)`` writes silver,
  a bronze table consistent with it (``bronze = silver + quarantine + late + duplicates``), the
  quarantine and late tables, every gold table recomputed from silver, and an uncommitted
  garbage data file that readers must ignore;
- ``small_hand_checked_lake(root)`` / ``hand_checked_next_day(root)``: the lake the dbt tests
  check by hand (see the docstrings for its story).
- ``hand_checked_anomalies(root)``: a bot and a product nobody buys, added to that lake.

Rows are plain dicts keyed by the column names of docs/lake.md; columns left out are null.
Timestamps may be ``datetime`` or ``"YYYY-MM-DD HH:MM:SS"`` strings and are UTC.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import oracle

from pipeline import lake_reader, lake_schema, lake_writer
from stack.config import Config, load_config

Row = dict[str, Any]


# --- building rows -----------------------------------------------------------------------------


def as_datetime(value: datetime | str) -> datetime:
    """A UTC timestamp from a ``datetime`` or an ISO-ish ``"YYYY-MM-DD HH:MM:SS"`` string."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def event(
    event_id: str,
    event_type: str,
    event_at: datetime | str,
    user_id: str,
    *,
    session_id: str | None = None,
    product_id: str | None = None,
    category: str | None = None,
    brand: str | None = None,
    price: Decimal | str | None = None,
    quantity: int | None = None,
    device_type: str = "desktop",
    browser: str = "chrome",
    page_path: str = "/",
    referrer: str | None = None,
    ingested_at: datetime | str | None = None,
    ingest_delay: timedelta = timedelta(seconds=2),
) -> Row:
    """A silver event row; event_date, event_hour, URL parts, is_high_value and ingested_at are
    derived here."""
    at = as_datetime(event_at)
    page_url = f"https://shop.example.com{page_path}"
    price = None if price is None else Decimal(price)
    return {
        "event_id": event_id,
        "event_type": event_type,
        "event_at": at,
        "user_id": user_id,
        "session_id": session_id,
        "product_id": product_id,
        "category": category,
        "brand": brand,
        "price": price,
        "quantity": quantity,
        "order_id": None,
        "item_count": None,
        "device_type": device_type,
        "browser": browser,
        "page_url": page_url,
        "url_domain": "shop.example.com",
        "url_path": page_path,
        "referrer": referrer,
        "is_high_value": price is not None and price >= load_config().high_value_price,
        "event_date": at.date(),
        "event_hour": at.hour,
        "kafka_partition": 0,
        "kafka_offset": None,  # assigned by write_lake, in ingestion order
        "ingested_at": at + ingest_delay if ingested_at is None else as_datetime(ingested_at),
    }


def purchase(
    event_id: str,
    event_at: datetime | str,
    user_id: str,
    order_id: str,
    lines: Sequence[tuple[str, str | None, int, Decimal | str]],
    **event_fields: Any,
) -> tuple[Row, list[Row]]:
    """A purchase event and its order items; ``lines`` are (product_id, category, quantity,
    unit_price). item_count and is_high_value are derived from the lines; the order's total is
    not a silver column (it is the sum of the items' line_total)."""
    at = as_datetime(event_at)
    items = [
        {
            "order_id": order_id,
            "line_number": number,
            "event_id": event_id,
            "user_id": user_id,
            "event_at": at,
            "product_id": product_id,
            "category": category,
            "brand": None,
            "quantity": quantity,
            "unit_price": Decimal(unit_price),
            "line_total": Decimal(unit_price) * quantity,
        }
        for number, (product_id, category, quantity, unit_price) in enumerate(lines, start=1)
    ]
    row = event(event_id, "purchase", at, user_id, page_path="/checkout/complete", **event_fields)
    row.update(
        order_id=order_id,
        item_count=len(items),
        is_high_value=any(item["unit_price"] >= load_config().high_value_price for item in items),
    )
    return row, items


def quarantined(raw_payload: str, reason: str, ingested_at: datetime | str) -> Row:
    """A quarantine row (kafka_partition/offset assigned by write_lake)."""
    at = as_datetime(ingested_at)
    return {
        "raw_payload": raw_payload,
        "reason": reason,
        "kafka_partition": 0,
        "kafka_offset": None,
        "kafka_timestamp": at - timedelta(seconds=1),
        "ingested_at": at,
    }


def late(silver_like_event: Row, ingested_at: datetime | str) -> Row:
    """A late/events row for a valid event (built with ``event``) that arrived behind the
    watermark."""
    return {
        "event_id": silver_like_event["event_id"],
        "event_type": silver_like_event["event_type"],
        "event_at": silver_like_event["event_at"],
        "user_id": silver_like_event["user_id"],
        "raw_payload": payload_of(silver_like_event),
        "kafka_partition": 0,
        "kafka_offset": None,
        "ingested_at": as_datetime(ingested_at),
    }


def payload_of(silver_event: Row) -> str:
    """The JSON a producer would have sent for this event."""
    fields = (
        "event_id", "event_type", "user_id", "session_id", "product_id", "category", "brand",
        "price", "quantity", "order_id", "device_type", "browser", "page_url", "referrer",
    )  # fmt: skip
    body = {name: silver_event.get(name) for name in fields if silver_event.get(name) is not None}
    body["event_at"] = silver_event["event_at"].isoformat(timespec="milliseconds") + "Z"
    return json.dumps(body, default=str, sort_keys=True)


# --- deriving bronze and gold --------------------------------------------------------------------


def assign_offsets(
    events: Sequence[Row],
    duplicates: Sequence[tuple[Row, datetime | str]],
    quarantine: Sequence[Row],
    late_events: Sequence[Row],
    first_offset: int = 0,
) -> list[Row]:
    """Bronze rows, one per Kafka record, in ingestion order; sets kafka_offset on the silver,
    quarantine and late rows (in place) to the offset of their record."""
    topic = load_config().kafka_topic
    records: list[tuple[datetime, str, Row | None, Row]] = []
    for row in events:
        records.append((row["ingested_at"], payload_of(row), row, row))
    for row, ingested_at in duplicates:
        records.append((as_datetime(ingested_at), payload_of(row), None, row))
    for row in quarantine:
        records.append((row["ingested_at"], row["raw_payload"], row, {}))
    for row in late_events:
        records.append((row["ingested_at"], row["raw_payload"], row, row))
    records.sort(key=lambda record: record[0])

    bronze = []
    for offset, (ingested_at, payload, lake_row, source) in enumerate(records, start=first_offset):
        if lake_row is not None:
            lake_row["kafka_offset"] = offset
        bronze.append(
            {
                "raw_payload": payload,
                "kafka_key": source.get("user_id"),
                "kafka_topic": topic,
                "kafka_partition": 0,
                "kafka_offset": offset,
                "kafka_timestamp": ingested_at - timedelta(seconds=1),
                "ingested_at": ingested_at,
            }
        )
    return bronze


# --- writing -------------------------------------------------------------------------------------


def write_table(
    root: Path, table: str, rows: Iterable[Mapping[str, Any]], *, replace: bool = False
) -> list[str]:
    """Append rows to one lake table (by its folder, e.g. ``"silver/events"``) of the lake at
    ``root`` as one Iceberg snapshot, as a Flink checkpoint would; with ``replace`` the snapshot
    replaces every row the table had. Returns the data files written. Writes nothing for no rows
    and no ``replace`` (the table is still created, as a deployed job does)."""
    layout = lake_schema.by_folder()[table]
    columns = layout.row_columns
    values = [tuple(row.get(column.name) for column in columns) for row in rows]
    lake_writer.create_table(root, layout.name)
    if not values and not replace:
        return []
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        column_defs = ", ".join(f'"{column.name}" {column.duckdb_type}' for column in columns)
        con.execute(f"create table rows_to_write ({column_defs})")
        placeholders = ", ".join("?" for _ in columns)
        con.executemany(f"insert into rows_to_write values ({placeholders})", values)
        (partition,) = layout.partition_columns
        source = lake_schema.partition_source(layout)
        return lake_writer.append(
            root,
            layout.name,
            con,
            f"select *, strftime(cast({source} as date), '%Y-%m-%d') as {partition}"
            " from rows_to_write",
            replace=replace,
        )
    finally:
        con.close()


def copy_lake(source: Path, target: Path) -> None:
    """A lake at ``target`` with the rows every table of ``source`` holds now, one snapshot per
    table. Iceberg tables are not copied as folders: their metadata names absolute paths, so a
    folder copy would go on reading (and writing) the source's files."""
    connection = lake_reader.connect(source)
    try:
        for table in lake_schema.lake_tables():
            lake_writer.append(target, table, connection, f"select * from {table}")
    finally:
        connection.close()


def commit_empty(root: Path, table: str) -> None:
    """A snapshot that adds nothing to one lake table (by its folder), as the Flink sink commits
    after 10 checkpoints in which the table got no rows; its summary has no `added-*` counts."""
    layout = lake_schema.by_folder()[table]
    iceberg_table = lake_writer.create_table(root, layout.name)
    transaction = iceberg_table.transaction()
    with transaction.update_snapshot().fast_append():
        pass
    transaction.commit_transaction()


def write_uncommitted_file(root: Path, table: str, dt: str) -> Path:
    """A data file in the table's folder that no snapshot references, as a Flink checkpoint
    leaves while it writes (or when it fails before the commit); it is not even Parquet, so a
    reader that lists files instead of asking the catalog fails on it."""
    layout = lake_schema.by_folder()[table]
    lake_writer.create_table(root, layout.name)
    path = Path(root) / table / "data" / f"dt={dt}" / f"00000-0-{uuid.uuid4()}-00001.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not parquet: half-written by a running Flink job")
    return path


def write_lake(
    root: Path,
    events: Sequence[Row],
    order_items: Sequence[Row] = (),
    *,
    duplicates: Sequence[tuple[Row, datetime | str]] = (),
    quarantine: Sequence[Row] = (),
    late_events: Sequence[Row] = (),
    first_offset: int = 0,
    uncommitted_files: bool = True,
    config: Config | None = None,
) -> None:
    """Write a consistent lake under ``root`` (files are added next to existing ones).

    - silver/events and silver/order_items: the given rows;
    - bronze/events: one record per silver event, duplicate (an event re-sent at the given
      ingestion time), quarantine row and late row, so the accounting identity holds;
    - quarantine/events, late/events: the given rows;
    - quality/record_outcomes_per_minute: what the stream counts for those records (the oracle);
    - gold/*: every gold table as the oracle recomputes it from silver, with ``config``'s window
      size and thresholds (the test session's config by default);
    - with ``uncommitted_files``, a data file no snapshot references in silver/events and in the
      (empty) gold/bot_suspects, which every reader must skip.

    Kafka offsets run from ``first_offset`` in ingestion order; pass a higher one when adding a
    later batch to an existing lake.
    """
    root = Path(root)
    config = config or load_config()
    bronze = assign_offsets(events, duplicates, quarantine, late_events, first_offset)
    accounting = oracle.accounting(bronze, events, quarantine, late_events)
    assert accounting.is_balanced, f"the fixture's bronze does not balance: {accounting}"
    write_table(root, "bronze/events", bronze)
    write_table(root, "silver/events", events)
    write_table(root, "silver/order_items", order_items)
    write_table(root, "quarantine/events", quarantine)
    write_table(root, "late/events", late_events)
    write_table(
        root,
        "quality/record_outcomes_per_minute",
        oracle.record_outcomes_per_minute(bronze, events, quarantine, late_events),
    )
    tables = lake_schema.lake_tables()
    for table, rows in oracle.expected_gold(events, order_items, config).items():
        write_table(root, tables[table].folder, rows)
    if uncommitted_files and events:
        newest_dt = max(row["event_date"] for row in events).isoformat()
        write_uncommitted_file(root, "silver/events", newest_dt)
        write_uncommitted_file(root, "gold/bot_suspects", newest_dt)


# --- the hand-checked lake -----------------------------------------------------------------------

DAY_1 = "2024-03-01"
DAY_2 = "2024-03-02"
DAY_3 = "2024-03-03"


def small_hand_checked_lake(root: Path) -> None:
    """Two days (2024-03-01/02) of six users, small enough to check every mart by hand.

    - u1 (desktop) views, carts and buys p1 (order o1, 200.00) between 10:00 and 10:20, then comes
      back at 10:50 — exactly 30 minutes later, so a second session — and views p2. The client kept
      one session id (s1) for both.
    - u2 (mobile) starts at 23:50 on day 1 and buys p1 at 00:20 on day 2 (order o2, 200.00): one
      session across midnight, after adding 2 to the cart and removing 1.
    - u3 (tablet) page-views at 08:45 and views p2 at 09:00 and at 09:29:59 (29:59 after: same
      session), then a lone page view at 11:00 (a single-event session).
    - u4 (desktop, no client session id) views p3 and p4, carts both, and buys both in order o3
      (2 x 80.00 + 500.00 = 660.00; a high-value purchase).
    - u5 (mobile) page-views at 15:00 and at 23:59:59 on day 1; the second event is ingested on
      day 2 (00:00:03).
    - u6 (mobile) views, carts and removes p4 on day 2, and never buys.

    Besides the 25 silver events: duplicates of e03 (ingested on day 1) and of e12 (day 2);
    quarantined records invalid_json (day 1), missing_user_id and invalid_price (day 2); one late
    product view (event on day 1 at 23:00, ingested on day 2 at 00:30).
    """
    phone = {"category": "electronics.smartphone", "brand": "acme"}
    kitchen = {"category": "home.kitchen", "brand": "chef"}
    audio = {"category": "electronics.audio", "brand": "sonic"}
    u1 = {"session_id": "s1", "device_type": "desktop"}
    u2 = {"session_id": "s2", "device_type": "mobile", "browser": "safari"}
    u3 = {"session_id": "s3", "device_type": "tablet", "browser": "safari"}
    u4 = {"device_type": "desktop", "browser": "firefox"}
    u5 = {"session_id": "s5", "device_type": "mobile"}
    u6 = {"session_id": "s6", "device_type": "mobile"}

    o1, o1_items = purchase(
        "e04", f"{DAY_1} 10:20:00", "u1", "o1", [("p1", phone["category"], 1, "200.00")], **u1
    )
    o2, o2_items = purchase(
        "e11", f"{DAY_2} 00:20:00", "u2", "o2", [("p1", phone["category"], 1, "200.00")], **u2
    )
    o3, o3_items = purchase(
        "e19",
        f"{DAY_2} 12:04:00",
        "u4",
        "o3",
        [("p3", audio["category"], 2, "80.00"), ("p4", phone["category"], 1, "500.00")],
        **u4,
    )
    p1 = {"product_id": "p1", "price": "200.00", **phone}
    p2 = {"product_id": "p2", "price": "30.00", **kitchen}
    p3 = {"product_id": "p3", "price": "80.00", **audio}
    p4 = {"product_id": "p4", "price": "500.00", **phone}

    e03 = event("e03", "add_to_cart", f"{DAY_1} 10:10:00", "u1", quantity=1, **p1, **u1)
    e12 = event("e12", "product_view", f"{DAY_2} 09:00:00", "u3", **p2, **u3)
    events = [
        # day 1
        event("e01", "page_view", f"{DAY_1} 10:00:00", "u1", **u1),
        event("e02", "product_view", f"{DAY_1} 10:05:00", "u1", **p1, **u1),
        e03,
        o1,
        event("e05", "page_view", f"{DAY_1} 10:50:00", "u1", **u1),
        event("e06", "product_view", f"{DAY_1} 10:55:00", "u1", **p2, **u1),
        event("e07", "page_view", f"{DAY_1} 23:50:00", "u2", **u2),
        event("e08", "product_view", f"{DAY_1} 23:55:00", "u2", **p1, **u2),
        event("e20", "page_view", f"{DAY_1} 15:00:00", "u5", **u5),
        event(
            "e21",
            "page_view",
            f"{DAY_1} 23:59:59",
            "u5",
            ingested_at=f"{DAY_2} 00:00:03",
            **u5,
        ),
        # day 2
        event("e09", "add_to_cart", f"{DAY_2} 00:10:00", "u2", quantity=2, **p1, **u2),
        event("e10", "remove_from_cart", f"{DAY_2} 00:15:00", "u2", quantity=1, **p1, **u2),
        o2,
        event("e22", "page_view", f"{DAY_2} 08:45:00", "u3", **u3),
        e12,
        event("e13", "product_view", f"{DAY_2} 09:29:59", "u3", **p2, **u3),
        event("e14", "page_view", f"{DAY_2} 11:00:00", "u3", **{**u3, "session_id": "s4"}),
        event("e15", "product_view", f"{DAY_2} 12:00:00", "u4", **p3, **u4),
        event("e16", "product_view", f"{DAY_2} 12:01:00", "u4", **p4, **u4),
        event("e17", "add_to_cart", f"{DAY_2} 12:02:00", "u4", quantity=2, **p3, **u4),
        event("e18", "add_to_cart", f"{DAY_2} 12:03:00", "u4", quantity=1, **p4, **u4),
        o3,
        event("e23", "product_view", f"{DAY_2} 14:00:00", "u6", **p4, **u6),
        event("e24", "add_to_cart", f"{DAY_2} 14:01:00", "u6", quantity=1, **p4, **u6),
        event("e25", "remove_from_cart", f"{DAY_2} 14:02:00", "u6", quantity=1, **p4, **u6),
    ]
    late_view = event("e90", "product_view", f"{DAY_1} 23:00:00", "u1", **p2, **u1)
    write_lake(
        root,
        events,
        o1_items + o2_items + o3_items,
        duplicates=[(e03, f"{DAY_1} 10:12:00"), (e12, f"{DAY_2} 09:05:00")],
        quarantine=[
            quarantined("{not json", "invalid_json", f"{DAY_1} 12:00:00"),
            quarantined('{"event_id": "x1"}', "missing_user_id", f"{DAY_2} 13:00:00"),
            quarantined('{"event_id": "x2", "price": -1}', "invalid_price", f"{DAY_2} 13:30:00"),
        ],
        late_events=[late(late_view, f"{DAY_2} 00:30:00")],
    )


def hand_checked_next_day(root: Path) -> None:
    """Day 3 (2024-03-03) for the incremental tests: new user u7 views and carts p1 (3 events),
    and u1 comes back to view p2 at 09:00 (1 event). Four silver and four bronze records."""
    phone = {"product_id": "p1", "category": "electronics.smartphone", "price": "200.00"}
    u7 = {"session_id": "s7", "device_type": "desktop"}
    events = [
        event("e31", "page_view", f"{DAY_3} 08:00:00", "u7", **u7),
        event("e32", "product_view", f"{DAY_3} 08:01:00", "u7", **phone, **u7),
        event("e33", "add_to_cart", f"{DAY_3} 08:02:00", "u7", quantity=1, **phone, **u7),
        event(
            "e34",
            "product_view",
            f"{DAY_3} 09:00:00",
            "u1",
            product_id="p2",
            category="home.kitchen",
            price="30.00",
            session_id="s8",
        ),
    ]
    write_lake(root, events, first_offset=1000)


def bot_view_count(config: Config) -> int:
    """How many times the bot of ``hand_checked_anomalies`` views p9 in one minute: ten more than
    the bot threshold, and at least the views that make a product high-interest."""
    return max(config.bot_events_per_minute + 10, config.hilc_min_views)


def hand_checked_anomalies(root: Path, config: Config | None = None) -> None:
    """Anomalies on day 2 for the dashboard: from 16:00 a bot u9 views product p9
    ``bot_view_count`` times within one minute (once a second with the default settings), so u9
    is a bot suspect (above ``bot_events_per_minute``); in the same minute u8 views p8 and buys it
    (order o8, 25.00), so the rest of the shop converts every view and p9 is a high-interest,
    low-conversion product in every sliding window that holds that minute (at least
    ``hilc_min_views`` views, no purchase). As many silver and bronze records, offsets from 2000."""
    config = config or load_config()
    views = bot_view_count(config)
    bot = {"product_id": "p9", "category": "toys.robot", "price": "15.00", "session_id": "s9"}
    first = as_datetime(f"{DAY_2} 16:00:00")
    events = [
        event(f"b{number:02d}", "product_view", first + timedelta(minutes=1) * number / views,
              "u9", **bot)
        for number in range(views)
    ]  # fmt: skip
    shopper = {"session_id": "s8", "device_type": "mobile"}
    p8 = {"product_id": "p8", "category": "toys.robot", "price": "25.00"}
    order, items = purchase(
        "e83", first + timedelta(seconds=40), "u8", "o8", [("p8", "toys.robot", 1, "25.00")],
        **shopper,
    )  # fmt: skip
    events += [
        event("e81", "product_view", first + timedelta(seconds=10), "u8", **p8, **shopper),
        event("e82", "add_to_cart", first + timedelta(seconds=20), "u8", quantity=1, **p8,
              **shopper),
        order,
    ]  # fmt: skip
    write_lake(root, events, items, first_offset=2000, config=config)
