"""The plan step's ``changed-files`` input: ``auto`` asks git what a pull request changes, in a
real repository, and passes it to ``plan --changed-files``; a list file is passed as it is."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.action.harness import ActionResult, ActionRunner, Runs
from tests.action.workflow import REPO, Scenario, fork_pr_event, push_event
from tests.fakegithub import WRITE_TOKEN, FakeGitHub

pytestmark = pytest.mark.slow

IDS = [
    "tests/test_models.py::test_one",
    "tests/test_models.py::test_two",
    "tests/test_pricing.py::test_three",
]
ARGS = "--early-flake-runs\n2\n--no-collect-cache\n--tests-from\n{ids}"


Event = tuple[str, dict[str, Any], str]
MakeScenario = Callable[[Event], Scenario]


@pytest.fixture
def scenario_for(tmp_path: Path, fake_github: FakeGitHub) -> MakeScenario:
    fake_github.add_repo(REPO)
    runs = Runs(tmp_path / "runs")

    def make(event: Event) -> Scenario:
        return Scenario(tmp_path, runs, fake_github.api_url, WRITE_TOKEN, event)

    return make


def _git(workspace: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args]
    done = subprocess.run(command, cwd=workspace, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _plan(scenario: Scenario, ids: Path, changed: str, *, git: bool) -> ActionResult:
    job = scenario.job("plan")
    if git:  # the base commit, then the pull request's: one test file and a file outside
        _git(job.workspace, "init", "-q")
        _git(job.workspace, "add", "-A")
        _git(job.workspace, "commit", "-q", "-m", "base")
        base = _git(job.workspace, "rev-parse", "HEAD")
        models = job.workspace / "examples" / "tests" / "test_models.py"
        models.write_text(models.read_text() + "\n# edited\n")
        (job.workspace / "NOTES.md").write_text("outside the project folder\n")
        _git(job.workspace, "add", "-A")
        _git(job.workspace, "commit", "-q", "-m", "change")
        pull = dict(job.event["pull_request"])
        pull["base"] = {**pull["base"], "sha": base}
        job.event = {**job.event, "pull_request": pull}
    inputs = {
        "command": "plan",
        "working-directory": "examples",
        "history-artifact": "",
        "changed-files": changed,
        "args": ARGS.format(ids=ids),
    }
    return ActionRunner().run(inputs, job)


def test_auto_gives_the_pull_requests_test_files_the_extra_runs(
    tmp_path: Path, scenario_for: MakeScenario
) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("\n".join(IDS) + "\n")
    result = _plan(scenario_for(fork_pr_event(REPO)), ids, "auto", git=True)
    assert not result.failed, result.log
    out = result.step("plan").stdout
    assert "of 2 tests (0 new, 2 in changed files)" in out, out

    # not a git checkout: a warning, and the plan goes on with new tests only
    bare = _plan(scenario_for(fork_pr_event(REPO)), ids, "auto", git=False)
    assert not bare.failed, bare.log
    assert "::warning title=shard-action::changed-files" in bare.step("plan").stdout
    assert "early-flake runs: " not in bare.step("plan").stdout
    # not a pull request: nothing to list, nothing said
    push = _plan(scenario_for(push_event()), ids, "auto", git=False)
    assert not push.failed and "changed-files" not in push.step("plan").stdout

    # a list of the user's own, relative to working-directory
    listed = tmp_path / "changed.txt"
    listed.write_text("tests/test_pricing.py\n")
    own = _plan(scenario_for(push_event()), ids, str(listed), git=False)
    assert "of 1 test (0 new, 1 in changed files)" in own.step("plan").stdout, own.log


def _pull_request_checkout(scenario: Scenario) -> tuple[Any, str]:
    """A plan job whose checkout (depth 1, as actions/checkout makes it) lacks the pull
    request's base commit, which its ``origin`` has: what ``auto`` fetches."""
    job = scenario.job("plan")
    upstream = job.workspace.parent / "upstream"
    shutil.copytree(job.workspace, upstream)
    _git(upstream, "init", "-q")
    _git(upstream, "add", "-A")
    _git(upstream, "commit", "-q", "-m", "base")
    base = _git(upstream, "rev-parse", "HEAD")
    models = upstream / "examples" / "tests" / "test_models.py"
    models.write_text(models.read_text() + "\n# edited\n")
    _git(upstream, "commit", "-q", "-am", "change")
    _git(job.workspace, "init", "-q")
    _git(job.workspace, "fetch", "-q", "--depth=1", upstream.as_uri(), "HEAD")
    _git(job.workspace, "checkout", "-q", "-f", "FETCH_HEAD")
    _git(job.workspace, "remote", "add", "origin", upstream.as_uri())
    pull = dict(job.event["pull_request"])
    job.event = {**job.event, "pull_request": {**pull, "base": {**pull["base"], "sha": base}}}
    return job, base


def _has(workspace: Path, commit: str) -> bool:
    found = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=workspace,
                           capture_output=True, check=False)  # fmt: skip
    return found.returncode == 0


@pytest.mark.parametrize(("runs", "fetched"), [("2", True), ("0", False)])
def test_auto_fetches_the_base_commit_only_when_early_flake_runs_are_on(
    tmp_path: Path, scenario_for: MakeScenario, runs: str, fetched: bool
) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("\n".join(IDS) + "\n")
    job, base = _pull_request_checkout(scenario_for(fork_pr_event(REPO)))
    assert not _has(job.workspace, base)
    inputs = {
        "command": "plan",
        "working-directory": "examples",
        "history-artifact": "",
        "changed-files": "auto",
        "args": ARGS.replace("--early-flake-runs\n2", f"--early-flake-runs\n{runs}").format(
            ids=ids
        ),
    }
    result = ActionRunner().run(inputs, job)
    assert not result.failed, result.log
    out = result.step("plan").stdout
    assert _has(job.workspace, base) is fetched
    assert "::warning title=shard-action::changed-files" not in out, out
    if fetched:
        assert "of 2 tests (0 new, 2 in changed files)" in out, out
    else:
        assert "changed files" not in out, out


@pytest.mark.parametrize(
    ("digits", "tried"), [(40, True), (41, False), (63, False), (64, True), (65, False)]
)
def test_auto_takes_a_sha1_or_sha256_commit_id_and_nothing_between(
    tmp_path: Path, scenario_for: MakeScenario, digits: int, tried: bool
) -> None:
    # not a git checkout: git is tried (and says it could not) only for a whole commit id
    ids = tmp_path / "ids.txt"
    ids.write_text("\n".join(IDS) + "\n")
    job = scenario_for(fork_pr_event(REPO)).job("plan")
    pull = dict(job.event["pull_request"])
    sha = ("0123456789abcdef" * 5)[:digits]
    job.event = {**job.event, "pull_request": {**pull, "base": {**pull["base"], "sha": sha}}}
    inputs = {
        "command": "plan",
        "working-directory": "examples",
        "history-artifact": "",
        "changed-files": "auto",
        "args": ARGS.format(ids=ids),
    }
    result = ActionRunner().run(inputs, job)
    assert not result.failed, result.log
    warned = "::warning title=shard-action::changed-files" in result.step("plan").stdout
    assert warned is tried, result.step("plan").stdout
