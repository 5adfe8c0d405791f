"""Read flink_sql/: one object per file under functions/, tables/ and views/, one job per file
under jobs/.

A job file holds `set 'key' = 'value';` lines and one `execute statement set begin … end;`. The
DDL a job needs is found by following names from its INSERTs through the views to the tables.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SQL_ROOT = Path(__file__).resolve().parent.parent / "flink_sql"
PLACEHOLDER = re.compile(r"\$\{([a-z_][a-z0-9_]*)\}")
CREATE = re.compile(
    r"^\s*create\s+(?:temporary\s+)?(?:system\s+)?(table|view|function)\s+"
    r"(?:if\s+not\s+exists\s+)?`?(\w+)`?",
    re.IGNORECASE,
)
SET = re.compile(r"^\s*set\s+'([^']+)'\s*=\s*'([^']*)'\s*$", re.IGNORECASE | re.DOTALL)
INSERT_TARGET = re.compile(r"\binsert\s+into\s+`?(\w+)`?", re.IGNORECASE)


class SqlFileError(ValueError):
    """A SQL file cannot be loaded; the message starts with file:line."""


@dataclass(frozen=True)
class Statement:
    path: Path
    line: int  # 1-based line of the statement's first character
    sql: str  # rendered, without the trailing semicolon

    @property
    def location(self) -> str:
        return f"{_display(self.path)}:{self.line}"


@dataclass(frozen=True)
class SqlObject:
    kind: str  # "function", "table" or "view"
    name: str
    statement: Statement


@dataclass(frozen=True)
class Job:
    name: str
    path: Path
    settings: dict[str, str]
    ddl: list[SqlObject]  # in dependency order
    statement_set: Statement

    @property
    def pipeline_name(self) -> str:
        return self.settings.get("pipeline.name", f"clickstream: {self.name}")

    @property
    def inserts(self) -> list[Statement]:
        """The INSERTs inside `execute statement set begin … end`, with their own line numbers."""
        sql = self.statement_set.sql
        begin = re.search(r"\bbegin\b", sql, re.IGNORECASE).end()
        end = [m.start() for m in re.finditer(r"\bend\b", sql, re.IGNORECASE)][-1]
        offset = self.statement_set.line - 1 + sql.count("\n", 0, begin)
        padded = "\n" * offset + sql[begin:end]
        return split_statements(padded, self.path)

    @property
    def sinks(self) -> list[str]:
        return INSERT_TARGET.findall(_strip_comments(self.statement_set.sql))


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(SQL_ROOT.parent))
    except ValueError:
        return str(path)


def render(text: str, params: Mapping[str, str], path: Path) -> str:
    """Substitute `${name}` placeholders; an unknown name is an error at its file:line."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params:
            line = text.count("\n", 0, match.start()) + 1
            raise SqlFileError(f"{_display(path)}:{line}: unknown placeholder ${{{name}}}")
        return str(params[name])

    return PLACEHOLDER.sub(substitute, text)


# A string literal ('it''s'), a line comment or a block comment, whichever starts first: an
# apostrophe inside a comment does not open a string, nor does `--` inside a string a comment.
LITERAL_OR_COMMENT = re.compile(r"'(?:[^']|'')*'|--[^\n]*|/\*.*?\*/", re.DOTALL)


def _strip_comments(sql: str) -> str:
    return LITERAL_OR_COMMENT.sub(lambda m: m.group() if m.group().startswith("'") else " ", sql)


def _without_literals_and_comments(sql: str) -> str:
    return LITERAL_OR_COMMENT.sub(lambda m: "''" if m.group().startswith("'") else " ", sql)


def split_statements(text: str, path: Path) -> list[Statement]:
    """Split on `;` outside quotes and comments; `begin … end` of a statement set stays whole."""
    statements: list[Statement] = []
    start = 0
    depth = 0
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char == "-" and text.startswith("--", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
            continue
        if char in "'`\"":
            close = text.find(char, i + 1)
            while close >= 0 and text.startswith(char * 2, close):
                close = text.find(char, close + 2)
            if close < 0:
                line = text.count("\n", 0, i) + 1
                raise SqlFileError(f"{_display(path)}:{line}: unterminated {char} quote")
            i = close + 1
            continue
        if char.isalpha() and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            word = re.match(r"\w+", text[i:]).group(0).lower()
            if word == "begin":
                depth += 1
            elif word == "end" and depth:
                depth -= 1
            i += len(word)
            continue
        if char == ";" and depth == 0:
            _append(statements, text, start, i, path)
            start = i + 1
        i += 1
    _append(statements, text, start, n, path)
    return statements


def _append(statements: list[Statement], text: str, start: int, end: int, path: Path) -> None:
    chunk = text[start:end]
    if not _strip_comments(chunk).strip():
        return
    leading = len(chunk) - len(chunk.lstrip())
    first = start + leading
    # Keep the statement's own leading comment lines out of its first-line number.
    body = chunk.strip()
    while body.startswith("--"):
        newline = body.find("\n")
        first += newline + 1 + (len(body[newline + 1 :]) - len(body[newline + 1 :].lstrip()))
        body = body[newline + 1 :].lstrip()
    statements.append(Statement(path, text.count("\n", 0, first) + 1, body))


def load_objects(params: Mapping[str, str], root: Path = SQL_ROOT) -> dict[str, SqlObject]:
    """Every function, table and view, keyed by name; each file creates the object it is named for."""
    objects: dict[str, SqlObject] = {}
    for folder, kind in (("functions", "function"), ("tables", "table"), ("views", "view")):
        for path in sorted((root / folder).glob("*.sql")):
            statements = split_statements(render(path.read_text(), params, path), path)
            if len(statements) != 1:
                raise SqlFileError(
                    f"{_display(path)}:1: expected one statement, found {len(statements)}"
                )
            statement = statements[0]
            match = CREATE.match(statement.sql)
            if not match or match.group(1).lower() != kind:
                raise SqlFileError(f"{statement.location}: expected a CREATE {kind.upper()}")
            name = match.group(2)
            if name != path.stem:
                raise SqlFileError(
                    f"{statement.location}: creates {name!r}; name the file {name}.sql"
                )
            objects[name] = SqlObject(kind, name, statement)
    return objects


def _references(sql: str, names: set[str]) -> set[str]:
    words = set(re.findall(r"\w+", _without_literals_and_comments(sql).lower()))
    return {name for name in names if name.lower() in words}


def _dependency_order(
    roots: set[str], objects: dict[str, SqlObject], job_path: Path
) -> list[SqlObject]:
    ordered: list[SqlObject] = []
    state: dict[str, str] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise SqlFileError(f"{objects[name].statement.location}: cycle {' -> '.join(chain)}")
        state[name] = "visiting"
        # A view reads tables, views and functions; a table's computed columns may call functions.
        kinds = {"view": {"function", "table", "view"}, "table": {"function"}}
        candidates = {n for n, o in objects.items() if o.kind in kinds.get(objects[name].kind, ())}
        for dependency in sorted(_references(objects[name].statement.sql, candidates) - {name}):
            visit(dependency, (*chain, dependency))
        state[name] = "done"
        ordered.append(objects[name])

    for root_name in sorted(roots):
        visit(root_name, (root_name,))
    return ordered


def job_names(root: Path = SQL_ROOT) -> list[str]:
    return sorted(path.stem for path in (root / "jobs").glob("*.sql"))


def load_job(name: str, params: Mapping[str, str], root: Path = SQL_ROOT) -> Job:
    path = root / "jobs" / f"{name}.sql"
    if not path.exists():
        raise SqlFileError(
            f"no job {name!r}: expected {_display(path)} (jobs: {', '.join(job_names(root))})"
        )
    objects = load_objects(params, root)
    settings: dict[str, str] = {}
    statement_set: Statement | None = None
    for statement in split_statements(render(path.read_text(), params, path), path):
        setting = SET.match(statement.sql)
        if setting:
            settings[setting.group(1)] = setting.group(2)
        elif re.match(r"execute\s+statement\s+set\b", statement.sql, re.IGNORECASE):
            if statement_set is not None:
                raise SqlFileError(f"{statement.location}: a job file holds one statement set")
            statement_set = statement
        else:
            raise SqlFileError(
                f"{statement.location}: a job file holds only SET lines and one EXECUTE STATEMENT SET"
            )
    if statement_set is None:
        raise SqlFileError(f"{_display(path)}:1: no EXECUTE STATEMENT SET")
    roots = _references(statement_set.sql, set(objects))
    for target in INSERT_TARGET.findall(_strip_comments(statement_set.sql)):
        if target not in objects:
            raise SqlFileError(f"{statement_set.location}: INSERT INTO unknown table {target!r}")
    return Job(name, path, settings, _dependency_order(roots, objects, path), statement_set)
