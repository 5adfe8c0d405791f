"""Shared fixtures. Integration tests run against a real stack of their own: before any test
loads the config, the session points every CLICKSTREAM_* port, the state directory and the lake at
private values (free ports, a temporary folder), so a user's running stack (`make demo`, or one on
ports set in their shell or clickstream.toml) is never reused, stopped or killed. Child processes
(the CLI, dbt, the generator) inherit the same environment."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import stack
from stack import kafka
from stack.config import ENV_PREFIX, Config, load_config
from stack.processes import free_ports

# Sizing may come from the user's shell (e.g. a smaller TaskManager on a busy machine), and the
# state backend (CLICKSTREAM_STATE_BACKEND=hashmap to compare the fault tests with the heap).
_INHERITED = {"JARS_DIR", "TASKMANAGER_MEMORY", "JOBMANAGER_MEMORY", "KAFKA_HEAP", "STATE_BACKEND"}
_PRIVATE_PORTS = (
    "kafka_port",
    "kafka_controller_port",
    "flink_rest_port",
    "flink_rpc_port",
    "dashboard_port",
)


def private_stack_environ(state_dir: Path) -> dict[str, str]:
    """CLICKSTREAM_* values that give a test session a stack no one else uses: defaults only (no
    clickstream.toml, no connection settings from the user's shell), free ports, its own state."""
    environ = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(ENV_PREFIX) or name.removeprefix(ENV_PREFIX) in _INHERITED
    }
    environ[ENV_PREFIX + "CONFIG"] = str(state_dir / "no-clickstream.toml")
    environ[ENV_PREFIX + "STATE_DIR"] = str(state_dir)
    environ[ENV_PREFIX + "LAKE_ROOT"] = str(state_dir / "lake")
    for name, port in zip(_PRIVATE_PORTS, free_ports(len(_PRIVATE_PORTS)), strict=True):
        environ[ENV_PREFIX + name.upper()] = str(port)
    return environ


def pytest_configure(config: pytest.Config) -> None:
    state_dir = Path(tempfile.mkdtemp(prefix="clickstream-test-stack-"))
    config.stash[_STATE_DIR] = state_dir
    private = private_stack_environ(state_dir)
    os.environ.clear()
    os.environ.update(private)


def pytest_unconfigure(config: pytest.Config) -> None:
    state_dir = config.stash.get(_STATE_DIR, None)
    # A stack still up (a fixture failed to stop it) keeps its state and logs for a post-mortem.
    if state_dir is not None and not any(row.is_running for row in stack.status(load_config())):
        shutil.rmtree(state_dir, ignore_errors=True)


_STATE_DIR = pytest.StashKey[Path]()


@pytest.fixture(scope="session")
def stack_config() -> Config:
    return load_config()


@pytest.fixture(scope="session")
def running_stack(stack_config: Config) -> Iterator[Config]:
    """A healthy Kafka broker and Flink session cluster of this test session's own."""
    started = stack.up(stack_config, log=lambda message: print(f"[stack] {message}"))
    try:
        yield stack_config
    finally:
        if started:
            stack.down(stack_config, log=lambda message: print(f"[stack] {message}"))


@pytest.fixture(scope="session")
def kafka_bootstrap(running_stack: Config) -> str:
    return running_stack.bootstrap_servers


@pytest.fixture
def fresh_topic(running_stack: Config) -> str:
    """A new, uniquely named topic with the configured partition count (3)."""
    name = f"test-{uuid.uuid4().hex[:10]}"
    assert kafka.ensure_topic(running_stack, name)
    return name


@pytest.fixture
def pipeline_config(running_stack: Config, fresh_topic: str, tmp_path) -> Config:
    """The running stack's config pointed at a fresh topic and lake, with a unique deployment
    name and bounded Kafka reads: submitted jobs finish once they have read what is in the topic."""
    return load_config(
        kafka_topic=fresh_topic,
        lake_root=str(tmp_path / "lake"),
        deployment=f"test-{fresh_topic}",
        kafka_bounded_mode="latest-offset",
        checkpoint_interval="2 s",
        watermark_emit_strategy="on-event",
    )
