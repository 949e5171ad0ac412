"""``shard-action comment`` against the fake GitHub: forks, the companion, faults, the API down."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.action.commands import StepRunner, fork_pull_event, workflow_run_event
from tests.fakegithub import BOT_LOGIN, READ_TOKEN, WRITE_TOKEN, FakeGitHub, FakeRepo

REPO = "octo/app"
FAST = ("--retries", "10", "--backoff", "0.001")


@pytest.fixture
def repo(fake_github: FakeGitHub) -> FakeRepo:
    repo = fake_github.add_repo(REPO)
    repo.add_pull(7, head_ref="feature", fork=True)
    repo.add_pull(8, head_ref="other", fork=True)
    repo.add_pull(9, head_ref="same-repo")
    return repo


@pytest.fixture
def step(
    fake_github: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> StepRunner:
    runner = StepRunner(monkeypatch, capsys, tmp_path)
    runner.env(
        GITHUB_API_URL=fake_github.api_url,
        GITHUB_REPOSITORY=REPO,
        GITHUB_WORKFLOW="CI",
        GITHUB_RUN_ID="4242",
    )
    return runner


def body_file(tmp_path: Path, text: str = "## Tests\n\n86 passed") -> Path:
    path = tmp_path / "report" / "comment.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def test_read_only_token_saves_the_comment_and_the_companion_posts_it(
    step: StepRunner, repo: FakeRepo, tmp_path: Path
) -> None:
    body = body_file(tmp_path)
    saved = tmp_path / "saved"
    step.env(SHARD_ACTION_TOKEN=READ_TOKEN)
    step.event("pull_request", fork_pull_event(7))
    result = step("comment", "--body", body, "--save-to", saved, *FAST)
    assert result.code == 0, result.text
    assert result.outputs == {"comment": "no-permission", "comment-url": "", "saved": "true"}
    assert "::notice" in result.out and "read-only" in result.out
    assert repo.comments_on(7) == []
    assert (saved / "comment.md").read_text("utf-8") == body.read_text("utf-8")
    meta = json.loads((saved / "comment.json").read_text("utf-8"))
    assert meta["pr"] == 7 and meta["repo"] == REPO and meta["workflow"] == "CI"
    assert (meta["head_repo"], meta["head_ref"], meta["run_id"]) == ("forker/app", "feature", 4242)

    # The companion: workflow_run, whose pull_requests GitHub leaves empty for forks.
    step.env(SHARD_ACTION_TOKEN=WRITE_TOKEN, GITHUB_WORKFLOW="PR comment")
    step.event("workflow_run", workflow_run_event(4242))
    posted = step("comment", "--body", saved / "comment.md", "--on-no-permission", "fail", *FAST)
    assert posted.code == 0, posted.text
    assert posted.outputs["comment"] == "created"
    (comment,) = repo.comments_on(7)
    assert comment.login == BOT_LOGIN
    assert "86 passed" in comment.body
    # The marker names the triggering workflow, not the companion: same comment as a direct post.
    assert "<!-- shard-action:comment workflow=CI -->" in comment.body
    assert posted.outputs["comment-url"].endswith(f"#issuecomment-{comment.id}")

    again = step("comment", "--body", saved / "comment.md", "--on-no-permission", "fail", *FAST)
    assert again.outputs["comment"] == "unchanged"
    assert len(repo.comments_on(7)) == 1


def test_companion_refuses_a_saved_pull_request_the_run_did_not_build(
    step: StepRunner, repo: FakeRepo, tmp_path: Path
) -> None:
    """A fork writes its own comment.json: naming someone else's pull request must not work."""
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "comment.md").write_text("spam", "utf-8")
    meta = {"kind": "shard-action-comment", "version": 1, "repo": REPO, "pr": 8, "workflow": "CI"}
    (saved / "comment.json").write_text(json.dumps(meta), "utf-8")
    step.env(SHARD_ACTION_TOKEN=WRITE_TOKEN)
    step.event("workflow_run", workflow_run_event(1, head_branch="feature"))
    result = step("comment", "--body", saved / "comment.md", "--on-no-permission", "fail", *FAST)
    assert result.code == 2
    assert "refused" in result.err and "#8" in result.err
    assert repo.comments_on(8) == [] and repo.comments_on(7) == []

    meta["repo"] = "someone/else"
    (saved / "comment.json").write_text(json.dumps(meta), "utf-8")
    result = step("comment", "--body", saved / "comment.md", "--on-no-permission", "fail", *FAST)
    assert result.code == 2 and "not for this repository" in result.err


@pytest.mark.parametrize("pulls", [(), (7,)], ids=["saved-pr", "event-pr"])
def test_companion_of_an_older_commit_leaves_the_newer_comment(
    step: StepRunner,
    repo: FakeRepo,
    fake_github: FakeGitHub,
    tmp_path: Path,
    pulls: tuple[int, ...],
) -> None:
    """Two pushes, and the first run's companion finishing last: its report is outdated."""
    repo.issues[7].head_sha = "c" * 40  # the pull request moved on to a newer commit
    newer = repo.add_comment(7, "<!-- shard-action:comment workflow=CI -->\nreport of c")
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "comment.md").write_text("report of b", "utf-8")
    meta = {"kind": "shard-action-comment", "version": 1, "repo": REPO, "pr": 7, "workflow": "CI"}
    (saved / "comment.json").write_text(json.dumps(meta), "utf-8")
    step.env(SHARD_ACTION_TOKEN=WRITE_TOKEN)
    step.event("workflow_run", workflow_run_event(1, head_sha="b" * 40, pulls=pulls))
    result = step("comment", "--body", saved / "comment.md", "--on-no-permission", "fail", *FAST)
    assert result.code == 0, result.text
    assert result.outputs["comment"] == "skipped"
    assert "::notice" in result.out and "cccccccccccc" in result.out
    assert [c.body for c in repo.comments_on(7)] == [newer.body]
    assert fake_github.requests_to("POST") == [] and fake_github.requests_to("PATCH") == []

    # The run of the current head is posted.
    step.event("workflow_run", workflow_run_event(2, head_sha="c" * 40, pulls=pulls))
    result = step("comment", "--body", saved / "comment.md", "--on-no-permission", "fail", *FAST)
    assert result.code == 0, result.text
    assert result.outputs["comment"] == "updated"
    assert [c.body.splitlines()[-1] for c in repo.comments_on(7)] == ["report of b"]


@pytest.mark.parametrize(
    "saved_repo",
    ["octo/app/../../other/repo", "octo/app\n::warning::injected", "octo", "-x/app", ""],
)
def test_companion_refuses_a_saved_repository_that_is_not_owner_slash_name(
    step: StepRunner, repo: FakeRepo, tmp_path: Path, saved_repo: str
) -> None:
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "comment.md").write_text("spam", "utf-8")
    meta = {"kind": "shard-action-comment", "version": 1, "repo": saved_repo, "pr": 7,
            "workflow": "CI"}  # fmt: skip
    (saved / "comment.json").write_text(json.dumps(meta), "utf-8")
    step.env(SHARD_ACTION_TOKEN=WRITE_TOKEN)
    step.event("workflow_run", workflow_run_event(1))
    result = step("comment", "--body", saved / "comment.md", "--on-no-permission", "fail", *FAST)
    assert result.code == 2, result.text
    assert "comment.json" in result.err and "should match pattern" in result.err
    assert "injected" not in result.text
    assert repo.comments_on(7) == []


def test_companion_uses_the_events_pull_request_for_a_same_repository_branch(
    step: StepRunner, repo: FakeRepo, tmp_path: Path
) -> None:
    """Dependabot's branches live in the repository: GitHub names the pull request itself."""
    body = body_file(tmp_path, "dependabot report")
    step.env(SHARD_ACTION_TOKEN=WRITE_TOKEN)
    step.event("workflow_run", workflow_run_event(5, head_repo=REPO, pulls=[9]))
    result = step("comment", "--body", body, "--on-no-permission", "fail", *FAST)
    assert result.code == 0, result.text
    assert [c.body.splitlines()[-1] for c in repo.comments_on(9)] == ["dependabot report"]


def test_write_token_creates_then_edits_one_comment(
    step: StepRunner, repo: FakeRepo, tmp_path: Path
) -> None:
    step.env(GITHUB_TOKEN=WRITE_TOKEN)
    step.event("pull_request", fork_pull_event(9, head_repo=REPO, ref="same-repo"))
    first = step("comment", "--body", body_file(tmp_path, "run 1"), *FAST)
    assert first.outputs["comment"] == "created" and first.outputs["saved"] == "false"
    second = step("comment", "--body", body_file(tmp_path, "run 2"), *FAST)
    assert second.outputs["comment"] == "updated"
    (comment,) = repo.comments_on(9)
    assert comment.body.endswith("run 2")
    assert not (tmp_path / "shard-comment").exists(), "nothing is saved when it was posted"


def test_no_pull_request_is_nothing_to_do(step: StepRunner, tmp_path: Path) -> None:
    step.env(GITHUB_TOKEN=WRITE_TOKEN)
    step.event("push", {"ref": "refs/heads/main"})
    result = step("comment", "--body", body_file(tmp_path), *FAST)
    assert result.code == 0
    assert result.outputs["comment"] == "skipped"
    assert "no pull request" in result.out


@pytest.mark.parametrize("on_api_error, code", [("warn", 0), ("fail", 1)])
def test_api_down_warns_or_fails_and_keeps_the_comment(
    step: StepRunner,
    fake_github: FakeGitHub,
    tmp_path: Path,
    on_api_error: str,
    code: int,
) -> None:
    fake_github.add_repo(REPO).add_pull(7)
    fake_github.stop()  # nothing listens on the port any more
    saved = tmp_path / "saved"
    step.env(GITHUB_TOKEN=WRITE_TOKEN)
    step.event("pull_request", fork_pull_event(7))
    args = ("--save-to", saved, "--on-api-error", on_api_error, "--retries", "1")
    result = step("comment", "--body", body_file(tmp_path), *args, "--backoff", "0")
    assert result.code == code, result.text
    assert result.outputs["comment"] == "failed"
    assert result.outputs["saved"] == "true"
    level = "::error" if on_api_error == "fail" else "::warning"
    assert level in result.out
    assert (saved / "comment.md").is_file() and (saved / "comment.json").is_file()
    assert WRITE_TOKEN not in result.text


# Seeds whose draws hit the comment requests (1, 8, 10: POSTs applied but their answer lost).
@pytest.mark.parametrize("seed", [1, 2, 3, 7, 8, 10, 14, 15])
def test_thirty_percent_faults_still_make_exactly_one_comment(
    step: StepRunner, fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path, seed: int
) -> None:
    fake_github.fault_rate(0.3, seed=seed)
    step.env(GITHUB_TOKEN=WRITE_TOKEN)
    step.event("pull_request", fork_pull_event(9, head_repo=REPO, ref="same-repo"))
    first = step("comment", "--body", body_file(tmp_path, "first run"), *FAST)
    second = step("comment", "--body", body_file(tmp_path, "second run"), *FAST)
    kinds = {fault.kind for fault in fake_github.rules[0].hits}
    assert kinds, "faults were injected"
    assert first.code == 0 and second.code == 0
    assert first.outputs["comment"] == "created", first.text
    assert second.outputs["comment"] == "updated", second.text
    (comment,) = repo.comments_on(9)
    assert comment.body.endswith("second run")
    assert WRITE_TOKEN not in first.text + second.text


def test_api_patience_from_variables_is_checked_and_named(
    step: StepRunner, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    fake_github.add_repo(REPO).add_pull(7)
    step.env(GITHUB_TOKEN=WRITE_TOKEN, SHARD_ACTION_API_RETRIES="many")
    step.event("pull_request", fork_pull_event(7))
    result = step("comment", "--body", body_file(tmp_path))
    assert result.code == 2
    assert "environment variable SHARD_ACTION_API_RETRIES: not a number: 'many'" in result.text


def test_a_suite_name_is_checked_like_the_actions_input(step: StepRunner, tmp_path: Path) -> None:
    step.env(GITHUB_TOKEN=WRITE_TOKEN)
    step.event("pull_request", fork_pull_event(9, head_repo=REPO, ref="same-repo"))
    with pytest.raises(SystemExit) as exited:
        step("comment", "--body", body_file(tmp_path), "--suite", "../unit", *FAST)
    assert exited.value.code == 2
