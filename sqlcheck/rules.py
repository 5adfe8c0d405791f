"""The streaming rules, each a function of the catalog returning findings:

- FL002 watermark: a Kafka source table (read by a query, or never written) declares no
  ``WATERMARK``.
- FL003 dedup-ttl: a ``ROW_NUMBER() ... WHERE row_num = 1`` deduplication reached by a job (in
  the job itself or through the views it reads) whose job file does not ``SET
  'table.exec.state.ttl'`` to a non-zero value. Reported at the ``ROW_NUMBER`` call.
- FL004 append-only sink: an ``INSERT`` into a ``filesystem`` or ``iceberg`` table (Iceberg's
  Flink sink takes inserts only unless ``'upsert-enabled'``; ours never is) whose query
  (including the views it reads) is updating: a regular aggregation (``GROUP BY`` not over a window
  TVF's ``window_start, window_end``; also global aggregates and ``SELECT DISTINCT``), a top-N
  (``row_num <= N``, ``< N``, ``= N>1``, or a keep-last-row ``ORDER BY ... DESC`` dedup), or an
  outer join that is not an interval, temporal, window or lateral join. Reported at the INSERT.
- FL005 hard-coded connector option: ``properties.bootstrap.servers``, ``topic``,
  ``topic-pattern`` and ``path`` must come from a ``${placeholder}``; so must any other option
  whose value looks like a host:port, URI or absolute path.
- FL009 reference: a query reads a table or view the project does not define.
"""

from __future__ import annotations

import re

from sqlglot import exp

from sqlcheck.catalog import Catalog, JobDef, relation_name
from sqlcheck.findings import Finding
from sqlcheck.project import SourceFile
from sqlcheck.streaming import rank_filters, read_relations, updating_constructs, views_reached

TTL_KEY = "table.exec.state.ttl"
TEMPLATED_OPTIONS = ("properties.bootstrap.servers", "topic", "topic-pattern", "path")


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


def _ttl_problem(job: JobDef) -> str | None:
    value = job.settings.get(TTL_KEY)
    if value is None:
        return f"job {job.file.display} does not SET '{TTL_KEY}'"
    if not value.strip() or _DURATION_ZERO_RE.match(value):
        return f"job {job.file.display} sets '{TTL_KEY}' = '{value}', which keeps state forever"
    return None


def rule_dedup_ttl(catalog: Catalog) -> list[Finding]:
    # dedup node id -> (file, node, [problems])
    problems: dict[int, tuple[SourceFile, exp.Expr, list[str]]] = {}
    for job in catalog.jobs:
        problem = _ttl_problem(job)
        if problem is None:
            continue
        for insert in job.inserts:
            sources: list[tuple[SourceFile, exp.Expr, str]] = [(insert.file, insert.query, "")]
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
        line, col = file.node_position(node)
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


APPEND_ONLY_CONNECTORS = ("filesystem", "iceberg")


def rule_append_only_sinks(catalog: Catalog) -> list[Finding]:
    findings = []
    for insert in catalog.inserts:
        table = catalog.tables.get(insert.target)
        if table is None or table.connector not in APPEND_ONLY_CONNECTORS:
            continue
        reasons = updating_constructs(insert.query, insert.file, catalog)
        for view in views_reached(insert.query, catalog):
            reasons += updating_constructs(view.query, view.file, catalog)
        if not reasons:
            continue
        described = []
        for reason in reasons:
            line, _ = reason.file.node_position(reason.node)
            described.append(f"{reason.reason} at {reason.file.display}:{line}")
        findings.append(
            Finding(
                insert.file.display,
                insert.line,
                insert.col,
                "FL004",
                f"{table.connector} sink {table.name} only accepts appends, but its query is"
                " updating: " + "; ".join(described),
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
            if option.templated:
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


def rule_references(catalog: Catalog) -> list[Finding]:
    """FL009 for every relation a view or INSERT reads that the project does not define (an
    INSERT's own target is checked when the project loads)."""
    known = set(catalog.tables) | set(catalog.views)
    findings = []
    seen: set[tuple[str, str]] = set()
    queries = [(v.file, v.query) for v in catalog.views.values()]
    queries += [(i.file, i.query) for i in catalog.inserts]
    for file, query in queries:
        for table in read_relations(query):
            name = relation_name(table) or ""
            if name in known or (file.display, name) in seen:
                continue
            seen.add((file.display, name))
            findings.append(
                Finding(
                    file.display,
                    *file.node_position(table),
                    "FL009",
                    f"{name} is neither a table nor a view of the project",
                )
            )
    return findings
