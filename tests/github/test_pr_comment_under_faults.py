"""The PR comment when GitHub misbehaves: lost answers, rate limits, resets, slow writes.

The point of these tests is the duplicate: a POST applied by GitHub whose answer never arrives.
The control test shows the fake reproduces it with PyGithub's default retry; the others show our
upsert never leaves more than one comment.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from github import Auth, Github, GithubRetry

from shard_action.adapters.comments import comment_marker, upsert_comment
from shard_action.adapters.github_http import RetryPolicy
from tests.fakegithub import DEFAULT_MIX, WRITE_TOKEN, FakeGitHub, FakeRepo, Fault
from tests.github.helpers import FAST, PR, REPO, client

MARKER = comment_marker("CI")
POST_COMMENT = r"/issues/\d+/comments$"


@pytest.fixture
def repo(fake_github: FakeGitHub) -> FakeRepo:
    repo = fake_github.add_repo(REPO)
    repo.add_pull(PR)
    return repo


def test_control_pygithub_default_retry_duplicates_a_lost_post(
    fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    """Without our care, one lost answer means two comments: the fake shows the real bug."""
    naive = Github(
        auth=Auth.Token(WRITE_TOKEN),
        base_url=fake_github.api_url,
        retry=GithubRetry(backoff_factor=0.001),
        seconds_between_requests=0,
        seconds_between_writes=0,
    )
    fake_github.script([Fault.applied(502)], methods=["POST"])
    naive.get_repo(REPO).get_issue(PR).create_comment(f"{MARKER}\nreport")
    assert len(repo.comments_on(PR)) == 2


@pytest.mark.parametrize(
    "fault",
    [Fault.applied(502), Fault.applied(500), Fault.applied_reset()],
    ids=["applied-502", "applied-500", "applied-reset"],
)
def test_post_applied_but_answer_lost_makes_one_comment(
    fake_github: FakeGitHub, repo: FakeRepo, fault: Fault
) -> None:
    fake_github.script([fault], methods=["POST"])
    result = upsert_comment(client(fake_github), REPO, PR, "report", marker=MARKER, create_wait=0)
    assert result.action == "created"
    (comment,) = repo.comments_on(PR)
    assert result.comment_id == comment.id
    assert len(fake_github.requests_to("POST")) == 1, "looked before posting again"


@pytest.mark.parametrize(
    "faults",
    [
        [Fault.error(502), Fault.error(503)],
        [Fault.reset(), Fault.reset()],
        [Fault.too_many(0), Fault.secondary(0), Fault.error(500)],
    ],
    ids=["5xx", "reset", "rate-limits-then-5xx"],
)
def test_post_refused_or_failed_is_sent_again(
    fake_github: FakeGitHub, repo: FakeRepo, faults: list[Fault]
) -> None:
    fake_github.script(faults, methods=["POST"])
    result = upsert_comment(client(fake_github), REPO, PR, "report", marker=MARKER, create_wait=0)
    assert result.action == "created"
    assert len(repo.comments_on(PR)) == 1
    assert len(fake_github.requests_to("POST")) == len(faults) + 1


def test_post_failing_every_time_gives_up_without_posting(
    fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    fake_github.script([Fault.error(503)] * 50, methods=["POST"])
    result = upsert_comment(
        client(fake_github), REPO, PR, "x", marker=MARKER, create_attempts=3, create_wait=0
    )
    assert result.action == "failed"
    assert "503" in result.message
    assert repo.comments_on(PR) == []
    assert len(fake_github.requests_to("POST")) == 3


def test_lost_patch_is_retried_and_lands_once(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    existing = repo.add_comment(PR, f"{MARKER}\nold")
    fake_github.script([Fault.applied(502), Fault.applied_reset()], methods=["PATCH"])
    result = upsert_comment(client(fake_github), REPO, PR, "new", marker=MARKER)
    assert result.action == "updated"
    assert [c.body for c in repo.comments_on(PR)] == [f"{MARKER}\nnew"]
    assert existing.body == f"{MARKER}\nnew"


def test_patch_whose_answers_are_all_lost_is_confirmed_by_reading(
    fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    repo.add_comment(PR, f"{MARKER}\nold")
    fake_github.script([Fault.applied(502)] * (FAST.total + 1), methods=["PATCH"])
    result = upsert_comment(client(fake_github), REPO, PR, "new", marker=MARKER)
    assert result.action == "updated"
    assert [c.body for c in repo.comments_on(PR)] == [f"{MARKER}\nnew"]


def test_patch_that_never_lands_is_a_failure(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    repo.add_comment(PR, f"{MARKER}\nold")
    fake_github.script([Fault.error(502)] * (FAST.total + 1), methods=["PATCH"])
    result = upsert_comment(client(fake_github), REPO, PR, "new", marker=MARKER)
    assert result.action == "failed"
    assert [c.body for c in repo.comments_on(PR)] == [f"{MARKER}\nold"]


def test_lost_delete_of_a_duplicate_counts_as_done(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    repo.add_comment(PR, f"{MARKER}\na")
    repo.add_comment(PR, f"{MARKER}\nb")
    fake_github.script([Fault.applied(502)], methods=["DELETE"])
    result = upsert_comment(client(fake_github), REPO, PR, "c", marker=MARKER)
    assert (result.action, result.removed_duplicates) == ("updated", 1)
    assert [c.body for c in repo.comments_on(PR)] == [f"{MARKER}\nc"]


def test_429_retry_after_is_honoured(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    fake_github.script([Fault.too_many(1)], methods=["POST"])
    started = time.monotonic()
    result = upsert_comment(client(fake_github), REPO, PR, "x", marker=MARKER)
    elapsed = time.monotonic() - started
    assert result.action == "created"
    assert elapsed >= 1.0, "waited as GitHub asked"
    assert len(repo.comments_on(PR)) == 1


def test_secondary_rate_limit_retry_after_is_honoured(
    fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    fake_github.script([Fault.secondary(1)], methods=["GET"])
    started = time.monotonic()
    result = upsert_comment(client(fake_github), REPO, PR, "x", marker=MARKER)
    assert time.monotonic() - started >= 1.0
    assert result.action == "created"


def test_secondary_rate_limit_without_retry_after_waits_the_configured_time(
    fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    fake_github.script([Fault.secondary(None)], methods=["POST"])
    policy = RetryPolicy(total=3, backoff_factor=0.001, secondary_rate_wait=0.5)
    started = time.monotonic()
    result = upsert_comment(client(fake_github, retry=policy), REPO, PR, "x", marker=MARKER)
    assert time.monotonic() - started >= 0.5
    assert result.action == "created"
    assert len(repo.comments_on(PR)) == 1


def test_an_hour_long_retry_after_is_capped(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    fake_github.script([Fault.too_many(3600)], methods=["GET"])
    policy = RetryPolicy(total=3, backoff_factor=0.001, max_retry_after=0.2)
    started = time.monotonic()
    result = upsert_comment(client(fake_github, retry=policy), REPO, PR, "x", marker=MARKER)
    assert time.monotonic() - started < 2
    assert result.action == "created"


def test_slow_post_landing_after_the_timeout_is_found_by_waiting(
    fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    fake_github.script([Fault.slow(1.3)], methods=["POST"])
    gh = client(fake_github, timeout=1)
    result = upsert_comment(gh, REPO, PR, "x", marker=MARKER, create_wait=0.6)
    assert result.action == "created"
    assert len(repo.comments_on(PR)) == 1
    assert len(fake_github.requests_to("POST")) == 1


def _drained(fake: FakeGitHub, timeout: float = 10) -> None:
    """Wait until every request the server took has been answered (slow ones land late)."""
    deadline = time.monotonic() + timeout
    while any(r.status is None and r.fault is not None and r.fault.kind == "slow"
              for r in fake.requests):  # fmt: skip
        assert time.monotonic() < deadline, "a slow request never finished"
        time.sleep(0.02)
    time.sleep(0.05)


def test_post_applied_well_after_the_client_gave_up_makes_one_comment(
    fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    """The server holds the POST past the client's timeout, then applies it: we keep looking
    (15 times the first wait since the POST was sent) instead of posting again."""
    fake_github.script([Fault.slow(2.5)], methods=["POST"])
    gh = client(fake_github, timeout=1)
    result = upsert_comment(gh, REPO, PR, "x", marker=MARKER, create_wait=0.3)
    _drained(fake_github)
    assert result.action == "created"
    assert len(fake_github.requests_to("POST")) == 1, "did not post again while one was in flight"
    (comment,) = repo.comments_on(PR)
    assert result.comment_id == comment.id


def test_exactly_one_comment_under_faults_with_requests_held_past_the_timeout(
    fake_github: FakeGitHub,
) -> None:
    """Many seeds of a 30% mix that includes requests answered only after the client's timeout
    (and applied then); after every late request has landed, one comment with the last body."""
    late = Fault.slow(1.4)
    kinds = (*DEFAULT_MIX, late, late)
    slow_posts = 0
    for seed in range(12):
        repo = fake_github.add_repo(f"octo/late{seed}")
        repo.add_pull(PR)
        fake_github.fault_rate(0.3, seed=seed, kinds=kinds, path=f"/repos/octo/late{seed}/")
        gh = client(fake_github, timeout=1)
        for body in ("run 1", "run 2"):
            result = upsert_comment(
                gh, repo.full_name, PR, body, marker=MARKER, create_attempts=8,
                create_wait=0.05, create_settle=2.0,
            )  # fmt: skip
            assert result.ok, f"seed {seed}: {result}"
            _drained(fake_github)
            bodies = [c.body for c in repo.comments_on(PR)]
            assert bodies == [f"{MARKER}\n{body}"], f"seed {seed}: {bodies}"
        fake_github.clear_faults()
        slow_posts += sum(
            1
            for r in fake_github.requests_to("POST", f"/repos/octo/late{seed}/")
            if r.fault == late
        )
    assert slow_posts >= 1, "the mix held at least one POST past the timeout"


def test_post_landing_late_is_collapsed_by_the_next_run(
    fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    """No API can tell us about a write still in flight; the next run cleans up after it."""
    fake_github.script([Fault.held()], methods=["POST"])
    gh = client(fake_github, timeout=1)
    first = upsert_comment(gh, REPO, PR, "run 1", marker=MARKER, create_wait=0)
    assert first.action == "created"
    assert len(repo.comments_on(PR)) == 1
    fake_github.release_held()  # the first POST lands now
    deadline = time.monotonic() + 5
    while len(repo.comments_on(PR)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(repo.comments_on(PR)) == 2

    second = upsert_comment(gh, REPO, PR, "run 2", marker=MARKER, create_wait=0)

    assert second.removed_duplicates == 1
    assert second.comment_id == first.comment_id
    assert [c.body for c in repo.comments_on(PR)] == [f"{MARKER}\nrun 2"]


def test_exactly_one_comment_under_30_percent_faults(fake_github: FakeGitHub) -> None:
    """Many seeds of a 30% mix of 5xx, 429, secondary limits, resets and applied-but-failed."""
    lost_posts = injected = 0
    for seed in range(50):
        repo = fake_github.add_repo(f"octo/app{seed}")
        repo.add_pull(PR)
        fault_rule = fake_github.fault_rate(0.3, seed=seed, path=f"/repos/octo/app{seed}/")
        gh = client(fake_github)
        name = repo.full_name
        actions = []
        for body in ("run 1", "run 2", "run 2"):
            result = upsert_comment(
                gh, name, PR, body, marker=MARKER, create_attempts=8, create_wait=0
            )
            actions.append(result.action)
            bodies = [c.body for c in repo.comments_on(PR)]
            assert bodies == [f"{MARKER}\n{body}"], f"seed {seed}: {bodies} after {actions}"
            assert result.comment_id == repo.comments_on(PR)[0].id
        assert actions == ["created", "updated", "unchanged"], f"seed {seed}"
        assert fake_github.requests_to(path=r"^/user$") == []
        deletes = fake_github.requests_to("DELETE", f"/repos/octo/app{seed}/")
        assert deletes == [], f"seed {seed}: a duplicate was posted (and cleaned up)"
        fake_github.clear_faults()
        lost_posts += sum(
            1
            for r in fake_github.requests_to("POST", f"/repos/octo/app{seed}/")
            if r.fault is not None and r.fault.performs and r.fault.kind != "slow"
        )
        injected += len(fault_rule.hits)
    assert lost_posts >= 1, "the mix exercised applied-but-lost POSTs"
    assert 0.2 < injected / len(fake_github.requests) < 0.4


def test_fault_mix_is_what_it_says(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    """The 30% is real and spread over every kind (so the test above can fail)."""
    fault_rule = fake_github.fault_rate(0.3, seed=1, methods=["GET"])
    gh = client(fake_github)
    for _ in range(150):
        list(gh.get_repo(REPO).get_issue(PR).get_comments())
    gets = fake_github.requests_to("GET")
    faulted = [r for r in gets if r.fault is not None]
    assert 0.2 < len(faulted) / len(gets) < 0.4
    kinds = Counter(f.kind for f in fault_rule.hits)
    assert set(kinds) == {"status", "too-many", "secondary", "reset", "applied", "applied-reset",
                          "slow"}  # fmt: skip
