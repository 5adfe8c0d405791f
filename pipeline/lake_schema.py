"""The lake contract, read from the Flink DDL, its one home.

A lake table is a ``create table`` in ``flink_sql/tables/`` whose connector is ``filesystem``.
Its columns (names and Flink types, in order), its partition column and its folder under the lake
root (``'path' = '${lake_root}/<folder>'``) are written there; what ``dt`` is the date of is
written in the INSERT of ``flink_sql/jobs/`` that fills the table. pipeline.lake and the test
fixtures read the contract from here; dbt's sources, the staging models and docs/lake.md are
checked equal to it (tests/test_lake_contract.py).

This is a small reader of CREATE TABLE column lists and INSERT select lists on purpose: it needs
names, types and options, not the SQL model the linter builds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from stack.config import REPO_ROOT

SQL_DIR = REPO_ROOT / "flink_sql"
LAKE_ROOT_PLACEHOLDER = "${lake_root}/"

_IDENTIFIER = r"`?([A-Za-z_]\w*)`?"
_CREATE_TABLE = re.compile(
    rf"\bcreate\s+(?:temporary\s+)?table\s+(?:if\s+not\s+exists\s+)?{_IDENTIFIER}\s*\(",
    re.IGNORECASE,
)
_INSERT = re.compile(rf"\binsert\s+into\s+{_IDENTIFIER}\s*", re.IGNORECASE)
_OPTION = re.compile(r"'([^']*)'\s*=\s*'([^']*)'")
_WORD = re.compile(r"[A-Za-z_]\w*")

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


class LakeSchemaError(ValueError):
    """The DDL or a job does not state the lake contract readably; the message starts with
    file:line."""


@dataclass(frozen=True)
class Column:
    name: str
    flink_type: str  # canonical spelling: upper case, e.g. "DECIMAL(12, 2)", "TIMESTAMP(3)"
    line: int

    @property
    def duckdb_type(self) -> str:
        return duckdb_type(self.flink_type)


@dataclass(frozen=True)
class LakeTable:
    name: str  # the Flink table, e.g. "silver_events"
    folder: str  # under the lake root, e.g. "silver/events"
    columns: tuple[Column, ...]  # in DDL order, partition columns included
    partition_columns: tuple[str, ...]
    path: Path
    line: int

    @property
    def stored_columns(self) -> tuple[Column, ...]:
        """The columns inside the Parquet files (partition values live in folder names)."""
        return tuple(c for c in self.columns if c.name not in self.partition_columns)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def location(self) -> str:
        return f"{_display(self.path)}:{self.line}"


@dataclass(frozen=True)
class SelectItem:
    name: str  # the alias, or the column a bare reference reads; "*" for a star
    expression: str


@dataclass(frozen=True)
class Insert:
    """One ``insert into <table> [(<columns>)] select <items> …`` of a job."""

    table: str
    columns: tuple[str, ...] | None  # None: no column list (matched by position)
    items: tuple[SelectItem, ...]
    path: Path
    line: int

    @property
    def location(self) -> str:
        return f"{_display(self.path)}:{self.line}"


# --- reading -------------------------------------------------------------------------------------


@cache
def lake_tables(sql_dir: Path = SQL_DIR) -> dict[str, LakeTable]:
    """Every lake table of ``sql_dir/tables/*.sql``, by Flink table name, in file-name order."""
    tables: dict[str, LakeTable] = {}
    for path in sorted(Path(sql_dir, "tables").glob("*.sql")):
        for table in _read_tables(path):
            if table.name in tables:
                raise LakeSchemaError(f"{table.location}: lake table {table.name} defined twice")
            tables[table.name] = table
    return tables


def by_folder(sql_dir: Path = SQL_DIR) -> dict[str, LakeTable]:
    """The lake tables by folder under the lake root ("silver/events", …)."""
    return {table.folder: table for table in lake_tables(sql_dir).values()}


@cache
def inserts(sql_dir: Path = SQL_DIR) -> tuple[Insert, ...]:
    """Every INSERT of ``sql_dir/jobs/*.sql``, in file and statement order."""
    found: list[Insert] = []
    for path in sorted(Path(sql_dir, "jobs").glob("*.sql")):
        found += _read_inserts(path)
    return tuple(found)


def partition_source(table: LakeTable, sql_dir: Path = SQL_DIR) -> str:
    """The column whose (UTC) date the table's ``dt`` partition holds, as its INSERT computes it:
    the table column the ``dt`` expression reads (``cast(event_date as string)``), or the column
    computed from the same input (``date_format(proc_time, …)`` beside
    ``cast(proc_time as timestamp(3)) as ingested_at``)."""
    (partition,) = table.partition_columns
    writers = [insert for insert in inserts(sql_dir) if insert.table == table.name]
    if len(writers) != 1:
        raise LakeSchemaError(
            f"{table.location}: {table.name} is written by {len(writers)} INSERTs in jobs/, "
            "expected exactly one"
        )
    (insert,) = writers
    named = {item.name: item for item in insert.items}
    if partition not in named:
        raise LakeSchemaError(
            f"{insert.location}: the INSERT into {table.name} names no select item {partition}"
        )
    read = set(_WORD.findall(_mask(named[partition].expression)))
    columns = set(table.column_names) - {partition}
    direct = read & columns
    via_input = {
        item.name
        for item in insert.items
        if item.name in columns and read & set(_WORD.findall(_mask(item.expression)))
    }
    candidates = direct or via_input
    if len(candidates) != 1:
        raise LakeSchemaError(
            f"{insert.location}: cannot tell which column {table.name}.{partition} is the date of"
            f" (candidates: {sorted(candidates) or 'none'})"
        )
    return candidates.pop()


# --- types ---------------------------------------------------------------------------------------


def canonical_type(spelling: str) -> str:
    """One spelling per Flink type: upper case, ``DECIMAL(12, 2)``, ``INT`` for ``INTEGER``."""
    text = re.sub(r"\s+", " ", spelling.strip().upper())
    text = re.sub(r"\s*\(\s*", "(", text)
    text = re.sub(r"\s*\)", ")", text)
    text = re.sub(r"\s*,\s*", ", ", text)
    return "INT" if text == "INTEGER" else text


def duckdb_type(flink_type: str) -> str:
    """The DuckDB type of a Flink column type, spelled as DuckDB's ``typeof`` spells it."""
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
    raise LakeSchemaError(f"no DuckDB type for Flink type {flink_type}")


# --- parsing -------------------------------------------------------------------------------------


def _read_tables(path: Path) -> list[LakeTable]:
    text = path.read_text(encoding="utf-8")
    masked = _mask(text)
    tables = []
    for match in _CREATE_TABLE.finditer(masked):
        name, body_start = match.group(1), match.end()
        body_end = _closing_paren(masked, body_start - 1)
        line = _line(text, match.start())
        rest = masked[body_end + 1 : _statement_end(masked, body_end)]
        rest_start = body_end + 1
        options = _options(text, masked, rest, rest_start)
        if options.get("connector") != "filesystem":
            continue
        folder = options.get("path", "")
        if not folder.startswith(LAKE_ROOT_PLACEHOLDER):
            raise LakeSchemaError(
                f"{_display(path)}:{line}: lake table {name} has 'path' = '{folder}', expected "
                f"'{LAKE_ROOT_PLACEHOLDER}<folder>'"
            )
        columns = _columns(path, text, masked, body_start, body_end, name)
        partitioned = re.match(r"\s*partitioned\s+by\s*\(([^)]*)\)", rest, re.IGNORECASE)
        partition_columns = (
            tuple(part.strip().strip("`") for part in partitioned.group(1).split(","))
            if partitioned
            else ()
        )
        unknown = set(partition_columns) - {column.name for column in columns}
        if unknown:
            raise LakeSchemaError(
                f"{_display(path)}:{line}: {name} is partitioned by {sorted(unknown)}, "
                "which are not columns"
            )
        tables.append(
            LakeTable(
                name=name,
                folder=folder.removeprefix(LAKE_ROOT_PLACEHOLDER).strip("/"),
                columns=columns,
                partition_columns=partition_columns,
                path=path,
                line=line,
            )
        )
    return tables


def _columns(
    path: Path, text: str, masked: str, start: int, end: int, table: str
) -> tuple[Column, ...]:
    columns = []
    for offset, entry in _split_top_level(masked, start, end):
        words = entry.split()
        if not words or words[0].lower() in ("watermark", "primary", "constraint"):
            continue
        line = _line(text, offset)
        name = words[0].strip("`")
        kind = entry[len(words[0]) :].strip()
        if re.match(r"as\b", kind, re.IGNORECASE) or re.search(r"\bmetadata\b", kind, re.I):
            raise LakeSchemaError(
                f"{_display(path)}:{line}: lake table {table} column {name} is computed or "
                "metadata, so it is not stored in the files"
            )
        kind = re.split(r"\s+(?:not\s+null|null|comment)\b", kind, flags=re.IGNORECASE)[0]
        columns.append(Column(name, canonical_type(kind), line))
    if not columns:
        raise LakeSchemaError(f"{_display(path)}:{_line(text, start)}: {table} has no columns")
    return tuple(columns)


def _options(text: str, masked: str, rest: str, rest_start: int) -> dict[str, str]:
    """The WITH options after a column list (``rest`` is the masked text after it)."""
    with_match = re.search(r"\bwith\s*\(", rest, re.IGNORECASE)
    if with_match is None:
        return {}
    open_at = rest_start + with_match.end() - 1
    close_at = _closing_paren(masked, open_at)
    return dict(_OPTION.findall(text[open_at:close_at]))


def _read_inserts(path: Path) -> list[Insert]:
    text = path.read_text(encoding="utf-8")
    masked = _mask(text)
    found = []
    for match in _INSERT.finditer(masked):
        table, position = match.group(1), match.end()
        columns = None
        if masked[position] == "(":
            close_at = _closing_paren(masked, position)
            columns = tuple(
                entry.strip().strip("`")
                for _, entry in _split_top_level(masked, position + 1, close_at)
            )
            position = close_at + 1
        select = re.compile(r"\s*select\b", re.IGNORECASE).match(masked, position)
        if select is None:
            raise LakeSchemaError(
                f"{_display(path)}:{_line(text, match.start())}: INSERT into {table} is not "
                "followed by a select"
            )
        list_end = _top_level_from(masked, select.end())
        items = tuple(
            _select_item(text[offset : offset + len(entry)])
            for offset, entry in _split_top_level(masked, select.end(), list_end)
        )
        found.append(Insert(table, columns, items, path, _line(text, match.start())))
    return found


def _select_item(item: str) -> SelectItem:
    item = item.strip()
    masked = _mask(item)
    aliases = [m for m in re.finditer(r"\bas\s+`?(\w+)`?\s*$", masked, re.IGNORECASE)]
    if aliases and _depth_at(masked, aliases[-1].start()) == 0:
        alias = aliases[-1]
        return SelectItem(alias.group(1), item[: alias.start()].strip())
    bare = re.fullmatch(r"(?:`?\w+`?\.)*`?(\w+|\*)`?", item)
    return SelectItem(bare.group(1) if bare else item, item)


# --- text helpers --------------------------------------------------------------------------------


def _mask(text: str) -> str:
    """``text`` with comments blanked and string literals' contents replaced by ``_``, same
    length, so parentheses, commas and keywords can be found by position."""
    out = list(text)
    index = 0
    while index < len(text):
        if text.startswith("--", index):
            end = text.find("\n", index)
            end = len(text) if end < 0 else end
            out[index:end] = " " * (end - index)
            index = end
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            end = len(text) if end < 0 else end + 2
            out[index:end] = [c if c == "\n" else " " for c in text[index:end]]
            index = end
        elif text[index] == "'":
            end = index + 1
            while end < len(text):
                if text[end] == "'" and text.startswith("''", end):
                    end += 2
                elif text[end] == "'":
                    break
                else:
                    end += 1
            out[index + 1 : end] = "_" * (end - index - 1)
            index = end + 1
        else:
            index += 1
    return "".join(out)


def _closing_paren(masked: str, open_at: int) -> int:
    depth = 0
    for index in range(open_at, len(masked)):
        if masked[index] == "(":
            depth += 1
        elif masked[index] == ")":
            depth -= 1
            if depth == 0:
                return index
    raise LakeSchemaError(f"unbalanced parentheses from offset {open_at}")


def _depth_at(masked: str, position: int) -> int:
    return masked.count("(", 0, position) - masked.count(")", 0, position)


def _split_top_level(masked: str, start: int, end: int) -> list[tuple[int, str]]:
    """The comma-separated entries of ``masked[start:end]`` outside parentheses, each with the
    offset of its first non-blank character."""
    entries, depth, entry_start = [], 0, start
    for index in range(start, end + 1):
        char = masked[index] if index < end else ","
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            entry = masked[entry_start:index]
            if entry.strip():
                leading = len(entry) - len(entry.lstrip())
                entries.append((entry_start + leading, entry.strip()))
            entry_start = index + 1
    return entries


def _top_level_from(masked: str, start: int) -> int:
    depth = 0
    for match in re.finditer(r"[()]|\bfrom\b", masked[start:], re.IGNORECASE):
        token = match.group(0)
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif depth == 0:
            return start + match.start()
    raise LakeSchemaError("a select list without FROM")


def _statement_end(masked: str, start: int) -> int:
    end = masked.find(";", start)
    return len(masked) if end < 0 else end


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
