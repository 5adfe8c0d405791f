"""One local Flink environment per test session, and one job over the records of every selected
case: the tests in this folder read their rows from that single run. A test takes part by a
parameter with a `scenario` (its records) and `views` (what it reads), such as a Case; with
`-k`, only the selected cases' records are run."""

from __future__ import annotations

import math

import pytest
from flink_harness import FlinkViews, start
from scenarios import Results, Scenario, run_scenarios

from stack.config import Config, load_config


@pytest.fixture(scope="session")
def logic_config() -> Config:
    return load_config()


@pytest.fixture(scope="session")
def flink_views(logic_config: Config, tmp_path_factory) -> FlinkViews:
    return start(logic_config, tmp_path_factory.mktemp("flink-logic"))


def _selected(session: pytest.Session) -> tuple[list[Scenario], list[str]]:
    """The scenarios and views of every selected test's parameters that carry one (a Case, or a
    record of the hostile corpus), in collection order."""
    scenarios: dict[int, Scenario] = {}
    views: dict[str, None] = {}
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        for value in callspec.params.values() if callspec else ():
            scenario = getattr(value, "scenario", None)
            if isinstance(scenario, Scenario):
                scenarios.setdefault(id(scenario), scenario)
                views.update(dict.fromkeys(value.views))
    return list(scenarios.values()), list(views)


@pytest.fixture(scope="session")
def flink_results(request, flink_views: FlinkViews, logic_config: Config) -> Results:
    scenarios, views = _selected(request.session)
    # Each case starts on a boundary of every window size, tumbling or sliding.
    align = math.lcm(
        logic_config.window_minutes, logic_config.hilc_slide_minutes, *logic_config.rollup_minutes
    )
    return run_scenarios(flink_views, scenarios, views, align)
