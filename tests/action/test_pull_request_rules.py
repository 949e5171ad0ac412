"""The fork-trust rule for a saved pull request number, on its own (no GitHub, no files)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shard_action.core.pull_request import (
    Head,
    NoTarget,
    Refused,
    SavedComment,
    Target,
    find_target,
    refusal,
)

SHA = "a" * 40


def companion_event(pulls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "workflow_run": {
            "id": 7,
            "name": "CI",
            "head_sha": SHA,
            "head_branch": "topic",
            "head_repository": {"full_name": "fork/repo"},
            "pull_requests": pulls or [],
        }
    }


def saved(repo: str = "owner/repo", pr: int = 12) -> SavedComment:
    return SavedComment(repo=repo, pr=pr, workflow="CI", head_sha=SHA)


def target(saved_comment: SavedComment | None) -> Target:
    return find_target(
        repo="owner/repo",
        event_name="workflow_run",
        event=companion_event(),
        pr=None,
        workflow=None,
        this_workflow="fork comment",
        saved=lambda: saved_comment,
    )


def test_a_saved_number_is_checked_against_the_head_the_run_built() -> None:
    found = target(saved())
    assert (found.pr, found.workflow, found.verify_head) == (12, "CI", ("fork/repo", "topic"))
    assert refusal(found, Head(repo="Fork/Repo", ref="topic", sha=SHA)) is None
    why = refusal(found, Head(repo="owner/repo", ref="main", sha=SHA))
    assert why is not None and "refused" in why and "owner/repo:main" in why


def test_a_saved_comment_of_another_repository_is_refused_naming_the_metadata() -> None:
    with pytest.raises(Refused, match="is for other/repo") as caught:
        target(saved(repo="other/repo"))
    assert caught.value.saved


def test_nothing_saved_is_nothing_to_comment_on() -> None:
    with pytest.raises(NoTarget, match="names no pull request"):
        target(None)


def test_a_number_from_the_event_is_believed_without_the_saved_one() -> None:
    event = companion_event([{"number": 3}])
    found = find_target(
        repo="owner/repo",
        event_name="workflow_run",
        event=event,
        pr=None,
        workflow=None,
        this_workflow=None,
        saved=lambda: pytest.fail("the saved metadata must not be read"),
    )
    assert (found.pr, found.verify_head, found.current_head_only) == (3, None, True)


@given(st.text("0123456789abcdef", min_size=40, max_size=40))
def test_a_run_of_an_older_commit_never_posts(head_sha: str) -> None:
    found = target(saved())
    head = Head(repo="fork/repo", ref="topic", sha=head_sha)
    if head_sha == SHA:
        assert refusal(found, head) is None
    else:
        with pytest.raises(NoTarget, match="is now at"):
            refusal(found, head)
