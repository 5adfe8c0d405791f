"""What the dashboard shows, as plain functions that return data, so it is tested without a
browser. The lake is read through its table format (pipeline.lake_reader): the data files of
committed Iceberg snapshots only, columns mapped by field id, so a file a running checkpoint is
still writing is never read; a table with no committed data yet reads as empty. Every panel
reads only the files its table's snapshots added in the last hour of commits (`recent_scan`), so a
refresh costs the same however large the lake grows. The dbt warehouse is opened read-only and
may be missing (dbt has not run) or busy (dbt is writing it)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd

from pipeline import lake, lake_reader
from stack.config import Config

# Time series show the newest windows, however old they are (a replayed lake is not "now").
RECENT_WINDOWS = 60


# Files committed within this much more than the minutes shown are read (a window's rows are
# committed a checkpoint or two after the window closes).
RECENT_FILES_SLACK_MINUTES = 5


def recent_scan(
    lake_root: str | Path, table: str, minutes: int = RECENT_WINDOWS
) -> lake_reader.TableScan:
    """The data files of a lake table that its snapshots committed within `minutes` (+ slack) of
    its newest commit: a bounded read, however large the table (only those snapshots' manifests
    are read). No files while the table has no committed data."""
    return lake_reader.recent_scan(lake_root, table, minutes + RECENT_FILES_SLACK_MINUTES)


def open_lake(lake_root: str | Path) -> duckdb.DuckDBPyConnection:
    """One view per gold table that has committed data, over the files of its last hour of
    commits (`recent_scan`); timestamps rendered in UTC. A table with no committed data gets no
    view (`has_table`), so its panels show their empty state."""
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    for table in lake.TABLES:
        if not table.startswith("gold_"):
            continue
        scan = recent_scan(lake_root, table)
        if scan.files:
            lake_reader.allow_reads(connection, [scan])
            connection.execute(f'create view "{table}" as {scan.select_sql()}')
    return connection


def has_table(connection: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        connection.execute(
            "select count(*) from duckdb_views() where view_name = ?", [table]
        ).fetchall()[0][0]
    )


def _frame(
    connection: duckdb.DuckDBPyConnection, table: str, sql: str, columns: list[str]
) -> pd.DataFrame:
    """The query's rows, or no rows with the same columns while `table` has no view (no
    committed data)."""
    if not has_table(connection, table):
        return pd.DataFrame(columns=columns)
    return connection.sql(sql).df()


def _recent(table: str) -> str:
    """Rows of the newest RECENT_WINDOWS windows of a gold table (or a subquery's rows)."""
    return (
        f"select * from {table} where window_start >= (select min(window_start) from "
        f"(select distinct window_start from {table} order by window_start desc "
        f"limit {RECENT_WINDOWS}))"
    )


# --- gold at a chosen resolution ----------------------------------------------------------------


@dataclass(frozen=True)
class Resolution:
    """A window size the windowed panels can show (docs/lake.md, "Window sizes"): window_minutes
    reads a metric's `*_per_window` table, a rollup size the rows of that size in its
    `*_per_rollup_window` table."""

    minutes: int
    is_rollup: bool = False

    def table(self, metric: str) -> str:
        """The lake table of `metric` ("revenue", "active_users", ...) at this size."""
        return f"gold_{metric}_per_{'rollup_' if self.is_rollup else ''}window"

    def rows(self, metric: str) -> str:
        """SQL naming the metric's rows at this size, to select from."""
        table = self.table(metric)
        if not self.is_rollup:
            return table
        return f"(select * from {table} where window_minutes = {int(self.minutes)})"

    @property
    def label(self) -> str:
        return f"{self.minutes} min"


def resolutions(config: Config) -> list[Resolution]:
    """The sizes gold reports, finest first: window_minutes, then the rollup sizes."""
    return [
        Resolution(config.window_minutes),
        *(
            Resolution(size, is_rollup=True)
            for size in config.rollup_minutes
            if size != config.window_minutes  # the same windows as the finest table's
        ),
    ]


# The *_per_window tables: what a panel shows unless given another resolution.
FINEST = Resolution(0)


# --- gold: traffic and revenue ------------------------------------------------------------------


def events_per_minute(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Newest windows, one row per window and event type."""
    return _frame(
        connection,
        "gold_events_per_minute",
        "select window_start, event_type, sum(event_count)::bigint as event_count "
        f"from ({_recent('gold_events_per_minute')}) group by all order by all",
        ["window_start", "event_type", "event_count"],
    )


def events_by_type(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The last hour of windows (open_lake), one row per event type."""
    return _frame(
        connection,
        "gold_events_per_minute",
        "select event_type, sum(event_count)::bigint as event_count "
        "from gold_events_per_minute group by event_type order by event_count desc, event_type",
        ["event_type", "event_count"],
    )


@dataclass(frozen=True)
class RevenueTotals:
    """Over the last hour of windows (open_lake)."""

    window_count: int
    order_count: int
    revenue: Decimal


def revenue_totals(
    connection: duckdb.DuckDBPyConnection, resolution: Resolution = FINEST
) -> RevenueTotals:
    if not has_table(connection, resolution.table("revenue")):
        return RevenueTotals(0, 0, Decimal("0.00"))
    window_count, order_count, revenue = connection.execute(
        "select count(distinct window_start), coalesce(sum(order_count), 0)::bigint, "
        f"coalesce(sum(revenue), 0)::decimal(18, 2) from {resolution.rows('revenue')}"
    ).fetchall()[0]
    return RevenueTotals(window_count, order_count, revenue)


def revenue_per_window(
    connection: duckdb.DuckDBPyConnection, resolution: Resolution = FINEST
) -> pd.DataFrame:
    return _frame(
        connection,
        resolution.table("revenue"),
        "select window_start, sum(order_count)::bigint as order_count, "
        "sum(revenue)::double as revenue "
        f"from ({_recent(resolution.rows('revenue'))}) group by all order by all",
        ["window_start", "order_count", "revenue"],
    )


def revenue_by_category_per_window(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _frame(
        connection,
        "gold_revenue_by_category_per_window",
        "select window_start, category, sum(revenue)::double as revenue "
        f"from ({_recent('gold_revenue_by_category_per_window')}) group by all order by all",
        ["window_start", "category", "revenue"],
    )


def revenue_by_category(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The last hour of windows, one row per category, highest revenue first."""
    return _frame(
        connection,
        "gold_revenue_by_category_per_window",
        "select category, sum(items_sold)::bigint as items_sold, "
        "sum(revenue)::double as revenue from gold_revenue_by_category_per_window "
        "group by category order by revenue desc, category",
        ["category", "items_sold", "revenue"],
    )


def active_users_per_window(
    connection: duckdb.DuckDBPyConnection, resolution: Resolution = FINEST
) -> pd.DataFrame:
    return _frame(
        connection,
        resolution.table("active_users"),
        "select window_start, sum(active_users)::bigint as active_users "
        f"from ({_recent(resolution.rows('active_users'))}) group by all order by all",
        ["window_start", "active_users"],
    )


def purchases_by_device(
    connection: duckdb.DuckDBPyConnection, resolution: Resolution = FINEST
) -> pd.DataFrame:
    """The last hour of windows, one row per device type."""
    return _frame(
        connection,
        resolution.table("purchases_by_device"),
        "select device_type, sum(purchase_count)::bigint as purchase_count, "
        f"sum(revenue)::double as revenue from {resolution.rows('purchases_by_device')} "
        "group by device_type order by revenue desc, device_type",
        ["device_type", "purchase_count", "revenue"],
    )


# --- gold: live sessions -----------------------------------------------------------------------


def sessions_closed_per_window(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Newest windows, one row per window and device of the sessions that closed in it."""
    return _frame(
        connection,
        "gold_session_metrics_per_window",
        "select window_start, device_type, sum(sessions_closed)::bigint as sessions_closed "
        f"from ({_recent('gold_session_metrics_per_window')}) group by all order by all",
        ["window_start", "device_type", "sessions_closed"],
    )


LIVE_SESSION_COLUMNS = [
    "device_type",
    "sessions_closed",
    "median_duration_seconds",
    "p90_duration_seconds",
    "bounce_rate",
    "conversion_rate",
]


def live_sessions_by_device(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The sessions the stream closed in the last hour of commits (open_lake), per device of their
    first event: how many, their median and 90th percentile duration (interpolated, as Flink's
    per-window figures), and the shares that bounced and converted."""
    return _frame(
        connection,
        "gold_sessions",
        """
        select
            device_type,
            count(*) as sessions_closed,
            quantile_cont(duration_seconds, 0.5) as median_duration_seconds,
            quantile_cont(duration_seconds, 0.9) as p90_duration_seconds,
            avg(is_bounced::int) as bounce_rate,
            avg(is_converted::int) as conversion_rate
        from gold_sessions
        group by device_type
        order by sessions_closed desc, device_type
        """,
        LIVE_SESSION_COLUMNS,
    )


# --- gold: anomalies ----------------------------------------------------------------------------


def bot_suspects(connection: duckdb.DuckDBPyConnection, limit: int = 20) -> pd.DataFrame:
    """Users above the bot threshold in some minute: the most recently flagged first."""
    return _frame(
        connection,
        "gold_bot_suspects",
        "select user_id, count(*) as flagged_window_count, "
        "max(event_count)::bigint as max_events_per_minute, "
        "max(window_start) as last_flagged_at from gold_bot_suspects "
        f"group by user_id order by last_flagged_at desc, user_id limit {limit}",
        ["user_id", "flagged_window_count", "max_events_per_minute", "last_flagged_at"],
    )


HILC_EVIDENCE = [
    "view_count",
    "purchase_count",
    "conversion_rate",
    "baseline_conversion_rate",
    "conversion_upper_bound",
    "confidence",
]


def high_interest_low_conversion(
    connection: duckdb.DuckDBPyConnection, limit: int = 20
) -> pd.DataFrame:
    """Products flagged in some sliding window, most recently flagged first, with the evidence of
    the newest window that flagged them (views, purchases, conversion against the rest of the
    shop's, the upper bound at that confidence) and how many windows did."""
    evidence = ", ".join(f"arg_max({name}, window_end) as {name}" for name in HILC_EVIDENCE)
    return _frame(
        connection,
        "gold_high_interest_products",
        f"select product_id, count(*) as flagged_window_count, {evidence}, "
        "max(window_end) as last_flagged_at "
        "from gold_high_interest_products where is_high_interest_low_conversion "
        "group by product_id order by last_flagged_at desc, view_count desc, product_id "
        f"limit {limit}",
        ["product_id", "flagged_window_count", *HILC_EVIDENCE, "last_flagged_at"],
    )


# --- data quality -------------------------------------------------------------------------------

# What the stream counted per minute (quality/record_outcomes_per_minute).
RECORD_OUTCOMES = "quality_record_outcomes_per_minute"


@dataclass(frozen=True)
class RecordOutcomes:
    """Records read per minute of Kafka timestamps over the newest minutes the stream counted,
    and what became of them. Duplicates are the records that are neither silver, quarantined
    nor late (bronze = silver + quarantine + late + duplicates); a minute where fewer records
    came in than went out (negative duplicates) breaks the identity. The daily DAG checks the
    same identity record by record over the lake (pipeline.lake.accounting)."""

    # window_start, bronze_count, silver_count, quarantine_count, late_count, duplicate_count
    per_minute: pd.DataFrame
    # reason, record_count over the same minutes
    quarantine_by_reason: pd.DataFrame

    def total(self, column: str) -> int:
        return int(self.per_minute[column].sum()) if not self.per_minute.empty else 0

    @property
    def broken_minute_count(self) -> int:
        return int((self.per_minute["duplicate_count"] < 0).sum())

    @property
    def is_balanced(self) -> bool:
        return self.broken_minute_count == 0


OUTCOME_COLUMNS = [
    "window_start",
    "bronze_count",
    "silver_count",
    "quarantine_count",
    "late_count",
    "duplicate_count",
]


def record_outcomes(lake_root: str | Path, minutes: int = RECENT_WINDOWS) -> RecordOutcomes:
    """The newest `minutes` minutes of quality/record_outcomes_per_minute (a minute's counts
    may be spread over several rows: summed here)."""
    scan = recent_scan(lake_root, RECORD_OUTCOMES, minutes)
    if not scan.files:
        return RecordOutcomes(
            pd.DataFrame(columns=OUTCOME_COLUMNS), pd.DataFrame(columns=["reason", "record_count"])
        )
    connection = duckdb.connect()
    try:
        lake_reader.allow_reads(connection, [scan])
        connection.execute("set TimeZone = 'UTC'")
        # Read the files once into memory (a few rows a minute); both queries below use them.
        connection.execute(
            "create table outcomes as select window_start, outcome, reason, record_count "
            f"from ({scan.select_sql()})"
        )
        connection.execute(
            f"""
            create table recent as
            select * from outcomes
            where window_start in (
                select distinct window_start from outcomes order by window_start desc
                limit {int(minutes)}
            )
            """
        )
        per_minute = connection.sql(
            """
            with

            counted as (
                select
                    window_start,
                    coalesce(sum(record_count) filter (where outcome = 'bronze'), 0)
                        as bronze_count,
                    coalesce(sum(record_count) filter (where outcome = 'silver'), 0)
                        as silver_count,
                    coalesce(sum(record_count) filter (where outcome = 'quarantine'), 0)
                        as quarantine_count,
                    coalesce(sum(record_count) filter (where outcome = 'late'), 0) as late_count
                from recent
                group by window_start
            )

            select
                window_start,
                bronze_count::bigint as bronze_count,
                silver_count::bigint as silver_count,
                quarantine_count::bigint as quarantine_count,
                late_count::bigint as late_count,
                (bronze_count - silver_count - quarantine_count - late_count)::bigint
                    as duplicate_count
            from counted
            order by window_start
            """
        ).df()
        reasons = connection.sql(
            "select reason, sum(record_count)::bigint as record_count from recent "
            "where outcome = 'quarantine' group by reason order by record_count desc, reason"
        ).df()
    finally:
        connection.close()
    return RecordOutcomes(per_minute, reasons)


# --- dbt marts ----------------------------------------------------------------------------------


def open_warehouse(path: str | Path) -> duckdb.DuckDBPyConnection | None:
    """dbt's DuckDB file, read-only; None while it does not exist or dbt holds its write lock."""
    if not Path(path).exists():
        return None
    try:
        return duckdb.connect(str(path), read_only=True)
    except (duckdb.IOException, duckdb.ConnectionException):
        return None


def has_mart(warehouse: duckdb.DuckDBPyConnection, mart: str) -> bool:
    return bool(
        warehouse.execute(
            "select count(*) from duckdb_tables() where schema_name = 'main' and table_name = ?",
            [mart],
        ).fetchall()[0][0]
    )


def funnel_by_date(warehouse: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """funnel_daily summed over devices and categories, newest day first. User counts add up
    over cells: a user who went through the funnel in two categories counts twice."""
    columns = [
        "event_date",
        "product_view_count",
        "add_to_cart_count",
        "viewed_user_count",
        "carted_user_count",
        "purchased_user_count",
        "view_to_purchase_rate",
    ]
    if not has_mart(warehouse, "funnel_daily"):
        return pd.DataFrame(columns=columns)
    return warehouse.sql(
        """
        select
            event_date,
            sum(product_view_count)::bigint as product_view_count,
            sum(add_to_cart_count)::bigint as add_to_cart_count,
            sum(viewed_user_count)::bigint as viewed_user_count,
            sum(carted_user_count)::bigint as carted_user_count,
            sum(purchased_user_count)::bigint as purchased_user_count,
            sum(purchased_user_count) / nullif(sum(viewed_user_count), 0) as view_to_purchase_rate
        from main.funnel_daily
        group by event_date
        order by event_date desc
        limit 30
        """
    ).df()


@dataclass(frozen=True)
class SessionTotals:
    session_count: int
    converted_session_count: int
    revenue: Decimal
    average_duration_s: float | None

    @property
    def conversion_rate(self) -> float | None:
        return self.converted_session_count / self.session_count if self.session_count else None


def session_totals(warehouse: duckdb.DuckDBPyConnection) -> SessionTotals | None:
    """All sessions in the mart; None while dbt has not built it."""
    if not has_mart(warehouse, "sessions"):
        return None
    session_count, converted_session_count, revenue, average_duration_s = warehouse.execute(
        "select count(*), count(*) filter (where is_converted), "
        "coalesce(sum(revenue), 0)::decimal(18, 2), avg(duration_seconds) from main.sessions"
    ).fetchall()[0]
    return SessionTotals(session_count, converted_session_count, revenue, average_duration_s)


def sessions_by_device(warehouse: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    columns = ["device_type", "session_count", "converted_session_count", "conversion_rate"]
    if not has_mart(warehouse, "sessions"):
        return pd.DataFrame(columns=columns)
    return warehouse.sql(
        """
        select
            device_type,
            count(*) as session_count,
            count(*) filter (where is_converted) as converted_session_count,
            count(*) filter (where is_converted) / count(*) as conversion_rate
        from main.sessions
        group by device_type
        order by session_count desc, device_type
        """
    ).df()
