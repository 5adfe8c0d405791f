"""Lint our Flink SQL files (``flink_sql/{tables,views,jobs}/*.sql``).

Rules (``Finding.rule``):

- FL001 syntax: a statement does not parse (raw text, and rendered text when params are given),
  or parses only as an opaque command.
- FL002 watermark: a Kafka source table (``'connector' = 'kafka'``, read by a query or never
  written) declares no ``WATERMARK``.
- FL003 dedup-ttl: a ``ROW_NUMBER() ... WHERE row_num = 1`` deduplication reached by a job (in the
  job itself or through the views it reads, transitively) whose job file does not
  ``SET 'table.exec.state.ttl'`` to a non-zero value. Reported at the ``ROW_NUMBER`` call.
- FL004 append-only sink: an ``INSERT`` into a ``'connector' = 'filesystem'`` table whose query
  (including the views it reads) is updating: a regular aggregation (``GROUP BY`` not over a
  window TVF's ``window_start, window_end``; also global aggregates and ``SELECT DISTINCT``), a
  top-N (``row_num <= N``, ``< N``, ``= N>1``, or a keep-last-row ``ORDER BY ... DESC`` dedup), or
  an outer join that is not an interval, temporal, window or lateral join. Reported at INSERT.
- FL005 hard-coded connector option: ``properties.bootstrap.servers``, ``topic``,
  ``topic-pattern`` and ``path`` must contain a ``${...}`` placeholder; any other option
  (``scan.startup.*`` included) whose value looks like a host:port, URI or absolute path must too.
- FL006 dbt contract: a gold table (``CREATE TABLE gold_*`` in a ``tables/`` folder) and the dbt
  source ``lake`` table of the same name disagree on column names or declared types.
- FL007 placeholder: a ``${name}`` with no value in ``params`` (only when params are given).
- FL008 layout (warning): a file does not follow the one-statement-per-file conventions.
- FL009 reference (warning): a query reads or writes a table/view defined in none of the files.

Errors make ``main`` exit non-zero; warnings do not.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlglot import exp

from sqlcheck.dialect import (
    PLACEHOLDER_RE,
    ExecuteStatement,
    Flink,
    MetadataColumnConstraint,
    Statement,
    StatementSet,
    WindowTVF,
    offset_to_line_col,
    parse_sql_collecting,
    placeholders,
)

ERROR = "error"
WARNING = "warning"

RULES: dict[str, str] = {
    "FL001": "syntax error",
    "FL002": "Kafka source without watermark",
    "FL003": "deduplication without state TTL",
    "FL004": "updating query into an append-only filesystem sink",
    "FL005": "hard-coded connector option",
    "FL006": "gold table disagrees with the dbt source declaration",
    "FL007": "unknown placeholder",
    "FL008": "file layout convention",
    "FL009": "unknown table or view",
}

TTL_KEY = "table.exec.state.ttl"
TEMPLATED_OPTIONS = ("properties.bootstrap.servers", "topic", "topic-pattern", "path")
DBT_SOURCE_NAME = "lake"
GOLD_PREFIX = "gold_"


@dataclass(frozen=True, order=True)
class Finding:
    """One lint result; ``str(finding)`` is ``file:line:col rule message``."""

    path: str
    line: int
    col: int
    rule: str
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col} {self.rule} {self.message}"


# --------------------------------------------------------------------------------------------
# The model of a set of files
# --------------------------------------------------------------------------------------------


@dataclass
class SqlFile:
    path: Path
    display: str
    text: str
    statements: list[Statement] = field(default_factory=list)
    parsed: bool = True  # False when some statement did not parse

    @property
    def folder(self) -> str:
        return self.path.parent.name

    def pos(self, node: exp.Expr, default: Statement | None = None) -> tuple[int, int]:
        return node_position(node, self.text, default)


@dataclass
class Column:
    name: str
    kind: exp.DataType | None
    line: int
    col: int
    computed: bool = False
    metadata: bool = False


@dataclass
class Option:
    key: str
    value: str
    line: int
    col: int


@dataclass
class TableDef:
    name: str
    file: SqlFile
    line: int
    col: int
    columns: list[Column]
    options: dict[str, Option]
    watermark: bool

    @property
    def connector(self) -> str:
        option = self.options.get("connector")
        return option.value.strip().lower() if option else ""


@dataclass
class ViewDef:
    name: str
    file: SqlFile
    line: int
    col: int
    query: exp.Expr


@dataclass
class InsertDef:
    target: str
    file: SqlFile
    line: int
    col: int
    query: exp.Expr


@dataclass
class JobFile:
    file: SqlFile
    settings: dict[str, Option]
    inserts: list[InsertDef]


@dataclass
class Catalog:
    files: list[SqlFile] = field(default_factory=list)
    tables: dict[str, TableDef] = field(default_factory=dict)
    views: dict[str, ViewDef] = field(default_factory=dict)
    inserts: list[InsertDef] = field(default_factory=list)
    jobs: list[JobFile] = field(default_factory=list)


def node_position(node: exp.Expr, text: str, default: Statement | None = None) -> tuple[int, int]:
    """1-based (line, col) of the earliest token recorded in ``node``'s subtree."""
    best = None
    for sub in node.walk():
        meta = sub._meta
        if meta and "start" in meta and (best is None or meta["start"] < best):
            best = meta["start"]
    if best is None:
        return (default.line, default.col) if default else (1, 1)
    return offset_to_line_col(text, best)


def relation_name(table: exp.Expr) -> str | None:
    """The unqualified name of a table reference, or None for table functions etc."""
    if isinstance(table, exp.Table) and isinstance(table.this, exp.Identifier):
        return table.this.name
    return None


def option_text(value: exp.Expr | None) -> str:
    if isinstance(value, exp.Literal):
        return value.name
    return value.sql(dialect=Flink) if isinstance(value, exp.Expr) else ""


def _collect_options(file: SqlFile, create: exp.Create) -> dict[str, Option]:
    options: dict[str, Option] = {}
    properties = create.args.get("properties")
    for prop in properties.expressions if properties else []:
        if prop.__class__ is not exp.Property:
            continue
        key = prop.this
        key_text = key.name if isinstance(key, exp.Literal) else key.sql(dialect=Flink)
        line, col = file.pos(prop)
        options[key_text] = Option(key_text, option_text(prop.args.get("value")), line, col)
    return options


def _collect_columns(file: SqlFile, schema: exp.Expr) -> tuple[list[Column], bool]:
    columns: list[Column] = []
    watermark = False
    for item in schema.expressions:
        if isinstance(item, exp.WatermarkColumnConstraint):
            watermark = True
            continue
        if not isinstance(item, exp.ColumnDef):
            continue
        kinds = [c.args.get("kind") for c in item.args.get("constraints") or []]
        line, col = file.pos(item.this)
        columns.append(
            Column(
                name=item.name,
                kind=item.args.get("kind"),
                line=line,
                col=col,
                computed=any(isinstance(k, exp.ComputedColumnConstraint) for k in kinds),
                metadata=any(isinstance(k, MetadataColumnConstraint) for k in kinds),
            )
        )
    return columns, watermark


def _settings(file: SqlFile, statement: Statement) -> dict[str, Option]:
    found: dict[str, Option] = {}
    for item in statement.expression.expressions:
        assignment = item.this if isinstance(item, exp.SetItem) else None
        if not isinstance(assignment, exp.EQ):
            continue
        key = option_text(assignment.this)
        line, col = file.pos(assignment, statement)
        found[key] = Option(key, option_text(assignment.expression), line, col)
    return found


def build_catalog(files: Sequence[SqlFile]) -> tuple[Catalog, list[Finding]]:
    """Index tables, views, inserts and jobs; also the layout findings (FL008)."""
    catalog = Catalog(files=list(files))
    findings: list[Finding] = []

    def layout(file: SqlFile, statement: Statement | None, message: str) -> None:
        line, col = (statement.line, statement.col) if statement else (1, 1)
        findings.append(Finding(file.display, line, col, "FL008", message, WARNING))

    for file in files:
        creates_table = creates_view = 0
        job_settings: dict[str, Option] = {}
        job_inserts: list[InsertDef] = []
        statement_sets = 0
        for statement in file.statements:
            tree = statement.expression
            if isinstance(tree, exp.Create) and tree.kind == "TABLE":
                creates_table += 1
                schema = tree.this
                table = schema.this if isinstance(schema, exp.Schema) else schema
                name = relation_name(table) or table.sql(dialect=Flink)
                columns, watermark = (
                    _collect_columns(file, schema)
                    if isinstance(schema, exp.Schema)
                    else ([], False)
                )
                line, col = file.pos(tree, statement)
                catalog.tables[name] = TableDef(
                    name, file, line, col, columns, _collect_options(file, tree), watermark
                )
            elif isinstance(tree, exp.Create) and tree.kind == "VIEW":
                creates_view += 1
                view = tree.this
                name = relation_name(view) or view.sql(dialect=Flink)
                line, col = file.pos(tree, statement)
                query = tree.expression
                if query is not None:
                    catalog.views[name] = ViewDef(name, file, line, col, query)
            elif isinstance(tree, exp.Set):
                job_settings.update(_settings(file, statement))
            elif isinstance(tree, (StatementSet, ExecuteStatement, exp.Insert)):
                statement_sets += isinstance(tree, StatementSet)
                inserts = (
                    [tree] if isinstance(tree, exp.Insert) else list(tree.find_all(exp.Insert))
                )
                for insert in inserts:
                    target = insert.this
                    if isinstance(target, exp.Schema):
                        target = target.this
                    name = relation_name(target) or target.sql(dialect=Flink)
                    line, col = file.pos(insert, statement)
                    job_inserts.append(
                        InsertDef(name, file, line, col, insert.expression or exp.Null())
                    )

        if not file.parsed:
            pass  # layout is unknown when part of the file did not parse
        elif file.folder == "tables" and (creates_table != 1 or len(file.statements) != 1):
            layout(file, None, "a file in tables/ should hold exactly one CREATE TABLE")
        elif file.folder == "views" and (creates_view != 1 or len(file.statements) != 1):
            layout(file, None, "a file in views/ should hold exactly one CREATE TEMPORARY VIEW")
        elif file.folder == "jobs" and (statement_sets != 1 or creates_table or creates_view):
            layout(
                file,
                None,
                "a file in jobs/ should hold SET lines and one EXECUTE STATEMENT SET",
            )
        catalog.inserts.extend(job_inserts)
        if job_inserts or job_settings or file.folder == "jobs":
            catalog.jobs.append(JobFile(file, job_settings, job_inserts))
    return catalog, findings


# --------------------------------------------------------------------------------------------
# Query analysis
# --------------------------------------------------------------------------------------------


def cte_names(query: exp.Expr) -> set[str]:
    return {cte.alias_or_name for cte in query.find_all(exp.CTE)}


def read_relations(query: exp.Expr) -> list[exp.Table]:
    """Table references read by ``query`` (CTE names excluded)."""
    local = cte_names(query)
    return [
        table
        for table in query.find_all(exp.Table)
        if relation_name(table) and relation_name(table) not in local
    ]


def views_reached(query: exp.Expr, catalog: Catalog, seen: set[str] | None = None) -> list[ViewDef]:
    """Views read by ``query``, transitively, each once, in discovery order."""
    seen = set() if seen is None else seen
    reached: list[ViewDef] = []
    for table in read_relations(query):
        name = relation_name(table)
        view = catalog.views.get(name or "")
        if view is None or view.name in seen:
            continue
        seen.add(view.name)
        reached.append(view)
        reached.extend(views_reached(view.query, catalog, seen))
    return reached


@dataclass(frozen=True)
class RankFilter:
    """A ROW_NUMBER() projection and how the enclosing query filters on it."""

    row_number: exp.Expr  # the RowNumber call
    window: exp.Window
    kind: str  # "dedup", "dedup-last", "top-n", "window-top-n", "unfiltered"
    detail: str


def _single_literal_int(node: exp.Expr | None) -> int | None:
    if isinstance(node, exp.Literal) and node.is_int:
        return int(node.name)
    return None


def _column_names(nodes: Iterable[exp.Expr]) -> set[str]:
    return {n.name for n in nodes if isinstance(n, exp.Column)}


def _filter_on(condition: exp.Expr | None, alias: str) -> list[exp.Expr]:
    """Predicates in a WHERE (AND-ed) that compare the column ``alias`` with something."""
    if condition is None:
        return []
    found = []
    for predicate in condition.find_all(
        exp.EQ, exp.LT, exp.LTE, exp.GT, exp.GTE, exp.Between, exp.In
    ):
        if any(
            isinstance(side, exp.Column) and side.name == alias
            for side in (predicate.this, predicate.args.get("expression"))
        ):
            found.append(predicate)
    return found


def rank_filters(query: exp.Expr) -> list[RankFilter]:
    """ROW_NUMBER() projections in ``query`` and the filters applied to them by the outer query."""
    results: list[RankFilter] = []
    for row_number in query.find_all(exp.RowNumber):
        window = row_number.parent
        if not isinstance(window, exp.Window):
            continue
        alias_node = window.parent
        alias = alias_node.alias if isinstance(alias_node, exp.Alias) else ""
        inner = window.find_ancestor(exp.Select)
        outer = _outer_select(inner) if inner is not None else None
        partition = _column_names(window.args.get("partition_by") or [])
        order = window.args.get("order")
        descending = bool(order and any(o.args.get("desc") for o in order.expressions))
        predicates = _filter_on(outer.args.get("where") if outer else None, alias)
        if not alias or not predicates:
            results.append(RankFilter(row_number, window, "unfiltered", "no filter on the rank"))
            continue
        if {"window_start", "window_end"} <= partition:
            results.append(
                RankFilter(row_number, window, "window-top-n", "per-window rank (append-only)")
            )
            continue
        is_dedup = False
        detail = ""
        for predicate in predicates:
            value = _single_literal_int(predicate.args.get("expression"))
            if isinstance(predicate, exp.EQ) and value == 1:
                is_dedup = True
            else:
                detail = predicate.sql(dialect=Flink)
        if detail:
            results.append(RankFilter(row_number, window, "top-n", f"top-N filter {detail}"))
        elif is_dedup and descending:
            results.append(
                RankFilter(row_number, window, "dedup-last", "keep-last-row deduplication (DESC)")
            )
        elif is_dedup:
            results.append(RankFilter(row_number, window, "dedup", f"{alias} = 1 deduplication"))
    return results


def _outer_select(inner: exp.Select) -> exp.Select | None:
    """The SELECT that reads ``inner`` as a subquery in FROM (or via a CTE)."""
    node: exp.Expr | None = inner
    while node is not None and isinstance(node.parent, (exp.Subquery, exp.Union)):
        node = node.parent
    parent = node.parent if node is not None else None
    if isinstance(parent, exp.From):
        select = parent.parent
        return select if isinstance(select, exp.Select) else None
    if isinstance(parent, exp.CTE):
        name = parent.alias_or_name
        with_ = parent.parent
        query = with_.parent if with_ is not None else None
        if isinstance(query, exp.Select):
            for table in query.find_all(exp.Table):
                if relation_name(table) == name:
                    select = table.find_ancestor(exp.Select)
                    if select is not None:
                        return select
    return None


def _has_window_tvf(select: exp.Select, catalog: Catalog) -> bool:
    source = select.args.get("from_")
    sources: list[exp.Expr] = [source] if source is not None else []
    sources.extend(select.args.get("joins") or [])
    for node in sources:
        if node.find(WindowTVF):
            return True
        for table in node.find_all(exp.Table):
            view = catalog.views.get(relation_name(table) or "")
            if view is not None and view.query.find(WindowTVF):
                return True
    return False


def _is_aggregate_select(select: exp.Select) -> bool:
    if select.args.get("group") or select.args.get("distinct"):
        return True
    for projection in select.expressions:
        for agg in projection.find_all(exp.AggFunc):
            # the nearest enclosing OVER/SELECT is this select: a plain (non-OVER) aggregate
            if agg.find_ancestor(exp.Window, exp.Select) is select:
                return True
    return False


_LEGACY_GROUP_WINDOWS = {"TUMBLE", "HOP", "SESSION"}


def _is_windowed_aggregation(select: exp.Select, catalog: Catalog) -> bool:
    group = select.args.get("group")
    keys = list(group.expressions) if group else []
    if any(
        isinstance(k, exp.Anonymous) and str(k.this).upper() in _LEGACY_GROUP_WINDOWS for k in keys
    ):
        return True
    names = _column_names(keys)
    return {"window_start", "window_end"} <= names and _has_window_tvf(select, catalog)


def _is_append_only_outer_join(join: exp.Join) -> bool:
    right = join.this
    if isinstance(right, (exp.Unnest, exp.Lateral)) or right.find(exp.Unnest, exp.Lateral):
        return True
    if isinstance(right, exp.Table) and right.args.get("version") is not None:
        return True  # temporal join: FOR SYSTEM_TIME AS OF
    condition = join.args.get("on")
    if condition is None:
        return False
    if condition.find(exp.Between, exp.LT, exp.LTE, exp.GT, exp.GTE):
        return True  # interval join
    equated = set()
    for eq in condition.find_all(exp.EQ):
        equated |= _column_names([eq.this, eq.expression])
    return {"window_start", "window_end"} <= equated  # window join


@dataclass(frozen=True)
class Updating:
    reason: str
    file: SqlFile
    node: exp.Expr


def updating_constructs(query: exp.Expr, file: SqlFile, catalog: Catalog) -> list[Updating]:
    """Why ``query`` (not following views) produces updates rather than appends."""
    reasons: list[Updating] = []
    for select in query.find_all(exp.Select):
        if _is_aggregate_select(select) and not _is_windowed_aggregation(select, catalog):
            group = select.args.get("group")
            if group is not None:
                what = f"GROUP BY {', '.join(g.sql(dialect=Flink) for g in group.expressions)}"
                reasons.append(Updating(f"regular aggregation ({what})", file, group))
            elif select.args.get("distinct"):
                reasons.append(Updating("SELECT DISTINCT", file, select))
            else:
                reasons.append(Updating("global aggregation", file, select))
        for join in select.args.get("joins") or []:
            side = (join.side or "").upper()
            if side in ("LEFT", "RIGHT", "FULL") and not _is_append_only_outer_join(join):
                reasons.append(Updating(f"{side} OUTER JOIN", file, join))
    for rank in rank_filters(query):
        if rank.kind in ("top-n", "dedup-last"):
            reasons.append(Updating(rank.detail, file, rank.row_number))
    return reasons


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------


def rule_kafka_watermark(catalog: Catalog) -> list[Finding]:
    written = {insert.target for insert in catalog.inserts}
    read: set[str] = set()
    for query in [v.query for v in catalog.views.values()] + [i.query for i in catalog.inserts]:
        read |= {relation_name(table) or "" for table in read_relations(query)}
    findings = []
    for table in catalog.tables.values():
        if table.connector != "kafka" or table.watermark:
            continue
        if table.name in written and table.name not in read:
            continue  # a Kafka sink
        findings.append(
            Finding(
                table.file.display,
                table.line,
                table.col,
                "FL002",
                f"Kafka source table {table.name} declares no WATERMARK FOR <time column> AS ...;"
                " event-time windows and late-event handling need one",
            )
        )
    return findings


_DURATION_ZERO_RE = re.compile(r"^\s*0+(\.0+)?\s*[a-zA-Z]*\s*$")


def _rendered(value: str, params: Mapping[str, str] | None) -> str | None:
    """``value`` with placeholders substituted; None when a placeholder has no value."""
    if not PLACEHOLDER_RE.search(value):
        return value
    if params is None:
        return None
    try:
        return PLACEHOLDER_RE.sub(lambda m: str(params[m.group(1)]), value)
    except KeyError:
        return None


def _ttl_problem(job: JobFile, params: Mapping[str, str] | None) -> str | None:
    option = job.settings.get(TTL_KEY)
    if option is None:
        return f"job {job.file.display} does not SET '{TTL_KEY}'"
    value = _rendered(option.value, params)
    if value is not None and (not value.strip() or _DURATION_ZERO_RE.match(value)):
        return f"job {job.file.display} sets '{TTL_KEY}' = '{value}', which keeps state forever"
    return None


def rule_dedup_ttl(catalog: Catalog, params: Mapping[str, str] | None) -> list[Finding]:
    # dedup node id -> (file, node, [problems])
    problems: dict[int, tuple[SqlFile, exp.Expr, list[str]]] = {}
    for job in catalog.jobs:
        problem = _ttl_problem(job, params)
        if problem is None:
            continue
        for insert in job.inserts:
            sources: list[tuple[SqlFile, exp.Expr, str]] = [(insert.file, insert.query, "")]
            sources += [
                (view.file, view.query, f" (through view {view.name})")
                for view in views_reached(insert.query, catalog)
            ]
            for file, query, via in sources:
                for rank in rank_filters(query):
                    if rank.kind not in ("dedup", "dedup-last"):
                        continue
                    entry = problems.setdefault(id(rank.row_number), (file, rank.row_number, []))
                    text = f"{problem}{via}"
                    if text not in entry[2]:
                        entry[2].append(text)
    findings = []
    for file, node, reasons in problems.values():
        line, col = file.pos(node)
        findings.append(
            Finding(
                file.display,
                line,
                col,
                "FL003",
                "deduplication keeps one state entry per key forever: " + "; ".join(reasons),
            )
        )
    return findings


def rule_append_only_sinks(catalog: Catalog) -> list[Finding]:
    findings = []
    for insert in catalog.inserts:
        table = catalog.tables.get(insert.target)
        if table is None or table.connector != "filesystem":
            continue
        reasons = updating_constructs(insert.query, insert.file, catalog)
        for view in views_reached(insert.query, catalog):
            reasons += updating_constructs(view.query, view.file, catalog)
        if not reasons:
            continue
        described = []
        for reason in reasons:
            line, _ = reason.file.pos(reason.node)
            described.append(f"{reason.reason} at {reason.file.display}:{line}")
        findings.append(
            Finding(
                insert.file.display,
                insert.line,
                insert.col,
                "FL004",
                f"filesystem sink {table.name} only accepts appends, but its query is updating: "
                + "; ".join(described),
            )
        )
    return findings


_URI_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://")
_HOST_PORT_RE = re.compile(r"^[\w.\-]+:\d{2,5}(\s*,\s*[\w.\-]+:\d{2,5})*$")
_ABS_PATH_RE = re.compile(r"^(/|[a-zA-Z]:[\\/]|~/)")


def looks_like_location(value: str) -> bool:
    """A host:port list, a URI or an absolute path."""
    value = value.strip()
    return bool(_URI_RE.match(value) or _HOST_PORT_RE.match(value) or _ABS_PATH_RE.match(value))


def rule_templated_options(catalog: Catalog) -> list[Finding]:
    findings = []
    for table in catalog.tables.values():
        for option in table.options.values():
            if "${" in option.value:
                continue
            if option.key in TEMPLATED_OPTIONS:
                why = "must come from config"
            elif looks_like_location(option.value):
                why = "looks like a hard-coded host/path"
            else:
                continue
            findings.append(
                Finding(
                    table.file.display,
                    option.line,
                    option.col,
                    "FL005",
                    f"option '{option.key}' = '{option.value}' {why}: use a ${{placeholder}}"
                    " filled from the deployment config",
                )
            )
    return findings


# --- FL006: gold tables vs dbt ---


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


def rule_references(catalog: Catalog) -> list[Finding]:
    known = set(catalog.tables) | set(catalog.views)
    findings = []
    seen: set[tuple[str, str]] = set()
    queries: list[tuple[SqlFile, exp.Expr]] = [(v.file, v.query) for v in catalog.views.values()]
    queries += [(i.file, i.query) for i in catalog.inserts]
    for insert in catalog.inserts:
        if insert.target not in catalog.tables and (insert.file.display, insert.target) not in seen:
            seen.add((insert.file.display, insert.target))
            findings.append(
                Finding(
                    insert.file.display,
                    insert.line,
                    insert.col,
                    "FL009",
                    f"INSERT INTO {insert.target}: no CREATE TABLE {insert.target} in the linted"
                    " files",
                    WARNING,
                )
            )
    for file, query in queries:
        for table in read_relations(query):
            name = relation_name(table) or ""
            if name in known or (file.display, name) in seen:
                continue
            seen.add((file.display, name))
            line, col = file.pos(table)
            findings.append(
                Finding(
                    file.display,
                    line,
                    col,
                    "FL009",
                    f"{name} is neither a table nor a view defined in the linted files",
                    WARNING,
                )
            )
    return findings


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------


def collect_sql_files(paths: Iterable[str | Path]) -> list[Path]:
    """``*.sql`` files under the given files/directories, sorted, without duplicates."""
    found: dict[Path, None] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for sql in sorted(path.rglob("*.sql")):
                found.setdefault(sql, None)
        elif path.suffix == ".sql" or path.is_file():
            found.setdefault(path, None)
    return list(found)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _check_file(path: Path, params: Mapping[str, str] | None) -> tuple[SqlFile, list[Finding]]:
    display = _display(path)
    findings: list[Finding] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return SqlFile(path, display, ""), [Finding(display, 1, 1, "FL001", f"unreadable: {error}")]
    file = SqlFile(path, display, text)
    statements, errors = parse_sql_collecting(text, display)
    findings += [Finding(display, e.line, e.col, "FL001", e.message) for e in errors]
    for statement in statements:
        if isinstance(statement.expression, exp.Command):
            findings.append(
                Finding(
                    display,
                    statement.line,
                    statement.col,
                    "FL001",
                    "statement not understood (only parsed as an opaque command)",
                )
            )
    file.statements = [s for s in statements if not isinstance(s.expression, exp.Command)]
    file.parsed = not findings

    if params is not None:
        missing = [(n, line, col) for n, line, col in placeholders(text) if n not in params]
        for name, line, col in missing:
            findings.append(
                Finding(display, line, col, "FL007", f"placeholder ${{{name}}} has no value")
            )
        if not missing and not errors:
            rendered = PLACEHOLDER_RE.sub(lambda m: str(params[m.group(1)]), text)
            _, rendered_errors = parse_sql_collecting(rendered, display)
            findings += [
                Finding(display, e.line, e.col, "FL001", f"{e.message} (after rendering)")
                for e in rendered_errors
            ]
    return file, findings


def lint_paths(
    paths: Iterable[str | Path],
    params: Mapping[str, str] | None = None,
    dbt_sources_yml: Path | None = None,
) -> list[Finding]:
    """Lint every ``*.sql`` under ``paths`` as one pipeline; findings sorted by file position.

    ``params``: placeholder values; when given, unknown placeholders are reported (FL007), TTL
    values are checked after substitution and the rendered text is parsed too. ``None`` skips
    those checks. ``dbt_sources_yml``: the dbt sources file for the gold-table contract (FL006);
    ``None`` skips that rule.
    """
    files: list[SqlFile] = []
    findings: list[Finding] = []
    for path in collect_sql_files(paths):
        file, file_findings = _check_file(path, params)
        files.append(file)
        findings += file_findings
    catalog, layout_findings = build_catalog(files)
    findings += layout_findings
    findings += rule_kafka_watermark(catalog)
    findings += rule_dedup_ttl(catalog, params)
    findings += rule_append_only_sinks(catalog)
    findings += rule_templated_options(catalog)
    if dbt_sources_yml is not None:
        findings += rule_gold_contract(catalog, Path(dbt_sources_yml))
    if all(file.parsed for file in files):
        # with a file that did not parse, its tables/views are unknown: no reference check
        findings += rule_references(catalog)
    return sorted(set(findings))


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == ERROR for f in findings)


def format_findings(findings: Iterable[Finding]) -> str:
    lines = []
    for finding in findings:
        suffix = " (warning)" if finding.severity == WARNING else ""
        lines.append(f"{finding}{suffix}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------

DEFAULT_DBT_SOURCES = Path("dbt_project/models/staging/__sources.yml")


def load_params(path: Path) -> dict[str, str]:
    """Placeholder values from a YAML/JSON mapping file (values converted to strings)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of placeholder names to values")
    return {str(k): "" if v is None else str(v) for k, v in data.items()}


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    cli = argparse.ArgumentParser(prog="python -m sqlcheck", description=__doc__.split("\n")[0])
    commands = cli.add_subparsers(dest="command", required=True)
    lint = commands.add_parser("lint", help="lint Flink SQL files/directories")
    lint.add_argument("paths", nargs="+", type=Path)
    lint.add_argument("--params", type=Path, help="YAML/JSON file of placeholder values")
    lint.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a placeholder value (repeatable; overrides --params)",
    )
    lint.add_argument(
        "--dbt-sources",
        type=Path,
        default=None,
        help=f"dbt sources yml for the gold-table contract (default: {DEFAULT_DBT_SOURCES}"
        " when it exists)",
    )
    lint.add_argument("--no-dbt", action="store_true", help="skip the dbt contract rule")
    render = commands.add_parser("render", help="print a file with placeholders substituted")
    render.add_argument("path", type=Path)
    render.add_argument("--params", type=Path)
    render.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    lineage = commands.add_parser("lineage", help="column lineage of a sink column")
    lineage.add_argument("column", help="table.column, e.g. gold_revenue_per_window.revenue")
    lineage.add_argument("--paths", nargs="+", type=Path, default=[Path("flink_sql")])
    return cli.parse_args(list(argv))


def _params_from(args: argparse.Namespace) -> dict[str, str] | None:
    params: dict[str, str] | None = load_params(args.params) if args.params else None
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--param expects NAME=VALUE, got {item!r}")
        params = {} if params is None else params
        params[name] = value
    return params


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit code (1 when any error finding)."""
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "render":
        from sqlcheck.dialect import RenderError, render

        try:
            text = args.path.read_text(encoding="utf-8")
            sys.stdout.write(render(text, _params_from(args) or {}, source=args.path))
        except RenderError as error:
            print(error, file=sys.stderr)
            return 1
        return 0
    if args.command == "lineage":
        from sqlcheck.lineage import column_lineage

        try:
            print(column_lineage(args.column, args.paths).render())
        except (KeyError, ValueError) as error:
            print(f"lineage: {error}", file=sys.stderr)
            return 1
        return 0
    dbt: Path | None = None
    if not args.no_dbt:
        dbt = args.dbt_sources or (DEFAULT_DBT_SOURCES if DEFAULT_DBT_SOURCES.exists() else None)
    missing = [p for p in args.paths if not p.exists()]
    if missing:
        print(f"lint: no such file or directory: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    findings = lint_paths(args.paths, _params_from(args), dbt)
    if findings:
        print(format_findings(findings))
    errors = sum(f.severity == ERROR for f in findings)
    warnings = len(findings) - errors
    files = len(collect_sql_files(args.paths))
    print(f"sqlcheck: {files} files, {errors} errors, {warnings} warnings", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


__all__ = [
    "RULES",
    "Finding",
    "format_findings",
    "has_errors",
    "lint_paths",
    "main",
    "normalize_type",
]
