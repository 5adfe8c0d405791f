"""The linters decide style: ruff for Python, sqlfluff for the Flink SQL (the dbt SQL is checked
from dbt_project/ by test_dbt_marts.py, where its templater config applies)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["sqlfluff", "lint", "flink_sql", "--disable-progress-bar"],
    ],
    ids=["ruff-check", "ruff-format", "sqlfluff-flink"],
)
def test_linter_passes(command):
    result = subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
