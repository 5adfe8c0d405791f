"""`jobs.py status` tells the truth about the pipeline: healthy while both jobs run and
checkpoint, unhealthy (exit 1) once the TaskManager is killed, healthy again after recovery."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import deploy, health
from stack import flink
from stack.config import Config
from stack.processes import wait_until

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def cli_status(config: Config) -> tuple[int, dict]:
    result = subprocess.run(
        [sys.executable, "jobs.py", "status", "--json"],
        cwd=ROOT,
        env={
            **os.environ,
            "CLICKSTREAM_DEPLOYMENT": config.deployment,
            "CLICKSTREAM_KAFKA_TOPIC": config.kafka_topic,
            "CLICKSTREAM_CHECKPOINT_INTERVAL": config.checkpoint_interval,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, json.loads(result.stdout)


def healthy(config: Config) -> bool:
    """No problems, both Flink processes up, and every job has completed a checkpoint."""
    rows = health.pipeline_health(config)
    return (
        not health.problems(config, rows)
        and all(row.checkpoint_age_s is not None for row in rows)
        and all(service.pid() is not None for service in flink.services(config))
    )


def test_killed_taskmanager_turns_status_unhealthy_until_recovery(pipeline_config: Config):
    config = replace(pipeline_config, kafka_bounded_mode="unbounded")
    job_ids = [deploy.submit(config, job)[0] for job in ("bronze", "silver_gold")]
    try:
        assert wait_until(lambda: healthy(config), timeout_s=90, interval_s=1)
        code, document = cli_status(config)
        assert code == 0 and document["healthy"], document["problems"]
        assert {job["state"] for job in document["jobs"]} == {"RUNNING"}
        assert all(job["checkpoint_age_s"] is not None for job in document["jobs"])
        assert all(len(job["kafka_lag"]) == 3 for job in document["jobs"]), document["jobs"]
        # The TaskManager's memory and GC; early warnings (whether a busy machine raises one,
        # such as a slow checkpoint, is not up to this test) name their job or TaskManager.
        (taskmanager,) = document["taskmanagers"]
        assert 0 < taskmanager["heap_used_bytes"] <= taskmanager["heap_max_bytes"]
        assert taskmanager["managed_total_bytes"] > 0 and taskmanager["rss_bytes"] > 0
        names = ("bronze: ", "silver_gold: ", "taskmanager ")
        assert all(warning.startswith(names) for warning in document["warnings"])
        assert all(job["checkpoint_history"] for job in document["jobs"])

        taskmanager = flink.services(config)[1]
        os.kill(taskmanager.pid(), signal.SIGKILL)
        assert wait_until(lambda: taskmanager.pid() is None, timeout_s=10)
        code, document = cli_status(config)
        assert code == 1 and not document["healthy"]
        assert any("taskmanager" in problem for problem in document["problems"])

        flink.start(config)  # what `jobs.py up` does: start whatever is not running
        assert wait_until(lambda: healthy(config), timeout_s=180, interval_s=1)
        code, document = cli_status(config)
        assert code == 0, document["problems"]
    finally:
        flink.start(config)
        flink.wait_healthy(config)
        for job_id in job_ids:
            deploy.cancel(config, job_id)
