"""Rules of the config model itself (not of its layers: test_config_layers.py)."""

from __future__ import annotations

from shard_action.core.config import Config
from shard_action.core.models import TestItem, Timings
from shard_action.core.plan import FanInSettings
from shard_action.core.planner import make_plan


def test_a_runner_split_by_file_is_planned_by_file_whatever_granularity_says() -> None:
    by_file = Config(test_files=["src/**/*.test.js"], granularity="test").as_planned()
    assert by_file.granularity == "file"
    pytest_suite = Config(granularity="test")
    assert pytest_suite.as_planned() is pytest_suite


def test_the_plan_carries_every_fan_in_threshold_the_config_set() -> None:
    config = Config(
        flaky_threshold=0.2, recover_after=7, outage_threshold=0.9, promote_after=4, max_demoted=3
    )
    tests = [TestItem(id="tests/test_a.py::t", file="tests/test_a.py")]
    plan = make_plan(config, tests, Timings(), mode="parallel", mode_reason="t")
    assert plan.fan_in == FanInSettings(
        flaky_threshold=0.2, recover_after=7, outage_threshold=0.9, promote_after=4, max_demoted=3
    )
