"""`jobs.py lint`: the project's load problems (FL001 syntax, FL007 placeholders, FL008 layout,
FL009 unknown INSERT targets and circular references), every statement parsed (FL001), then the
streaming rules (`sqlcheck.rules`, FL002-FL005, FL009) and the lake contract against dbt's
sources for every lake table (`sqlcheck.dbt_contract`, FL006). Every finding is an error."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from sqlcheck.catalog import build_catalog, parse_all
from sqlcheck.dbt_contract import rule_dbt_contract
from sqlcheck.findings import Finding
from sqlcheck.project import JOBS, KINDS, Project, SqlError, load_project
from sqlcheck.rules import (
    rule_append_only_sinks,
    rule_dedup_ttl,
    rule_kafka_watermark,
    rule_references,
    rule_templated_options,
)

FOLDERS = (*KINDS, JOBS)


def lint_project(project: Project, dbt_sources_yml: Path | None = None) -> list[Finding]:
    """Every finding of a loaded project, sorted by file position. `dbt_sources_yml`: the dbt
    sources file the lake tables are checked against (FL006); None skips that rule."""
    findings = list(project.problems) + parse_all(project)
    # with a file that did not load or parse, its tables and views are unknown: no FL009 for reads
    complete = not findings
    catalog = build_catalog(project)
    findings += rule_kafka_watermark(catalog)
    findings += rule_dedup_ttl(catalog)
    findings += rule_append_only_sinks(catalog)
    findings += rule_templated_options(catalog)
    if dbt_sources_yml is not None:
        findings += rule_dbt_contract(catalog, Path(dbt_sources_yml))
    if complete:
        findings += rule_references(catalog)
    return sorted(set(findings))


def project_root(path: Path) -> Path:
    """The project folder (the one holding functions/, tables/, views/, jobs/) of a path in it."""
    if path.is_dir():
        if path.name in FOLDERS and not any((path / name).is_dir() for name in FOLDERS):
            return path.parent
        return path
    if path.is_file():
        return path.parent.parent if path.parent.name in FOLDERS else path.parent
    raise SqlError(f"{path}: no such file or folder")


def lint_paths(
    paths: Iterable[Path],
    params: Mapping[str, str],
    dbt_sources_yml: Path | None = None,
    dbt_sql_dir: Path | None = None,
) -> list[Finding]:
    """Lint the projects the paths belong to, each as a whole; report the findings in the given
    files and folders (all of them when a path is a project folder). `dbt_sql_dir`: the one
    project `dbt_sources_yml` describes (None: every project linted)."""
    paths = [Path(path) for path in paths]
    roots = list(dict.fromkeys(project_root(path) for path in paths))

    def sources_for(root: Path) -> Path | None:
        described = dbt_sql_dir is None or root.resolve() == Path(dbt_sql_dir).resolve()
        return dbt_sources_yml if described else None

    findings = [
        finding
        for root in roots
        for finding in lint_project(load_project(root, params), sources_for(root))
    ]
    if all(path in roots for path in paths):
        return findings
    wanted = [path.resolve() for path in paths]
    return [
        finding
        for finding in findings
        if any(Path(finding.path).resolve().is_relative_to(path) for path in wanted)
    ]
