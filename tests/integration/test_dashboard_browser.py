"""The dashboard in a real browser: a known lake and its dbt marts, the dashboard started as the
managed service `make demo` starts, and headless Chromium reading every panel's numbers, which
must equal the answer worked out from the lake's silver rows (dashboard_expected). No Kafka or
Flink: the health panel must say the stack is not running."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_expected import ExpectedDashboard, expected_dashboard
from lake_fixture import hand_checked_anomalies, small_hand_checked_lake
from playwright.sync_api import Locator, Page, expect, sync_playwright
from support import dbt_build

import stack
from stack import dashboard
from stack.config import Config, load_config
from stack.processes import port_in_use

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PANEL_TIMEOUT_MS = 30_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lake_and_marts(tmp_path_factory) -> Path:
    """The hand-checked lake plus a bot, and dbt's marts beside it (clickstream.duckdb)."""
    workdir = tmp_path_factory.mktemp("dashboard")
    small_hand_checked_lake(workdir / "lake")
    hand_checked_anomalies(workdir / "lake")
    dbt_build(workdir / "lake", workdir)
    return workdir / "lake"


@pytest.fixture(scope="module")
def dashboard_config(lake_and_marts: Path) -> Iterator[Config]:
    """The dashboard on a free port, over that lake, with a private state dir and a Flink port
    nobody listens on; stopped (by its pid file) afterwards."""
    config = load_config(
        state_dir=lake_and_marts.parent / "state",
        lake_root=str(lake_and_marts),
        dashboard_port=free_port(),
        flink_rest_port=free_port(),
        dashboard_refresh_seconds=2,
    )
    assert dashboard.start(config)
    try:
        dashboard.wait_healthy(config, timeout_s=60)
        yield config
    finally:
        dashboard.service(config).stop()


@pytest.fixture(scope="module")
def page(dashboard_config: Config) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(dashboard_config.dashboard_url)
            yield page
        finally:
            browser.close()


@pytest.fixture(scope="module")
def expected(lake_and_marts: Path, dashboard_config: Config) -> ExpectedDashboard:
    return expected_dashboard(lake_and_marts, dashboard_config)


def panel(page: Page, key: str) -> Locator:
    """A panel by its container key (Streamlit renders it as the CSS class st-key-<key>)."""
    return page.locator(f".st-key-{key}")


def metric(scope: Locator, label: str) -> Locator:
    """The value of the st.metric labelled `label` inside a panel."""
    label_text = scope.page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    return scope.get_by_test_id("stMetric").filter(has=label_text).get_by_test_id("stMetricValue")


def table_rows(scope: Locator) -> dict[str, list[str]]:
    """An st.table's body as {row key: cell texts}."""
    expect(scope.locator("tbody tr").first).to_be_visible(timeout=PANEL_TIMEOUT_MS)
    return scope.locator("tbody tr").evaluate_all(
        """rows => Object.fromEntries(rows.map(row => [
            row.querySelector('th').innerText.trim(),
            [...row.querySelectorAll('td')].map(cell => cell.innerText.trim()),
        ]))"""
    )


def money(value) -> str:
    return f"{value:,.2f}"


def save_screenshot(page: Page, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its main element, so grow the viewport to it."""
    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1600, "height": height + 100})
    expect(metric(panel(page, "sessions"), "Sessions")).to_be_visible()
    page.screenshot(path=str(path), full_page=True)


def test_every_panel_shows_the_lake_and_the_marts(page, expected, tmp_path):
    expect(metric(panel(page, "sessions"), "Sessions")).to_have_text(
        f"{expected.session_count:,}", timeout=PANEL_TIMEOUT_MS
    )

    revenue = panel(page, "revenue")
    expect(metric(revenue, "Revenue, last hour")).to_have_text(money(expected.revenue))
    expect(metric(revenue, "Orders, last hour")).to_have_text(str(expected.order_count))
    assert table_rows(revenue) == {
        category: [str(expected.items_by_category[category]), money(revenue_total)]
        for category, revenue_total in expected.revenue_by_category.items()
    }
    assert table_rows(panel(page, "devices")) == {
        device: [str(expected.purchases_by_device[device]), money(revenue_total)]
        for device, revenue_total in expected.revenue_by_device.items()
    }
    assert table_rows(panel(page, "events")) == {
        event_type: [f"{count:,}"] for event_type, count in expected.events_by_type.items()
    }
    expect(metric(panel(page, "active-users"), "Peak active users per window")).to_have_text(
        str(expected.peak_active_users)
    )

    bots = table_rows(panel(page, "bots"))
    assert {user_id: int(cells[1]) for user_id, cells in bots.items()} == (
        expected.bot_events_per_minute
    )
    products = table_rows(panel(page, "hilc"))
    assert {product_id: int(cells[1]) for product_id, cells in products.items()} == (
        expected.high_interest_low_conversion_views
    )

    quality = panel(page, "quality")
    for label, count in [
        ("Bronze records", expected.bronze_count),
        ("Silver events", expected.silver_count),
        ("Quarantined", expected.quarantine_count),
        ("Late", expected.late_count),
        ("Duplicates removed", expected.duplicate_count),
    ]:
        expect(metric(quality, label)).to_have_text(f"{count:,}")
    expect(metric(quality, "Accounting identity")).to_have_text("holds")
    assert table_rows(panel(page, "quarantine")) == {
        reason: [str(count)] for reason, count in expected.quarantine_by_reason.items()
    }

    live_sessions = panel(page, "live-sessions")
    expect(metric(live_sessions, "Sessions closed, last hour")).to_have_text(
        f"{sum(row[0] for row in expected.live_sessions_by_device.values()):,}"
    )
    assert table_rows(live_sessions) == {
        device: [f"{count:,}", f"{median:,.1f} s", f"{p90:,.1f} s", f"{bounce:.1%}", f"{buy:.1%}"]
        for device, (count, median, p90, bounce, buy) in expected.live_sessions_by_device.items()
    }

    expect(panel(page, "health")).to_contain_text("Stack not running")

    sessions = panel(page, "sessions")
    expect(metric(sessions, "Converted sessions")).to_have_text(
        str(expected.converted_session_count)
    )
    funnel = panel(page, "funnel")
    expect(metric(funnel, "Product views")).to_have_text(
        str(expected.events_by_type["product_view"])
    )
    expect(metric(funnel, "Add-to-carts")).to_have_text(str(expected.events_by_type["add_to_cart"]))

    save_screenshot(page, tmp_path / "dashboard.png")
    if os.environ.get("CLICKSTREAM_SCREENSHOT_DIR"):
        target = Path(os.environ["CLICKSTREAM_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "dashboard.png", target / "dashboard.png")


def test_the_resolution_picker_shows_each_rollup_size(page, expected, dashboard_config):
    """Picking a rollup size (docs/lake.md, "Window sizes") switches the active users and revenue
    panels to that size's windows; picking window_minutes again switches back."""
    picker = panel(page, "resolution")
    active, revenue = panel(page, "active-users"), panel(page, "revenue")
    for minutes in dashboard_config.rollup_minutes:
        picker.get_by_text(f"{minutes} min", exact=True).click()
        want = expected.rollups[minutes]
        expect(active).to_contain_text(f"per {minutes} min window", timeout=PANEL_TIMEOUT_MS)
        expect(metric(active, "Peak active users per window")).to_have_text(
            str(want.peak_active_users)
        )
        expect(metric(revenue, "Windows with orders")).to_have_text(str(want.window_count))
        expect(metric(revenue, "Revenue, last hour")).to_have_text(money(want.revenue))
        assert table_rows(panel(page, "devices")) == {
            device: [str(count), money(want.revenue_by_device[device])]
            for device, count in want.purchases_by_device.items()
        }
    picker.get_by_text(f"{dashboard_config.window_minutes} min", exact=True).click()
    expect(active).to_contain_text(
        f"per {dashboard_config.window_minutes} min window", timeout=PANEL_TIMEOUT_MS
    )
    expect(metric(active, "Peak active users per window")).to_have_text(
        str(expected.peak_active_users)
    )


def test_it_refreshes_on_its_own(page):
    caption = page.get_by_text("refreshed ", exact=False).first
    expect(caption).to_be_visible(timeout=PANEL_TIMEOUT_MS)
    first = caption.inner_text()
    expect(caption).not_to_have_text(first, timeout=10_000)  # every 2 s here


def test_it_is_a_managed_service_that_down_stops(dashboard_config):
    assert dashboard.service(dashboard_config).pid() is not None
    assert stack.down(dashboard_config, log=lambda _message: None) == ["dashboard"]
    assert not dashboard.healthy(dashboard_config)
    assert not port_in_use(dashboard_config.bind_host, dashboard_config.dashboard_port)
