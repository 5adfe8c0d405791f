"""FL006: the lake contract (`sqlcheck.lake`) and dbt's source `lake` agree, for every lake table.

Each lake table (an `iceberg` table of `tables/`) is a table of the dbt source `lake` (and no
other is), with its folder as `config.meta.lake_path`, its columns in DDL order, each with the
DDL's `data_type` (one spelling: `sqlcheck.lake.canonical_type`), and the partition column's
description naming, in backticks, the column it is the date of. The lake table's own problems
(a computed column, options naming another catalog, a `dt` whose source its INSERT does not tell)
are FL006 findings too. Each finding points at the line to change: the DDL's when the dbt side
lacks something, the YAML's otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sqlcheck.catalog import Catalog
from sqlcheck.findings import Finding
from sqlcheck.lake import RULE, LakeContractError, canonical_type, inserts, lake_tables
from sqlcheck.lake import partition_source as lake_partition_source

DBT_SOURCE_NAME = "lake"


@dataclass
class DbtColumn:
    name: str
    data_type: str | None
    description: str
    line: int
    col: int


@dataclass
class DbtTable:
    name: str
    lake_path: str | None
    line: int
    col: int
    columns: list[DbtColumn] = field(default_factory=list)


def _mapping_get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value_node
    return None


def _sequence(node: yaml.Node | None) -> list[yaml.Node]:
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _scalar(node: yaml.Node | None) -> str | None:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else None


def dbt_source_tables(path: Path, source: str = DBT_SOURCE_NAME) -> dict[str, DbtTable]:
    """Every table of dbt source `source` in `path`, with YAML positions."""
    root = yaml.compose(path.read_text(encoding="utf-8"))
    tables: dict[str, DbtTable] = {}
    for source_node in _sequence(_mapping_get(root, "sources") if root else None):
        if _scalar(_mapping_get(source_node, "name")) != source:
            continue
        for table_node in _sequence(_mapping_get(source_node, "tables")):
            name_node = _mapping_get(table_node, "name")
            name = _scalar(name_node)
            if not name or name_node is None:
                continue
            meta = _mapping_get(_mapping_get(table_node, "config"), "meta")
            table = DbtTable(
                name,
                _scalar(_mapping_get(meta, "lake_path")),
                name_node.start_mark.line + 1,
                name_node.start_mark.column + 1,
            )
            for column_node in _sequence(_mapping_get(table_node, "columns")):
                column_name_node = _mapping_get(column_node, "name")
                column_name = _scalar(column_name_node)
                if not column_name or column_name_node is None:
                    continue
                mark = column_name_node.start_mark
                table.columns.append(
                    DbtColumn(
                        column_name,
                        _scalar(_mapping_get(column_node, "data_type")),
                        _scalar(_mapping_get(column_node, "description")) or "",
                        mark.line + 1,
                        mark.column + 1,
                    )
                )
            tables[name] = table
    return tables


def rule_dbt_contract(catalog: Catalog, dbt_sources_yml: Path) -> list[Finding]:
    yml = str(dbt_sources_yml)
    try:
        declared = dbt_source_tables(dbt_sources_yml)
    except (OSError, yaml.YAMLError) as error:
        return [Finding(yml, 1, 1, RULE, f"cannot read dbt sources: {error}")]
    tables, findings = lake_tables(catalog)
    all_inserts = inserts(catalog)

    def at_yml(line: int, col: int, message: str) -> Finding:
        return Finding(yml, line, col, RULE, message)

    for dbt_table in declared.values():
        if dbt_table.name not in tables and dbt_table.name not in catalog.tables:
            findings.append(
                at_yml(
                    dbt_table.line,
                    dbt_table.col,
                    f"dbt source '{DBT_SOURCE_NAME}' declares {dbt_table.name}, which is not a"
                    " lake table (an iceberg table of tables/)",
                )
            )
    for name, table in tables.items():
        dbt_table = declared.get(name)
        if dbt_table is None:
            findings.append(
                table.finding(
                    f"lake table {name} is not declared in dbt source '{DBT_SOURCE_NAME}' ({yml})"
                )
            )
            continue
        if dbt_table.lake_path != table.folder:
            findings.append(
                at_yml(
                    dbt_table.line,
                    dbt_table.col,
                    f"{name} has lake_path {dbt_table.lake_path}, the DDL's folder is"
                    f" {table.folder} ({table.location})",
                )
            )
        by_name = {column.name: column for column in dbt_table.columns}
        for column in table.columns:
            dbt_column = by_name.get(column.name)
            if dbt_column is None:
                findings.append(
                    table.finding(
                        f"column {name}.{column.name} is missing from dbt source"
                        f" '{DBT_SOURCE_NAME}' ({yml})",
                        column.line,
                        column.col,
                    )
                )
                continue
            dbt_type = canonical_type(dbt_column.data_type or "")
            if dbt_type != column.flink_type:
                findings.append(
                    table.finding(
                        f"column {name}.{column.name} is {column.flink_type} in the DDL but dbt"
                        f" declares data_type {dbt_column.data_type or '(none)'}"
                        f" ({yml}:{dbt_column.line})",
                        column.line,
                        column.col,
                    )
                )
        ddl_names = [column.name for column in table.columns]
        seen: set[str] = set()
        for dbt_column in dbt_table.columns:
            if dbt_column.name not in ddl_names:
                findings.append(
                    at_yml(
                        dbt_column.line,
                        dbt_column.col,
                        f"dbt declares column {dbt_column.name} for {name}, which the DDL"
                        f" ({table.location}) does not have",
                    )
                )
            elif dbt_column.name in seen:
                findings.append(
                    at_yml(dbt_column.line, dbt_column.col, f"{name}.{dbt_column.name} twice")
                )
            seen.add(dbt_column.name)
        dbt_names = [column.name for column in dbt_table.columns]
        if sorted(dbt_names) == sorted(ddl_names) and dbt_names != ddl_names:
            index = next(
                i for i, (a, b) in enumerate(zip(ddl_names, dbt_names, strict=True)) if a != b
            )
            moved = dbt_table.columns[index]
            findings.append(
                at_yml(
                    moved.line,
                    moved.col,
                    f"{name}.{moved.name} is column {index + 1}, the DDL has"
                    f" {ddl_names[index]} there",
                )
            )
        for partition in table.partition_columns:
            try:
                source_column = lake_partition_source(table, all_inserts)
            except LakeContractError as error:
                findings += error.findings
                continue
            dbt_column = by_name.get(partition)
            if dbt_column is not None and f"`{source_column}`" not in dbt_column.description:
                findings.append(
                    at_yml(
                        dbt_column.line,
                        dbt_column.col,
                        f"the description of {name}.{partition} does not say it is the date of"
                        f" `{source_column}` (the column its INSERT computes it from)",
                    )
                )
    return findings
