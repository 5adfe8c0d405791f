"""The batch side: keep the dbt marts fresh for one orchestrator interval.

Plain functions the Airflow DAG (dags/clickstream_marts.py) calls, one per task, so each step is
unit-testable without Airflow: is the streaming pipeline healthy, is the lake fresh, rebuild the
marts of the interval's dates, and does the lake's accounting identity hold for those dates.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pipeline import lake
from stack.config import Config

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT = REPO_ROOT / "dbt_project"
JOBS_PY = REPO_ROOT / "jobs.py"

Log = Callable[[str], None]


class MartsError(RuntimeError):
    """A step of the marts refresh failed; the message says why, with the numbers."""


class PipelineUnhealthy(MartsError):
    """`jobs.py status` exited non-zero: the streaming pipeline is not healthy."""


class StaleSources(MartsError):
    """dbt source freshness found lake tables older than their error threshold."""


class DbtFailed(MartsError):
    """A dbt command exited non-zero."""


class AccountingIdentityBroken(MartsError):
    """bronze != silver + quarantine + late + duplicates for some date: records were lost or
    counted twice. Retrying does not fix data, so the DAG fails this without retries."""


# --- which dates a run rebuilds ------------------------------------------------------------------


@dataclass(frozen=True)
class DateRange:
    """An inclusive range of UTC dates: the `dt=` partitions a run rebuilds and checks."""

    start_date: date
    end_date: date

    def dates(self) -> list[date]:
        days = (self.end_date - self.start_date).days
        return [self.start_date + timedelta(days=offset) for offset in range(days + 1)]

    def dbt_vars(self) -> dict[str, str]:
        """The vars the incremental marts read (dbt_project.yml: start_date, end_date)."""
        return {"start_date": self.start_date.isoformat(), "end_date": self.end_date.isoformat()}


def _utc(moment: datetime) -> datetime:
    """A plain UTC datetime (Airflow hands out pendulum ones, whose arithmetic can drop the zone);
    a naive one is taken as UTC."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.fromtimestamp(aware.timestamp(), UTC)


def rebuilt_dates(
    data_interval_start: datetime, data_interval_end: datetime, lookback: timedelta
) -> DateRange:
    """The dates of [data_interval_start, data_interval_end), widened back by `lookback`: the
    first runs after midnight rebuild the previous day once more, now complete (files Flink
    committed after the last run of that day, sessions that ran past midnight)."""
    start, end = _utc(data_interval_start), _utc(data_interval_end)
    last_moment = max(start, end - timedelta(microseconds=1))
    return DateRange((start - lookback).date(), last_moment.date())


# --- running the tools ---------------------------------------------------------------------------


def dbt_executable() -> str:
    """dbt beside the interpreter running us (the repo's .venv under `make airflow`), else the
    repo's .venv, else whatever is on PATH."""
    for candidate in (Path(sys.executable).with_name("dbt"), REPO_ROOT / ".venv" / "bin" / "dbt"):
        if candidate.exists():
            return str(candidate)
    return "dbt"


def _run(command: list[str], cwd: Path, env: dict[str, str], log: Log) -> tuple[int, str]:
    """Run a command, echoing its output line by line into the task log; (exit code, output)."""
    lines: list[str] = []
    with subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            log(lines[-1])
    return process.returncode, "\n".join(lines)


def dbt_env(lake_root: str, **overrides: str) -> dict[str, str]:
    """The environment dbt runs with: the lake root profiles.yml and __sources.yml read, and an
    Airflow-owned target folder so a developer's `dbt build` in dbt_project/ is not clobbered.
    DBT_DUCKDB_PATH, DBT_TARGET_PATH and DBT_LOG_PATH already set in the environment win."""
    env = {
        **os.environ,
        "LAKE_ROOT": lake_root.rstrip("/"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    env.setdefault("DBT_TARGET_PATH", str(DBT_PROJECT / "target" / "airflow"))
    env.update(overrides)
    return env


def run_dbt(args: list[str], env: dict[str, str], log: Log = print) -> str:
    """One dbt command in dbt_project/ (profiles.yml is there); DbtFailed on a non-zero exit."""
    command = [dbt_executable(), *args, "--profiles-dir", str(DBT_PROJECT)]
    log(f"$ {' '.join(command)}")
    returncode, output = _run(command, DBT_PROJECT, env, log)
    if returncode != 0:
        tail = "\n".join(output.splitlines()[-40:])
        raise DbtFailed(f"dbt {args[0]} exited {returncode}:\n{tail}")
    return output


# --- the steps -----------------------------------------------------------------------------------


def check_pipeline_health(log: Log = print) -> None:
    """`python jobs.py status`: exit 1 means a job is not RUNNING, a checkpoint is overdue or
    backpressure is high; marts built then would silently miss data."""
    command = [sys.executable, str(JOBS_PY), "status"]
    log(f"$ {' '.join(command)}")
    returncode, output = _run(command, REPO_ROOT, dict(os.environ), log)
    if returncode != 0:
        problems = [line for line in output.splitlines() if line.startswith("unhealthy:")]
        raise PipelineUnhealthy(
            f"jobs.py status exited {returncode}: "
            + ("; ".join(problems) or (output.splitlines() or ["no output"])[-1])
        )


@dataclass(frozen=True)
class SourceFreshness:
    """dbt's verdict on one lake table: pass, warn or error (stale), from sources.json."""

    source_name: str
    status: str
    max_loaded_at: str | None
    age_seconds: float | None

    def describe(self) -> str:
        age = "?" if self.age_seconds is None else f"{self.age_seconds / 3600:.1f} h"
        return f"{self.source_name}: {self.status} (newest row {self.max_loaded_at}, {age} old)"


def check_source_freshness(
    lake_root: str, *, is_required: bool, log: Log = print
) -> list[SourceFreshness]:
    """`dbt source freshness` over the lake tables that have committed files (a table with none,
    like late/ in a healthy stream, has no age; read_parquet would fail on it). Stale tables fail
    when `is_required`, else they are logged: a backfill over an old lake is stale by design.
    Runs on an in-memory DuckDB so it never waits on the warehouse file a build holds."""
    tables = [table for table in lake.TABLES if lake.committed_files(lake_root, table)]
    if not tables:
        message = f"no lake table under {lake_root} has committed files yet"
        if is_required:
            raise StaleSources(message)
        log(f"{message}: nothing to check")
        return []

    with tempfile.TemporaryDirectory(prefix="dbt-freshness-") as target:
        env = dbt_env(lake_root, DBT_DUCKDB_PATH=":memory:", DBT_TARGET_PATH=target)
        selection = [f"source:lake.{table}" for table in tables]
        try:
            run_dbt(["source", "freshness", "--select", *selection], env, log)
        except DbtFailed:
            # Exit 1 also means "a source is stale"; sources.json tells that from a real error.
            if not Path(target, "sources.json").exists():
                raise
        document = json.loads(Path(target, "sources.json").read_text())

    results = [
        SourceFreshness(
            source_name=result["unique_id"].rpartition(".")[2],
            status=result["status"],
            max_loaded_at=result.get("max_loaded_at"),
            age_seconds=result.get("max_loaded_at_time_ago_in_s"),
        )
        for result in document["results"]
    ]
    broken = [result for result in results if result.status not in ("pass", "warn", "error")]
    if broken:
        raise DbtFailed(
            "dbt source freshness could not check: "
            + "; ".join(f"{result.source_name}: {result.status}" for result in broken)
        )
    stale = [result for result in results if result.status == "error"]
    for result in results:
        log(result.describe())
    if stale and is_required:
        raise StaleSources(
            f"{len(stale)} lake table(s) older than their error_after threshold: "
            + "; ".join(result.describe() for result in stale)
        )
    if stale:
        log(f"{len(stale)} stale lake table(s) ignored: require_fresh_sources is false")
    return results


def build_marts(
    config: Config, date_range: DateRange, extra_vars: dict | None = None, log: Log = print
) -> str:
    """`dbt build` (models and their tests) over `config`'s lake, rebuilding the marts' partitions
    of `date_range`: each date-partitioned mart deletes the range and appends it again, so
    re-running a date replaces it (idempotent), and a backfill is one run per interval. The
    semantic settings (window size, session timeout, …) are the config's, the same the Flink jobs
    were rendered with; `extra_vars` may override them, never the dates."""
    dbt_vars = {**config.dbt_vars(), **(extra_vars or {}), **date_range.dbt_vars()}
    return run_dbt(["build", "--vars", json.dumps(dbt_vars)], dbt_env(config.lake_root), log)


# --- the accounting identity ---------------------------------------------------------------------


def lake_accounting(
    lake_root: str, date_range: DateRange, ingested_before: datetime
) -> list[lake.DailyAccounting]:
    """Each date of `date_range`, dates with no records included (all zero), over records
    ingested before `ingested_before` (newer ones may still be on their way into silver: the
    bronze and the silver/gold jobs commit files on their own checkpoints)."""
    counted = {
        day.ingested_date: day
        for day in lake.accounting(
            lake_root, date_range.start_date, date_range.end_date, _utc(ingested_before)
        )
    }
    return [counted.get(day, lake.DailyAccounting.empty(day)) for day in date_range.dates()]


def check_accounting_identity(
    lake_root: str, date_range: DateRange, ingested_before: datetime, log: Log = print
) -> list[lake.DailyAccounting]:
    """Log each date's accounting and raise AccountingIdentityBroken, with the numbers, when
    bronze != silver + quarantine + late + duplicates for any of them."""
    accounting = lake_accounting(lake_root, date_range, ingested_before)
    log(f"accounting identity over records ingested before {ingested_before.isoformat()}:")
    for day in accounting:
        log(f"  {day.describe()}")
    broken = [day for day in accounting if not day.is_balanced]
    if broken:
        raise AccountingIdentityBroken(
            "accounting identity bronze = silver + quarantine + late + duplicates does not hold: "
            + " | ".join(day.describe() for day in broken)
        )
    return accounting
