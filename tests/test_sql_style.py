"""sqlfluff holds the Flink SQL to the repository's .sqlfluff (lower-case keywords, aliases)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_flink_sql_passes_sqlfluff():
    result = subprocess.run(
        [sys.executable, "-m", "sqlfluff", "lint", "flink_sql", "--disable-progress-bar"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:]
