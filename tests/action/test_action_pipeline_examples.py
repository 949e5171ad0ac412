"""action.yml end to end on the bundled example project, with the harness standing in for GitHub.

One story, in the order a repository lives it, because each step feeds the next through
artifacts exactly as on GitHub (and because the test jobs are the expensive part):

1. a push to main with a flaky test and a tiny flaky threshold: plan (first run: no history)
   -> one job per matrix entry -> report; every planned test accounted for, coverage merged from
   the hidden ``.coverage.*`` files, the next mode is serial and the history artifact uploaded;
2. that history, published through the fake GitHub API as a successful main run's artifact, makes
   the next plan (a pull request from a fork) serial with measured timings; its report may not
   write the history and its read-only token cannot comment, so the comment is saved;
3. the workflow_run companion posts the saved comment with a write token, once, and edits it
   when run again;
4. a workflow_dispatch with ``mode: parallel`` overrides the history's serial mode by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.action.harness import ActionResult, Runs
from tests.action.workflow import (
    PR,
    REPO,
    Scenario,
    dispatch_event,
    fork_pr_event,
    matrix_jobs,
    plan_job,
    push_event,
    report_job,
    run_action,
    template_plan_mode,
    workflow_run_event,
)
from tests.fakegithub import BOT_LOGIN, READ_TOKEN, WRITE_TOKEN, FakeGitHub
from tests.plan_json import plan_tests

pytestmark = pytest.mark.slow

HISTORY = "shard-action-history"


#: A slice of the example that still has a fan-out lane (two backends, isolated), the default
#: lane and the planted flaky test, so that the story runs in seconds rather than minutes.
SUBSET = json.dumps(
    [
        "tests/test_models.py",
        "tests/test_pricing.py",
        "tests/test_flaky.py",
        "tests/storage/test_backend_isolation.py",
    ]
)

PLAN = "shard-action-plan.attempt-1"  # the plan artifact of a run's first attempt


def ok(result: ActionResult) -> ActionResult:
    assert not result.failed, result.log
    return result


def test_plan_run_report_history_fork_comment_and_manual_mode(tmp_path: Path) -> None:
    runs = Runs(tmp_path / "runs")
    with FakeGitHub() as fake:
        repo = fake.add_repo(REPO)
        repo.add_pull(PR, head_ref="feature", fork=True)

        # 1. push to main: first run, a flaky test, a threshold that the flake exceeds
        flaky_dir = tmp_path / "flaky"
        flaky_dir.mkdir()
        first = Scenario(
            tmp_path, runs, fake.api_url, WRITE_TOKEN, push_event(),
            # demotion off: this story is the all-or-nothing serial rollback
            env={
                "EXAMPLE_FLAKY_DIR": str(flaky_dir),
                "SHARD_ACTION_COLLECT_ARGS": SUBSET,
                "SHARD_ACTION_MAX_DEMOTED": "0",
            },
        )  # fmt: skip
        assert template_plan_mode(first.event) == ""  # a push: the action's default, `auto`
        plan = ok(plan_job(first, **{"max-shards": "3"}))
        assert plan.outputs["history-status"] == "none"
        assert "no timing history yet" in plan.step("history").stdout
        assert plan.outputs["mode"] == "parallel"
        include = json.loads(plan.outputs["matrix"])["include"]
        shards = [entry["shard"] for entry in include]
        assert len(shards) == int(plan.outputs["shard-count"]) == 3
        assert len(set(shards)) == len(shards)
        lanes = {entry["lane"]: entry["env"] for entry in include}
        assert lanes["storage-sqlite"] == {"INVENTORY_BACKEND": "sqlite"}
        assert lanes["storage-memory"] == {"INVENTORY_BACKEND": "memory"}
        assert "shard-action-plan.attempt-1" in first.run.artifacts
        planned = json.loads((first.run.artifact(PLAN) / "plan.json").read_text())
        assert planned["timings"]["measured"] == 0
        assert planned["runner"]["python"] == sys.executable, "the python input reaches run"
        assert "plan" in plan.summary.lower()

        jobs = matrix_jobs(first, plan.outputs["matrix"])
        for shard, job in jobs.items():
            ok(job)
            assert job.outputs["exit-code"] == "0", job.log
            uploaded = first.run.artifact(f"shard-action-results-{shard}.attempt-1") / shard
            assert (uploaded / "manifest.json").is_file()
            assert list(uploaded.glob(".coverage.*")), "hidden coverage data must be uploaded"

        report = ok(report_job(first, **{"flaky-threshold": "0.001"}))
        total = len(plan_tests(planned))
        assert int(report.outputs["tests"]) == total
        assert report.outputs["lost"] == "0"
        assert report.outputs["failed"] == "0"
        assert report.outputs["exit-code"] == "0"
        assert 0 < float(report.outputs["coverage"]) <= 100
        assert float(report.outputs["flaky-rate"]) > 0.001
        assert report.outputs["mode"] == "serial"
        assert report.outputs["comment"] == ""  # a push has no pull request
        assert report.step("comment").outcome == "skipped"
        history = first.run.artifact(HISTORY) / "history.json"
        assert json.loads(history.read_text())["kind"]
        assert report.summary.strip()

        # 2. the history becomes the artifact of a successful main run on GitHub
        main_run = repo.add_run(event="push", head_branch="main", conclusion="success")
        repo.add_artifact(main_run, HISTORY, files={"history.json": history.read_text()})
        # Another workflow of the repository uploads a history of the same name, later: the
        # plan must not pick it (it would be "unusable"), the harness names our workflow file.
        nightly = repo.add_run(event="schedule", path=".github/workflows/nightly.yml")
        repo.add_artifact(nightly, HISTORY, files={"history.json": '{"kind": "nightly"}'})

        subset = {"SHARD_ACTION_COLLECT_ARGS": SUBSET}
        second = Scenario(tmp_path, runs, fake.api_url, READ_TOKEN, fork_pr_event(), env=subset)
        plan = ok(plan_job(second))
        assert plan.outputs["history-status"] == "found"
        assert plan.outputs["mode"] == "serial"
        assert plan.outputs["shard-count"] == "1"
        planned = json.loads((second.run.artifact(PLAN) / "plan.json").read_text())
        assert planned["timings"]["measured"] > 0
        jobs = matrix_jobs(second, plan.outputs["matrix"])
        assert all(job.outputs["exit-code"] == "0" for job in jobs.values())
        report = ok(report_job(second))
        assert report.outputs["lost"] == "0"
        assert report.outputs["tests"] == str(total)
        assert HISTORY not in second.run.artifacts, "a fork's run must not write the history"
        assert report.step("Upload the history").outcome == "skipped"
        assert report.outputs["comment"] == "no-permission"
        assert repo.comments_on(PR) == []
        saved = second.run.artifact("shard-action-comment")
        meta = json.loads((saved / "comment.json").read_text())
        assert (meta["pr"], meta["repo"], meta["head_repo"]) == (PR, REPO, "forker/app")
        body = (saved / "comment.md").read_text()
        assert body.strip()

        # 3. the workflow_run companion posts it, once; a second run edits nothing new
        companion = Scenario(
            tmp_path, runs, fake.api_url, WRITE_TOKEN, workflow_run_event(second.run.id)
        )
        posted = ok(run_action(companion, "comment", {"command": "comment"}))
        assert posted.outputs["comment"] == "created", posted.log
        (comment,) = repo.comments_on(PR)
        assert comment.login == BOT_LOGIN
        assert "shard-action:comment workflow=tests" in comment.body
        assert body.strip() in comment.body
        again = ok(run_action(companion, "comment-again", {"command": "comment"}))
        assert again.outputs["comment"] == "unchanged"
        assert len(repo.comments_on(PR)) == 1

        # 4. by hand: workflow_dispatch mode=parallel beats the history's serial mode
        manual = Scenario(
            tmp_path, runs, fake.api_url, WRITE_TOKEN, dispatch_event("parallel"), env=subset
        )
        plan = ok(plan_job(manual, mode=template_plan_mode(manual.event)))
        assert plan.outputs["history-status"] == "found"
        assert plan.outputs["mode"] == "parallel"
        assert int(plan.outputs["shard-count"]) > 1
