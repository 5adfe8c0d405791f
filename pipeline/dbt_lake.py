"""A dbt-duckdb plugin: the lake's Iceberg tables as views in the schema `lake` of dbt's DuckDB,
the schema dbt's source `lake` reads (dbt_project/profiles.yml loads it).

When dbt opens its database, every lake table gets a view pinned to one snapshot
(`pipeline.lake_reader`): its current one, or the one current at the `as_of` time (the var
`lake_as_of` / env LAKE_AS_OF). So one `dbt build` reads every table at one moment, however many
checkpoints the stream commits while it runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from dbt.adapters.events.logging import AdapterLogger

from pipeline import lake_reader
from sqlcheck.dbt_contract import DBT_SOURCE_NAME

_LOGGER = AdapterLogger("DuckDB")


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.lake_root = plugin_config["lake_root"]
        as_of = str(plugin_config.get("as_of") or "").strip()
        self.as_of = datetime.fromisoformat(as_of) if as_of else None

    def configure_connection(self, conn) -> None:
        scans = lake_reader.scans(self.lake_root, as_of=self.as_of)
        # dbt's source `lake` reads the schema of its own name (no `schema:` in __sources.yml).
        lake_reader.create_views(conn, scans, schema=DBT_SOURCE_NAME)
        empty = sorted(table for table, scan in scans.items() if not scan.files)
        moment = f"as of {self.as_of.isoformat()}" if self.as_of else "at their current snapshots"
        _LOGGER.info(
            f"lake {self.lake_root}: {len(scans)} tables {moment}"
            + (f"; no data yet in {', '.join(empty)}" if empty else "")
        )
