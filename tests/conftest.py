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
from stack.config import Config, load_config, private_stack_environ


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
