"""Column-level lineage from sink columns back to source (payload) columns.

``column_lineage("gold_revenue_per_window.revenue", project)`` finds the INSERT that writes the
table, maps the column to its SELECT item (by the INSERT's column list, or by position in the
sink's physical columns when it has none), expands the views the query reads, and walks sqlglot's lineage down to the source tables' columns. Window TVFs are
treated as their input table (``window_start``/``window_end``/``window_time`` become leaves).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.lineage import Node, lineage

from sqlcheck.catalog import Catalog, build_catalog, parse_all
from sqlcheck.dialect import Flink, WindowTVF
from sqlcheck.findings import format_findings
from sqlcheck.project import Project

WINDOW_COLUMNS = {"window_start", "window_end", "window_time"}


@dataclass
class LineageNode:
    """One step of a column's lineage: ``name`` (relation.column), the SQL computing it."""

    name: str
    expression: str
    children: list[LineageNode] = field(default_factory=list)

    def leaves(self) -> list[LineageNode]:
        if not self.children:
            return [self]
        return [leaf for child in self.children for leaf in child.leaves()]

    def render(self, indent: str = "") -> str:
        """An indented tree, one node per line: ``name  <- expression``."""
        line = f"{indent}{self.name}"
        if self.expression and self.expression != self.name.split(".")[-1]:
            line += f"  <- {self.expression}"
        rows = [line]
        rows += [child.render(indent + "  ") for child in self.children]
        return "\n".join(rows)

    def __str__(self) -> str:
        return self.render()


def _without_window_tvfs(query: exp.Expr) -> exp.Expr:
    """``FROM TABLE(TUMBLE(TABLE t, ...))`` -> ``FROM t`` (for scope analysis)."""
    query = query.copy()
    for tvf in list(query.find_all(WindowTVF)):
        wrapper = tvf.find_ancestor(exp.Table)
        source = tvf.table
        if wrapper is None or source is None:
            continue
        replacement = exp.Table(this=source.this.copy(), db=source.args.get("db"))
        if wrapper.args.get("alias"):
            replacement.set("alias", wrapper.args["alias"].copy())
        wrapper.replace(replacement)
    return query


def _schema(catalog: Catalog) -> dict[str, dict[str, str]]:
    schema: dict[str, dict[str, str]] = {}
    for table in catalog.tables.values():
        columns = {
            c.name: (c.kind.sql(dialect=Flink) if c.kind else "STRING") for c in table.columns
        }
        # a window TVF adds these to its input; declare them so they resolve as leaves
        schema[table.name] = {**columns, **dict.fromkeys(WINDOW_COLUMNS, "TIMESTAMP(3)")}
    return schema


def _convert(node: Node, seen: set[int] | None = None) -> list[LineageNode]:
    """sqlglot's node as our node; unnamed intermediate subqueries (``_0.x``) are spliced out."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return []
    seen.add(id(node))
    children = [c for child in node.downstream for c in _convert(child, seen)]
    expression = node.expression
    if isinstance(expression, exp.Alias):
        expression = expression.this
    column = node.name.split(".")[-1]
    if isinstance(expression, exp.Table):
        # a leaf: a column of a source table (named by table, not alias)
        return [LineageNode(name=f"{expression.name}.{column}", expression="", children=children)]
    relation = node.name.rsplit(".", 1)[0] if "." in node.name else ""
    if relation.startswith("_") and children:
        return children
    return [LineageNode(node.name, expression.sql(dialect=Flink), children)]


def column_lineage(column: str, project: Project) -> LineageNode:
    """Lineage of ``table.column`` (a sink column) through the project's INSERTs and views.

    Raises ``KeyError`` when no INSERT writes the table or the column is unknown, ``ValueError``
    when the project does not load or parse.
    """
    table_name, _, column_name = column.partition(".")
    if not column_name:
        raise ValueError(f"expected table.column, got {column!r}")
    problems = project.problems + parse_all(project)
    if problems:
        raise ValueError(format_findings(problems))
    catalog = build_catalog(project)
    inserts = [i for i in catalog.inserts if i.target == table_name]
    if not inserts:
        raise KeyError(f"no INSERT INTO {table_name} in {project.root}")
    table = catalog.tables.get(table_name)
    sources = {name: _without_window_tvfs(view.query) for name, view in catalog.views.items()}
    schema = _schema(catalog)
    roots = []
    for insert in inserts:
        query = _without_window_tvfs(insert.query)
        if not isinstance(query, exp.Query):
            continue
        output = _output_name(query, table, column_name, insert.columns)
        try:
            node = lineage(output, query, schema=schema, sources=sources, dialect=Flink)
        except SqlglotError as error:
            raise ValueError(f"lineage of {column} failed: {error}") from error
        converted = _convert(node)[0]
        converted.name = f"{table_name}.{column_name}"
        roots.append(converted)
    if len(roots) == 1:
        return roots[0]
    return LineageNode(name=f"{table_name}.{column_name}", expression="", children=roots)


def _output_name(query: exp.Query, table, column_name: str, named: list[str]) -> str:
    """The SELECT output feeding ``column_name``: by position in the INSERT's column list, or in
    the sink's physical columns."""
    selects = query.selects
    if named:
        if column_name not in named:
            raise KeyError(f"the INSERT INTO {table.name if table else '?'} names no {column_name}")
        position = named.index(column_name)
        if position < len(selects) and not any(s.is_star for s in selects):
            return selects[position].alias_or_name
    elif table is not None:
        physical = [c.name for c in table.columns if not c.computed and not c.metadata]
        if column_name not in physical:
            raise KeyError(f"{table.name} has no column {column_name}")
        position = physical.index(column_name)
        if position < len(selects) and not any(s.is_star for s in selects):
            return selects[position].alias_or_name
    if any(select.is_star for select in selects):
        return column_name  # `SELECT * FROM view`: the view's columns carry the sink's names
    for select in selects:
        if select.alias_or_name == column_name:
            return column_name
    raise KeyError(f"cannot map {column_name} to an output of the INSERT query")


__all__ = ["LineageNode", "column_lineage"]
