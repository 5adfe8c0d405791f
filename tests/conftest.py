"""Shared fixtures. Integration tests run against the real local stack, which the `stack`
fixture starts once per session (or reuses when a developer already has it up) and stops."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

import stack
from stack import kafka
from stack.config import Config, load_config


@pytest.fixture(scope="session")
def stack_config() -> Config:
    return load_config()


@pytest.fixture(scope="session")
def running_stack(stack_config: Config) -> Iterator[Config]:
    """A healthy Kafka broker and Flink session cluster for the whole test session."""
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
