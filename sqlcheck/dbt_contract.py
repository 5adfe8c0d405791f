"""FL006: a gold table (`tables/gold_*.sql`) and the dbt source `lake` table of the same name must
agree on column names and declared types (read from the dbt sources YAML, with positions)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlglot import exp

from sqlcheck.catalog import Catalog
from sqlcheck.dialect import Flink
from sqlcheck.findings import Finding

DBT_SOURCE_NAME = "lake"
GOLD_PREFIX = "gold_"


@dataclass
class DbtColumn:
    name: str
    data_type: str | None
    line: int
    col: int


def _mapping_get(node: yaml.Node, key: str) -> yaml.Node | None:
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


def dbt_source_tables(path: Path, source: str = DBT_SOURCE_NAME) -> dict[str, list[DbtColumn]]:
    """Columns (with yaml positions) of every table of dbt source ``source`` in ``path``."""
    root = yaml.compose(path.read_text(encoding="utf-8"))
    tables: dict[str, list[DbtColumn]] = {}
    for source_node in _sequence(_mapping_get(root, "sources") if root else None):
        if _scalar(_mapping_get(source_node, "name")) != source:
            continue
        for table_node in _sequence(_mapping_get(source_node, "tables")):
            name = _scalar(_mapping_get(table_node, "name"))
            if not name:
                continue
            columns = []
            for column_node in _sequence(_mapping_get(table_node, "columns")):
                name_node = _mapping_get(column_node, "name")
                column_name = _scalar(name_node)
                if not column_name or name_node is None:
                    continue
                mark = name_node.start_mark
                columns.append(
                    DbtColumn(
                        column_name,
                        _scalar(_mapping_get(column_node, "data_type")),
                        mark.line + 1,
                        mark.column + 1,
                    )
                )
            tables[name] = columns
    return tables


# spellings (DuckDB/Postgres) whose meaning differs between dialects or that Flink lacks
_TYPE_ALIASES = {
    "INT1": "TINYINT",
    "INT2": "SMALLINT",
    "INT4": "INT",
    "INT8": "BIGINT",
    "LONG": "BIGINT",
    "FLOAT4": "FLOAT",
    "FLOAT8": "DOUBLE",
    "BOOL": "BOOLEAN",
}

_TYPE_GROUPS: dict[exp.DType, str] = {
    exp.DType.TEXT: "STRING",
    exp.DType.VARCHAR: "STRING",
    exp.DType.NVARCHAR: "STRING",
    exp.DType.CHAR: "STRING",
    exp.DType.NCHAR: "STRING",
    exp.DType.INT: "INT",
    exp.DType.BIGINT: "BIGINT",
    exp.DType.SMALLINT: "SMALLINT",
    exp.DType.TINYINT: "TINYINT",
    exp.DType.DOUBLE: "DOUBLE",
    exp.DType.FLOAT: "FLOAT",
    exp.DType.DECIMAL: "DECIMAL",
    exp.DType.BOOLEAN: "BOOLEAN",
    exp.DType.DATE: "DATE",
    exp.DType.TIMESTAMP: "TIMESTAMP",
    exp.DType.DATETIME: "TIMESTAMP",
    exp.DType.TIMESTAMPNTZ: "TIMESTAMP",
    exp.DType.TIMESTAMPLTZ: "TIMESTAMP_LTZ",
    exp.DType.TIMESTAMPTZ: "TIMESTAMP_LTZ",
}


def normalize_type(data_type: exp.DataType | str | None) -> str | None:
    """A comparable spelling: STRING/VARCHAR -> STRING, TIMESTAMP(3) -> TIMESTAMP,
    INTEGER -> INT, NUMERIC(12,2) -> DECIMAL(12,2), ... None when unknown/unparseable."""
    if data_type is None:
        return None
    if isinstance(data_type, str):
        text = data_type.strip()
        if not text:
            return None
        head, _, rest = text.partition("(")
        alias = _TYPE_ALIASES.get(head.strip().upper())
        if alias:
            text = f"{alias}({rest}" if rest else alias
        parsed = None
        for dialect in (Flink, "duckdb"):
            try:
                parsed = exp.DataType.build(text, dialect=dialect)
                break
            except Exception:  # any unparseable spelling falls through
                continue
        if parsed is None:
            return re.sub(r"\s+", "", text.upper())
        data_type = parsed
    kind = data_type.this
    if not isinstance(kind, exp.DType):
        return data_type.sql(dialect=Flink).upper()
    group = _TYPE_GROUPS.get(kind)
    if group is None:
        return re.sub(r"\s+", "", data_type.sql(dialect=Flink).upper())
    if group == "DECIMAL":
        params = [p.name for p in data_type.expressions]
        return f"DECIMAL({','.join(params)})" if params else "DECIMAL"
    return group


def _types_agree(flink: str | None, dbt: str | None) -> bool:
    if flink is None or dbt is None:
        return True
    if flink == dbt:
        return True
    # DECIMAL without precision on one side: accept any precision on the other
    return (flink.startswith("DECIMAL") and dbt == "DECIMAL") or (
        dbt.startswith("DECIMAL") and flink == "DECIMAL"
    )


def rule_gold_contract(catalog: Catalog, dbt_sources_yml: Path) -> list[Finding]:
    findings: list[Finding] = []
    try:
        declared = dbt_source_tables(dbt_sources_yml)
    except (OSError, yaml.YAMLError) as error:
        return [Finding(str(dbt_sources_yml), 1, 1, "FL006", f"cannot read dbt sources: {error}")]
    yml = str(dbt_sources_yml)
    for table in catalog.tables.values():
        if table.file.folder != "tables" or not table.name.startswith(GOLD_PREFIX):
            continue
        dbt_columns = declared.get(table.name)
        if dbt_columns is None:
            findings.append(
                Finding(
                    table.file.display,
                    table.line,
                    table.col,
                    "FL006",
                    f"gold table {table.name} is not declared in dbt source '{DBT_SOURCE_NAME}'"
                    f" ({yml})",
                )
            )
            continue
        flink_columns = [c for c in table.columns if not c.computed and not c.metadata]
        by_name = {c.name: c for c in dbt_columns}
        flink_names = {c.name for c in flink_columns}
        for column in flink_columns:
            dbt_column = by_name.get(column.name)
            if dbt_column is None:
                findings.append(
                    Finding(
                        table.file.display,
                        column.line,
                        column.col,
                        "FL006",
                        f"column {column.name} of {table.name} is missing from dbt source"
                        f" '{DBT_SOURCE_NAME}' table {table.name} ({yml})",
                    )
                )
                continue
            flink_type = normalize_type(column.kind)
            dbt_type = normalize_type(dbt_column.data_type)
            if not _types_agree(flink_type, dbt_type):
                findings.append(
                    Finding(
                        table.file.display,
                        column.line,
                        column.col,
                        "FL006",
                        f"column {column.name} of {table.name} is"
                        f" {column.kind.sql(dialect=Flink) if column.kind else '?'} in Flink but dbt"
                        f" declares data_type {dbt_column.data_type} ({yml}:{dbt_column.line})",
                    )
                )
        for dbt_column in dbt_columns:
            if dbt_column.name not in flink_names:
                findings.append(
                    Finding(
                        yml,
                        dbt_column.line,
                        dbt_column.col,
                        "FL006",
                        f"dbt declares column {dbt_column.name} for {table.name}, which the Flink"
                        f" table ({table.file.display}:{table.line}) does not have",
                    )
                )
    return findings
