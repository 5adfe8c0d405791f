"""Running the clickstream_marts DAG for real, for any test: `airflow dags test` in a subprocess
with its own AIRFLOW_HOME and SQLite metadata DB (migrated once per module, copied per run), over
a lake and a warehouse of the run's own."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
AIRFLOW = Path(sys.executable).with_name("airflow")
DAG_ID = "clickstream_marts"
TASK_IDS = [
    "check_pipeline_health",
    "dbt_source_freshness",
    "dbt_build",
    "check_data_quality",
    "maintain_lake",
]
# Runs over a lake no stack is writing: no health check, stale sources only logged.
OFFLINE_CONF = {"require_healthy_pipeline": False, "require_fresh_sources": False}


def airflow_env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }


def migrate(home: Path) -> Path:
    """An AIRFLOW_HOME with a migrated SQLite metadata DB, for new_run to copy."""
    result = subprocess.run(
        [str(AIRFLOW), "db", "migrate"],
        env=airflow_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return home


@dataclass
class AirflowRun:
    """One `airflow dags test` of the DAG, with its own AIRFLOW_HOME and warehouse; the lake is
    `<root>/lake` unless given."""

    root: Path
    lake_root: Path | None = None
    output: str = field(default="", repr=False)

    @property
    def lake(self) -> Path:
        return self.lake_root or self.root / "lake"

    @property
    def warehouse(self) -> Path:
        return self.root / "clickstream.duckdb"

    @property
    def home(self) -> Path:
        return self.root / "airflow"

    def run(self, conf: dict, logical_date: str, environ: dict[str, str] | None = None) -> None:
        """The DAG for `logical_date`, with `environ` (e.g. CLICKSTREAM_* settings) on top of the
        test session's environment."""
        env = {
            **airflow_env(self.home),
            "CLICKSTREAM_LAKE_ROOT": str(self.lake),
            "DBT_DUCKDB_PATH": str(self.warehouse),
            "DBT_TARGET_PATH": str(self.root / "dbt-target"),
            "DBT_LOG_PATH": str(self.root / "dbt-logs"),
            **(environ or {}),
        }
        # A task that failed with retries left would make `dags test` wait out the backoff: the
        # timeout turns that into a failure instead of a hang.
        result = subprocess.run(
            [str(AIRFLOW), "dags", "test", DAG_ID, logical_date, "--conf", json.dumps(conf)],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        self.output = result.stdout + result.stderr

    def metadata(self, sql: str) -> list[tuple]:
        with sqlite3.connect(self.home / "airflow.db") as connection:
            return connection.execute(sql).fetchall()

    def task_states(self) -> dict[str, str]:
        return dict(self.metadata("select task_id, state from task_instance"))

    def xcom(self, task_id: str):
        rows = self.metadata(
            f"select value from xcom where task_id = '{task_id}' and key = 'return_value'"
        )
        return json.loads(rows[0][0]) if rows else None

    def rows(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as connection:
            return connection.execute(sql).fetchall()


def new_run(root: Path, migrated_home: Path, lake_root: Path | None = None) -> AirflowRun:
    run = AirflowRun(root, lake_root)
    run.home.mkdir()
    # airflow.cfg names its own home: only the database is copied
    shutil.copy(migrated_home / "airflow.db", run.home)
    return run


def assert_ran(run: AirflowRun, expected_states: dict[str, str]) -> None:
    states = run.task_states()
    assert states == expected_states, f"task states {states}; dags test said:\n{run.output[-5000:]}"
