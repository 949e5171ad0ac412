"""The PR comment against the fake GitHub with the real PyGithub: create, edit, find, refuse."""

from __future__ import annotations

import logging
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shard_action.adapters.comments import (
    COMMENT_LIMIT,
    DEFAULT_POINTER,
    comment_marker,
    fit_body,
    upsert_comment,
)
from shard_action.adapters.github_http import RetryPolicy
from tests.fakegithub import BOT_LOGIN, READ_TOKEN, WRITE_TOKEN, FakeGitHub, FakeRepo, Fault
from tests.github.helpers import PR, REPO, client

MARKER = comment_marker("CI")


@pytest.fixture
def repo(fake_github: FakeGitHub) -> FakeRepo:
    repo = fake_github.add_repo(REPO)
    repo.add_pull(PR)
    return repo


def test_creates_then_edits_in_place_then_leaves_alone(
    fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    gh = client(fake_github)

    first = upsert_comment(gh, REPO, PR, "tests: 10 passed", marker=MARKER)
    second = upsert_comment(gh, REPO, PR, "tests: 11 passed", marker=MARKER)
    third = upsert_comment(gh, REPO, PR, "tests: 11 passed", marker=MARKER)

    assert (first.action, second.action, third.action) == ("created", "updated", "unchanged")
    comments = repo.comments_on(PR)
    assert len(comments) == 1
    assert comments[0].id == first.comment_id == second.comment_id == third.comment_id
    assert comments[0].body == f"{MARKER}\ntests: 11 passed"
    assert comments[0].login == BOT_LOGIN
    assert first.url is not None and first.url.endswith(f"#issuecomment-{comments[0].id}")
    assert len(fake_github.requests_to("POST")) == 1
    assert len(fake_github.requests_to("PATCH")) == 1
    assert fake_github.requests_to(path=r"^/user$") == [], "never ask who the token is"


def test_one_comment_per_workflow(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    gh = client(fake_github)
    upsert_comment(gh, REPO, PR, "unit", marker=comment_marker("unit"))
    upsert_comment(gh, REPO, PR, "unit 2", marker=comment_marker("unit"))
    upsert_comment(gh, REPO, PR, "e2e", marker=comment_marker("unit e2e"))
    bodies = sorted(c.body.splitlines()[1] for c in repo.comments_on(PR))
    assert bodies == ["e2e", "unit 2"]


def test_finds_our_comment_beyond_the_first_page(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    for n in range(12):
        repo.add_comment(PR, f"review remark {n}", login=f"reviewer{n}", user_type="User")
    ours = repo.add_comment(PR, f"{MARKER}\nold report")
    for n in range(6):
        repo.add_comment(PR, f"later remark {n}", login="octocat", user_type="User")
    gh = client(fake_github, per_page=5)

    result = upsert_comment(gh, REPO, PR, "new report", marker=MARKER)

    assert result.action == "updated"
    assert result.comment_id == ours.id
    assert [c for c in repo.comments_on(PR) if MARKER in c.body] == [ours]
    assert ours.body == f"{MARKER}\nnew report"
    pages = fake_github.requests_to("GET", r"/issues/7/comments$")
    assert {p.query.get("page", ["1"])[0] for p in pages} == {"1", "2", "3", "4"}


def test_ignores_the_marker_in_someone_elses_comment(
    fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    quoted = repo.add_comment(PR, f"> {MARKER}\n> why is this red?", login="octocat")
    result = upsert_comment(client(fake_github), REPO, PR, "report", marker=MARKER)
    assert result.action == "created"
    assert quoted.body.startswith("> ")
    assert len(repo.comments_on(PR)) == 2


def test_author_can_be_configured_for_an_app_token(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    fake_github.add_token("ghs_app_token_0000000000000000000000000000", "shard-bot[bot]")
    bot_comment = repo.add_comment(PR, f"{MARKER}\nby actions", login=BOT_LOGIN)
    gh = client(fake_github, token="ghs_app_token_0000000000000000000000000000")

    result = upsert_comment(gh, REPO, PR, "by app", marker=MARKER, author="shard-bot[bot]")

    assert result.action == "created"
    assert bot_comment.body == f"{MARKER}\nby actions"
    assert {c.login for c in repo.comments_on(PR)} == {BOT_LOGIN, "shard-bot[bot]"}


def test_duplicates_from_an_earlier_bug_collapse_into_the_oldest(
    fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    oldest = repo.add_comment(PR, f"{MARKER}\nrun 1")
    repo.add_comment(PR, "lgtm", login="octocat", user_type="User")
    repo.add_comment(PR, f"{MARKER}\nrun 1 again")
    repo.add_comment(PR, f"{MARKER}\nrun 1 once more")

    result = upsert_comment(client(fake_github), REPO, PR, "run 2", marker=MARKER)

    assert result.action == "updated"
    assert result.comment_id == oldest.id
    assert result.removed_duplicates == 2
    assert [(c.login, c.body) for c in repo.comments_on(PR)] == [
        (BOT_LOGIN, f"{MARKER}\nrun 2"),
        ("octocat", "lgtm"),
    ]


def test_read_only_token_is_no_permission_not_an_error(
    fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    result = upsert_comment(client(fake_github, READ_TOKEN), REPO, PR, "report", marker=MARKER)

    assert result.action == "no-permission"
    assert not result.ok
    assert "Resource not accessible by integration" in result.message
    assert "workflow_run" in result.message
    assert repo.comments_on(PR) == []
    assert len(fake_github.requests_to("POST")) == 1, "a refusal is not retried"


def test_read_only_token_cannot_edit_either(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    existing = repo.add_comment(PR, f"{MARKER}\nfrom the base repository")
    result = upsert_comment(client(fake_github, READ_TOKEN), REPO, PR, "from a fork", marker=MARKER)
    assert result.action == "no-permission"
    assert existing.body == f"{MARKER}\nfrom the base repository"


def test_bad_token_fails_with_a_message(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    result = upsert_comment(client(fake_github, "ghs_revoked"), REPO, PR, "x", marker=MARKER)
    assert result.action == "failed"
    assert "401" in result.message
    assert "Bad credentials" in result.message
    assert "ghs_revoked" not in result.message


def test_missing_pull_request_fails_with_a_message(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    result = upsert_comment(client(fake_github), REPO, 99, "x", marker=MARKER)
    assert result.action == "failed"
    assert "octo/app#99" in result.message
    assert "404" in result.message


def test_api_down_fails_quickly_without_raising(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    gh = client(fake_github)
    assert upsert_comment(gh, REPO, PR, "before", marker=MARKER).action == "created"
    fake_github.stop()  # pooled keep-alive connections are cut too

    started = time.monotonic()
    result = upsert_comment(gh, REPO, PR, "after", marker=MARKER)

    assert time.monotonic() - started < 5
    assert result.action == "failed"
    assert "unreachable" in result.message


def test_nothing_listening_fails_quickly(fake_github: FakeGitHub) -> None:
    fake_github.stop()
    started = time.monotonic()
    result = upsert_comment(client(fake_github), REPO, PR, "x", marker=MARKER)
    assert time.monotonic() - started < 5
    assert result.action == "failed"


def test_hung_api_times_out_instead_of_hanging(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    fake_github.latency = 3.0
    gh = client(fake_github, timeout=1, retry=RetryPolicy(total=0))
    started = time.monotonic()
    result = upsert_comment(gh, REPO, PR, "x", marker=MARKER)
    assert time.monotonic() - started < 2.5
    assert result.action == "failed"
    assert "Timeout" in result.message


def test_github_api_url_is_honoured(fake_ghes: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = fake_ghes.add_repo(REPO)
    repo.add_pull(PR)
    monkeypatch.setenv("GITHUB_API_URL", fake_ghes.api_url)
    gh = client(fake_ghes, api_url=None)

    result = upsert_comment(gh, REPO, PR, "on GHES", marker=MARKER)

    assert result.action == "created"
    assert len(repo.comments_on(PR)) == 1
    assert fake_ghes.requests
    assert all(r.path.startswith("/api/v3/") for r in fake_ghes.requests)


def test_long_body_is_cut_to_what_github_accepts(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    rows = "\n".join(f"| tests/test_{n}.py::test_case | passed | 0.{n:03d}s |" for n in range(4000))
    body = f"## Report\n\n{rows}\n\nfooter"
    assert len(body) > COMMENT_LIMIT

    result = upsert_comment(client(fake_github), REPO, PR, body, marker=MARKER, pointer="See X.")

    assert result.action == "created"  # the fake refuses > 65,536 characters with 422
    (stored,) = repo.comments_on(PR)
    assert len(stored.body) <= COMMENT_LIMIT
    assert stored.body.startswith(MARKER)
    assert stored.body.endswith("\n\nSee X.")
    kept = stored.body.removeprefix(f"{MARKER}\n").removesuffix("\n\nSee X.")
    assert body.startswith(kept)
    assert kept.endswith("s |"), "cut at a line end"


def test_an_over_long_body_without_cutting_is_refused_by_the_fake(
    fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    """The fake enforces GitHub's limit, so the test above can fail."""
    result = upsert_comment(
        client(fake_github), REPO, PR, "x" * COMMENT_LIMIT, marker=MARKER, limit=10**6
    )
    assert result.action == "failed"
    assert "422" in result.message


@given(
    body=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=400),
    limit=st.integers(min_value=120, max_value=500),
)
def test_fit_body_respects_the_limit_and_keeps_the_marker(body: str, limit: int) -> None:
    fitted = fit_body(body, marker=MARKER, pointer="more in the summary", limit=limit)
    assert len(fitted) <= limit
    assert MARKER in fitted
    if len(MARKER) + 1 + len(body) <= limit:
        assert fitted.replace(f"{MARKER}\n", "", 1) == body or fitted == body
    else:
        assert fitted.endswith("more in the summary")


def test_fit_body_closes_an_open_code_fence() -> None:
    body = "intro\n```\n" + "\n".join(f"line {n}" for n in range(100)) + "\n```\n"
    fitted = fit_body(body, marker=MARKER, pointer=DEFAULT_POINTER, limit=400)
    lines = fitted.splitlines()
    assert sum(1 for line in lines if line.startswith("```")) == 2


@pytest.mark.parametrize(
    ("workflow", "expected"),
    [
        ("CI", "<!-- shard-action:comment workflow=CI -->"),
        ("tests / py3.12", "<!-- shard-action:comment workflow=tests / py3.12 -->"),
        ("evil -->\n<b>", "<!-- shard-action:comment workflow=evil -%2D%3E%0A%3Cb%3E -->"),
    ],
)
def test_marker_stays_one_hidden_line(workflow: str, expected: str) -> None:
    marker = comment_marker(workflow)
    assert marker == expected
    assert marker.count("-->") == 1 and "\n" not in marker


def test_token_never_reaches_logs_or_output(
    fake_github: FakeGitHub,
    repo: FakeRepo,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("github").setLevel(logging.DEBUG)
    try:
        fake_github.script(
            [None, Fault.applied(502), None, None],
            methods=["POST", "GET"],
        )
        gh = client(fake_github)
        results = [
            upsert_comment(gh, REPO, PR, "one", marker=MARKER, create_wait=0),
            upsert_comment(gh, REPO, PR, "two", marker=MARKER),
            upsert_comment(client(fake_github, READ_TOKEN), REPO, PR, "three", marker=MARKER),
        ]
        fake_github.stop()
        results.append(upsert_comment(gh, REPO, PR, "four", marker=MARKER))
    finally:
        logging.getLogger("github").setLevel(logging.INFO)
    out, err = capfd.readouterr()
    assert [r.action for r in results] == ["created", "updated", "no-permission", "failed"]
    assert "Authorization" in caplog.text, "the debug log did record the headers (masked)"
    sent = [r.authorization for r in fake_github.requests]
    assert f"token {WRITE_TOKEN}" in sent, "the token was really sent to the API"
    for text in (caplog.text, out, err, *(r.message for r in results)):
        assert WRITE_TOKEN not in text
        assert READ_TOKEN not in text


def test_the_default_suite_keeps_the_marker_of_releases_before_suites() -> None:
    """Comments made before suites existed carry this exact line: the run's only suite must
    still find them, or every open pull request would get a second comment."""
    assert comment_marker("tests") == "<!-- shard-action:comment workflow=tests -->"
    assert comment_marker("tests", "") == comment_marker("tests")


SUITES = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,8}|", fullmatch=True)


@given(st.tuples(st.text(max_size=30), SUITES), st.tuples(st.text(max_size=30), SUITES))
def test_no_workflow_and_suite_finds_another_ones_comment(
    one: tuple[str, str], other: tuple[str, str]
) -> None:
    """Comments are found by ``marker in body``: a marker inside another would let one suite
    (or workflow) edit the other's comment."""
    a, b = comment_marker(*one), comment_marker(*other)
    if (one[0].strip(), one[1]) != (other[0].strip(), other[1]):
        assert a not in b and b not in a
    assert a.count("-->") == 1 and "\n" not in a


def test_two_suites_of_one_workflow_keep_a_comment_each(
    fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    gh = client(fake_github)
    old = repo.add_comment(PR, f"{comment_marker('CI')}\nfrom a release before suites")
    for run in (1, 2):
        for suite in ("", "unit", "api"):
            marker = comment_marker("CI", suite)
            upsert_comment(gh, REPO, PR, f"{suite or 'only'} {run}", marker=marker)
    bodies = {c.id: c.body.splitlines()[-1] for c in repo.comments_on(PR)}
    assert bodies[old.id] == "only 2"
    assert sorted(bodies.values()) == ["api 2", "only 2", "unit 2"]
