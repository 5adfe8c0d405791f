"""Read the lake's Iceberg tables with DuckDB, at one snapshot per table.

The catalog (pyiceberg's SqlCatalog over the SQLite file the Flink jobs commit to) plans which
Parquet files a snapshot holds; DuckDB reads exactly that list, mapping columns by Iceberg field id
(`read_parquet(..., schema = map {...})`), so a column added later reads as NULL in older files and
a file no snapshot references yet (a checkpoint in progress) is never read. Our tables are
append-only: a snapshot with delete files is refused rather than read wrong.

`connect(lake_root)` gives a DuckDB connection with one view per lake table (an empty, typed view
for a table with no data yet); `as_of` pins every table to its snapshot current at that time, and
`snapshots` pins single tables to a snapshot id (time travel: docs/lake.md, "Catalog, snapshots
and time travel").

A lake on S3 (`s3://bucket/prefix`) reads the same way: pyiceberg and DuckDB (through an s3fs
file system registered on the connection, `allow_reads`) get the endpoint and credentials from
the AWS environment variables (stack/object_store.py); the catalog stays a local file.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import duckdb

from pipeline import lake_schema
from stack.config import is_object_store, lake_catalog_of
from stack.lake_catalog import LakeCatalog
from stack.object_store import S3Settings, s3_settings


class LakeReadError(RuntimeError):
    """A table cannot be read as asked: an unknown snapshot, or delete files we cannot apply."""


@dataclass(frozen=True)
class TableColumn:
    field_id: int
    name: str
    duckdb_type: str


@dataclass(frozen=True)
class TableScan:
    """What one read of a table sees: its snapshot (None: the table has no data yet), the data
    files of that snapshot and the columns of the schema it was written with."""

    table: str  # the Flink table name, e.g. "silver_events"; also the DuckDB view's name
    snapshot_id: int | None
    committed_at: datetime | None  # the snapshot's commit time (UTC)
    files: tuple[str, ...]
    columns: tuple[TableColumn, ...]

    def select_sql(self) -> str:
        """A DuckDB query returning the snapshot's rows, columns in schema order."""
        if not self.files:
            typed_nulls = ", ".join(
                f'cast(null as {column.duckdb_type}) as "{column.name}"' for column in self.columns
            )
            return f"select {typed_nulls} where false"
        files = ", ".join(_quote(path) for path in self.files)
        mapping = ", ".join(
            f"{column.field_id}: {{name: {_quote(column.name)}, "
            f"type: {_quote(column.duckdb_type)}, default_value: NULL}}"
            for column in self.columns
        )
        # dt is in the files: the folder names must not override it (hive_partitioning).
        return (
            f"select * from read_parquet([{files}], schema = map {{{mapping}}}, "
            "hive_partitioning = false)"
        )


def catalog(lake_root: str | Path, lake_catalog: LakeCatalog | None = None):
    """The lake's Iceberg catalog (its SQLite file or its catalog server; `lake_catalog`, else
    the one lake_catalog_of finds), named as the Flink tables name it."""
    from pyiceberg.catalog.sql import SqlCatalog

    name = lake_schema.LAKE_CATALOG_OPTIONS["catalog-name"]
    uri = (lake_catalog or lake_catalog_of(lake_root)).sqlalchemy_uri
    if is_object_store(lake_root):
        warehouse = str(lake_root).rstrip("/")
        return SqlCatalog(
            name, uri=uri, warehouse=warehouse, **s3_settings().pyiceberg_properties()
        )
    return SqlCatalog(name, uri=uri, warehouse=f"file://{Path(lake_root)}")


def scan(
    lake_root: str | Path,
    table: str,
    *,
    as_of: datetime | None = None,
    snapshot_id: int | None = None,
) -> TableScan:
    """The files and columns of one lake table at its current snapshot, at the snapshot current
    at `as_of` (naive = UTC), or at `snapshot_id`."""
    layout = lake_schema.lake_tables()[table]
    iceberg_table = load_identifier(lake_root, layout.identifier)
    if iceberg_table is None:  # no job has created it yet: the DDL's columns, no rows
        if snapshot_id is not None:
            raise LakeReadError(f"{table} has no snapshot {snapshot_id}: it does not exist yet")
        columns = tuple(
            TableColumn(i, column.name, column.duckdb_type)
            for i, column in enumerate(layout.columns, start=1)
        )
        return TableScan(table, None, None, (), columns)

    return _scan_at(table, iceberg_table, as_of=as_of, snapshot_id=snapshot_id)


def scan_identifier(lake_root: str | Path, identifier: str) -> TableScan | None:
    """Any table of the lake's catalog by its Iceberg name (e.g. `gold.events_per_minute`, or a
    table only a test's own SQL creates) at its current snapshot; None when it does not exist."""
    iceberg_table = load_identifier(lake_root, identifier)
    if iceberg_table is None:
        return None
    return _scan_at(identifier.rpartition(".")[2], iceberg_table)


def _scan_at(
    table: str, iceberg_table, *, as_of: datetime | None = None, snapshot_id: int | None = None
) -> TableScan:
    if snapshot_id is not None:
        snapshot = iceberg_table.snapshot_by_id(snapshot_id)
        if snapshot is None:
            raise LakeReadError(
                f"{table} has no snapshot {snapshot_id} (python jobs.py snapshots {table})"
            )
    elif as_of is not None:
        snapshot = iceberg_table.snapshot_as_of_timestamp(_epoch_ms(as_of))
    else:
        snapshot = iceberg_table.current_snapshot()

    if snapshot is None:
        return _table_scan(table, iceberg_table, None, ())
    files = []
    for task in iceberg_table.scan(snapshot_id=snapshot.snapshot_id).plan_files():
        if task.delete_files:
            raise LakeReadError(
                f"{table} snapshot {snapshot.snapshot_id} has delete files; the lake's tables "
                "are append-only and the reader does not apply deletes"
            )
        files.append(local_path(task.file.file_path))
    return _table_scan(table, iceberg_table, snapshot, tuple(sorted(files)))


def recent_scan(lake_root: str | Path, table: str, minutes: float) -> TableScan:
    """The data files the table's snapshots committed within `minutes` of its newest commit, at
    the current snapshot: a read bounded by the rate however large the table grows (the
    dashboard's), since only those snapshots' own manifests are read. A file a later snapshot
    removed (compaction) is left out; the file replacing it is in when that snapshot is recent."""
    iceberg_table = load_identifier(lake_root, lake_schema.lake_tables()[table].identifier)
    if iceberg_table is None or iceberg_table.current_snapshot() is None:
        return scan(lake_root, table)
    newest = iceberg_table.current_snapshot()
    # Measured from the newest commit that added rows: the Flink sink also commits empty
    # snapshots while a table gets no rows, and maintenance commits rewrites (no new rows);
    # neither may age the newest rows out of view.
    with_data = newest
    while with_data is not None and not _adds_rows(with_data):
        parent = with_data.parent_snapshot_id
        with_data = iceberg_table.snapshot_by_id(parent) if parent is not None else None
    since_ms = (with_data or newest).timestamp_ms - minutes * 60_000
    # Once maintenance expired every snapshot that added rows, its rewrites are what is newest.
    added = _files_committed(iceberg_table, since_ms, appends_only=with_data is not None)
    return _table_scan(table, iceberg_table, newest, tuple(sorted(added)))


def commit_times(lake_root: str | Path, table: str) -> dict[str, datetime]:
    """When each data file of the table's current snapshot was committed (made visible): the
    stream's end-to-end latency is this less the rows' event time (bench/bench_pipeline.py)."""
    iceberg_table = load_identifier(lake_root, lake_schema.lake_tables()[table].identifier)
    if iceberg_table is None or iceberg_table.current_snapshot() is None:
        return {}
    return {
        path: datetime.fromtimestamp(committed_ms / 1000, UTC)
        for path, committed_ms in _files_committed(iceberg_table, 0).items()
    }


@dataclass(frozen=True)
class SnapshotInfo:
    snapshot_id: int
    committed_at: datetime
    operation: str  # append (a checkpoint), overwrite/replace (maintenance, a backfill), ...
    added_files: int
    added_rows: int
    total_rows: int


def snapshot_log(lake_root: str | Path, table: str) -> list[SnapshotInfo]:
    """The snapshots of the table's current lineage, oldest first (what `as_of` can pin)."""
    iceberg_table = load_identifier(lake_root, lake_schema.lake_tables()[table].identifier)
    if iceberg_table is None:
        return []
    log = []
    snapshot = iceberg_table.current_snapshot()
    while snapshot is not None:
        summary = snapshot.summary
        log.append(
            SnapshotInfo(
                snapshot.snapshot_id,
                datetime.fromtimestamp(snapshot.timestamp_ms / 1000, UTC),
                summary.operation.value if summary else "?",
                summary_count(snapshot, "added-data-files"),
                summary_count(snapshot, "added-records"),
                summary_count(snapshot, "total-records"),
            )
        )
        parent = snapshot.parent_snapshot_id
        snapshot = iceberg_table.snapshot_by_id(parent) if parent is not None else None
    return log[::-1]


def parse_as_of(text: str, now: datetime | None = None) -> datetime:
    """A point in time (UTC): ISO 8601 (`2026-11-30T10:00:00`, `2026-11-30 10:00`), or a time of
    day (`10:00`, `10:00:30`) meaning today. Raises LakeReadError."""
    now = now or datetime.now(UTC)
    try:
        if len(text) <= 8 and ":" in text:
            moment = datetime.combine(
                now.date(),
                datetime.strptime(text, "%H:%M:%S" if text.count(":") == 2 else "%H:%M").time(),
            )
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise LakeReadError(
            f"cannot read {text!r} as a time: give e.g. 2026-11-30T10:00:00 or 10:00 (UTC)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def scans(
    lake_root: str | Path,
    *,
    as_of: datetime | None = None,
    snapshots: Mapping[str, int] | None = None,
) -> dict[str, TableScan]:
    """Every lake table's scan, by table name: `snapshots` pins some tables to a snapshot id,
    `as_of` the others to their snapshot current then."""
    snapshots = dict(snapshots or {})
    unknown = set(snapshots) - set(lake_schema.lake_tables())
    if unknown:
        raise LakeReadError(f"no lake table {', '.join(sorted(unknown))}")
    return {
        table: scan(lake_root, table, as_of=as_of, snapshot_id=snapshots.get(table))
        for table in lake_schema.lake_tables()
    }


def connect(
    lake_root: str | Path,
    *,
    as_of: datetime | None = None,
    snapshots: Mapping[str, int] | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
    schema: str | None = None,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection (a new in-memory one, or `connection`) with one view per lake table,
    named as the Flink table, in `schema` if given. Every view is pinned to the snapshot planned
    now: later commits are not seen until the next connect."""
    connection = connection or duckdb.connect()
    create_views(connection, scans(lake_root, as_of=as_of, snapshots=snapshots), schema=schema)
    return connection


def create_views(
    connection: duckdb.DuckDBPyConnection,
    table_scans: Mapping[str, TableScan],
    *,
    schema: str | None = None,
) -> None:
    """One view per scan, named as its table, in `schema` if given."""
    allow_reads(connection, table_scans.values())
    prefix = ""
    if schema:
        connection.execute(f'create schema if not exists "{schema}"')
        prefix = f'"{schema}".'
    for table, table_scan in table_scans.items():
        connection.execute(f'create or replace view {prefix}"{table}" as {table_scan.select_sql()}')


def allow_reads(connection: duckdb.DuckDBPyConnection, table_scans: Iterable[TableScan]) -> None:
    """Let `connection` read the scans' files: those on S3 through s3fs, registered once per
    connection (DuckDB 2.0 has no httpfs; each file costs a few requests: docs/lake.md)."""
    if not any(is_object_store(path) for scan in table_scans for path in scan.files):
        return
    if S3_FILESYSTEM not in connection.list_filesystems():
        connection.register_filesystem(_s3_filesystem(s3_settings()))


# The name DuckDB lists an fsspec file system by: its class's.
S3_FILESYSTEM = "S3FileSystem"


@cache
def _s3_filesystem(settings: S3Settings):
    return settings.filesystem()


# --- helpers -------------------------------------------------------------------------------------


def summary_count(snapshot, key: str) -> int:
    """A count from the snapshot's summary (`added-data-files`, `total-records`…), 0 where it has
    none: an empty commit (the Flink sink makes one after 10 checkpoints without rows) carries no
    `added-*` keys, and pyiceberg's `Summary.get` answers None for a missing key, not the default."""
    summary = snapshot.summary
    value = summary.additional_properties.get(key) if summary is not None else None
    return int(value) if value is not None else 0


def _adds_rows(snapshot) -> bool:
    summary = snapshot.summary
    return (
        summary is not None
        and summary.operation.value == "append"
        and summary_count(snapshot, "added-data-files") > 0
    )


@dataclass(frozen=True)
class SnapshotChanges:
    """The data files a snapshot's own manifests added and removed (not those it carried over)."""

    added: tuple[str, ...]
    removed: tuple[str, ...]


class SnapshotChangesCache:
    """Each snapshot's changes by (table uuid, snapshot id), the least recently used dropped
    beyond `size`. A snapshot never changes once committed, so a long-running reader (the
    dashboard, every few seconds) reads a snapshot's manifests once instead of at every refresh:
    over the hour of commits a panel reads that is ~390 snapshots per table at 10 s checkpoints."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.manifests_read = 0
        self._entries: OrderedDict[tuple[str, int], SnapshotChanges] = OrderedDict()

    def changes(self, iceberg_table, snapshot) -> SnapshotChanges:
        key = (str(iceberg_table.metadata.table_uuid), snapshot.snapshot_id)
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        changes = self._read(iceberg_table, snapshot)
        self._entries[key] = changes
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return changes

    def _read(self, iceberg_table, snapshot) -> SnapshotChanges:
        from pyiceberg.manifest import ManifestEntryStatus

        added, removed = [], []
        for manifest in snapshot.manifests(iceberg_table.io):
            if manifest.added_snapshot_id != snapshot.snapshot_id:
                continue  # carried over from an older snapshot
            self.manifests_read += 1
            for entry in manifest.fetch_manifest_entry(iceberg_table.io, discard_deleted=False):
                path = local_path(entry.data_file.file_path)
                if entry.status == ManifestEntryStatus.ADDED:
                    added.append(path)
                elif entry.status == ManifestEntryStatus.DELETED:
                    removed.append(path)
        return SnapshotChanges(tuple(added), tuple(removed))


# Room for an hour of 10-s commits (plus the slack) of every lake table, twice over.
SNAPSHOT_CHANGES = SnapshotChangesCache(size=16_384)


def _files_committed(
    iceberg_table, since_ms: float, *, appends_only: bool = False
) -> dict[str, int]:
    """path -> commit time (epoch ms) of the live data files that the current snapshot's
    ancestors committed at or after `since_ms`, from only those snapshots' own manifests (each
    read once: SNAPSHOT_CHANGES); with `appends_only`, files that a rewrite (compaction, a
    backfill) added are left out."""
    added: dict[str, int] = {}
    removed: set[str] = set()
    snapshot = iceberg_table.current_snapshot()
    while snapshot is not None and snapshot.timestamp_ms >= since_ms:
        changes = SNAPSHOT_CHANGES.changes(iceberg_table, snapshot)
        if not appends_only or snapshot.summary.operation.value == "append":
            added.update(dict.fromkeys(changes.added, snapshot.timestamp_ms))
        removed.update(changes.removed)
        parent = snapshot.parent_snapshot_id
        snapshot = iceberg_table.snapshot_by_id(parent) if parent is not None else None
    return {path: committed for path, committed in added.items() if path not in removed}


def _table_scan(table: str, iceberg_table, snapshot, files: tuple[str, ...]) -> TableScan:
    """The scan of `files` at `snapshot` (None: no data yet). The current snapshot reads with
    the table's schema (a column added since its last commit is there, NULL); an older one, time
    travel, with the schema it was written with."""
    schema = iceberg_table.schema()
    current = iceberg_table.current_snapshot()
    is_older = (
        snapshot is not None and current is not None and snapshot.snapshot_id != current.snapshot_id
    )
    if is_older and snapshot.schema_id is not None:
        schema = iceberg_table.schemas().get(snapshot.schema_id, schema)
    columns = tuple(
        TableColumn(field.field_id, field.name, duckdb_type(field.field_type))
        for field in schema.fields
    )
    if snapshot is None:
        return TableScan(table, None, None, (), columns)
    committed_at = datetime.fromtimestamp(snapshot.timestamp_ms / 1000, UTC)
    return TableScan(table, snapshot.snapshot_id, committed_at, files, columns)


def load(lake_root: str | Path, table: str):
    """The pyiceberg Table of a lake table (its Flink name), or None before a job created it."""
    return load_identifier(lake_root, lake_schema.lake_tables()[table].identifier)


def load_identifier(lake_root: str | Path, identifier: str):
    """The pyiceberg Table named `identifier` ("silver.events"), or None if it does not exist."""
    lake_catalog = lake_catalog_of(lake_root)
    if not lake_catalog.may_hold_tables():
        return None
    from pyiceberg.exceptions import NoSuchTableError

    settings = s3_settings() if is_object_store(lake_root) else None
    try:
        return _catalog_for(str(lake_root), lake_catalog, settings).load_table(identifier)
    except NoSuchTableError:
        return None


@cache
def _catalog_for(lake_root: str, lake_catalog: LakeCatalog, settings: S3Settings | None):
    """One catalog per lake and catalog (and S3 endpoint and keys, should the environment
    change)."""
    return catalog(lake_root)


def local_path(file_path: str) -> str:
    """Iceberg writes `file:/abs/path`; DuckDB reads the plain path (s3:// paths as they are)."""
    return file_path.removeprefix("file://").removeprefix("file:")


def _epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def duckdb_type(field_type) -> str:
    """The DuckDB type of an Iceberg type (tests/test_lake_contract.py: the same as the Flink
    type's, sqlcheck.lake.duckdb_type, for every lake column)."""
    from pyiceberg import types

    simple = {
        types.BooleanType: "BOOLEAN",
        types.IntegerType: "INTEGER",
        types.LongType: "BIGINT",
        types.FloatType: "FLOAT",
        types.DoubleType: "DOUBLE",
        types.DateType: "DATE",
        types.TimestampType: "TIMESTAMP",
        types.TimestamptzType: "TIMESTAMP WITH TIME ZONE",
        types.StringType: "VARCHAR",
        types.BinaryType: "BLOB",
        types.FixedType: "BLOB",
    }
    if isinstance(field_type, types.DecimalType):
        return f"DECIMAL({field_type.precision},{field_type.scale})"
    for kind, duckdb_name in simple.items():
        if isinstance(field_type, kind):
            return duckdb_name
    raise LakeReadError(f"no DuckDB type for Iceberg type {field_type}")
