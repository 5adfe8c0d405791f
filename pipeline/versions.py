"""What runs: every deploy of a job is recorded as a version under the stack's state directory.

    <state_dir>/deployments/<deployment>/<job>/<n>/
        plan.json      the compiled plan exactly as executed (its node ids are the running uids)
        sql/           the rendered SQL of every object the job reaches, one file per object
        settings.json  what the job ran with (config defaults + the job's SET lines)
        meta.json      when, Flink job id, savepoint it started from, fingerprint, outcome, verdicts

The fingerprint covers everything the compiled plan depends on (each object's SQL without
comments or layout, the settings, the Flink version, the connector and function jars), so an
unchanged job is recognised without starting a JVM.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from sqlcheck.dialect import tokenize
from sqlcheck.project import Job, Statement
from stack.config import Config

FLINK_VERSION = "2.3"
RUNNING = "running"  # outcome of a version that started and checkpointed


def canonical(statement: Statement) -> str:
    """A statement as its tokens: comments and layout gone, string literals intact."""
    return " ".join(f"{t.token_type.name}:{t.text}" for t in tokenize(statement.sql))


def rendered_sql(job: Job) -> dict[str, str]:
    """File name (relative to the project) -> rendered SQL, for every object the job reaches."""
    files = {f"{o.kind}s/{o.name}.sql": o.statement.sql + ";\n" for o in job.ddl}
    settings = "".join(f"set '{k}' = '{v}';\n" for k, v in job.settings.items())
    files[f"jobs/{job.name}.sql"] = settings + job.statement_set.sql + ";\n"
    return files


def jar_hashes(config: Config) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        for path in sorted((config.jars_dir / "flink").glob("*.jar"))
    }


def fingerprint(job: Job, settings: dict[str, str], jars: dict[str, str]) -> str:
    parts = {
        "flink": FLINK_VERSION,
        "settings": settings,
        "objects": {f"{o.kind}:{o.name}": canonical(o.statement) for o in job.ddl},
        "statement_set": canonical(job.statement_set),
        "jars": jars,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Version:
    job: str
    number: int
    path: Path
    meta: dict

    @property
    def plan(self) -> dict:
        return json.loads((self.path / "plan.json").read_text())

    @property
    def settings(self) -> dict[str, str]:
        return json.loads((self.path / "settings.json").read_text())

    def sql(self) -> dict[str, str]:
        root = self.path / "sql"
        return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.sql"))}

    def function_sql(self) -> list[str]:
        """The CREATE FUNCTION statements: a compiled plan holds its tables, not its functions."""
        return [
            text.rstrip().rstrip(";")
            for name, text in self.sql().items()
            if name.startswith("functions/")
        ]


def job_dir(config: Config, job_name: str) -> Path:
    return config.state_dir / "deployments" / config.deployment / job_name


def versions(config: Config, job_name: str) -> list[Version]:
    root = job_dir(config, job_name)
    found = []
    for path in root.glob("*/meta.json") if root.exists() else []:
        found.append(
            Version(job_name, int(path.parent.name), path.parent, json.loads(path.read_text()))
        )
    return sorted(found, key=lambda v: v.number)


def current(config: Config, job_name: str) -> Version | None:
    """The newest version that started and checkpointed: what runs (or ran last)."""
    return next(
        (v for v in reversed(versions(config, job_name)) if v.meta["outcome"] == RUNNING), None
    )


def highest_node_id(config: Config, job_name: str) -> int:
    """The highest node id any version of the job ever ran: fresh ids go above it."""
    return max((v.meta.get("max_node_id", 0) for v in versions(config, job_name)), default=0)


def record(
    config: Config,
    job_name: str,
    plan: dict,
    sql: dict[str, str],
    settings: dict[str, str],
    meta: dict,
) -> Version:
    """Store a new version (numbered after the last one) and return it."""
    existing = versions(config, job_name)
    number = existing[-1].number + 1 if existing else 1
    path = job_dir(config, job_name) / str(number)
    if path.exists():
        shutil.rmtree(path)
    (path / "sql").mkdir(parents=True)
    for name, text in sql.items():
        (path / "sql" / name).parent.mkdir(parents=True, exist_ok=True)
        (path / "sql" / name).write_text(text)
    (path / "plan.json").write_text(json.dumps(plan, indent=1))
    (path / "settings.json").write_text(json.dumps(settings, indent=1, sort_keys=True))
    meta = {
        "version": number,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "max_node_id": max((n["id"] for n in plan["nodes"]), default=0),
        **meta,
    }
    (path / "meta.json").write_text(json.dumps(meta, indent=1))
    return Version(job_name, number, path, meta)


def update(version: Version, **changes: object) -> Version:
    """Change fields of a version's meta.json (read back from disk: the file is the record)."""
    meta = {**json.loads((version.path / "meta.json").read_text()), **changes}
    (version.path / "meta.json").write_text(json.dumps(meta, indent=1))
    return Version(version.job, version.number, version.path, meta)


def sql_diff(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """A unified diff per changed file (added and removed files included)."""
    import difflib

    lines: list[str] = []
    for name in sorted(set(old) | set(new)):
        if old.get(name) == new.get(name):
            continue
        lines += difflib.unified_diff(
            (old.get(name) or "").splitlines(),
            (new.get(name) or "").splitlines(),
            f"running/{name}" if name in old else "/dev/null",
            f"new/{name}" if name in new else "/dev/null",
            lineterm="",
        )
    return lines


def changed_files(old: dict[str, str], new: dict[str, str]) -> list[str]:
    return sorted(name for name in set(old) | set(new) if old.get(name) != new.get(name))
