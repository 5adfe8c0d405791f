"""`submit` lints first: a broken SQL file is reported as file:line RULE and nothing reaches the
cluster — checked against the real cluster's job list."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import deploy
from stack.config import Config

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_submit_refuses_a_source_without_watermark(running_stack: Config, tmp_path):
    sql_dir = tmp_path / "flink_sql"
    shutil.copytree(ROOT / "flink_sql", sql_dir)
    source = sql_dir / "tables" / "kafka_events.sql"
    text = source.read_text()
    watermark = next(
        line for line in text.splitlines() if line.lstrip().startswith("watermark for")
    )
    source.write_text(text.replace(watermark + "\n", "").replace("),\n) with (", ")\n) with ("))
    deployment = f"refused-{tmp_path.name}"

    result = subprocess.run(
        [sys.executable, "jobs.py", "submit"],
        cwd=ROOT,
        env={
            **os.environ,
            "CLICKSTREAM_SQL_DIR": str(sql_dir),
            "CLICKSTREAM_DEPLOYMENT": deployment,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert f"{source}:3:" in result.stderr and "FL002" in result.stderr
    assert "nothing was deployed" in result.stderr
    names = [job.name for job in deploy.list_jobs(running_stack)]
    assert not [name for name in names if name.startswith(deployment)]


def test_submit_refuses_an_unknown_placeholder_at_its_file_line_col(
    running_stack: Config, tmp_path
):
    sql_dir = tmp_path / "flink_sql"
    shutil.copytree(ROOT / "flink_sql", sql_dir)
    source = sql_dir / "tables" / "kafka_events.sql"
    text = source.read_text()
    line_number = next(n for n, line in enumerate(text.splitlines(), 1) if "${kafka_topic}" in line)
    col = text.splitlines()[line_number - 1].index("${kafka_topic}") + 1
    source.write_text(text.replace("${kafka_topic}", "${Kafka_topic}"))
    deployment = f"refused-{tmp_path.name}"

    result = subprocess.run(
        [sys.executable, "jobs.py", "submit"],
        cwd=ROOT,
        env={
            **os.environ,
            "CLICKSTREAM_SQL_DIR": str(sql_dir),
            "CLICKSTREAM_DEPLOYMENT": deployment,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert (
        f"{source}:{line_number}:{col} FL007 unknown placeholder ${{Kafka_topic}}"
        " (did you mean ${kafka_topic}?)"
    ) in result.stderr
    assert "nothing was deployed" in result.stderr
    names = [job.name for job in deploy.list_jobs(running_stack)]
    assert not [name for name in names if name.startswith(deployment)]
