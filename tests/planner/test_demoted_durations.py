"""A demoted test is planned with its home lane's timing: the history files it there (issue 10)."""

from __future__ import annotations

from shard_action.core.config import Config, LaneConfig
from shard_action.core.models import Observation, TestItem
from shard_action.core.planner import make_plan
from shard_action.core.timings import resolve

FLAKY = "tests/db.py::test_flaky"
OTHER = "tests/db.py::test_other"


def test_a_demoted_test_gets_its_home_lane_timing_not_the_pooled_one() -> None:
    # One test, two backends: 10 s on pg, 2 s on sqlite. The history files a demoted test's
    # record under its home lane ("db-pg", not "db-pg.demoted"), as the fan-in writes it.
    config = Config(
        shards=1,
        lanes=[LaneConfig(name="db", markers=["db"], backends=["sqlite", "pg"])],
    )
    tests = [TestItem(id=t, file="tests/db.py", markers=frozenset({"db"})) for t in (FLAKY, OTHER)]
    history = [
        Observation(name=FLAKY, seconds=10.0, source="history", is_node_id=True, lane="db-pg"),
        Observation(name=OTHER, seconds=1.0, source="history", is_node_id=True, lane="db-pg"),
        Observation(name=FLAKY, seconds=2.0, source="history", is_node_id=True, lane="db-sqlite"),
        Observation(name=OTHER, seconds=1.0, source="history", is_node_id=True, lane="db-sqlite"),
    ]
    timings = resolve(history, tests, granularity="test")
    assert timings.durations[FLAKY] == 6.0  # the pooled figure: neither backend's

    plan = make_plan(
        config, tests, timings, mode="parallel", mode_reason="test", demoted={"db-pg": [FLAKY]}
    )

    demoted = next(s for s in plan.shards if s.lane == "db-pg.demoted")
    assert demoted.tests == [FLAKY]
    assert demoted.prediction is not None
    assert demoted.prediction.tests == 10.0
    assert demoted.estimated_tests == 0
