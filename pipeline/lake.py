"""Read the Parquet lake with DuckDB: committed files only (`part-*`, never Flink's hidden
`.part-*.inprogress`), and an empty result, not an error, for a table with no files yet."""

from __future__ import annotations

from pathlib import Path

import duckdb

TABLES = {
    "bronze_events": "bronze/events",
    "silver_events": "silver/events",
    "silver_order_items": "silver/order_items",
    "quarantine_events": "quarantine/events",
    "late_events": "late/events",
    "gold_events_per_minute": "gold/events_per_minute",
    "gold_revenue_per_window": "gold/revenue_per_window",
    "gold_revenue_by_category_per_window": "gold/revenue_by_category_per_window",
    "gold_active_users_per_window": "gold/active_users_per_window",
    "gold_purchases_by_device_per_window": "gold/purchases_by_device_per_window",
    "gold_bot_suspects": "gold/bot_suspects",
    "gold_product_conversion_per_window": "gold/product_conversion_per_window",
}


def committed_files(lake_root: str | Path, table: str) -> list[Path]:
    return sorted(Path(lake_root, TABLES[table]).glob("*/part-*"))


def connect(lake_root: str | Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per lake table that has committed files."""
    connection = duckdb.connect()
    for table, folder in TABLES.items():
        if committed_files(lake_root, table):
            connection.execute(
                f"create view {table} as select * from read_parquet("
                f"'{Path(lake_root, folder)}/*/part-*', hive_partitioning = true)"
            )
    return connection


def row_counts(lake_root: str | Path) -> dict[str, int]:
    connection = connect(lake_root)
    views = {
        row[0] for row in connection.execute("select view_name from duckdb_views()").fetchall()
    }
    return {
        table: connection.execute(f"select count(*) from {table}").fetchone()[0]
        if table in views
        else 0
        for table in TABLES
    }
