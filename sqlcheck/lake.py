"""The lake contract, read from the project model (`sqlcheck.catalog`), its one home.

A lake table is a table of `tables/` whose connector is `iceberg`: a table of the lake's one
Iceberg catalog (LAKE_CATALOG_OPTIONS, the same in every file). Its columns (names and Flink
types, in order), its partition column and its Iceberg identifier (`'catalog-database'` and
`'catalog-table'`, e.g. `silver` and `events`, kept under the lake root as `silver/events/`, its
folder) are written in its CREATE TABLE; what `dt` is the date of
is written in the INSERT of `jobs/` that fills the table. `pipeline.lake_schema` serves this to
the Python readers and the test fixtures; lint checks dbt's sources against it (FL006).

Every problem is an FL006 finding at the file:line:col that states it wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlglot import exp

from sqlcheck.catalog import Catalog, InsertDef, TableDef
from sqlcheck.dialect import Flink
from sqlcheck.findings import Finding
from sqlcheck.project import SqlError

RULE = "FL006"
LAKE_CONNECTOR = "iceberg"
# Every lake table names the one catalog with these options, as written (placeholders unrendered):
# a JDBC catalog, a SQLite file or a PostgreSQL database (stack/lake_catalog.py), schema version
# V1 (the one pyiceberg's SqlCatalog reads), and the FileIO of lake_root's scheme
# (stack.config.LAKE_FILE_IO). Path-style S3 requests (bucket in the path, not the host name)
# reach any S3-compatible endpoint; a local lake's FileIO ignores the option.
LAKE_CATALOG_OPTIONS = {
    "catalog-name": "lake",
    "catalog-impl": "org.apache.iceberg.jdbc.JdbcCatalog",
    "uri": "${lake_catalog_uri}",
    "jdbc.schema-version": "V1",
    "warehouse": "${lake_root}",
    "io-impl": "${lake_file_io}",
    "s3.path-style-access": "true",
}
# Where a table lives in the catalog: namespace (the layer) and name.
IDENTIFIER_OPTIONS = ("catalog-database", "catalog-table")

# Flink SQL type -> the DuckDB type a reader of the Parquet files sees.
_DUCKDB_TYPES = {
    "STRING": "VARCHAR",
    "BOOLEAN": "BOOLEAN",
    "TINYINT": "TINYINT",
    "SMALLINT": "SMALLINT",
    "INT": "INTEGER",
    "BIGINT": "BIGINT",
    "FLOAT": "FLOAT",
    "DOUBLE": "DOUBLE",
    "DATE": "DATE",
    "BYTES": "BLOB",
}


class LakeContractError(SqlError):
    """The DDL or a job does not state the lake contract readably; each line of the message is
    a finding, `file:line:col FL006 message`."""


@dataclass(frozen=True)
class Column:
    name: str
    flink_type: str  # canonical spelling: upper case, e.g. "DECIMAL(12, 2)", "TIMESTAMP(3)"
    line: int
    col: int = 1

    @property
    def duckdb_type(self) -> str:
        return duckdb_type(self.flink_type)


@dataclass(frozen=True)
class LakeTable:
    name: str  # the Flink table, e.g. "silver_events"
    folder: str  # its Iceberg namespace/name, also its folder under the lake root: "silver/events"
    columns: tuple[Column, ...]  # in DDL order, partition columns included
    partition_columns: tuple[str, ...]
    path: Path  # its tables/<name>.sql
    line: int
    col: int = 1
    display: str = ""  # how findings name the file

    @property
    def row_columns(self) -> tuple[Column, ...]:
        """Its columns but the partition columns, which derive from them (`dt` from a time):
        what the fixtures and the oracle state of a row."""
        return tuple(c for c in self.columns if c.name not in self.partition_columns)

    @property
    def identifier(self) -> str:
        """Its name in the Iceberg catalog: "silver.events"."""
        return self.folder.replace("/", ".")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def location(self) -> str:
        return f"{self.display or self.path}:{self.line}"

    def finding(self, message: str, line: int | None = None, col: int | None = None) -> Finding:
        return Finding(
            self.display or str(self.path), line or self.line, col or self.col, RULE, message
        )


@dataclass(frozen=True)
class SelectItem:
    name: str  # the alias, or the column a bare reference reads; "*" for a star
    expression: str  # as written
    reads: frozenset[str]  # the column names the expression refers to


@dataclass(frozen=True)
class Insert:
    """One `insert into <table> [(<columns>)] select <items> ...` of a job."""

    table: str
    columns: tuple[str, ...] | None  # None: no column list (matched by position)
    items: tuple[SelectItem, ...]
    path: Path
    line: int
    col: int = 1
    display: str = ""

    @property
    def location(self) -> str:
        return f"{self.display or self.path}:{self.line}"

    def finding(self, message: str) -> Finding:
        return Finding(self.display or str(self.path), self.line, self.col, RULE, message)


# --- reading -------------------------------------------------------------------------------------


def lake_tables(catalog: Catalog) -> tuple[dict[str, LakeTable], list[Finding]]:
    """Every lake table of the catalog by name, in file-name order, and the problems of those
    that state the contract wrong (they are left out)."""
    tables: dict[str, LakeTable] = {}
    findings: list[Finding] = []
    for table in sorted(catalog.tables.values(), key=lambda t: t.file.display):
        if table.connector != LAKE_CONNECTOR:
            continue
        lake_table, problems = _lake_table(table)
        findings += problems
        if lake_table is not None:
            tables[lake_table.name] = lake_table
    return tables, findings


def inserts(catalog: Catalog) -> tuple[Insert, ...]:
    """Every INSERT of the project's jobs, in file and statement order."""
    found = [_insert(insert) for insert in catalog.inserts]
    return tuple(sorted(found, key=lambda i: (i.display, i.line, i.col)))


def partition_source(table: LakeTable, all_inserts: Iterable[Insert]) -> str:
    """The column whose (UTC) date the table's `dt` partition holds, as its INSERT computes it:
    the table column the `dt` expression reads (`cast(event_date as string)`), or the column
    computed from the same input (`date_format(proc_time, ...)` beside
    `cast(proc_time as timestamp(3)) as ingested_at`). Raises LakeContractError."""
    (partition,) = table.partition_columns
    writers = [insert for insert in all_inserts if insert.table == table.name]
    if len(writers) != 1:
        raise LakeContractError.of(
            [
                table.finding(
                    f"{table.name} is written by {len(writers)} INSERTs in jobs/, expected "
                    "exactly one"
                )
            ]
        )
    (insert,) = writers
    named = {item.name: item for item in insert.items}
    if partition not in named:
        raise LakeContractError.of(
            [insert.finding(f"the INSERT into {table.name} names no select item {partition}")]
        )
    read = named[partition].reads
    columns = set(table.column_names) - {partition}
    direct = read & columns
    via_input = {item.name for item in insert.items if item.name in columns and read & item.reads}
    candidates = direct or via_input
    if len(candidates) != 1:
        raise LakeContractError.of(
            [
                insert.finding(
                    f"cannot tell which column {table.name}.{partition} is the date of"
                    f" (candidates: {sorted(candidates) or 'none'})"
                )
            ]
        )
    return next(iter(candidates))


# --- types ---------------------------------------------------------------------------------------


def canonical_type(spelling: str) -> str:
    """One spelling per Flink type: upper case, `DECIMAL(12, 2)`, `INT` for `INTEGER`."""
    text = re.sub(r"\s+", " ", spelling.strip().upper())
    text = re.sub(r"\s*\(\s*", "(", text)
    text = re.sub(r"\s*\)", ")", text)
    text = re.sub(r"\s*,\s*", ", ", text)
    return "INT" if text == "INTEGER" else text


def duckdb_type(flink_type: str) -> str:
    """The DuckDB type of a Flink column type, spelled as DuckDB's `typeof` spells it."""
    text = canonical_type(flink_type)
    head, _, arguments = text.partition("(")
    arguments = arguments.rstrip(")").replace(" ", "")
    if head in _DUCKDB_TYPES and not arguments:
        return _DUCKDB_TYPES[head]
    if head == "DECIMAL":
        return f"DECIMAL({arguments or '10,0'})"
    if head == "TIMESTAMP" and int(arguments or 6) <= 6:
        return "TIMESTAMP"
    if head == "TIMESTAMP_LTZ" and int(arguments or 6) <= 6:
        return "TIMESTAMP WITH TIME ZONE"
    raise ValueError(f"no DuckDB type for Flink type {flink_type}")


# --- from the catalog ----------------------------------------------------------------------------


def _lake_table(table: TableDef) -> tuple[LakeTable | None, list[Finding]]:
    where = table.file.display

    def finding(message: str, line: int = table.line, col: int = table.col) -> Finding:
        return Finding(where, line, col, RULE, message)

    problems = []
    for key, expected in LAKE_CATALOG_OPTIONS.items():
        option = table.options.get(key)
        if option is None or option.source != expected:
            stated = f"'{key}' = '{option.source}'" if option else f"no '{key}'"
            problems.append(
                finding(
                    f"lake table {table.name} has {stated}, expected '{key}' = '{expected}'"
                    " (the lake's one catalog)",
                    *((option.line, option.col) if option else (table.line, table.col)),
                )
            )
    identifier = [table.options.get(key) for key in IDENTIFIER_OPTIONS]
    for key, option in zip(IDENTIFIER_OPTIONS, identifier, strict=True):
        if option is None or not re.fullmatch(r"[a-z][a-z0-9_]*", option.source):
            problems.append(
                finding(
                    f"lake table {table.name} needs '{key}' = '<lower_case_name>'"
                    " (its Iceberg namespace and table)",
                    *((option.line, option.col) if option else (table.line, table.col)),
                )
            )
    columns = []
    for column in table.columns:
        if column.computed or column.metadata:
            problems.append(
                finding(
                    f"lake table {table.name} column {column.name} is computed or metadata, so "
                    "it is not stored in the files",
                    column.line,
                    column.col,
                )
            )
            continue
        spelling = column.kind.sql(dialect=Flink) if column.kind is not None else "?"
        columns.append(Column(column.name, canonical_type(spelling), column.line, column.col))
    if not table.columns:
        problems.append(finding(f"{table.name} has no columns"))
    unknown = set(table.partition_keys) - {column.name for column in table.columns}
    if unknown:
        problems.append(
            finding(f"{table.name} is partitioned by {sorted(unknown)}, which are not columns")
        )
    if problems:
        return None, problems
    lake_table = LakeTable(
        name=table.name,
        folder="/".join(option.source for option in identifier if option is not None),
        columns=tuple(columns),
        partition_columns=tuple(table.partition_keys),
        path=table.file.path,
        line=table.line,
        col=table.col,
        display=where,
    )
    return lake_table, []


def _insert(insert: InsertDef) -> Insert:
    query = insert.query
    selects = query.selects if isinstance(query, exp.Query) else []
    items = tuple(_select_item(insert, node) for node in selects)
    return Insert(
        table=insert.target,
        columns=tuple(insert.columns) or None,
        items=items,
        path=insert.file.path,
        line=insert.line,
        col=insert.col,
        display=insert.file.display,
    )


def _select_item(insert: InsertDef, node: exp.Expr) -> SelectItem:
    expression = node.this if isinstance(node, exp.Alias) else node
    text = insert.file.source_of(expression) or expression.sql(dialect=Flink)
    if isinstance(node, exp.Star) or (
        isinstance(node, exp.Column) and isinstance(node.this, exp.Star)
    ):
        name = "*"
    else:
        name = node.alias_or_name or text
    reads = frozenset(column.name for column in expression.find_all(exp.Column) if column.name)
    return SelectItem(name, text, reads)
