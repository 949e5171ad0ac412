"""action.yml's own decisions, each in a short run of the harness: refusing bad inputs, when the
job fails (``fail-on``), and never replacing the history with one the plan could not build on."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.action.harness import ActionResult, Runs
from tests.action.workflow import (
    PR,
    REPO,
    Scenario,
    branch_push_event,
    fork_pr_event,
    plan_job,
    push_event,
    report_job,
    run_action,
    schedule_event,
    tag_push_event,
)
from tests.fakegithub import WRITE_TOKEN, FakeGitHub, Fault
from tests.plan_json import plan_tests

pytestmark = pytest.mark.slow

IDS = [
    "tests/test_models.py::test_one",
    "tests/test_models.py::test_two",
    "tests/test_pricing.py::test_three",
    "tests/storage/test_store_crud.py::test_four",
]

PLAN = "shard-action-plan.attempt-1"  # the plan artifact of a run's first attempt


@pytest.fixture
def api(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.add_repo(REPO)
    return fake_github


@pytest.fixture
def runs(tmp_path: Path) -> Runs:
    return Runs(tmp_path / "runs")


@pytest.fixture
def ids_file(tmp_path: Path) -> Path:
    path = tmp_path / "ids.txt"
    path.write_text("\n".join(IDS) + "\n", "utf-8")
    return path


def quick_plan(scenario: Scenario, ids_file: Path) -> ActionResult:
    """A plan from a list of ids: no collection, so it takes a second."""
    return plan_job(scenario, args=f"--tests-from\n{ids_file}")


def test_an_unknown_command_stops_at_the_first_step(
    tmp_path: Path, runs: Runs, api: FakeGitHub
) -> None:
    scenario = Scenario(tmp_path, runs, api.api_url, WRITE_TOKEN, push_event())
    result = run_action(scenario, "bad", {"command": "deploy"})
    assert result.failed
    assert result.steps[0].outcome == "failure"
    assert "must be plan, run, report or comment" in result.steps[0].stdout
    assert all(step.outcome == "skipped" for step in result.steps[1:])


def test_run_refuses_a_shard_that_is_not_an_id(tmp_path: Path, runs: Runs, api: FakeGitHub) -> None:
    scenario = Scenario(tmp_path, runs, api.api_url, WRITE_TOKEN, push_event())
    inputs = {"command": "run", "shard": "../../etc", "plan": str(tmp_path / "plan.json")}
    result = run_action(scenario, "run", inputs)
    assert result.failed
    assert result.step("run").returncode == 2
    assert "must be a shard id" in result.step("run").stdout
    assert result.step("Upload the shard's results").outcome == "skipped"
    assert not scenario.run.artifacts


@pytest.mark.parametrize(
    "fail_on, fails", [("failures", True), ("incomplete", True), ("never", False)]
)
def test_fail_on_decides_whether_an_incomplete_run_fails_the_job(
    tmp_path: Path, runs: Runs, api: FakeGitHub, ids_file: Path, fail_on: str, fails: bool
) -> None:
    scenario = Scenario(tmp_path, runs, api.api_url, WRITE_TOKEN, push_event())
    assert not quick_plan(scenario, ids_file).failed
    # No shard ran: every planned test is lost.
    report = report_job(scenario, **{"fail-on": fail_on})
    assert report.failed is fails, report.log
    assert report.outputs["exit-code"] == "3"
    planned = json.loads((scenario.run.artifact(PLAN) / "plan.json").read_text())
    # One storage test is planned once per backend (the example's fan-out lane).
    assert report.outputs["lost"] == str(len(plan_tests(planned))) == "5"
    assert report.step("Verdict").outcome == ("failure" if fails else "success")
    assert report.step("report").outcome == "success", "the report itself always finishes"
    # Nothing to download: download-artifact v8 succeeds with nothing, and the report names
    # every planned test lost.
    assert report.step("Download every shard's results").outcome == "success"


def test_history_is_not_replaced_when_the_plan_could_not_read_it(
    tmp_path: Path, runs: Runs, api: FakeGitHub, ids_file: Path
) -> None:
    # As when the plan job lacks `actions: read`: a 403 that no retry can fix.
    rule = api.fault_rate(1.0, seed=0, kinds=[Fault.error(403)])
    scenario = Scenario(tmp_path, runs, api.api_url, WRITE_TOKEN, push_event())
    plan = quick_plan(scenario, ids_file)
    assert not plan.failed, plan.log
    assert plan.outputs["history-status"] == "error"
    assert "::warning" in plan.step("history").stdout
    rule.rate = 0.0
    report = report_job(scenario, **{"fail-on": "never"})
    assert report.step("report").outputs["upload-history"] == "false"
    assert "does not replace it" in report.step("report").stdout
    assert "shard-action-history" not in scenario.run.artifacts

    # The same run with the API up (first run: no history yet) does upload one.
    fresh = Scenario(tmp_path, runs, api.api_url, WRITE_TOKEN, push_event())
    assert quick_plan(fresh, ids_file).outputs["history-status"] == "none"
    report = report_job(fresh, **{"fail-on": "never"})
    assert report.step("report").outputs["upload-history"] == "true"
    assert "shard-action-history" in fresh.run.artifacts


def test_a_fork_never_uploads_the_history(
    tmp_path: Path, runs: Runs, api: FakeGitHub, ids_file: Path
) -> None:
    scenario = Scenario(tmp_path, runs, api.api_url, WRITE_TOKEN, fork_pr_event())
    assert not quick_plan(scenario, ids_file).failed
    report = report_job(scenario, **{"fail-on": "never", "comment": "false"})
    assert report.step("report").outputs["upload-history"] == "false"
    assert report.step("comment").outcome == "skipped"
    assert "shard-action-history" not in scenario.run.artifacts
    assert "only updated by runs on the default branch" in report.step("report").stdout


@pytest.mark.parametrize(
    "event, uploads",
    [
        (schedule_event, True),
        (push_event, True),
        (branch_push_event, False),
        (tag_push_event, False),
    ],
    ids=["schedule", "push-to-main", "push-to-a-branch", "tag-named-main"],
)
def test_only_default_branch_runs_upload_the_history(
    tmp_path: Path,
    runs: Runs,
    api: FakeGitHub,
    ids_file: Path,
    event: Callable[[], tuple[str, dict[str, Any], str]],
    uploads: bool,
) -> None:
    scenario = Scenario(tmp_path, runs, api.api_url, WRITE_TOKEN, event())
    plan = quick_plan(scenario, ids_file)
    assert plan.outputs["history-status"] == "none", plan.log
    report = report_job(scenario, **{"fail-on": "never", "comment": "false"})
    assert report.step("report").outputs["upload-history"] == str(uploads).lower(), report.log
    assert ("shard-action-history" in scenario.run.artifacts) is uploads


def test_install_builds_a_venv_under_runner_temp_keyed_by_version_python_and_place(
    tmp_path: Path, runs: Runs, api: FakeGitHub, ids_file: Path
) -> None:
    """The one test that really installs: every other job reuses this interpreter's packages
    (``SHARD_ACTION_VENV``). pip reads wheels from its cache when it has them."""
    scenario = Scenario(tmp_path, runs, api.api_url, WRITE_TOKEN, push_event())
    scenario.env["SHARD_ACTION_VENV"] = ""
    first = quick_plan(scenario, ids_file)
    assert not first.failed, first.log
    setup, install = first.step("setup"), first.step("install")
    temp = Path(setup.outputs["dir"]).parent
    assert setup.outputs["venv"] == f"{temp}/shard-action/venv"
    assert install.outputs["bin"] == f"{temp}/shard-action/venv/bin/shard-action"
    assert "installed shard-action 0.1.0 in" in install.stdout
    assert first.step("Restore shard-action's environment").outcome == "success"
    version = ".".join(map(str, sys.version_info[:3]))
    key = setup.outputs["cache-key"]
    assert key.startswith("shard-action-venv-") and f"-py{version}-" in key
    plan = json.loads((scenario.run.artifact(PLAN) / "plan.json").read_text())
    assert sorted(plan_tests(plan)) == sorted(
        [*IDS, "tests/storage/test_store_crud.py::test_four"]  # planned once per backend
    )

    # Same sources, same Python, another RUNNER_TEMP: a venv's scripts name their own path, so
    # a venv restored there would not start. It is another cache entry.
    elsewhere = run_action(scenario, "elsewhere", {"command": "comment"}).step("setup")
    assert Path(elsewhere.outputs["dir"]).parent != temp
    assert elsewhere.outputs["cache-key"] != key
    assert elsewhere.outputs["cache-key"].rsplit("-", 1)[0] == key.rsplit("-", 1)[0]


@pytest.mark.parametrize("on_api_error, fails", [("warn", False), ("fail", True)])
def test_api_down_at_report_time_keeps_the_summary_and_the_comment(
    tmp_path: Path,
    runs: Runs,
    api: FakeGitHub,
    ids_file: Path,
    on_api_error: str,
    fails: bool,
) -> None:
    api.repos[REPO.lower()].add_pull(PR)
    scenario = Scenario(tmp_path, runs, api.api_url, WRITE_TOKEN, fork_pr_event(head_repo=REPO))
    scenario.env.update(SHARD_ACTION_API_RETRIES="1", SHARD_ACTION_API_BACKOFF="0")
    assert not quick_plan(scenario, ids_file).failed
    api.stop()  # nothing listens any more: the comment cannot be posted
    report = report_job(scenario, **{"fail-on": "never", "on-api-error": on_api_error})
    comment = report.step("comment")
    assert comment.outputs["comment"] == "failed", report.log
    assert comment.outputs["saved"] == "true"
    assert ("::error" if fails else "::warning") in comment.stdout
    saved = scenario.run.artifact("shard-action-comment")
    assert (saved / "comment.md").read_text() == (
        Path(report.step("setup").outputs["dir"]) / "report" / "comment.md"
    ).read_text()
    assert "Lost" in report.summary or "lost" in report.summary
    assert report.step("Verdict").outcome == "success"
    assert report.failed is fails
    assert WRITE_TOKEN not in report.log


@pytest.fixture
def foreign_python(tmp_path: Path) -> Path:
    """An interpreter with pytest and coverage but without shard-action, like a user's."""
    venv = tmp_path / "user-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(Path(sys.prefix).glob("lib/python3*/site-packages"))
    mine = next(venv.glob("lib/python3*/site-packages"))
    (mine / "deps.pth").write_text(f"{site}\n", "utf-8")  # a .pth line: no editable hooks
    python = venv / "bin" / "python"
    check = subprocess.run([python, "-c", "import shard_action"], capture_output=True, check=False)
    assert check.returncode != 0, "the user's interpreter must not see shard-action"
    return python


def test_plan_collects_and_records_the_users_interpreter(
    tmp_path: Path, runs: Runs, api: FakeGitHub, foreign_python: Path
) -> None:
    scenario = Scenario(tmp_path, runs, api.api_url, WRITE_TOKEN, push_event())
    plan = plan_job(scenario, python=str(foreign_python))
    assert not plan.failed, plan.log
    planned = json.loads((scenario.run.artifact(PLAN) / "plan.json").read_text())
    assert planned["runner"]["python"] == str(foreign_python)
