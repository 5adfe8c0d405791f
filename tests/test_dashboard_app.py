"""dashboard/app.py run in-process by Streamlit's AppTest (no browser, no stack): with no stack
and an empty lake it shows empty states, not errors. The health panel over the real stack is
tests/integration/test_dashboard_health.py; the real browser test is test_dashboard_browser.py."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from dashboard_expected import expected_dashboard
from lake_fixture import small_hand_checked_lake, write_table
from streamlit.testing.v1 import AppTest

from dashboard.queries import Resolution
from stack.config import load_config

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


def test_no_stack_and_an_empty_lake_show_empty_states(empty_lake):
    app = run_app()
    messages = " ".join(info.value for info in app.info)
    assert "Stack not running" in messages
    assert "No committed files in `gold/events_per_minute` yet" in messages
    assert "No committed files in `gold/active_users_per_window` yet" in messages
    assert "No committed files in `gold/revenue_per_window` yet" in messages
    assert "No committed files in `gold/purchases_by_device_per_window` yet" in messages
    assert "No dbt warehouse at" in messages
    assert "No committed files in `quality/record_outcomes_per_minute` yet" in messages
    assert "Nothing quarantined in these minutes." in messages
    assert "No session has closed yet" in messages
    assert not app.error
    assert not [metric for metric in app.metric if metric.label == "Accounting identity"]


def test_the_quality_panel_says_when_more_records_came_out_than_went_in(empty_lake):
    at = datetime(2024, 3, 1, 12, 0)
    write_table(
        empty_lake,
        "quality/record_outcomes_per_minute",
        [
            {"window_start": at, "window_end": at + timedelta(minutes=1), "outcome": outcome,
             "reason": None, "record_count": count}
            for outcome, count in (("bronze", 10), ("silver", 9), ("late", 2))
        ],
    )  # fmt: skip
    app = run_app()
    identity = next(metric for metric in app.metric if metric.label == "Accounting identity")
    assert identity.value == "broken in 1 min"
    duplicates = next(metric for metric in app.metric if metric.label == "Duplicates removed")
    assert duplicates.value == "-1"
    assert any("more records came out than were read" in warning.value for warning in app.warning)


def test_the_resolution_picker_switches_the_windowed_panels_to_a_rollup_size(empty_lake):
    """1 / 5 / 10 minutes (from the config): at a rollup size the active users and revenue
    panels read that size's rows of the rollup tables, as the oracle recomputes them."""
    small_hand_checked_lake(empty_lake)
    config = load_config()
    expected = expected_dashboard(empty_lake, config)
    app = run_app()
    [picker] = app.radio
    assert list(picker.options) == [
        f"{minutes} min" for minutes in (config.window_minutes, *config.rollup_minutes)
    ]

    def shown(label: str) -> str:
        return next(metric for metric in app.metric if metric.label == label).value

    assert shown("Windows with orders") == f"{expected.order_count:,}"  # one order a window
    for minutes in config.rollup_minutes:
        app = picker.set_value(Resolution(minutes, is_rollup=True)).run()
        assert not app.exception, app.exception
        [picker] = app.radio
        want = expected.rollups[minutes]
        assert shown("Peak active users per window") == f"{want.peak_active_users:,}"
        assert shown("Active users, newest window") == f"{want.newest_active_users:,}"
        assert shown("Windows with orders") == f"{want.window_count:,}"
        assert shown("Revenue, last hour") == f"{float(want.revenue):,.2f}"
        assert any(f"per {minutes} min window" in caption.value for caption in app.caption)
