"""Run only by test_isolation.py, in a child pytest, never collected on its own (the name does not
match test_*.py): it takes the stack the fixtures hand it and stops it, as the fault tests kill
and restart parts of theirs. If the fixtures handed it a user's stack, that stack would go down."""

from __future__ import annotations

import pytest

import stack
from stack.config import Config

pytestmark = pytest.mark.integration


def test_stop_the_stack_the_fixtures_gave(running_stack: Config) -> None:
    assert all(row.is_healthy for row in stack.status(running_stack))
    assert sorted(stack.down(running_stack)) == ["jobmanager", "kafka", "taskmanager"]
