"""The deploy client's own behaviour that needs no cluster: the settings a job runs with, and the
import noise it keeps out of `submit`'s output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pipeline import deploy
from stack.config import load_config

ROOT = Path(__file__).resolve().parents[1]


def test_silver_gold_bounds_its_deduplication_state_and_is_named_for_the_deployment():
    config = load_config(deployment="elsewhere")
    job = deploy.load_job(config, "silver_gold")
    assert job.settings["table.exec.state.ttl"] == config.dedup_state_ttl
    assert deploy.pipeline_name(config, "silver_gold") == "elsewhere: silver + gold"


def test_a_job_without_a_pipeline_name_is_named_for_the_deployment(tmp_path):
    (tmp_path / "tables").mkdir()
    (tmp_path / "jobs").mkdir()
    (tmp_path / "tables" / "snk.sql").write_text("create table snk (a string) with ();")
    (tmp_path / "jobs" / "j.sql").write_text(
        "execute statement set begin insert into snk select 'a'; end;"
    )
    config = load_config(sql_dir=tmp_path, deployment="elsewhere", checkpoint_interval="3 s")
    settings = deploy.job_settings(config, deploy.load_job(config, "j"))
    assert settings["pipeline.name"] == "elsewhere: j"
    assert settings["execution.checkpointing.interval"] == "3 s"


BEAM_IMPORT = """
import logging
from pipeline import deploy
{install}
import apache_beam.io.filesystems
log = logging.getLogger("apache_beam.io.filesystems")
log.warning("Failed to import SomethingElse; a real problem")
log.error("Failed to import Broken; loading of this filesystem will be skipped")
"""


def test_the_optional_filesystem_warning_is_silenced_and_nothing_else():
    def stderr(install: str) -> str:
        code = BEAM_IMPORT.format(install=install)
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
        )
        return done.stderr

    noisy = stderr("")
    assert "Failed to import GCSFileSystem; loading of this filesystem will be skipped" in noisy
    quiet = stderr("deploy.quiet_optional_filesystems()")
    assert "GCSFileSystem" not in quiet
    assert "Failed to import SomethingElse; a real problem" in quiet
    assert "Failed to import Broken; loading of this filesystem will be skipped" in quiet
