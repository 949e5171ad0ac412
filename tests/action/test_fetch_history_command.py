"""``shard-action fetch-history``: the plan job's history, never a reason for the plan to fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shard_action.adapters.documents import read_document
from shard_action.core.fetched import FetchedHistory
from shard_action.core.history import History
from shard_action.core.mode import ModeState
from tests.action.commands import StepRunner
from tests.fakegithub import DEFAULT_WORKFLOW, READ_TOKEN, FakeGitHub, FakeRepo, Fault

REPO = "octo/app"
NAME = "shard-action-history"
FAST = ("--retries", "3", "--backoff", "0.001")


@pytest.fixture
def repo(fake_github: FakeGitHub) -> FakeRepo:
    return fake_github.add_repo(REPO)


@pytest.fixture
def step(
    fake_github: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> StepRunner:
    runner = StepRunner(monkeypatch, capsys, tmp_path)
    # A fork's pull request gets a read-only token: reading the history must work with it.
    runner.env(GITHUB_API_URL=fake_github.api_url, GITHUB_REPOSITORY=REPO, GITHUB_TOKEN=READ_TOKEN)
    return runner


def history_json(note: str) -> str:
    return History(mode=ModeState(reason=note)).model_dump_json()


def status(out: Path) -> dict[str, object]:
    return read_document(out / "fetch-history.json", FetchedHistory).model_dump()


def test_first_run_has_no_history_and_says_so(
    step: StepRunner, repo: FakeRepo, tmp_path: Path
) -> None:
    out = tmp_path / "history"
    result = step("fetch-history", "--artifact", NAME, "--out", out, *FAST)
    assert result.code == 0
    assert result.outputs == {"history": "", "history-status": "none"}
    assert "::notice" in result.out and "estimates" in result.out
    assert status(out)["status"] == "none"


def test_newest_trusted_history_is_fetched(
    step: StepRunner, repo: FakeRepo, tmp_path: Path
) -> None:
    older = repo.add_run()
    repo.add_artifact(older, NAME, files={"history.json": history_json("older")})
    newer = repo.add_run()
    repo.add_artifact(newer, NAME, files={"history.json": history_json("newer")})
    fork = repo.add_run(fork=True)  # newest of all, but from a fork: never trusted
    repo.add_artifact(fork, NAME, files={"history.json": history_json("fork")})
    out = tmp_path / "history"
    result = step("fetch-history", "--out", out, "--branch", "main", *FAST)
    assert result.code == 0, result.text
    assert result.outputs["history-status"] == "found"
    path = Path(result.outputs["history"])
    assert path == (out / "history.json").resolve()
    assert json.loads(path.read_text("utf-8"))["mode"]["reason"] == "newer"
    assert status(out)["run_id"] == newer.id


@pytest.mark.parametrize(
    ("workflow_ref", "expected"),
    [
        (f"{REPO}/{DEFAULT_WORKFLOW}@refs/heads/main", "ours"),
        (None, "nightly"),  # not on GitHub (or an old GHES): any workflow's, as before
        (f"other/repo/{DEFAULT_WORKFLOW}@refs/heads/main", "nightly"),  # says nothing of REPO
    ],
    ids=["same-workflow", "no-workflow-ref", "ref-of-another-repo"],
)
def test_only_the_history_of_the_same_workflow_file_is_fetched(
    step: StepRunner, repo: FakeRepo, tmp_path: Path, workflow_ref: str | None, expected: str
) -> None:
    ours = repo.add_run()
    repo.add_artifact(ours, NAME, files={"history.json": history_json("ours")})
    nightly = repo.add_run(path=".github/workflows/nightly.yml")  # newer, same artifact name
    repo.add_artifact(nightly, NAME, files={"history.json": history_json("nightly")})
    if workflow_ref is not None:
        step.env(GITHUB_WORKFLOW_REF=workflow_ref)
    out = tmp_path / "history"
    result = step("fetch-history", "--out", out, "--branch", "main", *FAST)
    assert result.code == 0, result.text
    assert result.outputs["history-status"] == "found"
    path = Path(result.outputs["history"])
    assert json.loads(path.read_text("utf-8"))["mode"]["reason"] == expected
    assert status(out)["run_id"] == (ours.id if expected == "ours" else nightly.id)


def test_only_another_workflows_history_is_a_notice_that_says_so(
    step: StepRunner, repo: FakeRepo, tmp_path: Path
) -> None:
    nightly = repo.add_run(path=".github/workflows/nightly.yml")
    repo.add_artifact(nightly, NAME, files={"history.json": history_json("nightly")})
    step.env(GITHUB_WORKFLOW_REF=f"{REPO}/{DEFAULT_WORKFLOW}@refs/heads/main")
    out = tmp_path / "history"
    result = step("fetch-history", "--out", out, "--branch", "main", *FAST)
    assert result.code == 0
    assert result.outputs == {"history": "", "history-status": "none"}
    assert "::notice" in result.out and "1 of another workflow" in result.out


def test_api_down_is_a_warning_and_exit_zero(
    step: StepRunner, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    fake_github.stop()
    out = tmp_path / "history"
    result = step("fetch-history", "--out", out, "--retries", "0")
    assert result.code == 0
    assert result.outputs == {"history": "", "history-status": "error"}
    assert "::warning" in result.out and "estimates" in result.out
    assert status(out)["status"] == "error"
    assert READ_TOKEN not in result.text


def test_api_failing_with_retries_is_an_error_status_not_a_failure(
    step: StepRunner, fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    fake_github.fault_rate(1.0, seed=0, kinds=[Fault("status", status=503, retry_after="0")])
    out = tmp_path / "history"
    result = step("fetch-history", "--out", out, *FAST)
    assert result.code == 0
    assert result.outputs["history-status"] == "error"
    assert len(fake_github.requests) == 4, "one request and three retries"


def test_unreadable_history_is_set_aside(step: StepRunner, repo: FakeRepo, tmp_path: Path) -> None:
    repo.add_artifact(repo.add_run(), NAME, files={"history.json": '{"kind": "something else"}'})
    out = tmp_path / "history"
    result = step("fetch-history", "--out", out, *FAST)
    assert result.code == 0
    assert result.outputs == {"history": "", "history-status": "unusable"}
    assert not (out / "history.json").exists(), "the plan and the report must not read it"
    assert (out / "history.json.unusable").is_file()
    assert "::warning" in result.out


def test_bad_repository_is_an_input_error(step: StepRunner, tmp_path: Path) -> None:
    result = step("fetch-history", "--out", tmp_path / "h", "--repo", "no-slash", *FAST)
    assert result.code == 2
    assert "OWNER/NAME" in result.err


def test_a_history_behind_a_long_red_streak_is_found_or_is_an_error(
    step: StepRunner, repo: FakeRepo, tmp_path: Path
) -> None:
    """55 red runs on main, each uploading a history, then the last green one: the search used
    to give up at 50 runs and say "none", letting the next report start a one-run history."""
    repo.add_artifact(repo.add_run(), NAME, files={"history.json": history_json("real")})
    for _ in range(55):
        repo.add_artifact(
            repo.add_run(conclusion="failure"), NAME, files={"history.json": history_json("red")}
        )
    out = tmp_path / "history"
    # The workflow's own successful runs: found at once.
    step.env(GITHUB_WORKFLOW_REF=f"{REPO}/{DEFAULT_WORKFLOW}@refs/heads/main")
    result = step("fetch-history", "--artifact", NAME, "--out", out, *FAST)
    assert result.code == 0, result.text
    assert result.outputs["history-status"] == "found"
    assert (
        History.model_validate_json(Path(result.outputs["history"]).read_text()).mode.reason
        == "real"
    )
    # Without the workflow (no GITHUB_WORKFLOW_REF): the limit is an error, never "none".
    step.env(GITHUB_WORKFLOW_REF="")
    result = step("fetch-history", "--artifact", NAME, "--out", tmp_path / "again", *FAST)
    assert result.code == 0, result.text
    assert result.outputs == {"history": "", "history-status": "error"}
    assert "::warning" in result.out and "limit of 50 runs" in result.out
    assert status(tmp_path / "again")["status"] == "error"
