"""The parsed side of a project for the lint rules and lineage: tables with their columns and
connector options, views with their queries, and each job's settings and INSERTs."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from sqlcheck.dialect import ExecuteStatement, Flink, MetadataColumnConstraint, StatementSet
from sqlcheck.findings import Finding
from sqlcheck.project import Project, SourceFile, SqlError, Statement


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
    value: str  # rendered
    line: int
    col: int
    source: str  # the value as written in the file, placeholders not rendered

    @property
    def templated(self) -> bool:
        """The source value holds a ${placeholder}."""
        return "${" in self.source


@dataclass
class TableDef:
    name: str
    file: SourceFile
    line: int
    col: int
    columns: list[Column]
    options: dict[str, Option]
    watermark: bool
    partition_keys: list[str] = field(default_factory=list)  # PARTITIONED BY (...)

    @property
    def connector(self) -> str:
        option = self.options.get("connector")
        return option.value.strip().lower() if option else ""


@dataclass
class ViewDef:
    name: str
    file: SourceFile
    line: int
    col: int
    query: exp.Expr


@dataclass
class InsertDef:
    target: str
    file: SourceFile
    line: int
    col: int
    query: exp.Expr
    columns: list[str]  # `INSERT INTO t (a, b)`; empty when the INSERT matches by position


@dataclass
class JobDef:
    name: str
    file: SourceFile
    settings: dict[str, str]
    inserts: list[InsertDef]


@dataclass
class Catalog:
    tables: dict[str, TableDef] = field(default_factory=dict)
    views: dict[str, ViewDef] = field(default_factory=dict)
    inserts: list[InsertDef] = field(default_factory=list)
    jobs: list[JobDef] = field(default_factory=list)


def relation_name(table: exp.Expr) -> str | None:
    """The unqualified name of a table reference, or None for table functions etc."""
    if isinstance(table, exp.Table) and isinstance(table.this, exp.Identifier):
        return table.this.name
    return None


def option_text(value: exp.Expr | None) -> str:
    if isinstance(value, exp.Literal):
        return value.name
    return value.sql(dialect=Flink) if isinstance(value, exp.Expr) else ""


def parse_all(project: Project) -> list[Finding]:
    """Parse every statement of the project; FL001 for each one that does not parse (or only as
    an opaque command)."""
    findings: list[Finding] = []
    for statement in project.statements:
        try:
            tree = statement.tree
        except SqlError as error:
            findings += error.findings
            continue
        if isinstance(tree, exp.Command):
            findings.append(
                statement.file.finding(
                    statement.start,
                    "FL001",
                    "statement not understood (only parsed as an opaque command)",
                )
            )
    return findings


def _tree(statement: Statement) -> exp.Expr | None:
    """The statement's tree; None when it does not parse (`parse_all` reports it)."""
    try:
        tree = statement.tree
    except SqlError:
        return None
    return None if isinstance(tree, exp.Command) else tree


def build_catalog(project: Project) -> Catalog:
    """Tables, views and jobs of the project whose statements parse."""
    catalog = Catalog()
    for sql_object in project.objects.values():
        statement = sql_object.statement
        tree = _tree(statement)
        if not isinstance(tree, exp.Create):
            continue
        file = statement.file
        line, col = file.node_position(tree, statement.start)
        if sql_object.kind == "table":
            schema = tree.this
            columns, watermark = (
                _columns(file, schema) if isinstance(schema, exp.Schema) else ([], False)
            )
            catalog.tables[sql_object.name] = TableDef(
                sql_object.name,
                file,
                line,
                col,
                columns,
                _options(file, tree),
                watermark,
                _partition_keys(tree),
            )
        elif sql_object.kind == "view" and tree.expression is not None:
            catalog.views[sql_object.name] = ViewDef(
                sql_object.name, file, line, col, tree.expression
            )
    for job in project.jobs.values():
        tree = _tree(job.statement_set)
        if not isinstance(tree, (StatementSet, ExecuteStatement)):
            continue
        inserts = [_insert(job.file, insert) for insert in tree.find_all(exp.Insert)]
        catalog.inserts += inserts
        catalog.jobs.append(JobDef(job.name, job.file, job.settings, inserts))
    return catalog


def _insert(file: SourceFile, insert: exp.Insert) -> InsertDef:
    target = insert.this
    columns = []
    if isinstance(target, exp.Schema):
        columns = [column.name for column in target.expressions]
        target = target.this
    name = relation_name(target) or target.sql(dialect=Flink)
    line, col = file.node_position(insert)
    return InsertDef(name, file, line, col, insert.expression or exp.Null(), columns)


def _options(file: SourceFile, create: exp.Create) -> dict[str, Option]:
    options: dict[str, Option] = {}
    properties = create.args.get("properties")
    for prop in properties.expressions if properties else []:
        if prop.__class__ is not exp.Property:
            continue
        key = prop.this
        key_text = key.name if isinstance(key, exp.Literal) else key.sql(dialect=Flink)
        value = prop.args.get("value")
        line, col = file.node_position(prop)
        source = file.source_of(value) if value is not None else ""
        if isinstance(value, exp.Literal) and value.is_string:
            source = source[1:-1].replace("''", "'")
        options[key_text] = Option(key_text, option_text(value), line, col, source)
    return options


def _partition_keys(create: exp.Create) -> list[str]:
    properties = create.args.get("properties")
    for prop in properties.expressions if properties else []:
        if isinstance(prop, exp.PartitionedByProperty):
            keys = prop.this
            items = keys.expressions if isinstance(keys, (exp.Schema, exp.Tuple)) else [keys]
            return [item.name for item in items]
    return []


def _columns(file: SourceFile, schema: exp.Expr) -> tuple[list[Column], bool]:
    columns: list[Column] = []
    watermark = False
    for item in schema.expressions:
        if isinstance(item, exp.WatermarkColumnConstraint):
            watermark = True
            continue
        if not isinstance(item, exp.ColumnDef):
            continue
        kinds = [c.args.get("kind") for c in item.args.get("constraints") or []]
        line, col = file.node_position(item.this)
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
