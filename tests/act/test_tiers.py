"""``workflows/tiers.yml`` under act, on the story's repository (``examples/`` as a user's).

The tiers are set as CI variables would set them (``TIERS_ENV`` in ``story.py``, over four
files of the suite): ``smoke`` (one file) and ``core`` (three, smoke among them). What a user
checks:

1. a pull request, full tier: the smoke shards run first, the other shards only after every
   smoke job ended; one plan covers both stages, so no test is planned (or run) twice; one
   report job counts every planned test once; one comment on the pull request;
2. ``workflow_dispatch`` with ``tier: core``: only core's tests are planned, smoke's first.
"""

from __future__ import annotations

import pytest

from tests.act.story import (
    CORE_FILES,
    SMOKE_FILES,
    TIERS_PR,
    TIERS_SUITE,
    Story,
    all_green,
    plan_of,
)
from tests.act.world import Run
from tests.fakegithub import BOT_LOGIN

pytestmark = pytest.mark.act


def stages(story: Story, run: Run) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The planned tests, as (lane instance, test id), of the first (smoke) shards and of the
    others: a fan-out lane plans one id once per backend, each its own test."""
    plan = plan_of(story.world, run)
    first: list[tuple[str, str]] = []
    rest: list[tuple[str, str]] = []
    for shard in plan["shards"]:
        for piece in shard["slices"]:  # a lane instance's part of the shard
            (first if shard["first"] else rest).extend((piece["lane"], t) for t in piece["tests"])
    return first, rest


def files(tests: list[tuple[str, str]]) -> set[str]:
    return {test.split("::", 1)[0] for _, test in tests}


def test_a_pull_request_runs_the_smoke_tier_first_then_the_rest_with_one_report(
    story: Story,
) -> None:
    run = story.tiers_pull_request()
    all_green(run)
    plan = run.job("plan")
    first, rest = stages(story, run)
    assert first and rest
    assert files(first) == set(SMOKE_FILES)
    assert files(first + rest) == set(TIERS_SUITE)  # the full tier: every test
    assert len(first + rest) == len(set(first + rest)), "a test planned twice"
    smoke_jobs, test_jobs = run.jobs_named("smoke"), run.jobs_named("test")
    assert len(smoke_jobs) == int(plan.outputs["first-count"]) >= 1
    assert len(test_jobs) == int(plan.outputs["rest-count"]) >= 1
    # The rest started only after the last smoke job ended (act's log is in time order).
    assert max(j.last_line for j in smoke_jobs) < min(j.first_line for j in test_jobs)
    (report,) = run.jobs_named("report")
    assert (report.outputs["tests"], report.outputs["lost"], report.outputs["exit-code"]) == (
        str(len(first) + len(rest)), "0", "0")  # fmt: skip
    assert report.outputs["comment"] == "created"
    (comment,) = story.world.repo.comments_on(TIERS_PR)
    assert comment.login == BOT_LOGIN
    assert f"{len(first) + len(rest)} tests passed" in comment.body


def test_workflow_dispatch_chooses_the_tier(story: Story) -> None:
    run = story.tiers_core_by_hand()
    all_green(run)
    first, rest = stages(story, run)
    assert files(first) == set(SMOKE_FILES)
    assert files(first + rest) == set(CORE_FILES)  # nothing outside core
    assert len(first + rest) == len(set(first + rest))
    assert plan_of(story.world, run)["tier"] == "core"
    report = run.job("report")
    assert report.outputs["tests"] == str(len(first) + len(rest))
    assert report.outputs["lost"] == "0"
