"""The Streamlit dashboard as a service of the local stack: on loopback, no telemetry, started in
the background by `make demo` (pid file, stopped by `down`) or in the foreground by
`jobs.py dashboard`."""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

from stack.config import ENV_PREFIX, REPO_ROOT, Config
from stack.processes import Service, StackError, require_free_ports, wait_until

APP = REPO_ROOT / "dashboard" / "app.py"


def service(config: Config) -> Service:
    # The dashboard gets the whole config in its environment, state dir included: that is its
    # marker.
    marker = f"{ENV_PREFIX}STATE_DIR={config.state_dir}"
    return Service("dashboard", config.state_dir / "pids" / "dashboard.pid", marker)


def argv(config: Config) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        config.bind_host,
        "--server.port",
        str(config.dashboard_port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        # A viewer's page: no "Deploy" button or developer menu.
        "--client.toolbarMode",
        "minimal",
    ]


def environ(config: Config) -> dict[str, str]:
    """The caller's environment plus the config, so the app reads exactly this lake and cluster."""
    return {**os.environ, **config.as_environ(), "PYTHONPATH": str(REPO_ROOT)}


def healthy(config: Config) -> bool:
    try:
        with urllib.request.urlopen(f"{config.dashboard_url}/_stcore/health", timeout=2) as reply:
            return reply.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start(config: Config) -> bool:
    """Start the dashboard in the background unless it runs. True if it started."""
    dashboard = service(config)
    if dashboard.pid() is not None:
        return False
    require_free_ports(config.bind_host, {"dashboard_port": config.dashboard_port})
    dashboard.start(
        argv(config),
        env=environ(config),
        log_file=config.state_dir / "dashboard" / "streamlit.log",
    )
    return True


def wait_healthy(config: Config, timeout_s: float = 60.0) -> None:
    """Until it answers HTTP (bounded); a clear error if it died or never answered."""
    dashboard = service(config)
    ok = wait_until(lambda: dashboard.pid() is None or healthy(config), timeout_s, interval_s=0.25)
    log = config.state_dir / "dashboard" / "streamlit.log"
    if dashboard.pid() is None:
        raise StackError(f"the dashboard exited during start-up; see {log}")
    if not ok:
        raise StackError(f"the dashboard did not answer within {timeout_s:.0f} s; see {log}")


def run_foreground(config: Config) -> None:
    """`jobs.py dashboard`: this process becomes Streamlit (exec), so Ctrl-C and signals reach
    the server itself and nothing is left behind."""
    require_free_ports(config.bind_host, {"dashboard_port": config.dashboard_port})
    sys.stdout.flush()
    command = argv(config)
    os.execve(command[0], command, environ(config))
