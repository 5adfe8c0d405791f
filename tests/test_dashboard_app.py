"""dashboard/app.py run in-process by Streamlit's AppTest (no browser, no stack): with no stack
and an empty lake it shows empty states, not errors. The health panel over the real stack is
tests/integration/test_dashboard_health.py; the real browser test is test_dashboard_browser.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

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
    assert "No dbt warehouse at" in messages
    assert not app.error
    identity = next(metric for metric in app.metric if metric.label == "Accounting identity")
    assert identity.value == "holds"
