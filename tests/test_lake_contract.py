"""The lake contract is the Flink DDL (pipeline.lake_schema, read through the one project model).
dbt's sources are checked equal to it by `jobs.py lint` (FL006, sqlcheck.dbt_contract), before
anything deploys; here the repository's sources are run through that rule, and every other
statement of a lake table's columns is checked equal to the DDL, a failure naming the table and
the column that differs: the staging models, docs/lake.md, the jobs' INSERTs (which must name
their columns), the test fixture's files and the oracle's gold rows. pipeline.lake reads the DDL
itself. The last tests change a copy of each file and show the check catches it."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from functools import cache
from pathlib import Path

import duckdb
import oracle
import pytest
from lake_fixture import write_table

from pipeline import lake_reader, lake_schema, lake_writer
from pipeline.lake_schema import LAKE_CATALOG_OPTIONS, LakeSchemaError, LakeTable
from sqlcheck.lint import lint_paths
from stack.config import load_config

REPO = Path(__file__).resolve().parents[1]
SQL_DIR = REPO / "flink_sql"
STAGING_DIR = REPO / "dbt_project" / "models" / "staging"
SOURCES_YML = STAGING_DIR / "__sources.yml"
LAKE_MD = REPO / "docs" / "lake.md"

# Lake columns a staging model does not read, and why.
NOT_READ_BY_STAGING = {
    ("silver_events", "event_date"): "stg_lake__events takes event_date from dt, which prunes",
}

Columns = list[tuple[str, str]]


# --- the checks ----------------------------------------------------------------------------------


def column_differences(
    where: str, table: str, want: Columns, got: Columns, ordered: bool = True
) -> list[str]:
    """One message per column of ``table`` that differs between the DDL (``want``) and ``where``
    (``got``): missing, extra, another type, listed twice, or (``ordered``) out of order."""
    problems = []
    got_types, want_types = dict(got), dict(want)
    for name in {name for name, _ in got if [n for n, _ in got].count(name) > 1}:
        problems.append(f"{where}: {table}.{name} is listed twice")
    for name, kind in want:
        if name not in got_types:
            problems.append(f"{where}: {table}.{name} ({kind} in the DDL) is missing")
        elif got_types[name] != kind:
            problems.append(f"{where}: {table}.{name} is {got_types[name]}, the DDL says {kind}")
    for name, _ in got:
        if name not in want_types:
            problems.append(f"{where}: {table}.{name} is not a column of {table} in the DDL")
    want_order = [name for name, _ in want]
    got_order = [name for name, _ in got]
    if ordered and not problems and want_order != got_order:
        first = next(
            i for i, (a, b) in enumerate(zip(want_order, got_order, strict=True)) if a != b
        )
        problems.append(
            f"{where}: {table}.{got_order[first]} is column {first + 1}, the DDL has "
            f"{want_order[first]} there"
        )
    return problems


def ddl_columns(table: LakeTable) -> Columns:
    return [(column.name, column.flink_type) for column in table.columns]


def _display(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def lint_contract(sql_dir: Path, sources_yml: Path) -> list[str]:
    """The FL006 findings of `jobs.py lint` (sqlcheck.dbt_contract): dbt's source `lake` against
    the DDL, for every lake table."""
    findings = lint_paths([sql_dir], load_config().sql_params("lint"), sources_yml)
    return [str(finding) for finding in findings if finding.rule == "FL006"]


_SOURCE = re.compile(r"source\(\s*'lake'\s*,\s*'(\w+)'\s*\)")
_CAST = re.compile(
    r"\bcast\(\s*(\w+)\s+as\s+(\w+(?:\s*\([\d\s,]*\))?)\s*\)\s+as\s+(\w+)", re.IGNORECASE
)


@cache
def duckdb_spelling(type_name: str) -> str:
    """DuckDB's own name for a type (``integer`` -> INTEGER, ``decimal(12, 2)`` -> DECIMAL(12,2))."""
    with duckdb.connect() as connection:
        return connection.execute(f"select typeof(cast(null as {type_name}))").fetchone()[0]


def staging_differences(tables: dict[str, LakeTable], staging_dir: Path) -> list[str]:
    """One staging model per lake table, reading every column (``cast(<column> as <type>)``) with
    the DuckDB type of its DDL type; the partition column ``dt`` is cast to a date."""
    models: dict[str, list[Path]] = {}
    for path in sorted(staging_dir.glob("stg_*.sql")):
        for name in _SOURCE.findall(path.read_text(encoding="utf-8")):
            models.setdefault(name, []).append(path)
    problems = [
        f"{_display(paths[0])}: reads {name}, which is not a lake table of the DDL"
        for name, paths in models.items()
        if name not in tables
    ]
    for name, table in tables.items():
        paths = models.get(name, [])
        if len(paths) != 1:
            problems.append(
                f"{_display(staging_dir)}: lake table {name} is read by {len(paths)} staging "
                "models, expected one"
            )
            continue
        want = [
            (column.name, "DATE" if column.name in table.partition_columns else column.duckdb_type)
            for column in table.columns
            if (name, column.name) not in NOT_READ_BY_STAGING
        ]
        got = [
            (column, duckdb_spelling(kind))
            for column, kind, _ in _CAST.findall(paths[0].read_text(encoding="utf-8"))
        ]
        problems += column_differences(_display(paths[0]), name, want, got, ordered=False)
    return problems


_HEADING = re.compile(r"^## (.+?)\s*$", re.MULTILINE)  # every section ends at the next heading
_ROW = re.compile(r"^\| *`?(\w+)`? *\| *([^|]*?) *\|(.*)\|\s*$")


def docs_differences(tables: dict[str, LakeTable], lake_md: Path) -> list[str]:
    """docs/lake.md: a section ``## <folder>`` per lake table whose ``| column | type | note |``
    table lists the DDL's columns in order, the partition column's note naming what it is the
    date of."""
    where = _display(lake_md)
    text = lake_md.read_text(encoding="utf-8")
    headings = list(_HEADING.finditer(text))
    sections = {
        heading.group(1): text[heading.end() : following.start() if following else len(text)]
        for heading, following in zip(headings, [*headings[1:], None], strict=True)
        if "/" in heading.group(1)
    }
    by_folder = {table.folder: table for table in tables.values()}
    problems = [
        f"{where}: section {folder} documents no lake table of the DDL"
        for folder in sections
        if folder not in by_folder
    ]
    for folder, table in by_folder.items():
        if folder not in sections:
            problems.append(f"{where}: lake table {table.name} has no section ## {folder}")
            continue
        rows = [_ROW.match(line) for line in sections[folder].splitlines()]
        rows = [row for row in rows if row and row.group(1) != "column"]
        problems += column_differences(
            f"{where} ## {folder}",
            table.name,
            ddl_columns(table),
            [(row.group(1), lake_schema.canonical_type(row.group(2))) for row in rows],
        )
        notes = {row.group(1): row.group(3) for row in rows}
        for partition in table.partition_columns:
            source_column = lake_schema.partition_source(table, table.path.parent.parent)
            if f"`{source_column}`" not in notes.get(partition, ""):
                problems.append(
                    f"{where} ## {folder}: the note on {table.name}.{partition} does not say it "
                    f"is the date of `{source_column}`"
                )
    return problems


def insert_differences(tables: dict[str, LakeTable], sql_dir: Path) -> list[str]:
    """Every INSERT of jobs/ names its target columns, all of the table's in DDL order, and each
    select item is named (alias or column) as the column it fills; one INSERT per lake table."""
    problems = []
    inserts = lake_schema.inserts(sql_dir)
    for insert in inserts:
        if insert.columns is None:
            problems.append(
                f"{insert.location}: the INSERT into {insert.table} names no columns "
                "(they would be matched by position)"
            )
            continue
        if insert.table in tables:
            want = ddl_columns(tables[insert.table])
            problems += column_differences(
                insert.location,
                insert.table,
                want,
                [(name, dict(want).get(name, "?")) for name in insert.columns],
            )
        if len(insert.items) != len(insert.columns):
            problems.append(
                f"{insert.location}: {insert.table}: {len(insert.columns)} columns, "
                f"{len(insert.items)} select items"
            )
            continue
        for column, item in zip(insert.columns, insert.items, strict=True):
            if item.name != column:
                problems.append(
                    f"{insert.location}: {insert.table}.{column} is filled by a select item "
                    f"named {item.name}"
                )
    for name, table in tables.items():
        count = sum(insert.table == name for insert in inserts)
        if count != 1:
            problems.append(f"{table.location}: lake table {name} is written by {count} INSERTs")
    return problems


def report(problems: list[str]) -> str:
    return "the lake contract differs from the Flink DDL:\n" + "\n".join(problems)


# --- the repository's copies ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def tables() -> dict[str, LakeTable]:
    return lake_schema.lake_tables()


def test_the_ddl_declares_the_lake(tables):
    assert {"bronze_events", "silver_events", "silver_order_items"} <= set(tables)
    assert all(table.partition_columns == ("dt",) for table in tables.values())
    silver = tables["silver_events"]
    assert (silver.folder, silver.columns[8].name, silver.columns[8].flink_type) == (
        "silver/events",
        "price",
        "DECIMAL(12, 2)",
    )


def test_dbt_sources_equal_the_ddl():
    problems = lint_contract(SQL_DIR, SOURCES_YML)
    assert not problems, report(problems)


def test_staging_models_read_every_column_as_its_ddl_type(tables):
    problems = staging_differences(tables, STAGING_DIR)
    assert not problems, report(problems)


def test_docs_lake_md_tables_equal_the_ddl(tables):
    problems = docs_differences(tables, LAKE_MD)
    assert not problems, report(problems)


def test_every_insert_names_the_columns_of_its_table(tables):
    problems = insert_differences(tables, SQL_DIR)
    assert not problems, report(problems)


def test_the_fixture_writes_files_with_the_ddl_columns_types_and_field_ids(tables, tmp_path):
    at = datetime(2024, 3, 1, 12, 0)
    for table in tables.values():
        row = {column.name: None for column in table.row_columns}
        row[lake_schema.partition_source(table)] = at
        (written,) = write_table(tmp_path, table.folder, [row])
        assert Path(written).parent.name == "dt=2024-03-01"
        with duckdb.connect() as connection:
            described = connection.execute(
                f"select name, field_id from parquet_schema('{written}') where field_id is not null"
            ).fetchall()
            types = connection.execute(
                f"describe select * from read_parquet('{written}', hive_partitioning = false)"
            ).fetchall()
        # Every column is stored, dt included, with the field id Flink's sink gives it.
        assert described == [
            (column.name, field_id) for field_id, column in enumerate(table.columns, start=1)
        ], table.name
        assert [(name, kind) for name, kind, *_ in types] == [
            (column.name, column.duckdb_type) for column in table.columns
        ], table.name


def test_flink_iceberg_and_duckdb_types_agree_for_every_lake_column(tables):
    for table in tables.values():
        for column in table.columns:
            iceberg = lake_writer.iceberg_type(column.flink_type)
            assert lake_reader.duckdb_type(iceberg) == column.duckdb_type, (table.name, column)


def test_the_oracle_computes_every_gold_table_with_its_columns(tables):
    at = datetime(2024, 3, 1, 12, 0)
    events = [
        {"event_id": "e1", "event_type": "product_view", "event_at": at, "user_id": "u1",
         "product_id": "p1", "category": "c1", "device_type": "mobile"},
        {"event_id": "e2", "event_type": "purchase", "event_at": at, "user_id": "u1",
         "product_id": None, "category": None, "device_type": "mobile"},
    ]  # fmt: skip
    items = [
        {"order_id": "o1", "event_id": "e2", "event_at": at, "product_id": "p1",
         "category": None, "quantity": 1, "line_total": oracle.CENT}
    ]  # fmt: skip
    gold = oracle.expected_gold(events, items, load_config())
    assert set(gold) == {name for name in tables if name.startswith("gold_")}
    for name, rows in gold.items():
        for row in rows:
            assert list(row) == [column.name for column in tables[name].row_columns], name


# --- each check catches a difference -------------------------------------------------------------


@pytest.fixture
def contract_copy(tmp_path) -> Path:
    """flink_sql/, the staging folder and docs/lake.md copied under tmp_path."""
    shutil.copytree(SQL_DIR, tmp_path / "flink_sql")
    shutil.copytree(STAGING_DIR, tmp_path / "staging")
    shutil.copy(LAKE_MD, tmp_path / "lake.md")
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def copied_tables(root: Path) -> dict[str, LakeTable]:
    return lake_schema.lake_tables(root / "flink_sql")


def introduced(before: list[str], after: list[str]) -> list[str]:
    """The problems an edit added: the repository may have others while work is under way, and
    each of these tests is about the one difference it makes."""
    return [problem for problem in after if problem not in before]


def without_location(problems: list[str]) -> list[str]:
    return [re.sub(r"^\S*?: ", "", problem) for problem in problems]


def test_a_ddl_column_nobody_else_has_is_named_by_every_check(contract_copy):
    edit(
        contract_copy / "flink_sql" / "tables" / "gold_bot_suspects.sql",
        "    event_count bigint,\n",
        "    event_count bigint,\n    first_event_at timestamp(3),\n",
    )
    tables = copied_tables(contract_copy)
    missing = "gold_bot_suspects.first_event_at (TIMESTAMP(3) in the DDL) is missing"
    lint = lint_contract(contract_copy / "flink_sql", SOURCES_YML)
    assert any("gold_bot_suspects.first_event_at is missing from dbt source" in p for p in lint)
    assert any(missing in problem for problem in docs_differences(tables, LAKE_MD))
    staging = staging_differences(tables, contract_copy / "staging")
    assert any("gold_bot_suspects.first_event_at (TIMESTAMP in the DDL)" in p for p in staging)
    assert any(
        missing in problem for problem in insert_differences(tables, contract_copy / "flink_sql")
    )


def test_another_type_in_dbt_sources_is_named(contract_copy):
    sources = contract_copy / "staging" / "__sources.yml"
    before = without_location(lint_contract(contract_copy / "flink_sql", sources))
    edit(
        sources,
        "          - name: quantity\n            data_type: INT\n          - name: order_id",
        "          - name: quantity\n            data_type: BIGINT\n          - name: order_id",
    )
    after = lint_contract(contract_copy / "flink_sql", sources)
    (problem,) = [p for p in after if without_location([p])[0] not in before]
    assert "FL006 column silver_events.quantity is INT in the DDL but dbt declares data_type " in (
        problem
    )
    assert problem.startswith(f"{contract_copy / 'flink_sql' / 'tables' / 'silver_events.sql'}:")


def test_swapped_columns_in_docs_are_named(contract_copy, tables):
    lake_md = contract_copy / "lake.md"
    before = docs_differences(tables, lake_md)
    edit(
        lake_md,
        "| order_count | BIGINT | distinct orders |\n| revenue | DECIMAL(12, 2) |",
        "| revenue | DECIMAL(12, 2) |",
    )
    edit(lake_md, "sum of the orders' line totals |\n", "sum of the orders' line totals |\n"
         "| order_count | BIGINT | distinct orders |\n")  # fmt: skip
    assert introduced(before, docs_differences(tables, lake_md)) == [
        f"{lake_md} ## gold/revenue_per_window: gold_revenue_per_window.revenue is column 3, "
        "the DDL has order_count there"
    ]


def test_a_column_the_staging_model_stops_reading_is_named(contract_copy, tables):
    model = contract_copy / "staging" / "stg_lake__quarantine_events.sql"
    before = staging_differences(tables, contract_copy / "staging")
    edit(model, "        cast(reason as varchar) as reason,\n", "")
    assert introduced(before, staging_differences(tables, contract_copy / "staging")) == [
        f"{model}: quarantine_events.reason (VARCHAR in the DDL) is missing"
    ]


def test_select_items_swapped_under_a_column_list_are_named(contract_copy, tables):
    before = without_location(insert_differences(tables, SQL_DIR))
    job = contract_copy / "flink_sql" / "jobs" / "silver_gold.sql"
    # the 1-minute table's INSERT (the rollup table's reads the same two names)
    edit(
        job,
        "    order_count,\n    revenue,\n    cast(cast(window_start as date) as string) as dt\n"
        "from revenue_per_window;",
        "    revenue,\n    order_count,\n    cast(cast(window_start as date) as string) as dt\n"
        "from revenue_per_window;",
    )
    problems = insert_differences(copied_tables(contract_copy), contract_copy / "flink_sql")
    assert introduced(before, without_location(problems)) == [
        "gold_revenue_per_window.order_count is filled by a select item named revenue",
        "gold_revenue_per_window.revenue is filled by a select item named order_count",
    ]


def test_an_insert_without_a_column_list_is_named(contract_copy, tables):
    before = without_location(insert_differences(tables, SQL_DIR))
    job = contract_copy / "flink_sql" / "jobs" / "bronze.sql"
    text = job.read_text(encoding="utf-8")
    job.write_text(
        re.sub(r"insert into bronze_events \([^)]*\)", "insert into bronze_events", text)
    )
    problems = insert_differences(copied_tables(contract_copy), contract_copy / "flink_sql")
    (problem,) = [p for p in problems if without_location([p])[0] not in before]
    assert "the INSERT into bronze_events names no columns" in problem
    assert problem.startswith(f"{job}:")


# --- the DDL reader ------------------------------------------------------------------------------


def iceberg_options(namespace: str, table: str) -> str:
    """A lake table's WITH options: the lake's catalog, then its Iceberg namespace and name."""
    catalog = ", ".join(f"'{key}' = '{value}'" for key, value in LAKE_CATALOG_OPTIONS.items())
    return f"'connector' = 'iceberg', {catalog},\n    'catalog-database' = '{namespace}', 'catalog-table' = '{table}'"


def write_ddl(root: Path, name: str, body: str) -> Path:
    path = root / "tables" / f"{name}.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path


def test_the_reader_takes_names_types_folder_and_partitions_past_comments(tmp_path):
    write_ddl(
        tmp_path,
        "clicks",
        "-- Clicks (a comment, with (parentheses) and 'quotes').\n"
        "create table clicks (\n"
        "    -- why, (this) column\n"
        "    click_id STRING,\n"
        "    amount Decimal( 12 ,2 ) not null,\n"
        "    at timestamp(3) comment 'when, (UTC)',\n"
        "    dt string\n"
        ") partitioned by (dt) with (\n"
        f"    {iceberg_options('clicks', 'all')}\n"
        ");\n",
    )
    write_ddl(
        tmp_path,
        "topic",
        "create table topic (raw bytes, at as proctime()) with ('connector' = 'kafka');\n",
    )
    (table,) = lake_schema.lake_tables(tmp_path).values()
    assert (table.name, table.folder, table.partition_columns, table.line) == (
        "clicks", "clicks/all", ("dt",), 2,
    )  # fmt: skip
    assert [(c.name, c.flink_type, c.duckdb_type, c.line) for c in table.columns] == [
        ("click_id", "STRING", "VARCHAR", 4),
        ("amount", "DECIMAL(12, 2)", "DECIMAL(12,2)", 5),
        ("at", "TIMESTAMP(3)", "TIMESTAMP", 6),
        ("dt", "STRING", "VARCHAR", 7),
    ]
    assert [c.name for c in table.row_columns] == ["click_id", "amount", "at"]


def test_a_computed_lake_column_is_an_error_with_file_and_line(tmp_path):
    path = write_ddl(
        tmp_path,
        "clicks",
        "create table clicks (\n    at timestamp(3),\n    day as cast(at as date)\n) with (\n"
        f"    {iceberg_options('raw', 'clicks')}\n);\n",
    )
    with pytest.raises(
        LakeSchemaError, match=re.escape(f"{path}:3:5 FL006 lake table clicks column day")
    ):
        lake_schema.lake_tables(tmp_path)


def test_a_lake_table_in_another_catalog_is_an_error(tmp_path):
    other = iceberg_options("raw", "clicks").replace("${lake_catalog_uri}", "jdbc:sqlite:/tmp/x.db")
    path = write_ddl(
        tmp_path, "clicks", f"create table clicks (at timestamp(3)) with (\n    {other}\n);\n"
    )
    with pytest.raises(
        LakeSchemaError,
        match=re.escape(
            f"{path}:2:111 FL006 lake table clicks has 'uri' = 'jdbc:sqlite:/tmp/x.db', expected"
            " 'uri' = '${lake_catalog_uri}'"
        ),
    ):
        lake_schema.lake_tables(tmp_path)


def test_a_lake_table_without_its_iceberg_name_is_an_error(tmp_path):
    options = iceberg_options("raw", "clicks").replace(", 'catalog-table' = 'clicks'", "")
    path = write_ddl(
        tmp_path, "clicks", f"create table clicks (at timestamp(3)) with (\n    {options}\n);\n"
    )
    with pytest.raises(
        LakeSchemaError,
        match=re.escape(f"{path}:1:1 FL006 lake table clicks needs 'catalog-table'"),
    ):
        lake_schema.lake_tables(tmp_path)


def test_a_table_that_does_not_parse_is_an_error_and_a_broken_view_is_not_the_contracts(tmp_path):
    write_ddl(
        tmp_path,
        "clicks",
        "create table clicks (at timestamp(3), dt string) partitioned by (dt) with (\n"
        f"    {iceberg_options('raw', 'clicks')}\n);\n",
    )
    view = tmp_path / "views" / "broken.sql"
    view.parent.mkdir()
    view.write_text("create view broken as select from from;\n", encoding="utf-8")
    assert list(lake_schema.lake_tables(tmp_path)) == ["clicks"]

    other = tmp_path / "other"
    path = write_ddl(
        other,
        "clicks",
        "create table clicks (\n    at timestamp(3),\n    dt strin g\n)"
        " with ('connector' = 'filesystem');\n",
    )
    with pytest.raises(LakeSchemaError, match=re.escape(f"{path}:3:14 FL001 ")):
        lake_schema.lake_tables(other)
