"""The shared ``requests`` session: who is retried, what is sent, how pages are followed."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shard_action.adapters.github_http import (
    USER_AGENT,
    GitHubAPIError,
    RetryPolicy,
    get_json,
    iter_items,
    redact,
    request,
)
from tests.fakegithub import WRITE_TOKEN, FakeGitHub, FakeRepo, Fault
from tests.github.helpers import REPO, session


@pytest.fixture
def repo(fake_github: FakeGitHub) -> FakeRepo:
    repo = fake_github.add_repo(REPO)
    repo.add_pull(7)
    return repo


def test_sends_token_version_and_user_agent(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    data = get_json(session(), f"{fake_github.api_url}/repos/{REPO}")
    assert data["full_name"] == REPO
    (sent,) = fake_github.requests
    assert sent.authorization == f"Bearer {WRITE_TOKEN}"
    assert sent.headers["User-Agent"] == USER_AGENT
    assert sent.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert sent.headers["Accept"] == "application/vnd.github+json"


def test_get_is_retried_through_5xx_and_resets(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    fake_github.script([Fault.error(500), Fault.reset(), Fault.error(502), Fault.error(503)])
    assert get_json(session(), f"{fake_github.api_url}/repos/{REPO}")["id"] == repo.id
    assert [r.status for r in fake_github.requests] == [500, None, 502, 503, 200]


def test_post_is_not_retried_by_default(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    fake_github.script([Fault.applied(502)], methods=["POST"])
    url = f"{fake_github.api_url}/repos/{REPO}/issues/7/comments"
    with pytest.raises(GitHubAPIError, match="answered 502"):
        request(session(), "POST", url, json={"body": "x"})
    assert len(repo.comments_on(7)) == 1, "sent once, applied once"


def test_post_is_retried_when_asked(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    fake_github.script([Fault.error(503)], methods=["POST"])
    url = f"{fake_github.api_url}/repos/{REPO}/issues/7/comments"
    request(session(methods={"GET", "POST"}), "POST", url, json={"body": "x"})
    assert len(repo.comments_on(7)) == 1
    assert len(fake_github.requests_to("POST")) == 2


def test_403_without_retry_after_is_not_retried(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    fake_github.script([Fault.secondary(None)])
    with pytest.raises(GitHubAPIError, match="secondary rate limit") as caught:
        get_json(session(), f"{fake_github.api_url}/repos/{REPO}")
    assert caught.value.status == 403
    assert len(fake_github.requests) == 1


def test_retries_are_bounded(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    fake_github.script([Fault.error(500)] * 10)
    with pytest.raises(GitHubAPIError, match="answered 500"):
        get_json(session(retry=RetryPolicy(total=3, backoff_factor=0.001)), fake_github.api_url)
    assert len(fake_github.requests) == 4


def test_backoff_grows(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    fake_github.script([Fault.error(500)] * 3)
    started = time.monotonic()
    url = f"{fake_github.api_url}/repos/{REPO}"
    assert get_json(session(retry=RetryPolicy(total=3, backoff_factor=0.1)), url)["id"] == repo.id
    # urllib3: no wait before the first retry, then 0.2 s, 0.4 s
    assert 0.55 < time.monotonic() - started < 2


def test_default_timeout_applies(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    fake_github.latency = 2.0
    started = time.monotonic()
    with pytest.raises(GitHubAPIError, match=r"ReadTimeout|timed out"):
        get_json(session(retry=RetryPolicy(total=0), timeout=(1.0, 0.5)), fake_github.api_url)
    assert time.monotonic() - started < 1.5


def test_items_follow_link_pages(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    for n in range(7):
        repo.add_comment(7, f"c{n}", login="octocat")
    url = f"{fake_github.api_url}/repos/{REPO}/issues/7/comments"
    bodies = [c["body"] for c in iter_items(session(), url, params={"per_page": 3})]
    assert bodies == [f"c{n}" for n in range(7)]
    pages = [r.query.get("page", ["1"])[0] for r in fake_github.requests]
    assert pages == ["1", "2", "3"]


def test_items_stop_at_max_pages(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    for n in range(7):
        repo.add_comment(7, f"c{n}", login="octocat")
    url = f"{fake_github.api_url}/repos/{REPO}/issues/7/comments"
    items = list(iter_items(session(), url, params={"per_page": 3}, max_pages=2))
    assert len(items) == 6


class _ForeignLinkHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        port = self.server.server_address[1]  # type: ignore[index]
        payload = json.dumps([{"n": 1}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Link", f'<http://localhost:{port}/page2>; rel="next"')
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def foreign_link_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ForeignLinkHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_next_link_to_another_host_is_not_followed(foreign_link_server: str) -> None:
    items = iter_items(session(), f"{foreign_link_server}/page1")
    assert next(items) == {"n": 1}
    with pytest.raises(GitHubAPIError, match="another host"):
        next(items)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "GET https://blob.example/zip?sv=2021&sig=SECRET%2Bx answered 403",
            "GET https://blob.example/zip?sv=***&sig=*** answered 403",
        ),
        (
            "https://api.example/repos/o/r/actions/artifacts?name=h&per_page=100&page=3",
            "https://api.example/repos/o/r/actions/artifacts?name=h&per_page=100&page=3",
        ),
        (
            "Max retries exceeded with url: /_blob/7?se=2099&sig=abc (Caused by x)",
            "Max retries exceeded with url: /_blob/7?se=***&sig=*** (Caused by x)",
        ),
        ("no url at all: a=b", "no url at all: a=b"),
    ],
)
def test_redact_masks_every_query_value_but_githubs_paging_and_filters(
    text: str, shown: str
) -> None:
    assert redact(text) == shown
