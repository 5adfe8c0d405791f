"""dashboard/app.py run in-process by Streamlit's AppTest (no browser, no stack): the health panel
shows what `jobs.py status` reports, and an empty lake shows empty states, not errors. The real
browser test is tests/integration/test_dashboard_browser.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import stack
from pipeline import health

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"


@pytest.fixture
def empty_lake(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("CLICKSTREAM_LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("CLICKSTREAM_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "lake"


def run_app() -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not app.exception, app.exception
    return app


def test_a_running_stack_shows_its_jobs_and_problems(empty_lake, monkeypatch):
    report = health.HealthReport(
        services=[
            stack.ServiceStatus("kafka", 101, True, "127.0.0.1:9092"),
            stack.ServiceStatus("jobmanager", 102, True, "http://127.0.0.1:8081"),
            stack.ServiceStatus("taskmanager", 103, True, "8 slots, 4 free"),
        ],
        jobs=[
            health.JobHealth(
                "bronze", "clickstream: bronze", "j1", "RUNNING", uptime_s=60, restarts=0,
                checkpoint_age_s=45.0, kafka_lag=[health.PartitionLag(0, 5, 12)],
            ),
            health.JobHealth("silver_gold", "clickstream: silver + gold", None, "NOT_DEPLOYED"),
        ],
        problems=["silver_gold: job is NOT_DEPLOYED", "bronze: last checkpoint 45 s ago"],
    )  # fmt: skip
    monkeypatch.setattr(health, "report", lambda _config: report)
    app = run_app()
    assert [error.value for error in app.error] == report.problems
    jobs = app.table[-1].value
    assert jobs.loc["bronze", "kafka lag"] == "7"
    assert jobs.loc["bronze", "checkpoint age"] == "45.0 s"
    assert jobs.loc["silver_gold", "state"] == "NOT_DEPLOYED"


def test_no_stack_and_an_empty_lake_show_empty_states(empty_lake):
    app = run_app()
    messages = " ".join(info.value for info in app.info)
    assert "Stack not running" in messages
    assert "No committed files in `gold/events_per_minute` yet" in messages
    assert "No dbt warehouse at" in messages
    assert not app.error
    identity = next(metric for metric in app.metric if metric.label == "Accounting identity")
    assert identity.value == "holds"
