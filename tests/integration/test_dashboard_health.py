"""The dashboard's health panel against the real local stack: one job running, the other not
deployed, read by the same code as `jobs.py status` and rendered by Streamlit's AppTest."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from support import produce

from generator.model import GeneratorConfig
from generator.simulate import simulate
from pipeline import deploy, health
from stack.config import Config
from stack.processes import wait_until

pytestmark = pytest.mark.integration

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def test_health_panel_shows_the_running_job_and_the_missing_one(
    pipeline_config: Config, tmp_path, monkeypatch
):
    config = replace(pipeline_config, kafka_bounded_mode="unbounded")
    produce(
        config,
        simulate(GeneratorConfig(seed=3, start_at=datetime.now(UTC)), 200),
        tmp_path / "truth",
    )
    job_id, _ = deploy.submit(config, "bronze")
    try:
        # RUNNING, checkpointed and caught up with the topic: what the panel should then show.
        def bronze_caught_up() -> bool:
            bronze = {job.job: job for job in health.report(config).jobs}["bronze"]
            return (
                bronze.state == "RUNNING"
                and bronze.checkpoint_age_s is not None
                and bool(bronze.kafka_lag)
                and bronze.total_lag == 0
            )

        assert wait_until(bronze_caught_up, timeout_s=90, interval_s=1)
        for name, value in config.as_environ().items():
            monkeypatch.setenv(name, value)
        app = AppTest.from_file(str(APP), default_timeout=60).run()
        assert not app.exception, app.exception
        assert "silver_gold: job is NOT_DEPLOYED" in [error.value for error in app.error]
        jobs = next(table.value for table in app.table if table.value.index.name == "job")
        assert jobs.loc["bronze", "state"] == "RUNNING"
        assert jobs.loc["bronze", "kafka lag"] == "0"
        assert jobs.loc["bronze", "checkpoint age"].endswith(" s")
        assert jobs.loc["silver_gold", "state"] == "NOT_DEPLOYED"
        taskmanagers = next(
            table.value for table in app.table if table.value.index.name == "taskmanager"
        )
        assert taskmanagers.iloc[0]["heap"].endswith(" MB")
    finally:
        deploy.cancel(config, job_id)
