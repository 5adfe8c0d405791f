"""Append rows to a lake table from Python, as one Iceberg snapshot: for the test fixtures, the
benchmarks and backfills. The stream's own writes are the Flink jobs'; this writes the same
table the same way (the DDL's columns and field ids, one Parquet file per `dt` partition).

DuckDB writes the Parquet files (with the Iceberg field ids) and pyiceberg commits them: its own
writer needs pyarrow >= 17, which apache-flink's pins rule out.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import duckdb

from pipeline import lake_reader, lake_schema
from stack.config import lake_catalog_path

COMMIT_ATTEMPTS = 10


def create_table(lake_root: str | Path, table: str):
    """The lake table in the catalog, created from its DDL as the Flink sink creates it (field
    ids 1..n in column order, identity partition on `dt`) if no job has yet."""
    from pyiceberg.exceptions import NoSuchTableError
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.schema import Schema
    from pyiceberg.transforms import IdentityTransform
    from pyiceberg.types import NestedField

    layout = lake_schema.lake_tables()[table]
    lake_catalog_path(lake_root).parent.mkdir(parents=True, exist_ok=True)
    catalog = lake_reader.catalog(lake_root)
    try:
        return catalog.load_table(layout.identifier)
    except NoSuchTableError:
        pass
    fields = [
        NestedField(field_id, column.name, _iceberg_type(column.flink_type), required=False)
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
) -> list[str]:
    """Append the rows of `query` (run on `connection`; its columns named as the table's, any
    order, `dt` computed by the caller) to the table as one snapshot; with `replace`, that
    snapshot also removes every row the table had (an overwrite: older snapshots keep them).
    Returns the data files written; with no rows and no `replace`, nothing is committed."""
    from pyiceberg.io.pyarrow import parquet_file_to_data_file

    layout = lake_schema.lake_tables()[table]
    iceberg_table = create_table(lake_root, table)
    data_dir = Path(lake_reader.local_path(iceberg_table.location())) / "data"
    scratch = data_dir / f".append-{uuid.uuid4()}"
    data_dir.mkdir(parents=True, exist_ok=True)
    columns = ", ".join(
        f'cast("{column.name}" as {column.duckdb_type}) as "{column.name}"'
        for column in layout.columns
    )
    field_ids = ", ".join(
        f'"{column.name}": {field_id}' for field_id, column in enumerate(layout.columns, start=1)
    )
    partitions = ", ".join(f'"{name}"' for name in layout.partition_columns)
    connection.execute(
        f"""
        copy (select {columns} from ({query})) to '{scratch}'
        (format parquet, partition_by ({partitions}), write_partition_columns true,
         field_ids {{{field_ids}}}, filename_pattern 'data-{{uuid}}')
        """
    )
    written = sorted(scratch.glob("**/*.parquet"))
    if not written and not replace:
        if scratch.exists():
            scratch.rmdir()
        return []
    files = []
    for produced in written:  # dt=2024-03-01/data-<uuid>.parquet, as Iceberg lays data out
        target = data_dir / produced.relative_to(scratch)
        target.parent.mkdir(parents=True, exist_ok=True)
        produced.rename(target)
        files.append(str(target))
    for folder in sorted(scratch.glob("**/"), reverse=True):
        folder.rmdir()

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

    commit_with_retries(lake_root, table, commit)
    return files


def commit_with_retries(lake_root: str | Path, table: str, commit) -> None:
    """Run `commit(table)` on a freshly loaded table until no other writer's commit got in
    between (the catalog's compare-and-swap failed): the Flink sinks, maintenance and this
    module commit to the same tables without locks, each retrying as Iceberg's own do."""
    from pyiceberg.exceptions import CommitFailedException

    for attempt in range(1, COMMIT_ATTEMPTS + 1):
        try:
            commit(lake_reader.load(lake_root, table))
            return
        except CommitFailedException:
            if attempt == COMMIT_ATTEMPTS:
                raise
            time.sleep(0.05 * attempt)  # back off: another commit is in progress


def _iceberg_type(flink_type: str):
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
