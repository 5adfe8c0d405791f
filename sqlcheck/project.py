"""The Flink SQL project (`flink_sql/`): every file read, rendered, split and classified once, by
one set of rules, for `lint`, `plan`, `lineage` and `submit` alike.

    project = load_project(config.sql_dir, config.sql_params("silver_gold"))
    job = project.job("silver_gold")     # raises SqlError (file:line:col RULE message) on problems
    for statement in job.statements:     # the DDL in dependency order, then the statement set
        print(statement.location, statement.sql)

Layout (a broken rule is an FL008 error):

    functions/<name>.sql  one CREATE [TEMPORARY [SYSTEM]] FUNCTION <name>
    tables/<name>.sql     one CREATE TABLE <name>
    views/<name>.sql      one CREATE [TEMPORARY] VIEW <name>
    jobs/<name>.sql       `set 'key' = 'value';` lines and one EXECUTE STATEMENT SET BEGIN ... END

Files are rendered first (`sqlcheck.placeholders`: an unknown or malformed `${...}` is an FL007
error), then split into statements by the Flink dialect's tokenizer (strings, comments and
`CASE ... END` inside a statement set are tokens, not text to guess at). A job deploys what its
statement set reaches: names are followed from its INSERTs through views to tables and
functions, each object after the objects it reads.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlglot import exp
from sqlglot.tokens import Token, TokenType

from sqlcheck.dialect import FlinkSyntaxError, parse_tokens, split_tokens, tokenize
from sqlcheck.findings import Finding, display
from sqlcheck.placeholders import Rendered, line_col, render

KINDS = {"functions": "function", "tables": "table", "views": "view"}
JOBS = "jobs"
# What each kind of object may read, for the dependency order: a view reads tables, views and
# functions; a table's computed columns may call functions.
READS = {"view": {"function", "table", "view"}, "table": {"function"}, "function": set()}
STRINGS = {TokenType.STRING, TokenType.NATIONAL_STRING}
NOT_NAMES = {*STRINGS, TokenType.NUMBER}


class SqlError(ValueError):
    """The project cannot be deployed; `findings` say where (file:line:col RULE message)."""

    def __init__(self, message: str, findings: Iterable[Finding] = ()) -> None:
        super().__init__(message)
        self.findings = list(findings)

    @classmethod
    def of(cls, findings: Iterable[Finding]) -> SqlError:
        findings = sorted(findings)
        return cls("\n".join(map(str, findings)), findings)


@dataclass(frozen=True)
class SourceFile:
    """One `.sql` file: its source and rendered text and the statements it holds."""

    path: Path
    display: str
    rendered: Rendered
    statements: list[Statement] = field(default_factory=list)
    tokenized: bool = True  # False when the text does not tokenize (an FL001 says where)

    @property
    def text(self) -> str:
        """The rendered text; every offset in tokens and parse trees points into it."""
        return self.rendered.text

    @property
    def folder(self) -> str:
        return self.path.parent.name

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, col) in the source file of an offset into the rendered text."""
        return self.rendered.source_position(offset)

    def finding(self, offset: int, rule: str, message: str) -> Finding:
        return Finding(self.display, *self.position(offset), rule, message)

    def span(self, node: exp.Expr) -> tuple[int, int] | None:
        """(start, end) offsets in the rendered text of the tokens a parse tree node covers."""
        metas = [sub._meta for sub in node.walk() if sub._meta and "start" in sub._meta]
        if not metas:
            return None
        return min(m["start"] for m in metas), max(m["end"] for m in metas) + 1

    def node_position(self, node: exp.Expr, default: int = 0) -> tuple[int, int]:
        """1-based (line, col) in the source file where a parse tree node starts."""
        span = self.span(node)
        return self.position(span[0] if span else default)

    def source_of(self, node: exp.Expr) -> str:
        """The source text (placeholders as written) of a parse tree node."""
        span = self.span(node)
        if span is None:
            return ""
        start, end = (self.rendered.source_offset(offset) for offset in span)
        return self.rendered.source[start : max(end, start + 1)]


@dataclass(eq=False)
class Statement:
    """One statement of a file, without its trailing `;` (leading comments excluded)."""

    file: SourceFile = field(repr=False)
    tokens: list[Token] = field(repr=False)

    @property
    def start(self) -> int:
        return self.tokens[0].start

    @property
    def end(self) -> int:
        return self.tokens[-1].end + 1

    @property
    def sql(self) -> str:
        """The rendered SQL, as sent to Flink."""
        return self.file.text[self.start : self.end]

    @property
    def line(self) -> int:
        return self.file.position(self.start)[0]

    @property
    def col(self) -> int:
        return self.file.position(self.start)[1]

    @property
    def location(self) -> str:
        return f"{self.file.display}:{self.line}"

    @cached_property
    def tree(self) -> exp.Expr:
        """The sqlglot tree (parsed on first use); raises SqlError (FL001) when it does not parse."""
        try:
            return parse_tokens(self.tokens, self.file.text)
        except FlinkSyntaxError as error:
            raise SqlError.of([syntax_finding(self.file, error)]) from None

    def words(self, count: int) -> list[str]:
        return [token.text.upper() for token in self.tokens[:count]]


@dataclass(frozen=True)
class SqlObject:
    kind: str  # "function", "table" or "view"
    name: str
    statement: Statement
    reads: frozenset[str]  # names of the project's objects this one refers to


@dataclass(frozen=True)
class Job:
    name: str
    file: SourceFile
    settings: dict[str, str]  # the job file's SET lines, rendered
    statement_set: Statement
    inserts: list[Statement]  # inside BEGIN ... END, each with its own position
    sinks: list[str]
    ddl: list[SqlObject]  # what the statement set reaches, in dependency order

    @property
    def statements(self) -> list[Statement]:
        """What deploying runs, in order: the DDL, then the statement set."""
        return [*(o.statement for o in self.ddl), self.statement_set]


@dataclass(frozen=True)
class Project:
    root: Path
    files: list[SourceFile]
    objects: dict[str, SqlObject]
    jobs: dict[str, Job]
    problems: list[Finding]  # every load problem; a project with any deploys nothing

    def job(self, name: str) -> Job:
        """A job ready to deploy; raises SqlError when the project has problems."""
        if self.problems:
            raise SqlError.of(self.problems)
        if name not in self.jobs:
            raise SqlError(
                f"no job {name!r}: expected {display(self.root / JOBS / f'{name}.sql')}"
                f" (jobs: {', '.join(sorted(self.jobs)) or 'none'})"
            )
        return self.jobs[name]

    def ordered(self, names: Iterable[str]) -> list[SqlObject]:
        """The objects `names` need (themselves included), each after what it reads."""
        return _dependency_order(names, self.objects)[0]

    @property
    def statements(self) -> list[Statement]:
        return [statement for file in self.files for statement in file.statements]


def job_names(sql_dir: Path) -> list[str]:
    """The jobs a project defines (its jobs/*.sql), without loading anything."""
    return sorted(path.stem for path in (Path(sql_dir) / JOBS).glob("*.sql"))


def load_project(sql_dir: Path, params: Mapping[str, str]) -> Project:
    """Read every `.sql` file under `sql_dir`, rendered with `params`; problems are collected in
    `Project.problems`, not raised (a missing folder raises SqlError)."""
    root = Path(sql_dir)
    if not root.is_dir():
        raise SqlError(f"{display(root)}: no such folder (the Flink SQL project)")
    problems: list[Finding] = []
    files = [_load_file(path, params, problems) for path in sorted(root.rglob("*.sql"))]
    objects: dict[str, SqlObject] = {}
    job_files: list[SourceFile] = []
    for file in files:
        if file.path.parent.parent != root or file.folder not in (*KINDS, JOBS):
            problems.append(
                file.finding(
                    0, "FL008", "a .sql file belongs in functions/, tables/, views/ or jobs/"
                )
            )
        elif file.folder == JOBS:
            job_files.append(file)
        else:
            _add_object(file, objects, problems)
    objects = {
        name: SqlObject(o.kind, o.name, o.statement, _reads(o, objects))
        for name, o in objects.items()
    }
    problems += _dependency_order(objects, objects)[1]  # every cycle, used by a job or not
    jobs = {}
    for file in job_files:
        job = _load_job(file, objects, problems)
        if job is not None:
            jobs[job.name] = job
    return Project(root, files, objects, jobs, sorted(set(problems)))


def _load_file(path: Path, params: Mapping[str, str], problems: list[Finding]) -> SourceFile:
    name = display(path)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Finding(name, 1, 1, "FL001", f"unreadable: {error}"))
        return SourceFile(path, name, Rendered("", ""), tokenized=False)
    try:
        strings = [(t.start, t.end) for t in tokenize(source) if t.token_type in STRINGS]
    except FlinkSyntaxError as error:
        problems.append(Finding(name, *line_col(source, error.offset), "FL001", error.message))
        return SourceFile(path, name, Rendered(source, source), tokenized=False)
    starts = [start for start, _ in strings]

    def in_string(offset: int) -> bool:
        index = bisect.bisect_right(starts, offset) - 1
        return index >= 0 and offset <= strings[index][1]

    rendered, placeholder_problems = render(source, params, in_string)
    for problem in placeholder_problems:
        problems.append(Finding(name, *line_col(source, problem.offset), "FL007", problem.message))
    try:
        chunks = split_tokens(tokenize(rendered.text))
    except FlinkSyntaxError as error:
        file = SourceFile(path, name, rendered, tokenized=False)
        problems.append(syntax_finding(file, error))
        return file
    file = SourceFile(path, name, rendered)
    file.statements.extend(Statement(file, chunk) for chunk in chunks)
    return file


def syntax_finding(file: SourceFile, error: FlinkSyntaxError) -> Finding:
    line, _ = file.position(error.offset)
    rendered = " (after rendering the placeholders on this line)"
    suffix = rendered if file.rendered.placeholders_on_line(line) else ""
    return file.finding(error.offset, "FL001", f"{error.message}{suffix}")


def _create_target(statement: Statement) -> tuple[str, str] | None:
    """(kind, name) of `CREATE [TEMPORARY] [SYSTEM] TABLE|VIEW|FUNCTION [IF NOT EXISTS] name`."""
    words = statement.words(8)
    if not words or words[0] != "CREATE":
        return None
    index = 1
    while index < len(words) and words[index] in ("TEMPORARY", "SYSTEM"):
        index += 1
    if index >= len(words) or words[index] not in ("TABLE", "VIEW", "FUNCTION"):
        return None
    kind = words[index].lower()
    index += 1
    if words[index : index + 3] == ["IF", "NOT", "EXISTS"]:
        index += 3
    name = _qualified_name(statement.tokens, index)
    return (kind, name) if name else None


def _qualified_name(tokens: list[Token], index: int) -> str | None:
    """The last part of `a.b.name` starting at `tokens[index]`."""
    name = None
    while index < len(tokens) and tokens[index].token_type not in NOT_NAMES:
        name = tokens[index].text
        if index + 1 < len(tokens) and tokens[index + 1].token_type == TokenType.DOT:
            index += 2
            continue
        break
    return name


def _add_object(file: SourceFile, objects: dict[str, SqlObject], problems: list[Finding]) -> None:
    kind = KINDS[file.folder]
    article = f"CREATE {kind.upper()} {file.path.stem}"
    if not file.tokenized:
        return
    if len(file.statements) != 1:
        problems.append(
            file.finding(
                file.statements[1].start if len(file.statements) > 1 else 0,
                "FL008",
                f"a file in {file.folder}/ holds one statement, {article};"
                f" found {len(file.statements)}",
            )
        )
        return
    statement = file.statements[0]
    target = _create_target(statement)
    if target is None or target[0] != kind:
        problems.append(
            file.finding(statement.start, "FL008", f"a file in {file.folder}/ holds {article}")
        )
        return
    name = target[1]
    if name != file.path.stem:
        problems.append(
            file.finding(statement.start, "FL008", f"creates {name!r}; name the file {name}.sql")
        )
        return
    if name in objects:
        other = objects[name].statement.file.display
        problems.append(
            file.finding(statement.start, "FL008", f"{name} is also created in {other}")
        )
        return
    objects[name] = SqlObject(kind, name, statement, frozenset())


def _references(tokens: Iterable[Token], names: Mapping[str, str]) -> set[str]:
    """The object names (case-insensitive) among the tokens, strings and numbers excepted."""
    return {
        names[token.text.lower()]
        for token in tokens
        if token.token_type not in NOT_NAMES and token.text.lower() in names
    }


def _reads(sql_object: SqlObject, objects: Mapping[str, SqlObject]) -> frozenset[str]:
    readable = {
        name.lower(): name
        for name, other in objects.items()
        if other.kind in READS[sql_object.kind] and name != sql_object.name
    }
    return frozenset(_references(sql_object.statement.tokens, readable))


def _dependency_order(
    roots: Iterable[str], objects: Mapping[str, SqlObject]
) -> tuple[list[SqlObject], list[Finding]]:
    """Depth first from `roots` (sorted): each object after what it reads; cycles reported."""
    ordered: list[SqlObject] = []
    problems: list[Finding] = []
    state: dict[str, str] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            statement = objects[name].statement
            cycle = " -> ".join(chain[chain.index(name) :])
            problems.append(
                statement.file.finding(statement.start, "FL009", f"circular reference: {cycle}")
            )
            return
        state[name] = "visiting"
        for dependency in sorted(objects[name].reads):
            visit(dependency, (*chain, dependency))
        state[name] = "done"
        ordered.append(objects[name])

    for root in sorted(set(roots)):
        if root in objects:
            visit(root, (root,))
    return ordered, problems


def _load_job(
    file: SourceFile, objects: Mapping[str, SqlObject], problems: list[Finding]
) -> Job | None:
    settings: dict[str, str] = {}
    statement_set: Statement | None = None
    misplaced = False
    layout = "a job file holds `set 'key' = 'value';` lines and one EXECUTE STATEMENT SET"
    for statement in file.statements:
        types = [token.token_type for token in statement.tokens]
        if types == [TokenType.SET, TokenType.STRING, TokenType.EQ, TokenType.STRING]:
            settings[statement.tokens[1].text] = statement.tokens[3].text
        elif statement.words(4) == ["EXECUTE", "STATEMENT", "SET", "BEGIN"] and types[-1] == (
            TokenType.END
        ):
            if statement_set is not None:
                problems.append(file.finding(statement.start, "FL008", f"{layout}; found two"))
            statement_set = statement_set or statement
        else:
            problems.append(file.finding(statement.start, "FL008", layout))
            misplaced = True
    if statement_set is None:
        if file.tokenized and not misplaced:
            problems.append(file.finding(0, "FL008", f"{layout}; found none"))
        return None
    inserts = [Statement(file, chunk) for chunk in _split_on_semicolons(statement_set.tokens[4:-1])]
    sinks: list[str] = []
    for insert in inserts:
        sink = _insert_target(insert)
        if sink is None:
            problems.append(
                file.finding(insert.start, "FL008", "a statement set holds INSERT INTO statements")
            )
        elif objects.get(sink) is None or objects[sink].kind != "table":
            problems.append(
                file.finding(insert.start, "FL009", f"INSERT INTO {sink}: no tables/{sink}.sql")
            )
        elif sink not in sinks:
            sinks.append(sink)
    names = {name.lower(): name for name in objects}
    roots = _references(statement_set.tokens, names)
    ddl, _ = _dependency_order(roots, objects)
    return Job(file.path.stem, file, settings, statement_set, inserts, sinks, ddl)


def _split_on_semicolons(tokens: list[Token]) -> list[list[Token]]:
    chunks: list[list[Token]] = [[]]
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            chunks.append([])
        else:
            chunks[-1].append(token)
    return [chunk for chunk in chunks if chunk]


def _insert_target(insert: Statement) -> str | None:
    words = insert.words(4)
    if not words or words[0] != "INSERT":
        return None
    index = 1
    while index < len(words) and words[index] in ("INTO", "OVERWRITE", "TABLE"):
        index += 1
    return _qualified_name(insert.tokens, index)
