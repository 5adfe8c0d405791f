"""One setting, every side: `window_minutes = 5`, set once in the typed config, gives Flink
5-minute gold windows, and `dbt build` reconciles them with silver, through the Airflow DAG
(pipeline.marts passes the config's settings as vars) and by hand (dbt_project.yml reads
CLICKSTREAM_WINDOW_MINUTES). Flink runs once, configured by CLICKSTREAM_WINDOW_MINUTES; the DAG
runs once per way of saying it, the variable and a clickstream.toml named by CLICKSTREAM_CONFIG
(which give Flink the same rendered SQL: tests/test_stack.py). A few hundred clean events over
twelve minutes of event time: three windows, with orders in each."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from airflow_runner import OFFLINE_CONF, assert_ran, migrate, new_run
from support import produce

from generator.ground_truth import expected_silver_events, load_ground_truth
from generator.model import GeneratorConfig
from generator.simulate import simulate
from pipeline import deploy, lake_reader, marts
from stack import kafka
from stack.config import Config, load_config

pytestmark = pytest.mark.integration

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
WINDOW = timedelta(minutes=5)
RECORDS = 360  # 0.5 per simulated second: 10:00 to 10:12, windows at 10:00, 10:05 and 10:10
GENERATOR = GeneratorConfig(
    seed=1,
    start_at=datetime(2024, 3, 2, 10, 0, tzinfo=UTC),
    sim_rate=0.5,
    duplicate_rate=0.0,
    out_of_order_rate=0.0,
    late_rate=0.0,
    malformed_rate=0.0,
    bot_rate=0.0,
)
# The DAG's interval [11:45, 12:00) on 2024-03-02: it rebuilds that date's marts.
LOGICAL_DATE = "2024-03-02T12:00:00+00:00"
WINDOW_TABLES = (
    "revenue_per_window",
    "revenue_by_category_per_window",
    "active_users_per_window",
    "purchases_by_device_per_window",
    "product_conversion_per_window",
)


# The two ways to say window_minutes = 5: each loads the same typed config (tests/test_stack.py).
SOURCES = {
    "environment": lambda root: {"CLICKSTREAM_WINDOW_MINUTES": "5"},
    "toml": lambda root: {"CLICKSTREAM_CONFIG": str(toml_file(root, "window_minutes = 5\n"))},
}


def toml_file(root: Path, text: str) -> Path:
    path = root / "clickstream.toml"
    path.write_text(text)
    return path


@dataclass(frozen=True)
class FiveMinuteLake:
    """A lake Flink wrote with window_minutes = 5 (CLICKSTREAM_WINDOW_MINUTES), and its events."""

    config: Config
    events: list[dict]  # the silver events, from the ground truth

    @property
    def lake(self) -> Path:
        return Path(self.config.lake_root)


def run_pipeline(config: Config) -> None:
    """Both jobs, bounded by what the topic holds: the final watermark closes every window."""
    for job in ("bronze", "silver_gold"):
        job_id, started = deploy.submit(config, job)
        assert started
        state = deploy.wait_for_state(config, job_id, {"FINISHED", "FAILED", "CANCELED"}, 300)
        assert state == "FINISHED", f"{job} ended {state}"


@pytest.fixture(scope="module")
def five_minute_lake(running_stack: Config, tmp_path_factory) -> FiveMinuteLake:
    root = tmp_path_factory.mktemp("window")
    topic = f"test-window-{uuid.uuid4().hex[:10]}"
    assert kafka.ensure_topic(running_stack, topic)
    config = load_config(
        environ={**os.environ, **SOURCES["environment"](root)},
        kafka_topic=topic,
        lake_root=str(root / "lake"),
        deployment=f"test-{topic}",
        kafka_bounded_mode="latest-offset",
        checkpoint_interval="2 s",
        watermark_emit_strategy="on-event",
    )
    assert config.window_minutes == 5
    truth = root / "truth.jsonl"
    produce(config, simulate(GENERATOR, RECORDS), truth)
    run_pipeline(config)
    return FiveMinuteLake(config, expected_silver_events(load_ground_truth(truth)))


@pytest.fixture(scope="module")
def migrated_home(tmp_path_factory) -> Path:
    return migrate(tmp_path_factory.mktemp("airflow-home"))


def gold(lake: Path, table: str, columns: str) -> list[tuple]:
    table_scan = lake_reader.scan_identifier(lake, f"gold.{table}")
    assert table_scan is not None, f"no Iceberg table gold.{table} in {lake}"
    with duckdb.connect() as connection:
        return connection.execute(
            f"select {columns} from ({table_scan.select_sql()}) order by all"
        ).fetchall()


def window_of(event_at: str) -> datetime:
    moment = datetime.strptime(event_at, "%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)


def expected_active_users(events: list[dict]) -> list[tuple]:
    users: dict[datetime, set[str]] = defaultdict(set)
    for event in events:
        users[window_of(event["event_at"])].add(event["user_id"])
    return sorted((start, len(ids)) for start, ids in users.items())


def expected_revenue(events: list[dict]) -> list[tuple]:
    orders: dict[datetime, list[Decimal]] = defaultdict(list)
    for event in events:
        if event["event_type"] == "purchase":
            total = sum(
                Decimal(str(item["unit_price"])) * int(item["quantity"])
                for item in event["order"]["items"]
            )
            orders[window_of(event["event_at"])].append(total)
    return sorted((start, len(totals), sum(totals)) for start, totals in orders.items())


def dbt_by_hand(lake: Path, workdir: Path, environ: dict[str, str], *args: str):
    """dbt as a user runs it in dbt_project/ (profiles.yml there), with `environ` exported."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), *args],
        cwd=DBT_PROJECT,
        env={
            **os.environ,
            "LAKE_ROOT": str(lake),
            "DBT_DUCKDB_PATH": str(workdir / "clickstream.duckdb"),
            "DBT_TARGET_PATH": str(workdir / "target"),
            "DBT_LOG_PATH": str(workdir / "logs"),
            **environ,
        },
        capture_output=True,
        text=True,
        timeout=600,
    )


def assert_reconciled(dbt_output: str) -> None:
    """dbt ran the window-size check and every reconciliation test, and none of them failed or
    warned."""
    lines = dbt_output.splitlines()
    for check in (
        "assert_gold_windows_are_window_minutes_long",
        "assert_gold_revenue_per_window_matches_silver_orders",
        "assert_gold_active_users_match_silver",
        "assert_gold_active_users_per_rollup_window_match_silver",
        "assert_gold_revenue_per_rollup_window_matches_silver_orders",
    ):
        assert any(check in line and " PASS " in line for line in lines), check
    summary = next(line for line in reversed(lines) if "Done. PASS=" in line).replace(" ", "")
    assert "WARN=0ERROR=0" in summary, summary


def test_flink_writes_five_minute_gold_windows(five_minute_lake: FiveMinuteLake):
    lake, events = five_minute_lake.lake, five_minute_lake.events
    for table in WINDOW_TABLES:
        sizes = gold(lake, table, "distinct window_end - window_start")
        assert sizes == [(WINDOW,)], table
    # events_per_minute is one minute whatever the window size
    assert gold(lake, "events_per_minute", "distinct window_end - window_start") == [
        (timedelta(minutes=1),)
    ]
    # the rollup tables keep their own sizes (5 and 10 by default), whatever window_minutes is
    config = five_minute_lake.config
    for table in ("active_users_per_rollup_window", "revenue_per_rollup_window"):
        sizes = gold(lake, table, "distinct window_minutes, window_end - window_start")
        assert sizes == [(m, timedelta(minutes=m)) for m in config.rollup_minutes], table
    active_users = expected_active_users(events)
    assert [start.minute for start, _ in active_users] == [0, 5, 10]
    assert gold(lake, "active_users_per_window", "window_start, active_users") == active_users
    revenue = expected_revenue(events)
    assert len(revenue) == 3  # orders in every window
    assert gold(lake, "revenue_per_window", "window_start, order_count, revenue") == revenue


def test_the_dag_reconciles_five_minute_windows_set_in_a_toml_file(
    five_minute_lake: FiveMinuteLake, migrated_home: Path, tmp_path
):
    """`airflow dags test` with only CLICKSTREAM_CONFIG naming the file: dbt can learn the window
    size from nowhere but the config's --vars."""
    run = new_run(tmp_path, migrated_home, lake_root=five_minute_lake.lake)
    run.run(OFFLINE_CONF, LOGICAL_DATE, environ=SOURCES["toml"](tmp_path))
    assert_ran(
        run,
        {
            "check_pipeline_health": "skipped",
            "dbt_source_freshness": "success",
            "dbt_build": "success",
            "check_data_quality": "success",
            "maintain_lake": "success",
        },
    )
    assert '"window_minutes": 5' in run.output
    assert_reconciled(run.output)


def test_the_dags_build_step_reconciles_five_minute_windows_set_in_the_environment(
    five_minute_lake: FiveMinuteLake, tmp_path, monkeypatch
):
    """The DAG's dbt_build task, pipeline.marts.build_marts over load_config(), in this process
    with CLICKSTREAM_WINDOW_MINUTES set (cheaper than a second Airflow run)."""
    for name, value in SOURCES["environment"](tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DBT_DUCKDB_PATH", str(tmp_path / "clickstream.duckdb"))
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    config = load_config(lake_root=str(five_minute_lake.lake))
    day = GENERATOR.start_at.date()
    logged: list[str] = []
    output = marts.build_marts(config, marts.DateRange(day, day), log=logged.append)
    assert '"window_minutes": 5' in logged[0]  # "$ dbt build --vars {...}"
    assert_reconciled(output)


def test_dbt_build_by_hand_reconciles_with_the_variable_set(
    five_minute_lake: FiveMinuteLake, tmp_path
):
    environ = SOURCES["environment"](tmp_path)
    built = dbt_by_hand(five_minute_lake.lake, tmp_path, environ, "build")
    assert built.returncode == 0, built.stdout[-6000:]
    assert "ERROR=0" in built.stdout.replace(" ", "")
    # dbt cannot read clickstream.toml: with only the file, a plain dbt keeps the default window
    # and fails naming the mismatch (dbt_project/README.md says to export the variable instead).
    check = "assert_gold_windows_are_window_minutes_long"
    toml_only = dbt_by_hand(
        five_minute_lake.lake, tmp_path, SOURCES["toml"](tmp_path), "test", "--select", check
    )
    assert toml_only.returncode == 1, toml_only.stdout[-3000:]
    assert any(" FAIL " in line and check in line for line in toml_only.stdout.splitlines())
