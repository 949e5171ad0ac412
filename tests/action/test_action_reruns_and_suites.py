"""Re-runs and several suites in one workflow run, through action.yml with the harness.

"Re-run failed jobs" on GitHub starts a new attempt of the same run in which only the failed
jobs (and the jobs after them) run again: the plan and the passing shards' results stay in the
first attempt, which a download without a token cannot see. The harness models that (see
``tests.action.harness``). And two suites (two chains of plan/test/report jobs, or a reusable
workflow called twice) share one run's artifact namespace: their names must differ.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shard_action.adapters.comments import comment_marker
from tests.action.harness import ActionResult, Runs
from tests.action.workflow import (
    BRANCH,
    PR,
    REPO,
    WORKFLOW,
    Scenario,
    fork_pr_event,
    matrix_jobs,
    plan_job,
    push_event,
    report_job,
    run_action,
)
from tests.fakegithub import WRITE_TOKEN, FakeGitHub

pytestmark = pytest.mark.slow

#: A slice of the example (a fan-out lane, the default lane), so that each job takes seconds.
SUBSET = json.dumps(
    ["tests/test_models.py", "tests/test_pricing.py", "tests/storage/test_backend_isolation.py"]
)
NO_API = "http://127.0.0.1:9/api"  # nothing here may call the API: no history, no comment


def ok(result: ActionResult) -> ActionResult:
    assert not result.failed, result.log
    return result


def planned(result: ActionResult) -> list[str]:
    return [entry["shard"] for entry in json.loads(result.outputs["matrix"])["include"]]


def run_job(scenario: Scenario, shard: str, **inputs: str) -> ActionResult:
    return run_action(
        scenario,
        f"test-{shard}",
        {"command": "run", "working-directory": "examples", "shard": shard, **inputs},
    )


def report_json(scenario: Scenario) -> dict[str, Any]:
    """report.json of the scenario's newest report job (in that job's RUNNER_TEMP)."""
    found = sorted((scenario.root / f"run-{scenario.run.id}").glob("*-report/temp"))
    data: dict[str, Any] = json.loads(
        (found[-1] / "shard-action" / "report" / "report.json").read_text("utf-8")
    )
    return data


def uploads(scenario: Scenario, prefix: str) -> list[tuple[str, int]]:
    return sorted((u.name, u.attempt) for u in scenario.run.uploads if u.name.startswith(prefix))


def test_rerun_failed_jobs_uses_the_first_attempts_plan_and_the_newest_results(
    tmp_path: Path,
) -> None:
    scenario = Scenario(
        tmp_path, Runs(tmp_path / "runs"), NO_API, WRITE_TOKEN, push_event(),
        env={"SHARD_ACTION_COLLECT_ARGS": SUBSET},
    )  # fmt: skip
    plan = ok(plan_job(scenario, **{"max-shards": "3", "history-artifact": ""}))
    shards = planned(plan)
    assert len(shards) == 3
    broken = shards[0]
    # attempt 1: one shard cannot start its runner (a bad option), the others pass
    first = {s: run_job(scenario, s, **({"args": "--no-such-option"} if s == broken else {}))
             for s in shards}  # fmt: skip
    assert first[broken].failed and not any(first[s].failed for s in shards[1:])
    lost = report_job(scenario, **{"history-artifact": ""})
    assert lost.failed and int(lost.outputs["lost"]) > 0

    # attempt 2: "Re-run failed jobs" runs the broken shard and the report again, nothing else
    scenario.run.rerun()
    again = ok(run_job(scenario, broken))
    assert again.outputs["exit-code"] == "0", again.log
    assert uploads(scenario, "shard-action-plan") == [("shard-action-plan.attempt-1", 1)]
    assert (f"shard-action-results-{broken}.attempt-1", 1) in uploads(scenario, "shard-action-r")
    assert (f"shard-action-results-{broken}.attempt-2", 2) in uploads(scenario, "shard-action-r")
    report = ok(report_job(scenario, **{"history-artifact": ""}))
    assert report.outputs["lost"] == "0" and report.outputs["exit-code"] == "0", report.log
    data = report_json(scenario)
    total = sum(s["planned"] for s in data["shards"])
    assert data["counts"]["tests"] == total > 0  # every planned test once: attempt 2's shard
    assert data["complete"] and data["problems"] == [] and data["run_twice"] == []
    assert {s["shard"]: s["status"] for s in data["shards"]} == {s: "passed" for s in shards}
    assert "attempt 1" in report.step("report").stdout  # said which results were replaced


def test_a_full_rerun_with_a_new_plan_ignores_the_first_attempts_results(tmp_path: Path) -> None:
    scenario = Scenario(
        tmp_path, Runs(tmp_path / "runs"), NO_API, WRITE_TOKEN, push_event(),
        env={"SHARD_ACTION_COLLECT_ARGS": SUBSET},
    )  # fmt: skip
    quiet = {"history-artifact": ""}
    old = ok(plan_job(scenario, **{"max-shards": "3", **quiet}))
    for job in matrix_jobs(scenario, old.outputs["matrix"]).values():
        ok(job)
    # "Re-run all jobs" after the config changed (or the history did): another plan
    scenario.run.rerun()
    new = ok(plan_job(scenario, **{"mode": "serial", **quiet}))
    assert planned(new) != planned(old)
    (serial,) = planned(new)
    ok(run_job(scenario, serial))
    report = ok(report_job(scenario, **quiet))
    data = report_json(scenario)
    assert [s["shard"] for s in data["shards"]] == [serial]
    assert data["unknown_shards"] == [] and data["run_twice"] == [] and data["problems"] == []
    assert report.outputs["lost"] == "0"
    assert int(report.outputs["tests"]) == data["counts"]["planned"]


def test_two_suites_in_one_run_keep_their_own_artifacts(tmp_path: Path) -> None:
    with FakeGitHub() as fake:
        fake.add_repo("octo/app")
        scenario = Scenario(
            tmp_path, Runs(tmp_path / "runs"), fake.api_url, WRITE_TOKEN, push_event(),
            env={"SHARD_ACTION_COLLECT_ARGS": SUBSET},
        )  # fmt: skip
        # two different plans of one project: a serial suite and a parallel one
        suites = {"unit": {"mode": "serial"}, "api": {"max-shards": "2"}}
        plans = {n: ok(plan_job(scenario, suite=n, **extra)) for n, extra in suites.items()}
        for name, plan in plans.items():
            for job in matrix_jobs(scenario, plan.outputs["matrix"], suite=name).values():
                ok(job)
        reports = {name: ok(report_job(scenario, suite=name)) for name in suites}
    assert len(planned(plans["unit"])) == 1 and len(planned(plans["api"])) > 1
    for name, report in reports.items():
        shards = planned(plans[name])
        assert report.outputs["lost"] == "0" and report.outputs["exit-code"] == "0", report.log
        data = report_json_of(report)
        assert sorted(s["shard"] for s in data["shards"]) == sorted(shards)
        assert data["unknown_shards"] == [] and data["problems"] == []
    names = set(scenario.run.artifacts)
    assert {"shard-action-plan-unit.attempt-1", "shard-action-plan-api.attempt-1"} <= names
    assert {"shard-action-history-unit", "shard-action-history-api"} <= names
    for name, plan in plans.items():
        for shard in planned(plan):
            assert f"shard-action-results-{name}-{shard}.attempt-1" in names


def report_json_of(report: ActionResult) -> dict[str, Any]:
    """report.json of one report job, found through the path its report step printed."""
    line = next(
        line for line in report.step("report").stdout.splitlines() if line.startswith("  wrote ")
    )
    folder = Path(line.removeprefix("  wrote ").split(" (exit status", 1)[0])
    data: dict[str, Any] = json.loads((folder / "report.json").read_text("utf-8"))
    return data


def test_two_suites_without_a_suite_name_fail_loudly_instead_of_overwriting(
    tmp_path: Path,
) -> None:
    scenario = Scenario(
        tmp_path, Runs(tmp_path / "runs"), NO_API, WRITE_TOKEN, push_event(),
        env={"SHARD_ACTION_COLLECT_ARGS": SUBSET},
    )  # fmt: skip
    quiet = {"history-artifact": ""}
    ok(plan_job(scenario, **{"mode": "serial", **quiet}))
    second = plan_job(scenario, **{"max-shards": "2", **quiet})
    assert second.failed
    assert "already exists" in second.step("Upload the plan").stderr


def test_two_suites_on_a_pull_request_keep_one_comment_each_edited_in_place(
    tmp_path: Path,
) -> None:
    """Each suite's report finds its own comment by its marker: two runs of two suites leave
    two comments, each edited by the second run (which has one more test file)."""
    files = json.loads(SUBSET)
    comments: list[dict[str, tuple[int, str]]] = []
    counts: list[dict[str, str]] = []
    with FakeGitHub() as fake:
        repo = fake.add_repo(REPO)
        repo.add_pull(PR, head_ref=BRANCH)
        for run, subset in enumerate([files[:2], files], start=1):
            scenario = Scenario(
                tmp_path / f"run{run}", Runs(tmp_path / f"runs{run}"), fake.api_url,
                WRITE_TOKEN, fork_pr_event(head_repo=REPO),
                env={"SHARD_ACTION_COLLECT_ARGS": json.dumps(subset)},
            )  # fmt: skip
            reports = {}
            for name, extra in {"unit": {"mode": "serial"}, "api": {"max-shards": "2"}}.items():
                plan = ok(plan_job(scenario, suite=name, **{"history-artifact": "", **extra}))
                for job in matrix_jobs(scenario, plan.outputs["matrix"], suite=name).values():
                    ok(job)
                reports[name] = ok(report_job(scenario, suite=name, **{"history-artifact": ""}))
            assert {n: r.outputs["comment"] for n, r in reports.items()} == (
                {"unit": "created", "api": "created"} if run == 1
                else {"unit": "updated", "api": "updated"}
            )  # fmt: skip
            counts.append({n: r.outputs["tests"] for n, r in reports.items()})
            comments.append({
                name: next((c.id, c.body) for c in repo.comments_on(PR)
                           if comment_marker(WORKFLOW, name) in c.body)
                for name in reports
            })  # fmt: skip
            assert len(repo.comments_on(PR)) == 2
    assert counts[1]["unit"] == counts[1]["api"] != counts[0]["unit"] == counts[0]["api"]
    for name in ("unit", "api"):
        (first_id, first_body), (second_id, second_body) = comments[0][name], comments[1][name]
        assert first_id == second_id, f"suite {name}: a new comment instead of an edit"
        assert f"{counts[0][name]} tests passed" in first_body
        assert f"{counts[1][name]} tests passed" in second_body
