"""Append rows to a lake table from Python, as one Iceberg snapshot: for the test fixtures, the
benchmarks and backfills. The stream's own writes are the Flink jobs'; this writes the same
table the same way (the DDL's columns and field ids, one Parquet file per `dt` partition).

DuckDB writes the Parquet files (with the Iceberg field ids) and pyiceberg commits them: its own
writer needs pyarrow >= 17, which apache-flink's pins rule out. On a lake on S3 the files are
written to a local scratch folder first and uploaded (s3fs) before the commit: S3 has no rename.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from pathlib import Path

import duckdb

from pipeline import lake_reader, lake_schema
from stack.config import is_object_store, lake_catalog_of
from stack.object_store import s3_settings

COMMIT_ATTEMPTS = 10


def _layout(table: str, sql_dir: Path | None) -> lake_schema.LakeTable:
    tables = lake_schema.read_lake_tables(sql_dir) if sql_dir else lake_schema.lake_tables()
    return tables[table]


def create_table(lake_root: str | Path, table: str, sql_dir: Path | None = None):
    """The lake table in the catalog, created from its DDL as the Flink sink creates it (field
    ids 1..n in column order, identity partition on `dt`) if no job has yet."""
    from pyiceberg.exceptions import NoSuchTableError
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.schema import Schema
    from pyiceberg.transforms import IdentityTransform
    from pyiceberg.types import NestedField

    layout = _layout(table, sql_dir)
    lake_catalog_of(lake_root).prepare()
    catalog = lake_reader.catalog(lake_root)
    try:
        return catalog.load_table(layout.identifier)
    except NoSuchTableError:
        pass
    fields = [
        NestedField(field_id, column.name, iceberg_type(column.flink_type), required=False)
        for field_id, column in enumerate(layout.columns, start=1)
    ]
    spec = PartitionSpec(
        *(
            PartitionField(
                source_id=layout.column_names.index(name) + 1,
                field_id=1000 + i,
                transform=IdentityTransform(),
                name=name,
            )
            for i, name in enumerate(layout.partition_columns)
        )
    )
    namespace = layout.identifier.split(".")[0]
    catalog.create_namespace_if_not_exists(namespace)
    return catalog.create_table(layout.identifier, schema=Schema(*fields), partition_spec=spec)


def append(
    lake_root: str | Path,
    table: str,
    connection: duckdb.DuckDBPyConnection,
    query: str,
    *,
    replace: bool = False,
    sql_dir: Path | None = None,
) -> list[str]:
    """Append the rows of `query` (run on `connection`; its columns named as the table's, any
    order, `dt` computed by the caller) to the table as one snapshot; with `replace`, that
    snapshot also removes every row the table had (an overwrite: older snapshots keep them).
    Returns the data files written; with no rows and no `replace`, nothing is committed. The
    table is the one `sql_dir`'s DDL declares (default: the repository's flink_sql/)."""
    from pyiceberg.io.pyarrow import parquet_file_to_data_file

    layout = _layout(table, sql_dir)
    iceberg_table = create_table(lake_root, table, sql_dir)
    location = lake_reader.local_path(iceberg_table.location())
    if is_object_store(location):
        scratch_root = Path(tempfile.mkdtemp(prefix="lake-append-"))
        try:
            written = _write(connection, query, layout, iceberg_table, scratch_root / "files")
            files = _upload(scratch_root / "files", written, f"{location}/data")
        finally:
            shutil.rmtree(scratch_root)
    else:
        data_dir = Path(location) / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        scratch = data_dir / f".append-{uuid.uuid4()}"
        written = _write(connection, query, layout, iceberg_table, scratch)
        files = _move(scratch, written, data_dir)
    if not files and not replace:
        return []

    def commit(fresh) -> None:
        removed = [task.file for task in fresh.scan().plan_files()] if replace else []
        with fresh.transaction() as transaction:
            update = transaction.update_snapshot()
            with update.overwrite() if replace else update.fast_append() as snapshot:
                for data_file in removed:
                    snapshot.delete_data_file(data_file)
                for path in files:
                    snapshot.append_data_file(
                        parquet_file_to_data_file(fresh.io, fresh.metadata, path)
                    )

    commit_with_retries(lake_root, layout.identifier, commit)
    return files


def _write(
    connection: duckdb.DuckDBPyConnection,
    query: str,
    layout: lake_schema.LakeTable,
    iceberg_table,
    scratch: Path,
) -> list[Path]:
    """The rows of `query` as Parquet files under `scratch`, one folder per partition."""
    columns = ", ".join(
        f'cast("{column.name}" as {column.duckdb_type}) as "{column.name}"'
        for column in layout.columns
    )
    schema = iceberg_table.schema()  # ids by name: an added column's id is not its position
    field_ids = ", ".join(
        f'"{column.name}": {schema.find_field(column.name).field_id}' for column in layout.columns
    )
    partitions = ", ".join(f'"{name}"' for name in layout.partition_columns)
    connection.execute(
        f"""
        copy (select {columns} from ({query})) to '{scratch}'
        (format parquet, partition_by ({partitions}), write_partition_columns true,
         field_ids {{{field_ids}}}, filename_pattern 'data-{{uuid}}')
        """
    )
    return sorted(scratch.glob("**/*.parquet"))


def _move(scratch: Path, written: list[Path], data_dir: Path) -> list[str]:
    """Each file moved out of the scratch folder into the table's data folder."""
    files = []
    for produced in written:  # dt=2024-03-01/data-<uuid>.parquet, as Iceberg lays data out
        target = data_dir / produced.relative_to(scratch)
        target.parent.mkdir(parents=True, exist_ok=True)
        produced.rename(target)
        files.append(str(target))
    if scratch.exists():
        for folder in sorted(scratch.glob("**/"), reverse=True):
            folder.rmdir()
    return files


def _upload(scratch: Path, written: list[Path], data_uri: str) -> list[str]:
    """Each file uploaded to the table's data prefix on S3, laid out as under `scratch`."""
    filesystem = s3_settings().filesystem()
    files = []
    for produced in written:
        target = f"{data_uri}/{produced.relative_to(scratch).as_posix()}"
        filesystem.put_file(str(produced), target)
        files.append(target)
    return files


def commit_with_retries(lake_root: str | Path, identifier: str, commit) -> None:
    """Run `commit(table)` on a freshly loaded table (its Iceberg name, "silver.events") until no
    other writer's commit got in between (the catalog's compare-and-swap failed): the Flink
    sinks, maintenance and this module commit to the same tables without locks, each retrying
    as Iceberg's own writers do."""
    from pyiceberg.exceptions import CommitFailedException

    for attempt in range(1, COMMIT_ATTEMPTS + 1):
        try:
            commit(lake_reader.load_identifier(lake_root, identifier))
            return
        except CommitFailedException:
            if attempt == COMMIT_ATTEMPTS:
                raise
            time.sleep(0.05 * attempt)  # back off: another commit is in progress


class SchemaEvolutionError(ValueError):
    """A lake table's DDL changed in a way Iceberg cannot follow without rewriting data."""


# Type changes Iceberg makes in place (old files keep their narrower values).
_WIDENINGS = {("int", "long"), ("float", "double")}


def evolve_schemas(lake_root: str | Path, sql_dir: Path | None = None) -> list[str]:
    """Bring every existing lake table's Iceberg schema to its DDL before a deploy: a column the
    DDL adds is added (nullable; old files read it as NULL, nothing is rewritten), an `INT` that
    became `BIGINT` (or `FLOAT` `DOUBLE`, or a wider `DECIMAL` of the same scale) is widened. A
    column the DDL dropped, renamed or narrowed is refused with the DDL's file:line (the running
    job still writes it; docs/lake.md "Schema evolution"). Returns what changed, one line each."""
    from pyiceberg import types

    tables = lake_schema.read_lake_tables(sql_dir) if sql_dir else lake_schema.lake_tables()
    changes: list[str] = []
    for name, layout in tables.items():
        iceberg_table = lake_reader.load_identifier(lake_root, layout.identifier)
        if iceberg_table is None:
            continue  # the first job that writes it creates it from the DDL
        current = {field.name: field for field in iceberg_table.schema().fields}
        wanted = {column.name: column for column in layout.columns}
        dropped = sorted(set(current) - set(wanted))
        if dropped:
            raise SchemaEvolutionError(
                f"{layout.location}: {name} has no column {', '.join(dropped)}, which the lake "
                f"table {layout.identifier} holds; keep it in the DDL (Iceberg keeps its data)"
            )
        added, widened = [], []
        for column in layout.columns:
            target = iceberg_type(column.flink_type)
            field = current.get(column.name)
            if field is None:
                added.append((column.name, target))
            elif field.field_type != target:
                same_decimal_scale = (
                    isinstance(field.field_type, types.DecimalType)
                    and isinstance(target, types.DecimalType)
                    and target.scale == field.field_type.scale
                    and target.precision > field.field_type.precision
                )
                if (str(field.field_type), str(target)) in _WIDENINGS or same_decimal_scale:
                    widened.append((column.name, target))
                else:
                    raise SchemaEvolutionError(
                        f"{layout.display or layout.path}:{column.line}: {name}.{column.name} is "
                        f"{column.flink_type} in the DDL but {field.field_type} in the lake table "
                        f"{layout.identifier}: only widening (INT to BIGINT, FLOAT to DOUBLE, a "
                        "wider DECIMAL) is possible in place"
                    )
        if not added and not widened:
            continue

        def commit(fresh, added=added, widened=widened) -> None:
            with fresh.update_schema() as update:
                for column_name, column_type in added:
                    update.add_column(column_name, column_type)
                for column_name, column_type in widened:
                    update.update_column(column_name, field_type=column_type)

        commit_with_retries(lake_root, layout.identifier, commit)
        changes += [f"{name}: added column {c} {t}" for c, t in added]
        changes += [f"{name}: widened column {c} to {t}" for c, t in widened]
    return changes


def iceberg_type(flink_type: str):
    """The Iceberg type the Flink sink gives a column of this Flink type."""
    from pyiceberg import types

    head, _, arguments = flink_type.partition("(")
    arguments = arguments.rstrip(")")
    simple = {
        "STRING": types.StringType(),
        "BOOLEAN": types.BooleanType(),
        "INT": types.IntegerType(),
        "BIGINT": types.LongType(),
        "FLOAT": types.FloatType(),
        "DOUBLE": types.DoubleType(),
        "DATE": types.DateType(),
        "BYTES": types.BinaryType(),
        "TIMESTAMP": types.TimestampType(),
        "TIMESTAMP_LTZ": types.TimestamptzType(),
    }
    if head == "DECIMAL":
        precision, scale = (int(part) for part in arguments.split(","))
        return types.DecimalType(precision, scale)
    return simple[head]
