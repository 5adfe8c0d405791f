"""`make test` never touches a stack it did not start. A stand-in for a user's running demo (its
own ports and state, set the way a user sets them: CLICKSTREAM_* in the shell) runs a job; a child
pytest run with that same environment executes a destructive test; afterwards the user's broker,
JobManager and TaskManager have the same pids, the job still runs and has not restarted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stack.config import ENV_PREFIX
from stack.processes import free_ports

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("isolation_probe.py")


def jobs_py(environ: dict[str, str], *args: str, check: bool = True) -> str:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "jobs.py"), *args],
        cwd=REPO_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert result.returncode == 0, f"jobs.py {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


def user_shell(tmp_path: Path) -> dict[str, str]:
    """The environment of a user who runs a stack on ports of their choosing."""
    names = ("KAFKA_PORT", "KAFKA_CONTROLLER_PORT", "FLINK_REST_PORT", "FLINK_RPC_PORT")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    environ |= {
        ENV_PREFIX + name: str(port) for name, port in zip(names, free_ports(4), strict=True)
    }
    environ |= {
        ENV_PREFIX + "STATE_DIR": str(tmp_path / "user-state"),
        ENV_PREFIX + "LAKE_ROOT": str(tmp_path / "user-lake"),
        ENV_PREFIX + "TASKMANAGER_MEMORY": os.environ.get(ENV_PREFIX + "TASKMANAGER_MEMORY", "5g"),
    }
    return environ


def user_stack_snapshot(environ: dict[str, str]) -> dict[str, object]:
    document = json.loads(jobs_py(environ, "status", "--json", check=False))
    return {
        "pids": {row["name"]: row["pid"] for row in document["services"]},
        "jobs": {
            job["job"]: (job["job_id"], job["state"], job["restarts"]) for job in document["jobs"]
        },
    }


def test_a_test_run_leaves_a_users_stack_untouched(tmp_path: Path) -> None:
    user = user_shell(tmp_path)
    jobs_py(user, "up")
    try:
        jobs_py(user, "submit", "bronze")
        before = user_stack_snapshot(user)
        assert before["jobs"]["bronze"][1:] == ("RUNNING", 0), before

        child = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(PROBE)],
            cwd=REPO_ROOT,
            env=user,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert child.returncode == 0, child.stdout[-4000:] + child.stderr[-2000:]
        assert "1 passed" in child.stdout

        after = user_stack_snapshot(user)
        assert after == before
        assert None not in after["pids"].values()
    finally:
        jobs_py(user, "down", check=False)
