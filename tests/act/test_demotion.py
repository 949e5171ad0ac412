"""Targeted demotion under act: ``workflows/pytest-lanes.yml`` on the story's repository.

After the rollback story (``test_pytest_lanes.py``, demotion off there), two pushes with
demotion on (``SHARD_ACTION_MAX_DEMOTED=10``, as a CI variable would set it; issue 10 §1):

1. the planted flaky test fails in parallel and passes when re-run alone: the report demotes it
   and the next run stays parallel, where the same flake used to send the suite serial;
2. the next push plans it in the demoted lane ``default.demoted`` and runs green in parallel.
"""

from __future__ import annotations

import html

import pytest

from tests.act.story import FLAKY_TEST, Story, all_green, plan_of

pytestmark = pytest.mark.act


def test_a_test_flaky_in_parallel_that_passes_alone_is_demoted_not_sent_serial(
    story: Story,
) -> None:
    run = story.demoting_push()
    all_green(run)
    report = run.job("report")
    assert report.outputs["mode"] == "parallel"  # the next run's mode
    summary = html.unescape(report.summary)
    assert "Demoted" in summary and "test_price_table_cache_warms_up" in summary


def test_the_next_push_runs_the_demoted_test_in_its_demoted_lane_in_parallel(
    story: Story,
) -> None:
    run = story.demoted_push()
    all_green(run)
    plan = run.job("plan")
    assert plan.outputs["mode"] == "parallel"
    shards = plan_of(story.world, run)["shards"]
    assert len(shards) > 1
    lanes = {piece["lane"] for s in shards for piece in s["slices"] if FLAKY_TEST in piece["tests"]}
    assert lanes == {"default.demoted"}, lanes
    assert "test_price_table_cache_warms_up" in html.unescape(plan.summary)
