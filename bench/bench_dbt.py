"""Benchmark the dbt marts: write N synthetic silver events (plus order items, bronze, quarantine,
late and gold tables consistent with them) straight to an Iceberg lake (one snapshot per table,
pipeline.lake_writer), then time a full-refresh `dbt build` over it (and an incremental re-run).
Every lake table is written with the columns, types and `dt` partition of its Flink DDL
(pipeline.lake_schema); the queries here only compute the values.

    python bench/bench_dbt.py --events 1000000 --events 10000000

The data is generated with DuckDB SQL (seconds, not minutes): sessions of ~10 events a minute
apart, spread over --days days; 45 % page views, 35 % product views, 12 % add-to-carts, 4 % removes,
4 % purchases of 1-3 lines; 1 % of records duplicated, 0.5 % quarantined, 0.1 % late.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generator.contract import REASONS  # noqa: E402
from pipeline import lake_schema, lake_writer  # noqa: E402
from stack.config import load_config  # noqa: E402

DBT_PROJECT = REPO / "dbt_project"

SILVER_EVENTS_SQL = """
create or replace table silver_events as
with

numbered as (

    select
        range as event_number,
        range // 10 as session_number,
        range % 10 as position_in_session,
        hash(range, 'type') % 100 as type_roll
    from range({events})

),

placed as (

    select
        *,
        timestamp '{first_day}'
        + to_seconds(cast(hash(session_number, 'start') % ({days} * 86400 - 900) as bigint))
        + to_seconds(position_in_session * 60 + cast(hash(event_number, 'jitter') % 50 as bigint))
            as event_at,
        'u' || (hash(session_number, 'user') % {users}) as user_id,
        'p' || (hash(event_number, 'product') % 5000) as product_id
    from numbered

)

select
    'e' || event_number as event_id,
    case
        when type_roll < 45 then 'page_view'
        when type_roll < 80 then 'product_view'
        when type_roll < 92 then 'add_to_cart'
        when type_roll < 96 then 'remove_from_cart'
        else 'purchase'
    end as event_type,
    cast(event_at as timestamp_ms) as event_at,
    user_id,
    'c' || session_number as session_id,
    case when type_roll between 45 and 95 then product_id end as product_id,
    case
        when type_roll between 45 and 95
            then 'category' || (hash(product_id, 'category') % 50)
    end as category,
    case when type_roll between 45 and 95 then 'brand' || (hash(product_id) % 200) end as brand,
    case
        when type_roll between 45 and 95
            then cast(5 + hash(product_id, 'price') % 99500 / 100 as decimal(12, 2))
    end as price,
    case when type_roll between 80 and 95 then 1 + cast(hash(event_number) % 3 as integer) end
        as quantity,
    case when type_roll >= 96 then 'o' || event_number end as order_id,
    ['desktop', 'mobile', 'tablet', 'unknown'][
        1 + cast(hash(user_id, 'device') % 4 as bigint)
    ] as device_type,
    ['chrome', 'firefox', 'safari', 'edge', 'other'][
        1 + cast(hash(user_id, 'browser') % 5 as bigint)
    ] as browser,
    'https://shop.example.com/p/' || product_id as page_url,
    'shop.example.com' as url_domain,
    '/p/' || product_id as url_path,
    cast(null as varchar) as referrer,
    cast(event_at as date) as event_date,
    cast(hour(event_at) as integer) as event_hour,
    cast(event_number % 8 as integer) as kafka_partition,
    event_number as kafka_offset,
    cast(event_at + interval 2 second as timestamp_ms) as ingested_at,
    type_roll >= 96 as is_purchase
from placed
"""

ORDER_ITEMS_SQL = """
create or replace table order_items as
with

purchases as (

    select event_id, order_id, user_id, event_at, 1 + hash(event_id, 'lines') % 3 as line_count
    from silver_events
    where is_purchase

),

lines as (

    select
        purchases.*,
        line_number,
        'p' || (hash(purchases.event_id, line_number) % 5000) as product_id
    from purchases
    inner join range(1, 4) as line_numbers (line_number)
        on line_numbers.line_number <= purchases.line_count

)

select
    order_id,
    cast(line_number as integer) as line_number,
    event_id,
    user_id,
    event_at,
    product_id,
    'category' || (hash(product_id, 'category') % 50) as category,
    'brand' || (hash(product_id) % 200) as brand,
    cast(1 + hash(event_id, line_number, 'quantity') % 3 as integer) as quantity,
    cast(5 + hash(product_id, 'price') % 99500 / 100 as decimal(12, 2)) as unit_price,
    cast(quantity * unit_price as decimal(12, 2)) as line_total
from lines
"""

# Silver has no order total (docs/lake.md): item_count and is_high_value come from the lines.
COMPLETE_PURCHASES_SQL = """
create or replace table silver_events_complete as
with

orders as (

    select
        event_id,
        cast(count(*) as integer) as item_count,
        max(unit_price) >= 500 as has_high_value_line
    from order_items
    group by event_id

)

select
    silver_events.* exclude (is_purchase),
    orders.item_count,
    coalesce(orders.has_high_value_line, silver_events.price >= 500, false) as is_high_value
from silver_events
left join orders on silver_events.event_id = orders.event_id
"""

# Bronze: every silver event, 1 % of them again (duplicates), plus quarantined and late records.
BRONZE_SQL = """
create or replace table bronze_events as
select
    '{{"event_id":"' || event_id || '"}}' as raw_payload,
    user_id as kafka_key,
    'clickstream.events' as kafka_topic,
    kafka_partition,
    kafka_offset,
    ingested_at as kafka_timestamp,
    ingested_at
from silver_events_complete
union all
select
    '{{"event_id":"' || event_id || '"}}',
    user_id,
    'clickstream.events',
    kafka_partition,
    kafka_offset + {events},
    ingested_at + interval 1 second,
    ingested_at + interval 1 second
from silver_events_complete
where hash(event_id, 'duplicate') % 100 = 0
union all
select raw_payload, null, 'clickstream.events', 0, kafka_offset, ingested_at, ingested_at
from quarantine_events
union all
select raw_payload, user_id, 'clickstream.events', kafka_partition, kafka_offset, ingested_at,
    ingested_at
from late_events
"""

QUARANTINE_SQL = """
create or replace table quarantine_events as
select
    '{{not json' as raw_payload,
    {reasons}[1 + range % {reason_count}] as reason,
    0 as kafka_partition,
    3 * {events} + range as kafka_offset,
    cast(timestamp '{first_day}' + to_seconds(hash(range) % ({days} * 86400)) as timestamp_ms)
        as kafka_timestamp,
    kafka_timestamp as ingested_at
from range({events} // 200)
"""

LATE_SQL = """
create or replace table late_events as
select
    'late' || range as event_id,
    'page_view' as event_type,
    cast(timestamp '{first_day}' + to_seconds(hash(range) % ({days} * 86400)) as timestamp_ms)
        as event_at,
    'u' || (range % 1000) as user_id,
    '{{"event_id":"late' || range || '"}}' as raw_payload,
    0 as kafka_partition,
    4 * {events} + range as kafka_offset,
    cast(event_at + interval 10 minute as timestamp_ms) as ingested_at
from range({events} // 1000)
"""

GOLD_SQL = {
    "gold/events_per_minute": """
        select time_bucket(interval 1 minute, event_at) as window_start,
            window_start + interval 1 minute as window_end, event_type,
            count(*) as event_count
        from silver_events_complete group by all""",
    "gold/revenue_per_window": """
        select time_bucket(interval 1 minute, event_at) as window_start,
            window_start + interval 1 minute as window_end,
            count(distinct order_id) as order_count,
            cast(sum(line_total) as decimal(12, 2)) as revenue
        from order_items group by all""",
    "gold/revenue_by_category_per_window": """
        select time_bucket(interval 1 minute, event_at) as window_start,
            window_start + interval 1 minute as window_end,
            coalesce(category, 'unknown') as category, sum(quantity) as items_sold,
            cast(sum(line_total) as decimal(12, 2)) as revenue
        from order_items group by all""",
    "gold/active_users_per_window": """
        select time_bucket(interval 1 minute, event_at) as window_start,
            window_start + interval 1 minute as window_end,
            count(distinct user_id) as active_users
        from silver_events_complete group by all""",
    "gold/purchases_by_device_per_window": """
        select time_bucket(interval 1 minute, order_items.event_at) as window_start,
            window_start + interval 1 minute as window_end, purchases.device_type,
            count(distinct order_items.order_id) as purchase_count,
            cast(sum(order_items.line_total) as decimal(12, 2)) as revenue
        from order_items
        inner join silver_events_complete as purchases
            on order_items.event_id = purchases.event_id
        group by all""",
    "gold/bot_suspects": """
        select time_bucket(interval 1 minute, event_at) as window_start,
            window_start + interval 1 minute as window_end, user_id,
            count(*) as event_count
        from silver_events_complete group by all
        having count(*) > {bot_events_per_minute}""",
    "gold/product_conversion_per_window": """
        select time_bucket(interval 1 minute, event_at) as window_start,
            window_start + interval 1 minute as window_end, product_id,
            count(*) filter (where event_type = 'product_view') as view_count,
            count(*) filter (where event_type = 'add_to_cart') as cart_count,
            cast(0 as bigint) as purchase_count, cast(null as double) as conversion_rate
        from silver_events_complete where product_id is not null group by all""",
}

# Lake folder -> the query computing its rows; the columns written, their types and dt are the
# DDL's (lake_schema), so a column the DDL has and the query lacks stops the benchmark.
LAKE_QUERIES = {
    "bronze/events": "select * from bronze_events",
    "silver/events": "select * from silver_events_complete",
    "silver/order_items": "select * from order_items",
    "quarantine/events": "select * from quarantine_events",
    "late/events": "select * from late_events",
    **{
        folder: query.format(bot_events_per_minute=load_config().bot_events_per_minute)
        for folder, query in GOLD_SQL.items()
    },
}


def lake_select(table: lake_schema.LakeTable, query: str) -> str:
    """The rows of ``query`` as ``table`` stores them: its columns in DDL order, each cast to the
    DuckDB type of its Flink type, and ``dt`` the UTC date of the column its INSERT names."""
    (partition,) = table.partition_columns
    columns = ", ".join(
        f'cast("{column.name}" as {column.duckdb_type}) as "{column.name}"'
        for column in table.row_columns
    )
    source = lake_schema.partition_source(table)
    return (
        f'select {columns}, strftime(cast("{source}" as date), \'%Y-%m-%d\') as "{partition}" '
        f"from ({query})"
    )


def write_lake(lake: Path, events: int, days: int, first_day: str = "2024-03-01") -> None:
    """Generate the tables in DuckDB and append each to its Iceberg table of ``lake``."""
    params = {
        "events": events,
        "days": days,
        "first_day": first_day,
        "users": max(events // 50, 1),
        "reasons": "[" + ", ".join(f"'{reason}'" for reason in REASONS) + "]",
        "reason_count": len(REASONS),
    }
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'; set preserve_insertion_order = false")
    for sql in (
        SILVER_EVENTS_SQL,
        ORDER_ITEMS_SQL,
        COMPLETE_PURCHASES_SQL,
        QUARANTINE_SQL,
        LATE_SQL,
        BRONZE_SQL,
    ):
        con.execute(sql.format(**params))
    tables = lake_schema.by_folder()
    unknown = sorted(set(LAKE_QUERIES) - set(tables))
    if unknown:
        sys.exit(f"bench_dbt has queries for {unknown}, which are not lake tables of the DDL")
    missing = sorted(set(tables) - set(LAKE_QUERIES))
    if missing:
        print(f"no rows generated for {missing} (dbt reads them as empty)", flush=True)
    for folder, table in tables.items():
        if folder in LAKE_QUERIES:  # one Iceberg snapshot per table, as a backfill would write
            lake_writer.append(lake, table.name, con, lake_select(table, LAKE_QUERIES[folder]))
    con.close()


def run_dbt(args: list[str], lake: Path, database: Path, threads: int | None) -> float:
    """Run one dbt command against the lake; returns its wall-clock seconds."""
    dbt = Path(sys.executable).with_name("dbt")
    env = {
        **os.environ,
        "LAKE_ROOT": str(lake),
        "DBT_DUCKDB_PATH": str(database),
        "DBT_TARGET_PATH": str(database.parent / "target"),
        "DBT_LOG_PATH": str(database.parent / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    if threads:
        env["DBT_THREADS"] = str(threads)
    started = time.perf_counter()
    result = subprocess.run(
        [str(dbt if dbt.exists() else "dbt"), *args],
        cwd=DBT_PROJECT,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"dbt {' '.join(args)} failed:\n{result.stdout[-4000:]}{result.stderr[-2000:]}")
    return elapsed


def bench(events: int, days: int, workdir: Path, threads: int | None) -> None:
    root = workdir / f"lake_{events}"
    shutil.rmtree(root, ignore_errors=True)
    lake = root / "lake"
    lake.mkdir(parents=True)
    started = time.perf_counter()
    write_lake(lake, events, days)
    written = time.perf_counter() - started
    print(f"wrote lake, {events:,} silver events over {days} days: {written:.1f} s", flush=True)

    database = root / "clickstream.duckdb"
    full = run_dbt(["build", "--full-refresh"], lake, database, threads)
    print(f"dbt build --full-refresh, {events:,} silver events: {full:.1f} s", flush=True)
    incremental = run_dbt(["build"], lake, database, threads)
    print(
        f"dbt build (incremental re-run of the newest days), {events:,} silver events: "
        f"{incremental:.1f} s",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--events",
        type=int,
        action="append",
        help="silver events to generate (repeatable; default 1,000,000)",
    )
    parser.add_argument("--days", type=int, default=7, help="days the events span")
    parser.add_argument("--threads", type=int, help="dbt threads (default: the profile's)")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="where lakes and warehouses go (default: a temporary directory)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_dbt_"))
    try:
        for events in args.events or [1_000_000]:
            bench(events, args.days, workdir, args.threads)
    finally:
        if args.keep:
            print(f"data kept in {workdir}")
        elif args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            for events in args.events or [1_000_000]:
                shutil.rmtree(workdir / f"lake_{events}", ignore_errors=True)


if __name__ == "__main__":
    main()
