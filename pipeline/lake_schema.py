"""The lake contract of a Flink SQL project, for the Python readers and the test fixtures.

The contract is the Flink DDL, read through the one project model (`sqlcheck.project`,
`sqlcheck.catalog`) by `sqlcheck.lake`: a lake table is a `create table` in `flink_sql/tables/`
whose connector is `iceberg`, with its columns (names and Flink types, in order), its partition
column, its Iceberg identifier (`silver.events`, kept in the folder `silver/events`), and what
`dt` is the date of, from the INSERT of `flink_sql/jobs/` that fills it. pipeline.lake and the
test fixtures read it from here; `jobs.py lint` checks dbt's sources against it (FL006) and
tests/test_lake_contract.py the staging models and docs/lake.md.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from sqlcheck.catalog import Catalog, build_catalog, parse_all
from sqlcheck.lake import (
    LAKE_CATALOG_OPTIONS,
    Column,
    Insert,
    LakeTable,
    SelectItem,
    canonical_type,
    duckdb_type,
)
from sqlcheck.lake import LakeContractError as LakeSchemaError
from sqlcheck.lake import inserts as _inserts
from sqlcheck.lake import lake_tables as _lake_tables
from sqlcheck.lake import partition_source as _partition_source
from sqlcheck.project import JOBS, load_project
from stack.config import REPO_ROOT, load_config

SQL_DIR = REPO_ROOT / "flink_sql"

__all__ = [
    "LAKE_CATALOG_OPTIONS",
    "SQL_DIR",
    "Column",
    "Insert",
    "LakeSchemaError",
    "LakeTable",
    "SelectItem",
    "by_folder",
    "canonical_type",
    "duckdb_type",
    "inserts",
    "lake_tables",
    "partition_source",
]


def _catalog(sql_dir: Path) -> Catalog:
    """The parsed project; raises LakeSchemaError with the findings of the tables/ and jobs/
    files that do not load or parse (what views say is not part of the contract). Placeholders
    are rendered with the configured values, which the contract does not depend on: the lake
    folder is read as written."""
    project = load_project(Path(sql_dir), load_config().sql_params("lake"))
    stated_in = {file.display for file in project.files if file.folder in ("tables", JOBS)}
    problems = [
        finding for finding in [*project.problems, *parse_all(project)] if finding.path in stated_in
    ]
    if problems:
        raise LakeSchemaError.of(problems)
    return build_catalog(project)


@cache
def lake_tables(sql_dir: Path = SQL_DIR) -> dict[str, LakeTable]:
    """Every lake table of ``sql_dir/tables/*.sql``, by Flink table name, in file-name order
    (read once per process: the repository's SQL does not change under a reader)."""
    return read_lake_tables(sql_dir)


def read_lake_tables(sql_dir: Path) -> dict[str, LakeTable]:
    """The same, read now: for a deploy, which must see the files as they are."""
    tables, problems = _lake_tables(_catalog(Path(sql_dir)))
    if problems:
        raise LakeSchemaError.of(problems)
    return tables


def by_folder(sql_dir: Path = SQL_DIR) -> dict[str, LakeTable]:
    """The lake tables by folder under the lake root ("silver/events", ...)."""
    return {table.folder: table for table in lake_tables(sql_dir).values()}


def inserts(sql_dir: Path = SQL_DIR) -> tuple[Insert, ...]:
    """Every INSERT of ``sql_dir/jobs/*.sql``, in file and statement order."""
    return _inserts(_catalog(Path(sql_dir)))


def partition_source(table: LakeTable, sql_dir: Path = SQL_DIR) -> str:
    """The column whose (UTC) date the table's ``dt`` partition holds, as its INSERT computes it
    (see `sqlcheck.lake.partition_source`)."""
    return _partition_source(table, inserts(sql_dir))
