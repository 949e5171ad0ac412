"""Which pull request a comment goes to, and when a saved one may be believed.

A ``workflow_run`` companion gets no pull request for a fork (GitHub leaves
``workflow_run.pull_requests`` empty), so it reads the number a fork's run saved. That number is
untrusted: it is believed only if the pull request's head is the repository and branch the
triggering run built (both from the event, which GitHub writes), and the comment is posted only
while the run's commit is still that head. This module holds those rules; the command fetches.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field

from shard_action.core.documents import Document

REPO_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$"
"""GitHub's OWNER/NAME: an owner of letters, digits and hyphens, a name of those and ``._``."""
META_FILE = "comment.json"
SUITE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
"""The action's ``suite`` input, checked the same way by its first step."""


def suite_problem(text: str) -> str | None:
    """Why ``text`` is not a suite name: empty (the run's only suite) or letters, digits, ``-``
    and ``_``; None when it is one."""
    if text and not SUITE_PATTERN.fullmatch(text):
        return (
            f"{text!r}: a suite is letters, digits, '-' and '_' (at most 64, starting with a "
            "letter or digit)"
        )
    return None


class SavedComment(Document):
    """What the report job leaves beside a body it could not post (``comment.json``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    title: ClassVar[str] = "saved comment"
    untrusted: ClassVar[bool] = True

    kind: Literal["shard-action-comment"] = "shard-action-comment"
    version: Literal[1] = 1
    #: Written by an untrusted run: only an OWNER/NAME is believed (and then compared).
    repo: str = Field(pattern=REPO_PATTERN, max_length=140)
    pr: int = Field(ge=1)
    workflow: str
    head_sha: str | None = None
    head_repo: str | None = None
    head_ref: str | None = None
    run_id: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class Target:
    """Where the comment goes, and what the companion must check before believing it."""

    repo: str
    pr: int
    workflow: str
    suite: str = ""
    head_sha: str | None = None
    head_repo: str | None = None
    head_ref: str | None = None
    verify_head: tuple[str, str] | None = None
    """(repository, branch) the pull request's head must have: set when ``pr`` is untrusted."""
    current_head_only: bool = False
    """Post only if ``head_sha`` is still the pull request's head (the companion: a late run
    of an older commit must not overwrite the comment of a newer one)."""

    @property
    def checked(self) -> bool:
        """The pull request's head must be looked at before posting."""
        return self.verify_head is not None or self.current_head_only


@dataclass(frozen=True)
class Head:
    """A pull request's head as the API gives it."""

    repo: str | None
    ref: str
    sha: str


class NoTarget(Exception):
    """Nothing to comment on (not a pull request, or an outdated run): say so and exit 0."""


class Refused(Exception):
    """A saved pull request that must not be commented on: the message says why."""

    def __init__(self, message: str, *, saved: bool = False) -> None:
        super().__init__(message)
        self.saved = saved
        """The saved metadata itself is at fault (name its file)."""


def dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def find_target(
    *,
    repo: str,
    event_name: str,
    event: Mapping[str, Any],
    pr: int | None,
    workflow: str | None,
    this_workflow: str | None,
    saved: Callable[[], SavedComment | None],
    suite: str = "",
) -> Target:
    """Repository, pull request and workflow from the flags (``pr``, ``workflow``), the event,
    and in a companion the saved metadata (``saved`` is read only when it is needed).

    The comment belongs to ``this_workflow`` (``GITHUB_WORKFLOW``), or in a companion to the
    workflow of the run that triggered it.
    """
    run = event.get("workflow_run") if event_name == "workflow_run" else None
    if isinstance(run, dict):
        return replace(_companion_target(repo, run, pr, workflow, saved), suite=suite)
    pull = event.get("pull_request")
    if pr is None and isinstance(pull, dict) and isinstance(pull.get("number"), int):
        pr = pull["number"]
    if pr is None and dig(event, "issue", "pull_request") is not None:
        number = dig(event, "issue", "number")
        pr = number if isinstance(number, int) else None
    if pr is None:
        raise NoTarget(f"no pull request in this {event_name or 'run'}: nothing to comment on")
    return Target(
        repo=repo,
        pr=pr,
        workflow=workflow or this_workflow or "shard-action",
        suite=suite,
        head_sha=text(dig(pull, "head", "sha")),
        head_repo=text(dig(pull, "head", "repo", "full_name")),
        head_ref=text(dig(pull, "head", "ref")),
    )


def _companion_target(
    repo: str,
    run: Mapping[str, Any],
    pr: int | None,
    workflow: str | None,
    saved: Callable[[], SavedComment | None],
) -> Target:
    head_repo = text(dig(run, "head_repository", "full_name"))
    head_ref = text(run.get("head_branch"))
    base = Target(
        repo=repo,
        pr=0,
        workflow=workflow or text(run.get("name")) or "shard-action",
        head_sha=text(run.get("head_sha")),
        head_repo=head_repo,
        head_ref=head_ref,
        current_head_only=True,
    )
    if pr is not None:
        return replace(base, pr=pr)
    pulls = run.get("pull_requests")
    if isinstance(pulls, list):
        for pull in pulls:
            if isinstance(pull, dict) and isinstance(pull.get("number"), int):
                return replace(base, pr=pull["number"])
    found = saved()
    if found is None:
        raise NoTarget(
            f"the triggering run {run.get('id')} names no pull request and no {META_FILE} "
            "was saved beside the body: nothing to comment on"
        )
    if found.repo.lower() != repo.lower():
        raise Refused(
            f"the saved comment is for {found.repo}, not for this repository ({repo}): refused",
            saved=True,
        )
    if head_repo is None or head_ref is None:
        raise Refused(
            "the workflow_run event names no head repository and branch to check the saved "
            "pull request against: refused"
        )
    return replace(base, pr=found.pr, verify_head=(head_repo, head_ref))


def refusal(target: Target, head: Head) -> str | None:
    """Why the pull request must not be commented on, or ``None`` when it may.

    Raises :class:`NoTarget` when the run built an older commit than the pull request's head:
    nothing is wrong, but the comment of the newer run must stay.
    """
    if target.verify_head is not None:
        want_repo, want_ref = target.verify_head
        if (head.repo or "").lower() != want_repo.lower() or head.ref != want_ref:
            return (
                f"pull request #{target.pr} has head {head.repo}:{head.ref}, but the run that "
                f"saved the comment built {want_repo}:{want_ref}: refused"
            )
    if target.current_head_only and (target.head_sha is None or head.sha != target.head_sha):
        built = (target.head_sha or "an unknown commit")[:12]
        raise NoTarget(
            f"pull request #{target.pr} is now at {str(head.sha)[:12]}, but this run built "
            f"{built}: its comment is not posted, so the newer run's comment stays"
        )
    return None
