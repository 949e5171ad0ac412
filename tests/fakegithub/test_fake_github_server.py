"""The fake GitHub itself behaves as GitHub does where our tests rely on it.

Facts checked against the REST API documentation and ``pinned-actions.md``: 401 without a valid
token, 403 "Resource not accessible by integration" for a read-only token's writes, 403 for
``GET /user`` with ``GITHUB_TOKEN``, 302 from the zip endpoint to a storage host that refuses an
``Authorization`` header, ``Link`` pagination, 422 for a comment body over 65,536 characters.
"""

from __future__ import annotations

import socket

import pytest
import requests
from github import Auth, Github

from tests.fakegithub import (
    COMMENT_LIMIT,
    READ_TOKEN,
    WRITE_TOKEN,
    FakeGitHub,
    Fault,
)
from tests.fakegithub.faults import DEFAULT_MIX, rule


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"token {token}"}


@pytest.fixture
def api(fake_github: FakeGitHub) -> str:
    repo = fake_github.add_repo("octo/app")
    repo.add_pull(7)
    return f"{fake_github.api_url}/repos/octo/app"


def test_tokens(fake_github: FakeGitHub, api: str) -> None:
    assert requests.get(api, timeout=5).status_code == 401
    bad = requests.get(api, headers=auth("nope"), timeout=5)
    assert (bad.status_code, bad.json()["message"]) == (401, "Bad credentials")
    assert requests.get(api, headers=auth(READ_TOKEN), timeout=5).status_code == 200
    refused = requests.post(
        f"{api}/issues/7/comments", json={"body": "x"}, headers=auth(READ_TOKEN), timeout=5
    )
    assert refused.status_code == 403
    assert refused.json()["message"] == "Resource not accessible by integration"
    user = requests.get(f"{fake_github.api_url}/user", headers=auth(WRITE_TOKEN), timeout=5)
    assert user.status_code == 403


def test_comment_crud(fake_github: FakeGitHub, api: str) -> None:
    headers = auth(WRITE_TOKEN)
    made = requests.post(f"{api}/issues/7/comments", json={"body": "a"}, headers=headers, timeout=5)
    assert made.status_code == 201
    url = made.json()["url"]
    assert url.startswith(fake_github.api_url)
    assert requests.patch(url, json={"body": "b"}, headers=headers, timeout=5).json()["body"] == "b"
    assert requests.get(url, headers=headers, timeout=5).json()["user"]["login"] == (
        "github-actions[bot]"
    )
    assert requests.delete(url, headers=headers, timeout=5).status_code == 204
    assert requests.get(url, headers=headers, timeout=5).status_code == 404


def test_pygithub_reads_pulls_issues_and_runs(fake_github: FakeGitHub, api: str) -> None:
    repo = fake_github.repos["octo/app"]
    repo.add_pull(8, head_ref="topic", fork=True)
    run = repo.add_run(event="pull_request", fork=True, head_branch="topic")
    gh = Github(auth=Auth.Token(READ_TOKEN), base_url=fake_github.api_url, lazy=False)
    remote = gh.get_repo("octo/app")
    assert remote.default_branch == "main"
    pull = remote.get_pull(8)
    assert (pull.head.ref, pull.head.repo.fork, pull.base.ref) == ("topic", True, "main")
    assert remote.get_issue(7).pull_request is not None
    remote_run = remote.get_workflow_run(run.id)
    assert (remote_run.event, remote_run.head_repository.full_name) == (
        "pull_request",
        "forker/app",
    )


def test_comment_length_limit(fake_github: FakeGitHub, api: str) -> None:
    url = f"{api}/issues/7/comments"
    headers = auth(WRITE_TOKEN)
    too_long = requests.post(url, json={"body": "x" * (COMMENT_LIMIT + 1)}, headers=headers,
                             timeout=5)  # fmt: skip
    assert too_long.status_code == 422
    exact = requests.post(url, json={"body": "x" * COMMENT_LIMIT}, headers=headers, timeout=5)
    assert exact.status_code == 201


def test_link_pagination(fake_github: FakeGitHub, api: str) -> None:
    repo = fake_github.repos["octo/app"]
    for n in range(5):
        repo.add_comment(7, f"c{n}")
    first = requests.get(f"{api}/issues/7/comments?per_page=2", headers=auth(WRITE_TOKEN),
                         timeout=5)  # fmt: skip
    assert [c["body"] for c in first.json()] == ["c0", "c1"]
    assert set(first.links) == {"next", "last"}
    last = requests.get(first.links["last"]["url"], headers=auth(WRITE_TOKEN), timeout=5)
    assert [c["body"] for c in last.json()] == ["c4"]
    assert set(last.links) == {"prev", "first"}


def test_zip_redirects_to_a_storage_host_that_refuses_authorization(
    fake_github: FakeGitHub, api: str
) -> None:
    repo = fake_github.repos["octo/app"]
    artifact = repo.add_artifact(repo.add_run(), "h", files={"a": "b"})
    answer = requests.get(f"{api}/actions/artifacts/{artifact.id}/zip", headers=auth(WRITE_TOKEN),
                          allow_redirects=False, timeout=5)  # fmt: skip
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(f"http://localhost:{fake_github.port}/")
    assert requests.get(location, headers=auth(WRITE_TOKEN), timeout=5).status_code == 400
    plain = requests.get(location, timeout=5)
    assert (plain.status_code, plain.content) == (200, artifact.data)
    forged = requests.get(location[:-1] + ("0" if location[-1] != "0" else "1"), timeout=5)
    assert forged.status_code == 403


def test_reset_closes_without_an_answer(fake_github: FakeGitHub, api: str) -> None:
    fake_github.script([Fault.reset()])
    with pytest.raises(requests.ConnectionError):
        requests.get(api, headers=auth(WRITE_TOKEN), timeout=5)


def test_applied_fault_does_the_work_then_fails(fake_github: FakeGitHub, api: str) -> None:
    fake_github.script([Fault.applied(502)])
    answer = requests.post(f"{api}/issues/7/comments", json={"body": "x"},
                           headers=auth(WRITE_TOKEN), timeout=5)  # fmt: skip
    assert answer.status_code == 502
    assert [c.body for c in fake_github.repos["octo/app"].comments_on(7)] == ["x"]


def test_rate_limit_answers_carry_retry_after(fake_github: FakeGitHub, api: str) -> None:
    fake_github.script([Fault.too_many(7), Fault.secondary(9)])
    first = requests.get(api, headers=auth(WRITE_TOKEN), timeout=5)
    second = requests.get(api, headers=auth(WRITE_TOKEN), timeout=5)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "7")
    assert (second.status_code, second.headers["Retry-After"]) == (403, "9")
    assert second.json()["message"].startswith("You have exceeded a secondary rate limit")


def test_stop_refuses_new_connections(fake_github: FakeGitHub) -> None:
    port = fake_github.port
    fake_github.stop()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_seeded_fault_rate_is_repeatable() -> None:
    def draws(seed: int) -> list[Fault | None]:
        r = rule(rate=0.3, seed=seed)
        return [r.draw() for _ in range(200)]

    assert draws(3) == draws(3)
    assert draws(3) != draws(4)
    hits = [d for d in draws(3) if d is not None]
    assert 40 <= len(hits) <= 80
    assert set(hits) <= set(DEFAULT_MIX)


def test_script_is_consumed_in_order_by_matching_requests_only() -> None:
    r = rule(methods=["POST"], path=r"/comments$", script=[Fault.error(500), None, Fault.reset()])
    assert not r.matches("GET", "/repos/o/r/issues/1/comments", "api")
    assert r.matches("POST", "/repos/o/r/issues/1/comments", "api")
    assert [r.draw() for _ in range(4)] == [Fault.error(500), None, Fault.reset(), None]
