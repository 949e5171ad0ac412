"""Where the Gantt charts put each shard's bars: from the moment its job started."""

from __future__ import annotations

import pytest

from shard_action.core.history import History
from shard_action.core.prediction import Parts
from shard_action.core.render import predicted_bars, shard_bars
from shard_action.core.report import ShardResult, build

from .factories import manifest, plan, shard


def test_a_shards_bars_start_when_its_job_did_its_set_up_included() -> None:
    tests_a, tests_b = ["t/a.py::x"], ["t/b.py::y"]
    built = build(
        plan([shard("d-1", tests_a, predicted=4.0), shard("d-2", tests_b, predicted=4.0)]),
        [ShardResult(manifest("d-1", tests_a, start=0), {}),
         ShardResult(manifest("d-2", tests_b, start=10), {})],
        history=History(),
    ).report  # fmt: skip
    # d-1's step began at 0 after 5 s of set-up, d-2's at 10 after 2 s (the jobs endpoint)
    shards = [
        s.model_copy(
            update={
                "measured": Parts(setup=setup),
                "actual_seconds": (s.actual_seconds or 0) + setup,
            }
        )
        for s, setup in zip(built.shards, (5.0, 2.0), strict=True)
    ]
    bars = shard_bars(built.model_copy(update={"shards": shards}))
    starts = {(bar.label.split()[0], bar.label.split()[1]): bar.start for bar in bars}
    # jobs began at -5 and 8: the chart starts at the first job
    assert starts == {
        ("d-1", "predicted"): pytest.approx(0.0),
        ("d-1", "ran"): pytest.approx(0.0),
        ("d-2", "predicted"): pytest.approx(13.0),
        ("d-2", "ran"): pytest.approx(13.0),
    }


def test_the_plans_rest_tier_is_drawn_after_its_first_tier() -> None:
    first = shard("smoke-1", ["t/a.py::x"], predicted=6.0).model_copy(update={"first": True})
    rest = [shard("d-1", ["t/b.py::y"], predicted=9.0), shard("d-2", ["t/c.py::z"], predicted=3)]
    bars = predicted_bars(plan([first, *rest]))
    assert [(bar.start, bar.duration) for bar in bars] == [(0.0, 6.0), (6.0, 9.0), (6.0, 3.0)]
    alone = predicted_bars(plan(rest))
    assert [bar.start for bar in alone] == [0.0, 0.0], "without a first tier, all from 0"
