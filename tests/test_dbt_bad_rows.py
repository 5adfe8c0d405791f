"""One bad row never withholds the marts (docs/lake.md, "When a row breaks a test"): the real
`dbt build` over the hand-checked lake plus order lines whose line_total is null (what an
overflowing DECIMAL(12, 2) wrote before the contract bounded amounts). One such row warns and
every mart is built; past the threshold in dbt_project.yml the build fails and the marts wait."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
from lake_fixture import DAY_1, small_hand_checked_lake, write_table

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"
MARTS = ("sessions", "funnel_daily", "user_funnel", "product_performance", "data_quality_daily")


def null_total_lines(count: int) -> list[dict]:
    """Extra lines of order o1 (purchase e04 of u1) whose line_total is null."""
    return [
        {
            "order_id": "o1",
            "line_number": 100 + number,
            "event_id": "e04",
            "user_id": "u1",
            "event_at": datetime.fromisoformat(f"{DAY_1} 10:20:00"),
            "product_id": "p9",
            "category": "electronics.smartphone",
            "brand": None,
            "quantity": 1000,
            "unit_price": Decimal("99999999.99"),
            "line_total": None,
        }
        for number in range(count)
    ]


def dbt_build(root: Path) -> tuple[int, str, dict[str, int]]:
    """`dbt build` over root/lake; returns its exit code, output and summary counts."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "build", "--profiles-dir", str(DBT_PROJECT)],
        cwd=DBT_PROJECT,
        env={
            **os.environ,
            "LAKE_ROOT": str(root / "lake"),
            "DBT_DUCKDB_PATH": str(root / "clickstream.duckdb"),
            "DBT_TARGET_PATH": str(root / "target"),
            "DBT_LOG_PATH": str(root / "logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    summary = re.search(r"Done\. (PASS=\d+ WARN=\d+ ERROR=\d+ SKIP=\d+)", output)
    assert summary, output[-3000:]
    counts = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", summary.group(1))}
    return result.returncode, output, counts


def built_marts(root: Path) -> dict[str, int]:
    with duckdb.connect(str(root / "clickstream.duckdb"), read_only=True) as connection:
        tables = {
            row[0]
            for row in connection.execute("select table_name from duckdb_tables()").fetchall()
        }
        return {
            mart: connection.execute(f"select count(*) from {mart}").fetchone()[0]
            for mart in MARTS
            if mart in tables
        }


def test_one_bad_row_warns_and_every_mart_is_built(tmp_path):
    small_hand_checked_lake(tmp_path / "lake")
    write_table(tmp_path / "lake", "silver/order_items", null_total_lines(1))
    code, output, counts = dbt_build(tmp_path)
    assert code == 0, output[-6000:]
    assert (counts["ERROR"], counts["SKIP"]) == (0, 0), output[-3000:]
    assert counts["WARN"] >= 1
    assert re.search(r"WARN 1 not_null_stg_lake__order_items_line_total", output), output[-3000:]
    marts = built_marts(tmp_path)
    assert set(marts) == set(MARTS) and all(marts.values()), marts


def test_beyond_the_threshold_the_build_fails_and_the_marts_wait(tmp_path):
    small_hand_checked_lake(tmp_path / "lake")
    write_table(tmp_path / "lake", "silver/order_items", null_total_lines(101))
    code, output, counts = dbt_build(tmp_path)
    assert code != 0
    assert counts["ERROR"] >= 1 and counts["SKIP"] >= 1, output[-3000:]
    assert "product_performance" not in built_marts(tmp_path)
