"""The event contract is stated once: the quarantine reason codes live in
flink_sql/views/events_checked.sql and the amount limits in generator.contract; every other copy
(dbt's var, docs/events.md, the generator's faults, the SQL's limits) is checked equal here."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from generator import contract
from generator.contract import (
    MAX_ORDER_TOTAL,
    MAX_PRICE,
    MAX_QUANTITY,
    REASONS,
    reason_codes,
)
from generator.faults import REASON_EVENT_TYPES

ROOT = Path(__file__).resolve().parents[1]
CHECKS_SQL = ROOT / "flink_sql" / "views" / "events_checked.sql"
EVENTS_MD = ROOT / "docs" / "events.md"


def test_reason_codes_are_read_from_the_sql_in_check_order():
    sql = """
        case
            -- a comment that says then 'not_a_code' is no rule
            when a then 'first_rule'
            when b then 'second_rule' when c THEN 'first_rule'
        end as quarantine_reason
    """
    assert reason_codes(sql) == ("first_rule", "second_rule")
    assert contract.CHECKS_SQL == CHECKS_SQL
    assert reason_codes(CHECKS_SQL.read_text()) == REASONS
    assert REASONS[0] == "invalid_json"
    assert contract.AMOUNT_OUT_OF_RANGE in REASONS


@pytest.mark.parametrize("sql", ["select 1", "case when a then 'Not Snake' end"])
def test_sql_without_snake_case_codes_is_an_error(sql: str):
    with pytest.raises(ValueError):
        reason_codes(sql)


def test_dbt_quarantine_reasons_are_the_sqls():
    project = yaml.safe_load((ROOT / "dbt_project" / "dbt_project.yml").read_text())
    assert tuple(project["vars"]["quarantine_reasons"]) == REASONS


def test_the_docs_reason_table_is_the_sqls():
    doc = EVENTS_MD.read_text()
    section = doc[doc.index("## Validation and quarantine reasons") :]
    section = section[: section.index("\n## ", 1)]
    rows = re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE)
    assert tuple(rows) == REASONS


def test_the_generator_can_send_every_reason_and_no_other():
    assert tuple(REASON_EVENT_TYPES) == REASONS


def test_the_sql_enforces_the_contracts_amount_limits():
    """The amount_out_of_range rule compares with exactly generator.contract's limits."""
    sql = re.sub(r"--[^\n]*", "", CHECKS_SQL.read_text())
    rule = sql[sql.rindex("when (") : sql.index("then 'amount_out_of_range'")]
    comparisons = re.findall(r"([\w()]+) > ([\d.]+)", rule)
    assert sorted(comparisons) == sorted(
        [
            ("price", f"{MAX_PRICE:.2f}"),
            ("quantity", str(MAX_QUANTITY)),
            ("array_max(item_quantities)", str(MAX_QUANTITY)),
            ("array_max(item_unit_prices)", f"{MAX_PRICE:.2f}"),
            ("order_total", f"{MAX_ORDER_TOTAL:.2f}"),
        ]
    )


def test_the_limits_fit_the_lake_types():
    """Every amount silver keeps fits DECIMAL(12, 2) and INT, a line total included."""
    largest_decimal, largest_int = Decimal("9999999999.99"), 2**31 - 1
    assert largest_decimal >= MAX_QUANTITY * MAX_PRICE
    assert largest_decimal >= MAX_ORDER_TOTAL
    assert largest_int >= MAX_QUANTITY
    assert MAX_PRICE <= MAX_ORDER_TOTAL  # an order of one unit at the highest price is allowed


def test_the_docs_state_the_limits():
    doc = EVENTS_MD.read_text()
    limits = doc[doc.index("### Limits") : doc.index("## Validation and quarantine reasons")]
    assert f"1 \u2013 {MAX_QUANTITY:,}" in limits  # an en dash
    assert f"0.01 \u2013 {MAX_PRICE:,.2f}" in limits
    assert f"at most {MAX_ORDER_TOTAL:,.2f}" in limits
    assert f"{MAX_PRICE + Decimal('0.01'):,.2f}" in doc  # the example just above the limit
