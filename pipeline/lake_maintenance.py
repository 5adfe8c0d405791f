"""Keep the lake's Iceberg tables small and fast while the stream writes them.

Every checkpoint adds a data file per partition written and a snapshot to each table: at 10 s
that is 8,640 small files and snapshots per table and day. `maintain` does, per table:

1. **Compaction**: the data files of each `dt` partition that were committed at least `min_age`
   ago are rewritten into one file (DuckDB reads them, writes the rows with the same field ids)
   and swapped in by one `replace` snapshot. No row changes: the snapshot removes exactly the
   files whose rows the new file holds. Files younger than `min_age` are left alone, so the
   dashboard's last hour of commits (`lake_reader.recent_scan`) is never rewritten.
2. **Snapshot expiry**: snapshots older than `keep_snapshots_for` are dropped from the metadata
   (time travel reaches back that far), the current one always kept.
3. **Orphan cleanup**: files under the table's folder that no kept snapshot or metadata file
   references and that are older than `orphan_age` are deleted: compacted small files once their
   snapshots expired, files of checkpoints that failed. The age guard keeps the files of a
   checkpoint that is still being written.

A lake on S3 is maintained the same way: the compacted file is written locally and uploaded,
the table's objects are listed (with their last-modified times) and deleted through s3fs.

Never blocking the writers: nothing is locked. A commit races the Flink sinks' commits through
the catalog's compare-and-swap; on a lost race the table is reloaded and the commit retried (an
append never removes the files a compaction replaces, so the plan stays valid).
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from pipeline import lake_reader, lake_schema
from pipeline.lake_writer import commit_with_retries
from stack.config import is_object_store
from stack.object_store import s3_settings

# The defaults (jobs.py maintain reads them): compact files older than the dashboard's window of
# recent commits (tests/test_lake_maintenance.py holds it so), keep 6 h of time travel, and leave
# any file younger than a day alone (a checkpoint still being written is far younger).
MIN_AGE = timedelta(hours=2)
KEEP_SNAPSHOTS_FOR = timedelta(hours=6)
ORPHAN_AGE = timedelta(days=1)

# The summary property of a compaction's snapshot (pipeline.lake_reader skips it for new rows).
COMPACTION = {"clickstream.maintenance": "compaction"}
# Set on every table by the first run: the writers (Flink's committer too) then delete metadata
# files beyond the newest few themselves, instead of one more per checkpoint forever.
TABLE_PROPERTIES = {
    "write.metadata.delete-after-commit.enabled": "true",
    "write.metadata.previous-versions-max": "20",
}


@dataclass(frozen=True)
class TableMaintenance:
    table: str
    files_before: int
    files_after: int
    partitions_compacted: int
    snapshots_expired: int
    orphans_removed: int
    rows: int  # in the current snapshot, the same before and after

    def describe(self) -> str:
        return (
            f"{self.table}: {self.files_before} -> {self.files_after} data files "
            f"({self.partitions_compacted} partitions compacted), {self.snapshots_expired} "
            f"snapshots expired, {self.orphans_removed} orphan files removed, {self.rows} rows"
        )


def maintain(
    lake_root: str | Path,
    *,
    tables: list[str] | None = None,
    min_age: timedelta = MIN_AGE,
    keep_snapshots_for: timedelta = KEEP_SNAPSHOTS_FOR,
    orphan_age: timedelta = ORPHAN_AGE,
    now: datetime | None = None,
    log: Callable[[str], None] = print,
) -> list[TableMaintenance]:
    """Compact, expire and clean every lake table (or `tables`) that exists; a report each."""
    now = now or datetime.now(UTC)
    reports = []
    for table in tables or list(lake_schema.lake_tables()):
        if lake_reader.load(lake_root, table) is None:
            continue  # no job has created it yet
        _set_properties(lake_root, table)
        before = lake_reader.scan(lake_root, table)
        compacted = _compact(lake_root, table, now - min_age)
        expired = _expire_snapshots(lake_root, table, now - keep_snapshots_for)
        orphans = _remove_orphans(lake_root, table, now - orphan_age)
        after = lake_reader.scan(lake_root, table)
        report = TableMaintenance(
            table,
            len(before.files),
            len(after.files),
            compacted,
            expired,
            orphans,
            _row_count(lake_root, table),
        )
        log(report.describe())
        reports.append(report)
    return reports


# --- compaction ----------------------------------------------------------------------------------


def _compact(lake_root: str | Path, table: str, committed_before: datetime) -> int:
    """Rewrite each partition's files committed before `committed_before` into one file; the
    number of partitions rewritten."""
    from pyiceberg.io.pyarrow import parquet_file_to_data_file

    iceberg_table = lake_reader.load(lake_root, table)
    snapshot = iceberg_table.current_snapshot()
    if snapshot is None:
        return 0
    committed = lake_reader.commit_times(lake_root, table)
    cutoff_ms = committed_before.timestamp() * 1000
    by_partition: dict[tuple, list] = {}
    for task in iceberg_table.scan(snapshot_id=snapshot.snapshot_id).plan_files():
        path = lake_reader.local_path(task.file.file_path)
        # A file whose commit is not in the kept lineage was committed before its oldest snapshot.
        committed_at = committed.get(path)
        if committed_at is None or committed_at.timestamp() * 1000 < cutoff_ms:
            by_partition.setdefault(tuple(task.file.partition), []).append(task.file)
    small = {key: files for key, files in by_partition.items() if len(files) > 1}
    if not small:
        return 0

    table_scan = lake_reader.scan(lake_root, table)
    rewritten = []  # (the files replaced, the file replacing them)
    for files in small.values():
        paths = [lake_reader.local_path(f.file_path) for f in files]
        target = f"{posixpath.dirname(paths[0])}/compacted-{uuid.uuid4()}.parquet"
        _rewrite(table_scan, paths, target)
        rewritten.append((files, target))

    def commit(fresh) -> None:
        # An `overwrite` snapshot (pyiceberg writes no `replace`) that says it is ours: readers of
        # new rows (lake_reader.recent_scan) skip it, it adds none.
        with (
            fresh.transaction() as transaction,
            transaction.update_snapshot(snapshot_properties=COMPACTION).overwrite() as replace,
        ):
            for files, target in rewritten:
                for data_file in files:
                    replace.delete_data_file(data_file)
                replace.append_data_file(
                    parquet_file_to_data_file(fresh.io, fresh.metadata, target)
                )

    commit_with_retries(lake_root, _identifier(table), commit)
    return len(rewritten)


def _rewrite(table_scan: lake_reader.TableScan, paths: list[str], target: str) -> None:
    """The rows of `paths` as one Parquet file at `target` (a local path or an S3 URI), columns
    and field ids as the table's current schema (an older file lacking a newer column gets
    NULLs). It appears whole: written beside it under another name and renamed, or on S3
    written locally and uploaded (an object appears whole)."""
    partial = lake_reader.TableScan(
        table_scan.table, table_scan.snapshot_id, None, tuple(paths), table_scan.columns
    )
    field_ids = ", ".join(f'"{c.name}": {c.field_id}' for c in table_scan.columns)
    remote = is_object_store(target)
    folder = Path(tempfile.mkdtemp(prefix="lake-compact-")) if remote else Path(target).parent
    scratch = folder / f".{posixpath.basename(target)}.writing"
    try:
        with duckdb.connect() as connection:
            lake_reader.allow_reads(connection, [partial])
            connection.execute("set preserve_insertion_order = false")
            connection.execute(
                f"copy ({partial.select_sql()}) to '{scratch}' "
                f"(format parquet, field_ids {{{field_ids}}}, compression zstd)"
            )
        if remote:
            s3_settings().filesystem().put_file(str(scratch), target)
        else:
            scratch.rename(target)
    finally:
        if remote:
            shutil.rmtree(folder)


# --- snapshots and orphans -----------------------------------------------------------------------


def _expire_snapshots(lake_root: str | Path, table: str, older_than: datetime) -> int:
    expired = 0

    def commit(fresh) -> None:
        nonlocal expired
        current = fresh.current_snapshot()
        old = [
            s.snapshot_id
            for s in fresh.snapshots()
            if s.timestamp_ms < older_than.timestamp() * 1000
            and (current is None or s.snapshot_id != current.snapshot_id)
        ]
        expired = len(old)
        if old:
            fresh.maintenance.expire_snapshots().by_ids(old).commit()

    commit_with_retries(lake_root, _identifier(table), commit)
    return expired


def _remove_orphans(lake_root: str | Path, table: str, older_than: datetime) -> int:
    """Delete files of the table's folder that nothing kept references, if older than
    `older_than` (by modification time)."""
    iceberg_table = lake_reader.load(lake_root, table)
    io = iceberg_table.io
    metadata = iceberg_table.metadata
    referenced = {iceberg_table.metadata_location}
    referenced |= {entry.metadata_file for entry in metadata.metadata_log}
    manifests = {}
    for snapshot in metadata.snapshots:
        referenced.add(snapshot.manifest_list)
        manifests.update({m.manifest_path: m for m in snapshot.manifests(io)})
    referenced |= set(manifests)
    for manifest in manifests.values():  # each once: snapshots share most of their manifests
        for entry in manifest.fetch_manifest_entry(io, discard_deleted=True):
            referenced.add(entry.data_file.file_path)
    referenced = {lake_reader.local_path(path) for path in referenced}
    folder = lake_reader.local_path(iceberg_table.location())
    cutoff = older_than.timestamp()
    removed = 0
    for path, modified in _files_under(folder):
        if path not in referenced and modified < cutoff and _delete(path):
            removed += 1
    return removed


def _files_under(folder: str) -> Iterator[tuple[str, float]]:
    """Every file under `folder` (a local path or an S3 URI) and its modification time (epoch
    seconds). Writers add, move and delete files meanwhile: os.walk skips a folder that vanished,
    and a file that vanished between the listing and its stat is left out."""
    if is_object_store(folder):
        scheme = folder.partition("://")[0]
        filesystem = s3_settings().filesystem()
        filesystem.invalidate_cache(folder)  # s3fs caches listings; the writers do not wait
        listing = filesystem.find(folder, detail=True)
        for key, info in listing.items():
            yield f"{scheme}://{key}", info["LastModified"].timestamp()
        return
    for parent, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(parent, name)
            try:
                yield path, os.stat(path).st_mtime
            except FileNotFoundError:
                continue


def _delete(path: str) -> bool:
    """Delete a file (local or on S3); False if it was gone already."""
    try:
        if is_object_store(path):
            s3_settings().filesystem().rm_file(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def _set_properties(lake_root: str | Path, table: str) -> None:
    def commit(fresh) -> None:
        if any(fresh.properties.get(key) != value for key, value in TABLE_PROPERTIES.items()):
            with fresh.transaction() as transaction:
                transaction.set_properties(TABLE_PROPERTIES)

    commit_with_retries(lake_root, _identifier(table), commit)


def _identifier(table: str) -> str:
    return lake_schema.lake_tables()[table].identifier


def _row_count(lake_root: str | Path, table: str) -> int:
    """The current snapshot's rows, from its summary."""
    snapshot = lake_reader.load(lake_root, table).current_snapshot()
    return lake_reader.summary_count(snapshot, "total-records") if snapshot else 0
