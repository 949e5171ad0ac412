"""``workflows/pytest-lanes.yml`` under act, over ``examples/`` as a user's repository.

One repository lives through a story of runs, each checked the way a user checks a run: the
jobs' results and the matrix on the run's page, the artifacts it kept, the job summary, the one
comment on the pull request. The story, in order (each test runs the steps it needs first, so
any one of them can run alone):

1. a push with no history (estimates; the report uploads the first history);
2. a push that plans from that history, with the planted flaky test over the threshold (the
   report turns the next run serial);
3. a pull request: serial (one shard) because of step 2, exactly one comment;
4. one more commit on the pull request: the same comment, edited;
5. a fork's pull request: read-only token, no comment, the comment saved as an artifact;
6. the ``workflow_run`` companion (``workflows/fork-comment.yml``) posts it;
7. ``workflow_dispatch`` with ``mode: serial``: one shard; a clean serial run, so (with
   ``recover-after = 1``) the history returns to parallel;
8. a push, parallel again, in which one shard's install fails: the report names its lost tests
   and the run is red;
9. a push with demotion on (``SHARD_ACTION_MAX_DEMOTED=10``, as a CI variable would set it):
   the planted flaky test fails in parallel and passes re-run alone, so it is demoted and the
   next run stays parallel, where step 2's same flake sent the suite serial;
10. the next push plans it in the demoted lane ``default.demoted`` and runs green in parallel.

The steps change the repository's state (its comments, its history), so the tests stay in this
one file, in story order: a later step run first would change what an earlier test reads.

The user's configuration adds ``max-demoted = 0`` (demotion off until step 9),
``flaky-threshold = 0.005`` (one flaky test in 100 is over it)
and ``recover-after = 1`` (one clean serial run is enough) to the example's, to keep the story
short.
"""

from __future__ import annotations

import html
import json
import re

import pytest

from tests.act.story import (
    ATTEMPT,
    FLAKY_TEST,
    FORK_PR,
    HISTORY,
    PLAN,
    PR,
    RESULTS,
    SAVED_COMMENT,
    Story,
    all_green,
    plan_of,
    planned,
    zipped,
)
from tests.act.world import Run
from tests.fakegithub import BOT_LOGIN

pytestmark = pytest.mark.act  # conftest puts every act test in the one xdist group "act"


# -- what a user reads ----------------------------------------------------------------------------
def shard_jobs(run: Run) -> list[str]:
    return sorted(j.matrix.get("shard", "?") for j in run.jobs_named("test"))


# -- the scenarios --------------------------------------------------------------------------------
def test_a_first_push_plans_from_estimates_and_leaves_the_first_history(story: Story) -> None:
    run = story.first_push()
    all_green(run)
    plan = run.job("plan")
    assert plan.outputs["history-status"] == "none"
    assert any("no timing history yet" in text for _, text in plan.annotations)
    shards = planned(story.world, run)
    # The matrix fanned out into one job per planned shard, named as the plan named them.
    matrix = [entry["shard"] for entry in json.loads(plan.outputs["matrix"])["include"]]
    assert shard_jobs(run) == sorted(shards) == sorted(matrix)
    assert int(plan.outputs["shard-count"]) == len(shards) > 1
    report = run.job("report")
    total = sum(len(ids) for ids in shards.values())
    assert (report.outputs["tests"], report.outputs["failed"], report.outputs["lost"]) == (
        str(total), "0", "0")  # fmt: skip
    assert report.summary.startswith(f"## ✅ shard-action: {total} tests passed")
    kept = story.world.artifacts_of(run)
    assert set(kept) == {PLAN, HISTORY} | {RESULTS + s + ATTEMPT for s in shards}
    assert "history.json" in zipped(kept[HISTORY])


def test_a_second_push_plans_from_the_first_runs_history_and_a_flaky_test_turns_it_serial(
    story: Story,
) -> None:
    first = story.first_push()
    run = story.flaky_push()
    all_green(run)  # a flaky test is not a failure (fail-on-flaky is off)
    plan = run.job("plan")
    assert plan.outputs["history-status"] == "found"
    first_history = story.world.artifacts_of(first)[HISTORY]
    (artifact,) = [a for a in story.world.repo.artifacts.values()
                   if a.run_id == first.run.id and a.name == HISTORY]  # fmt: skip
    downloads = story.world.fake.requests_to("GET", rf"/actions/artifacts/{artifact.id}/zip$")
    assert downloads, "fetch-history never downloaded the first run's history"
    assert artifact.data == first_history
    measured = re.search(r"Timings: (\d+) measured", plan.summary)
    assert measured is not None and int(measured.group(1)) > 0, plan.summary
    assert len(shard_jobs(run)) > 1
    report = run.job("report")
    assert float(report.outputs["flaky-rate"]) > 0.005
    assert report.outputs["mode"] == "serial"  # the next run's mode
    assert "test_price_table_cache_warms_up" in html.unescape(report.summary)
    assert HISTORY in story.world.artifacts_of(run)


def test_a_pull_request_runs_serial_after_the_flaky_run_and_gets_exactly_one_comment(
    story: Story,
) -> None:
    run = story.pull_request()
    all_green(run)
    plan = run.job("plan")
    assert plan.outputs["mode"] == "serial"
    assert len(shard_jobs(run)) == 1 == int(plan.outputs["shard-count"]), shard_jobs(run)
    report = run.job("report")
    assert report.outputs["comment"] == "created"
    (comment,) = story.world.repo.comments_on(PR)
    assert comment.login == BOT_LOGIN
    assert f"{report.outputs['tests']} tests passed" in comment.body
    # A pull request's run never becomes the default branch's history.
    assert HISTORY not in story.world.artifacts_of(run)


def test_the_next_commit_on_the_pull_request_edits_the_same_comment(story: Story) -> None:
    first = story.pull_request()
    (before,) = story.world.repo.comments_on(PR)
    created_at, first_tests = before.created_at, int(first.job("report").outputs["tests"])
    run = story.pull_request_again()
    all_green(run)
    report = run.job("report")
    assert report.outputs["comment"] == "updated"
    (after,) = story.world.repo.comments_on(PR)
    assert (after.id, after.created_at) == (before.id, created_at)
    assert after.updated_at > created_at
    assert int(report.outputs["tests"]) == first_tests + 1
    assert f"{first_tests + 1} tests passed" in after.body


def test_a_fork_pull_request_cannot_comment_and_saves_the_comment_as_an_artifact(
    story: Story,
) -> None:
    run = story.fork_pull_request()
    all_green(run)  # no permission to comment is not a failure of the tests
    report = run.job("report")
    assert report.outputs["comment"] == "no-permission"
    assert story.world.repo.comments_on(FORK_PR) == []
    posts = story.world.fake.requests_to("POST", rf"/issues/{FORK_PR}/comments$")
    assert posts and {p.status for p in posts} == {403}
    kept = story.world.artifacts_of(run)
    assert HISTORY not in kept  # a fork's results never become the history
    saved = zipped(kept[SAVED_COMMENT])
    assert {"comment.md", "comment.json"} <= set(saved)
    target = json.loads(saved["comment.json"])
    assert target["pr"] == FORK_PR
    assert target["head_sha"] == story.world.repo.issues[FORK_PR].head_sha
    assert f"{report.outputs['tests']} tests passed" in saved["comment.md"].decode()


def test_the_workflow_run_companion_posts_the_forks_saved_comment(story: Story) -> None:
    fork_run = story.fork_pull_request()
    saved = zipped(story.world.artifacts_of(fork_run)[SAVED_COMMENT])["comment.md"].decode()
    run = story.companion()
    all_green(run)
    assert run.job("comment").outputs["comment"] == "created"
    (comment,) = story.world.repo.comments_on(FORK_PR)
    assert comment.login == BOT_LOGIN
    assert saved.strip() in comment.body  # as saved, with the marker that finds it again
    # It read the triggering run's artifact through the REST API, with its token.
    listed = story.world.fake.requests_to("GET", rf"/actions/runs/{fork_run.run.id}/artifacts$")
    assert listed and all(r.status == 200 for r in listed)


def test_workflow_dispatch_with_mode_serial_runs_one_shard_and_recovers_the_history(
    story: Story,
) -> None:
    run = story.serial_by_hand()
    all_green(run)
    plan = run.job("plan")
    assert plan.outputs["mode"] == "serial"
    assert "set by hand" in plan.summary
    assert len(shard_jobs(run)) == 1 == int(plan.outputs["shard-count"])
    report = run.job("report")
    assert report.outputs["mode"] == "parallel"  # one clean serial run: recover-after = 1
    assert HISTORY in story.world.artifacts_of(run)  # dispatched on main: trusted


def test_a_shard_that_fails_to_install_loses_its_tests_loudly_and_the_run_is_red(
    story: Story,
) -> None:
    run = story.broken_install()
    assert run.exit_code != 0, run.describe()
    plan = run.job("plan")
    assert plan.result == "success"
    assert plan.outputs["mode"] == "parallel"  # back to parallel after the clean serial run
    shards = planned(story.world, run)
    assert len(shard_jobs(run)) == len(shards) > 1
    failed = [j for j in run.jobs_named("test") if j.own_result == "failure"]
    assert len(failed) == 1, run.describe()
    assert failed[0].failed_steps == ["Install the project"]
    broken = failed[0].matrix["shard"]
    assert any("broken on purpose" in line for line in failed[0].lines)
    assert {j.own_result for j in run.jobs_named("test") if j is not failed[0]} == {"success"}
    report = run.job("report")
    assert report.result == "failure"
    assert report.outputs["lost"] == str(len(shards[broken]))
    assert report.outputs["exit-code"] == "3"  # incomplete
    summary = html.unescape(report.summary)
    assert broken in summary and "never ran" in summary
    assert RESULTS + broken + ATTEMPT not in story.world.artifacts_of(run)


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
