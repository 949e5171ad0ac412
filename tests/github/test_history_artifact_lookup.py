"""Finding and fetching the history artifact through the REST API with the real ``requests``."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from shard_action.adapters.artifacts import (
    SearchLimitReached,
    download_artifact,
    fetch_history,
    fetch_latest_history,
    find_latest_artifact,
    list_runs,
    workflow_file_from_ref,
)
from shard_action.adapters.github_http import GitHubAPIError, RetryPolicy, api_url_from_env
from shard_action.errors import InputError
from tests.fakegithub import (
    DEFAULT_WORKFLOW,
    READ_TOKEN,
    WRITE_TOKEN,
    FakeGitHub,
    FakeRepo,
    FakeRun,
    Fault,
)
from tests.github.helpers import REPO, session

NAME = "shard-action-history"
NIGHTLY = ".github/workflows/nightly.yml"


def history(tag: str) -> dict[str, str]:
    return {"history.json": json.dumps({"from": tag})}


@pytest.fixture
def repo(fake_github: FakeGitHub) -> FakeRepo:
    return fake_github.add_repo(REPO)


def fetched_tag(path: Path | None) -> str | None:
    return None if path is None else json.loads(path.read_text())["from"]


def test_picks_the_newest_successful_default_branch_run(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    older = repo.add_run()
    repo.add_artifact(older, NAME, files=history("older"))
    good = repo.add_run()
    repo.add_artifact(good, NAME, files=history("good"))
    repo.add_artifact(good, "coverage", files={"cov.xml": "<coverage/>"})
    # Everything newer is a decoy.
    repo.add_artifact(repo.add_run(conclusion="failure"), NAME, files=history("failed"))
    repo.add_artifact(repo.add_run(head_branch="feature"), NAME, files=history("branch"))
    fork = repo.add_run(event="pull_request", fork=True)  # a fork's own "main"
    repo.add_artifact(fork, NAME, files=history("fork"))
    repo.add_artifact(repo.add_run(), NAME, files=history("expired"), expired=True)
    repo.add_artifact(repo.add_run(status="in_progress"), NAME, files=history("running"))
    repo.add_artifact(repo.add_run(event="pull_request"), NAME, files=history("pr"))

    fetched = fetch_history(
        session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path / "h"
    )

    assert fetched_tag(fetched.path) == "good"
    assert fetched.path == (tmp_path / "h" / "history.json").resolve()
    assert fetched.run is not None and fetched.run.id == good.id
    assert f"run {good.id}" in fetched.reason


@pytest.mark.parametrize(
    "decoy",
    [
        lambda r: r.add_run(conclusion="failure"),
        lambda r: r.add_run(conclusion="cancelled"),
        lambda r: r.add_run(head_branch="release"),
        lambda r: r.add_run(event="pull_request", fork=True),
        lambda r: r.add_run(event="push", fork=True),
        lambda r: r.add_run(event="pull_request_target"),
        lambda r: r.add_run(status="in_progress"),
    ],
    ids=["failed", "cancelled", "other-branch", "fork-pr", "fork-head", "pr-target", "running"],
)
def test_each_kind_of_untrusted_run_is_skipped(
    fake_github: FakeGitHub,
    repo: FakeRepo,
    tmp_path: Path,
    decoy: Callable[[FakeRepo], FakeRun],
) -> None:
    repo.add_artifact(repo.add_run(), NAME, files=history("good"))
    repo.add_artifact(decoy(repo), NAME, files=history("decoy"))

    path = fetch_latest_history(
        session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path
    )

    assert fetched_tag(path) == "good"


def test_expired_artifact_is_skipped(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    repo.add_artifact(repo.add_run(), NAME, files=history("good"))
    repo.add_artifact(repo.add_run(), NAME, files=history("expired"), expired=True)
    path = fetch_latest_history(
        session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path
    )
    assert fetched_tag(path) == "good"


def test_default_branch_is_read_from_the_repository(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    repo = fake_github.add_repo("octo/trunk", default_branch="trunk")
    repo.add_artifact(repo.add_run(), NAME, files=history("trunk"))
    repo.add_artifact(repo.add_run(head_branch="main"), NAME, files=history("main"))
    path = fetch_latest_history(
        session(), fake_github.api_url, "octo/trunk", artifact_name=NAME, dest=tmp_path
    )
    assert fetched_tag(path) == "trunk"
    assert fake_github.requests_to("GET", r"^/repos/octo/trunk$")


def test_given_default_branch_saves_the_repository_request(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    repo.add_artifact(repo.add_run(), NAME, files=history("good"))
    path = fetch_latest_history(
        session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path,
        default_branch="main",
    )  # fmt: skip
    assert fetched_tag(path) == "good"
    assert not fake_github.requests_to("GET", r"^/repos/octo/app$")


def test_first_run_has_no_history_and_says_so(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    fetched = fetch_history(session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path)
    assert fetched.path is None
    assert fetched.reason == f"no artifact named {NAME!r} in {REPO} yet"
    assert list(tmp_path.iterdir()) == []


def test_only_untrusted_history_is_none_with_the_reasons(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    repo.add_artifact(repo.add_run(event="pull_request", fork=True), NAME, files=history("f"))
    repo.add_artifact(repo.add_run(conclusion="failure"), NAME, files=history("x"))
    repo.add_artifact(repo.add_run(), NAME, files=history("old"), expired=True)

    fetched = fetch_history(session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path)

    assert fetched.path is None
    assert "branch 'main'" in fetched.reason
    for part in ("1 expired", "1 from a fork", "1 from an unsuccessful run"):
        assert part in fetched.reason
    assert not fake_github.requests_to("GET", r"/zip$"), "nothing untrusted was downloaded"


def test_search_follows_pages(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    good = repo.add_run()
    wanted = repo.add_artifact(good, NAME, files=history("good"))
    for n in range(7):
        repo.add_artifact(repo.add_run(head_branch=f"topic-{n}"), NAME, files=history(str(n)))

    found = find_latest_artifact(session(), fake_github.api_url, REPO, name=NAME, per_page=3)

    assert found.artifact is not None and found.artifact.id == wanted.id
    pages = fake_github.requests_to("GET", r"/actions/artifacts$")
    assert [p.query.get("page", ["1"])[0] for p in pages] == ["1", "2", "3"]
    assert all(p.query["name"] == [NAME] for p in pages)


def test_search_by_prefix(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    run = repo.add_run()
    repo.add_artifact(run, "history-py3.11", files=history("311"))
    newest = repo.add_artifact(repo.add_run(), "history-py3.12", files=history("312"))
    repo.add_artifact(repo.add_run(), "coverage", files={"c": "c"})
    found = find_latest_artifact(session(), fake_github.api_url, REPO, prefix="history-")
    assert found.artifact is not None and found.artifact.id == newest.id


def test_runs_are_listed_across_pages(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    runs = [repo.add_run() for _ in range(5)]
    repo.add_run(head_branch="other")
    listed = list(list_runs(session(), fake_github.api_url, REPO, branch="main", per_page=2))
    assert [r.id for r in listed] == [r.id for r in reversed(runs)]
    assert len(fake_github.requests_to("GET", r"/actions/runs$")) == 3


def test_old_ghes_without_workflow_run_falls_back_to_runs(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    fake_github.legacy_artifacts = True
    good = repo.add_run()
    repo.add_artifact(good, NAME, files=history("good"))
    repo.add_artifact(repo.add_run(event="pull_request", fork=True), NAME, files=history("fork"))
    repo.add_artifact(repo.add_run(conclusion="failure"), NAME, files=history("failed"))
    repo.add_run()  # a newer successful run without the artifact

    path = fetch_latest_history(
        session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path
    )

    assert fetched_tag(path) == "good"
    assert fake_github.requests_to("GET", rf"/actions/runs/{good.id}/artifacts$")


def test_newest_artifact_of_another_workflow_is_skipped(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    ours = repo.add_run()
    repo.add_artifact(ours, NAME, files=history("ours"))
    # Same name, same branch, successful, newer: but it times the nightly workflow's tests.
    repo.add_artifact(repo.add_run(path=NIGHTLY), NAME, files=history("nightly"))

    fetched = fetch_history(
        session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path / "ours",
        workflow=DEFAULT_WORKFLOW,
    )  # fmt: skip
    theirs = fetch_history(
        session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path / "nightly",
        workflow=NIGHTLY,
    )  # fmt: skip

    assert fetched_tag(fetched.path) == "ours"
    assert fetched.run is not None and fetched.run.id == ours.id
    assert fetched.run.path == DEFAULT_WORKFLOW
    assert fetched_tag(theirs.path) == "nightly"


def test_without_a_workflow_any_workflow_is_trusted_as_before(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    repo.add_artifact(repo.add_run(), NAME, files=history("ours"))
    repo.add_artifact(repo.add_run(path=NIGHTLY), NAME, files=history("nightly"))
    path = fetch_latest_history(
        session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path
    )
    assert fetched_tag(path) == "nightly"


@pytest.mark.parametrize(
    "run_path",
    [f"{DEFAULT_WORKFLOW}@refs/heads/main", None],
    ids=["path-with-ref", "no-path"],
)
def test_run_path_with_a_ref_or_without_one_still_counts_as_ours(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path, run_path: str | None
) -> None:
    # An API that does not name a run's file is too old to list a workflow's runs either.
    fake_github.no_workflow_runs_endpoint = run_path is None
    repo.add_artifact(repo.add_run(), NAME, files=history("older"))
    repo.add_artifact(repo.add_run(path=run_path), NAME, files=history("newer"))
    path = fetch_latest_history(
        session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path,
        workflow=f"{DEFAULT_WORKFLOW}@refs/heads/main",
    )  # fmt: skip
    assert fetched_tag(path) == "newer"


def test_only_another_workflows_history_is_none_and_says_why(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    repo.add_artifact(repo.add_run(path=NIGHTLY), NAME, files=history("nightly"))
    repo.add_artifact(repo.add_run(conclusion="failure"), NAME, files=history("failed"))

    fetched = fetch_history(
        session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path,
        workflow=DEFAULT_WORKFLOW,
    )  # fmt: skip

    assert fetched.path is None
    assert f"of {DEFAULT_WORKFLOW} on branch 'main'" in fetched.reason
    # The workflow's own runs endpoint never lists the other workflow's or the failed run.
    assert "looked at 0 such runs" in fetched.reason
    assert not fake_github.requests_to("GET", r"/zip$")
    assert not fake_github.requests_to("GET", r"/actions/runs/\d+/artifacts$")


def test_old_ghes_fallback_skips_runs_of_another_workflow(
    fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    fake_github.legacy_artifacts = True
    fake_github.no_workflow_runs_endpoint = True
    ours = repo.add_run()
    repo.add_artifact(ours, NAME, files=history("ours"))
    nightly = repo.add_run(path=NIGHTLY)
    repo.add_artifact(nightly, NAME, files=history("nightly"))

    found = find_latest_artifact(
        session(), fake_github.api_url, REPO, name=NAME, workflow=DEFAULT_WORKFLOW
    )

    assert found.run is not None and found.run.id == ours.id
    assert found.skipped == {"run of another workflow": 1}
    assert not fake_github.requests_to("GET", rf"/actions/runs/{nightly.id}/artifacts$")
    # Without the workflow the fallback takes the newest run's, as before.
    anyone = find_latest_artifact(session(), fake_github.api_url, REPO, name=NAME)
    assert anyone.run is not None and anyone.run.id == nightly.id


def test_old_ghes_fallback_with_only_another_workflow_says_why(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    fake_github.legacy_artifacts = True
    repo.add_artifact(repo.add_run(path=NIGHTLY), NAME, files=history("nightly"))
    fetched = fetch_history(
        session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path,
        workflow=DEFAULT_WORKFLOW,
    )  # fmt: skip
    assert fetched.path is None
    assert "1 run of another workflow" in fetched.reason


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        (f"{REPO}/.github/workflows/tests.yml@refs/heads/main", ".github/workflows/tests.yml"),
        (f"{REPO}/.github/workflows/tests.yml@refs/pull/7/merge", ".github/workflows/tests.yml"),
        ("Octo/App/.github/workflows/ci.yaml@refs/tags/v1", ".github/workflows/ci.yaml"),
        ("other/repo/.github/workflows/tests.yml@refs/heads/main", None),
        (f"{REPO}/@refs/heads/main", None),
        ("", None),
        (None, None),
    ],
)
def test_workflow_file_from_ref(ref: str | None, expected: str | None) -> None:
    assert workflow_file_from_ref(ref, REPO) == expected


def test_zip_redirect_does_not_carry_the_token_to_storage(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    artifact = repo.add_artifact(repo.add_run(), NAME, files=history("good"))
    target = download_artifact(
        session(), fake_github.api_url, REPO, artifact.id, tmp_path / "a.zip"
    )
    assert target.read_bytes() == artifact.data
    api, blob = fake_github.requests
    assert (api.host, api.status, api.authorization) == ("api", 302, f"Bearer {WRITE_TOKEN}")
    assert (blob.host, blob.status, blob.authorization) == ("blob", 200, None)
    assert blob.headers["Host"].startswith("localhost:")


def _signature_of(fake_github: FakeGitHub) -> str:
    """The signature the API handed out in its 302 (the storage URL's credential)."""
    redirect = next(r for r in fake_github.requests if r.status == 302)
    assert redirect.host == "api"
    blob = next(r for r in fake_github.requests if r.host == "blob")
    (signature,) = blob.query["sig"]
    assert len(signature) >= 8
    return signature


def test_storage_refusing_names_the_url_without_its_signature_or_a_token_hint(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    artifact = repo.add_artifact(repo.add_run(), NAME, files=history("x"))
    fake_github.script([Fault.error(403)] * 5, host="blob")
    with pytest.raises(GitHubAPIError, match="403") as caught:
        download_artifact(session(), fake_github.api_url, REPO, artifact.id, tmp_path / "a.zip")
    signature = _signature_of(fake_github)
    text = str(caught.value)
    assert f"/_blob/{artifact.id}?sv=" in text and "sig=***" in text
    assert "lacks a permission" not in text  # the storage host never saw our token
    for shown in (text, caught.value.url or "", caplog.text):
        assert signature not in shown


def test_storage_down_names_no_signature_even_in_connection_errors(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    artifact = repo.add_artifact(repo.add_run(), NAME, files=history("x"))
    fake_github.script([Fault.reset()] * 40, host="blob")
    with pytest.raises(GitHubAPIError) as caught:
        download_artifact(
            session(retry=RetryPolicy(total=1, backoff_factor=0.001)),
            fake_github.api_url, REPO, artifact.id, tmp_path / "a.zip",
        )  # fmt: skip
    signature = _signature_of(fake_github)
    assert "ConnectionError" in str(caught.value) or "broke off" in caplog.text
    for shown in (str(caught.value), caplog.text):
        assert signature not in shown


def test_expired_artifact_download_is_a_clear_error(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    artifact = repo.add_artifact(repo.add_run(), NAME, files=history("x"), expired=True)
    with pytest.raises(GitHubAPIError, match="410") as caught:
        download_artifact(session(), fake_github.api_url, REPO, artifact.id, tmp_path / "a.zip")
    assert caught.value.status == 410
    assert not (tmp_path / "a.zip").exists()


def test_download_is_bounded(fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path) -> None:
    artifact = repo.add_artifact(repo.add_run(), NAME, data=b"PK" + bytes(5000))
    with pytest.raises(InputError, match=f"artifact {artifact.id}.*limit of 1000 bytes"):
        download_artifact(
            session(), fake_github.api_url, REPO, artifact.id, tmp_path / "a.zip", max_bytes=1000
        )
    assert list(tmp_path.iterdir()) == []


def test_storage_reset_midway_is_fetched_again(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    artifact = repo.add_artifact(repo.add_run(), NAME, files=history("x"))
    fake_github.script([Fault.reset(), Fault.error(503)], host="blob")
    target = download_artifact(
        session(), fake_github.api_url, REPO, artifact.id, tmp_path / "a.zip"
    )
    assert target.read_bytes() == artifact.data


def test_history_is_found_under_30_percent_faults(fake_github: FakeGitHub, tmp_path: Path) -> None:
    for seed in range(25):
        repo = fake_github.add_repo(f"octo/app{seed}")
        repo.add_artifact(repo.add_run(), NAME, files=history(f"good{seed}"))
        repo.add_artifact(repo.add_run(conclusion="failure"), NAME, files=history("bad"))
        fake_github.clear_faults()
        fake_github.fault_rate(0.3, seed=seed)
        path = fetch_latest_history(
            session(), fake_github.api_url, repo.full_name, artifact_name=NAME,
            dest=tmp_path / str(seed),
        )  # fmt: skip
        assert fetched_tag(path) == f"good{seed}", f"seed {seed}"
    faulted = [r for r in fake_github.requests if r.fault is not None and r.fault.kind != "slow"]
    assert len(faulted) > 10
    assert any(r.host == "blob" for r in faulted)


def test_429_retry_after_is_honoured(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    repo.add_artifact(repo.add_run(), NAME, files=history("good"))
    fake_github.script([Fault.too_many(1)], methods=["GET"])
    started = time.monotonic()
    path = fetch_latest_history(
        session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path
    )
    assert time.monotonic() - started >= 1.0
    assert fetched_tag(path) == "good"


def test_secondary_rate_limit_with_retry_after_is_retried(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    repo.add_artifact(repo.add_run(), NAME, files=history("good"))
    fake_github.script([Fault.secondary(0), Fault.secondary(0)], methods=["GET"])
    path = fetch_latest_history(
        session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path
    )
    assert fetched_tag(path) == "good"
    assert [r.status for r in fake_github.requests[:3]] == [403, 403, 200]


def test_persistent_5xx_is_a_clear_error(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    fake_github.script([Fault.error(502)] * 20, methods=["GET"])
    with pytest.raises(GitHubAPIError, match="502") as caught:
        fetch_latest_history(
            session(retry=RetryPolicy(total=2, backoff_factor=0.001)),
            fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path,
        )  # fmt: skip
    assert caught.value.status == 502
    assert len(fake_github.requests) == 3


def test_api_down_is_a_clear_error_quickly(fake_github: FakeGitHub, tmp_path: Path) -> None:
    fake_github.stop()
    started = time.monotonic()
    with pytest.raises(GitHubAPIError, match="failed: ConnectionError"):
        fetch_latest_history(
            session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path
        )
    assert time.monotonic() - started < 5


def test_read_only_token_can_read_history(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    repo.add_artifact(repo.add_run(), NAME, files=history("good"))
    path = fetch_latest_history(
        session(READ_TOKEN), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path
    )
    assert fetched_tag(path) == "good"


def test_missing_token_is_explained(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    with pytest.raises(GitHubAPIError, match=r"401: Requires authentication \(the token"):
        fetch_latest_history(session(None), fake_github.api_url, REPO, artifact_name=NAME,
                             dest=tmp_path)  # fmt: skip


def test_single_file_with_another_name_is_accepted(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    repo.add_artifact(repo.add_run(), NAME, files={"timings.json": '{"from": "one"}'})
    path = fetch_latest_history(
        session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path
    )
    assert path is not None and path.name == "timings.json"


def test_artifact_without_the_history_file_names_what_it_holds(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    artifact = repo.add_artifact(repo.add_run(), NAME, files={"a.txt": "a", "b/c.txt": "c"})
    with pytest.raises(InputError) as caught:
        fetch_latest_history(
            session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path
        )
    message = str(caught.value)
    assert f"artifact {NAME!r} (id {artifact.id}" in message
    assert "history.json" in message and "a.txt" in message and "b/c.txt" in message


def test_hostile_artifact_is_refused_by_name(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    repo.add_artifact(repo.add_run(), NAME, files={"../../escape.json": "{}"})
    with pytest.raises(InputError, match=r"artifact 'shard-action-history'.*\.\./\.\./escape"):
        fetch_latest_history(
            session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path / "d"
        )
    assert not (tmp_path / "escape.json").exists()


def test_github_api_url_is_honoured(
    fake_ghes: FakeGitHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    repo = fake_ghes.add_repo(REPO)
    repo.add_artifact(repo.add_run(), NAME, files=history("ghes"))
    monkeypatch.setenv("GITHUB_API_URL", fake_ghes.api_url + "/")
    api_url = api_url_from_env()
    assert api_url == fake_ghes.api_url

    path = fetch_latest_history(session(), api_url, REPO, artifact_name=NAME, dest=tmp_path)

    assert fetched_tag(path) == "ghes"
    api = [r for r in fake_ghes.requests if r.host == "api"]
    assert api and all(r.path.startswith("/api/v3/") for r in api)


def test_default_api_url_without_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_API_URL", raising=False)
    assert api_url_from_env() == "https://api.github.com"
    assert api_url_from_env({"GITHUB_API_URL": " "}) == "https://api.github.com"


def test_token_never_reaches_logs(
    fake_github: FakeGitHub,
    repo: FakeRepo,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    repo.add_artifact(repo.add_run(), NAME, files=history("good"))
    fake_github.script([Fault.error(502), Fault.reset()], methods=["GET"])
    messages = []
    assert fetch_latest_history(
        session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path
    )
    fake_github.stop()
    try:
        fetch_latest_history(session(), fake_github.api_url, REPO, artifact_name=NAME,
                             dest=tmp_path)  # fmt: skip
    except GitHubAPIError as exc:
        messages.append(str(exc))
    out, err = capfd.readouterr()
    assert messages and "urllib3" in caplog.text
    for text in (caplog.text, out, err, *messages):
        assert WRITE_TOKEN not in text


def test_the_workflows_own_runs_find_a_history_behind_many_runs_of_others(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    """60 newer nightly runs and pull requests (each with its own history artifact) used to
    exhaust the 50-run search; the workflow's runs endpoint never lists them."""
    ours = repo.add_run()
    repo.add_artifact(ours, NAME, files=history("ours"))
    for n in range(60):
        other = repo.add_run(path=NIGHTLY) if n % 2 else repo.add_run(event="pull_request")
        repo.add_artifact(other, NAME, files=history(f"other {n}"))
    fetched = fetch_history(
        session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path,
        workflow=DEFAULT_WORKFLOW,
    )  # fmt: skip
    assert fetched.run is not None and fetched.run.id == ours.id
    assert fetched_tag(fetched.path) == "ours"
    (listing,) = fake_github.requests_to("GET", r"/actions/workflows/tests\.yml/runs$")
    assert (listing.query["branch"], listing.query["status"]) == (["main"], ["success"])
    assert not fake_github.requests_to("GET", r"/actions/artifacts$")


@pytest.mark.parametrize("endpoint", ["artifact-listing", "legacy-runs"])
def test_reaching_the_search_limit_is_an_error_not_no_history(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path, endpoint: str
) -> None:
    """A trusted history older than the search reaches must not read as "none yet": that
    would let a fresh one-run history replace it."""
    fake_github.legacy_artifacts = endpoint == "legacy-runs"
    repo.add_artifact(repo.add_run(), NAME, files=history("old but real"))
    for n in range(12):
        # Red runs of the default branch upload a history too; the search skips them.
        repo.add_artifact(repo.add_run(conclusion="failure"), NAME, files=history(f"x{n}"))
    with pytest.raises(SearchLimitReached, match="limit of 10 runs"):
        find_latest_artifact(
            session(), fake_github.api_url, REPO, name=NAME, max_runs=10, per_page=5
        )


def test_the_workflow_runs_fall_back_to_the_listing_past_their_limit(
    fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    ours = repo.add_run()
    repo.add_artifact(ours, NAME, files=history("old but real"))
    for _ in range(12):
        repo.add_run()  # green runs whose history upload was skipped
    found = find_latest_artifact(
        session(), fake_github.api_url, REPO, name=NAME, workflow=DEFAULT_WORKFLOW,
        max_runs=10, per_page=5,
    )  # fmt: skip
    assert found.run is not None and found.run.id == ours.id
    assert fake_github.requests_to("GET", r"/actions/workflows/tests\.yml/runs$")
    assert fake_github.requests_to("GET", r"/actions/artifacts$")


def test_the_limit_without_any_such_artifact_left_is_no_history(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: Path
) -> None:
    """A renamed artifact (or every one expired): no older history to lose, so "none" and the
    next trusted report starts one, instead of an error that would block it for good."""
    old = repo.add_run()
    repo.add_artifact(old, NAME, files=history("expired"), expired=True)
    for _ in range(12):
        repo.add_run()
    found = find_latest_artifact(
        session(), fake_github.api_url, REPO, name=NAME, workflow=DEFAULT_WORKFLOW,
        max_runs=10, per_page=5,
    )  # fmt: skip
    assert found.artifact is None
    assert "1 expired" in found.reason
