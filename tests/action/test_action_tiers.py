"""workflows/tiers.yml played with the harness: smoke shards first, the rest only when they pass.

The jobs' ``if:`` conditions and the plan step's inputs are read from the template itself and
evaluated with the harness's expression engine, so a template that ran the rest after a failed
smoke tier (or never ran it) would fail here. Two runs of one pull request (not a fork, so the
report may comment): a green one, where every planned test runs exactly once across both
stages; and one where the smoke tier fails, where the rest is held back, named "not run" and
the one PR comment is updated, not duplicated.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.action.expressions import condition, interpolate
from tests.action.harness import REPO_ROOT, ActionResult, Runs
from tests.action.workflow import (
    PR,
    REPO,
    Scenario,
    dispatch_event,
    fork_pr_event,
    matrix_jobs,
    report_job,
    run_action,
)
from tests.fakegithub import WRITE_TOKEN, FakeGitHub
from tests.plan_json import shard_tests

pytestmark = pytest.mark.slow

TEMPLATE: dict[Any, Any] = yaml.safe_load(
    (REPO_ROOT / "workflows" / "tiers.yml").read_text("utf-8")
)
SUBSET = json.dumps(["tests/test_models.py", "tests/test_pricing.py", "tests/test_flaky.py"])
TIERS = json.dumps([{"name": "smoke", "paths": ["tests/test_flaky.py"]}])


def plan_inputs(event: tuple[str, dict[str, Any], str]) -> dict[str, str]:
    """The plan step's ``with:`` as GitHub renders it for ``event``."""
    step = next(s for s in TEMPLATE["jobs"]["plan"]["steps"] if s.get("id") == "plan")
    name, payload, _ = event
    inputs = payload.get("inputs", {}) if name == "workflow_dispatch" else {}
    context = {"inputs": inputs, "github": {"event": payload}}
    return {key: interpolate(str(value), context) for key, value in step["with"].items()}


def runs_job(job: str, needs: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether GitHub starts the template's ``job`` after jobs with these results."""
    failed = any(n["result"] == "failure" for n in needs.values())
    status = {"success": not failed, "failure": failed, "always": True, "cancelled": False}
    return condition(TEMPLATE["jobs"][job].get("if"), {"needs": needs}, status)


def ok(result: ActionResult) -> ActionResult:
    assert not result.failed, result.log
    return result


def planned(scenario: Scenario) -> dict[str, Any]:
    path = scenario.run.artifact("shard-action-plan.attempt-1") / "plan.json"
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def stage(scenario: Scenario, **env: str) -> tuple[ActionResult, dict[str, Any]]:
    inputs = plan_inputs(scenario.event)
    assert inputs["first-tier"] == "smoke"
    scenario.env.update(env)
    plan = ok(
        run_action(
            scenario,
            "plan",
            {
                **inputs,
                "working-directory": "examples",
                "python": sys.executable,
                "max-shards": "2",
            },
        )
    )
    return plan, {"plan": {"result": "success", "outputs": plan.outputs}}


def test_smoke_first_then_the_rest_one_report_one_comment(tmp_path: Path) -> None:
    runs = Runs(tmp_path / "runs")
    env = {"SHARD_ACTION_COLLECT_ARGS": SUBSET, "SHARD_ACTION_TIERS": TIERS}
    with FakeGitHub() as fake:
        repo = fake.add_repo(REPO)
        repo.add_pull(PR, head_ref="feature")
        event = fork_pr_event(head_repo=REPO)

        # 1. green: smoke passes, then the rest runs; every test once, one comment
        green = Scenario(tmp_path, runs, fake.api_url, WRITE_TOKEN, event, env=dict(env))
        plan, needs = stage(green)
        the_plan = planned(green)
        first = json.loads(plan.outputs["matrix-first"])["include"]
        rest = json.loads(plan.outputs["matrix-rest"])["include"]
        assert plan.outputs["first-count"] == str(len(first)) == "1"
        assert plan.outputs["rest-count"] == str(len(rest)) != "0"
        smoke_tests = [t for s in the_plan["shards"] if s["first"] for t in shard_tests(s)]
        other_tests = [t for s in the_plan["shards"] if not s["first"] for t in shard_tests(s)]
        assert smoke_tests == ["tests/test_flaky.py::test_price_table_cache_warms_up"]
        assert not set(smoke_tests) & set(other_tests)
        assert runs_job("smoke", needs)

        smoke = matrix_jobs(green, plan.outputs["matrix-first"])
        assert all(job.outputs["exit-code"] == "0" for job in smoke.values())
        needs["smoke"] = {"result": "success"}
        assert runs_job("test", needs)
        for job in matrix_jobs(green, plan.outputs["matrix-rest"]).values():
            ok(job)
        needs["test"] = {"result": "success"}
        assert runs_job("report", needs)
        report = ok(report_job(green))
        assert int(report.outputs["tests"]) == len(smoke_tests) + len(other_tests)
        assert report.outputs["lost"] == "0"
        assert report.outputs["exit-code"] == "0"
        assert report.outputs["comment"] == "created"
        assert len(repo.comments_on(PR)) == 1

        # 2. the smoke tier fails (the planted flake, with no re-run): the rest is held back
        red = Scenario(tmp_path, runs, fake.api_url, WRITE_TOKEN, event, env=dict(env))
        flaky_dir = tmp_path / "flaky"
        plan, needs = stage(red, EXAMPLE_FLAKY_DIR=str(flaky_dir), SHARD_ACTION_RERUNS="0")
        smoke = matrix_jobs(red, plan.outputs["matrix-first"])
        assert [job.outputs["exit-code"] for job in smoke.values()] == ["1"]
        assert all(job.failed for job in smoke.values())
        needs["smoke"] = {"result": "failure"}
        assert not runs_job("test", needs), "the rest must not start after a failed smoke tier"
        needs["test"] = {"result": "skipped"}
        assert runs_job("report", needs), "one report for the whole run, even then"
        report = report_job(red)
        assert report.outputs["exit-code"] == "1"  # failing tests, not an incomplete run
        assert report.outputs["lost"] == "0"
        assert "not run" in report.summary
        assert report.outputs["comment"] == "updated"
        (comment,) = repo.comments_on(PR)
        assert "not run" in comment.body


def test_workflow_dispatch_chooses_the_tier() -> None:
    assert plan_inputs(dispatch_event("auto"))["tier"] == ""  # no tier input: the config's
    name, payload, ref = dispatch_event("auto")
    payload = {**payload, "inputs": {"tier": "core", "mode": "auto"}}
    assert plan_inputs((name, payload, ref))["tier"] == "core"
    options = TEMPLATE[True]["workflow_dispatch"]["inputs"]["tier"]["options"]
    assert options[0] == "full"
