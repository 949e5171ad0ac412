"""The pull-request comment: one per PR, workflow and suite, edited in place, never duplicated.

Users of reporting actions complain most about duplicated comments and about "Resource not
accessible by integration" on forks and Dependabot. Both have the same root: the network.

- A POST whose answer is lost (5xx, reset, timeout) may still have been applied. PyGithub's
  default retry sends such a POST again, which is how a comment gets posted twice. Here a POST is
  retried automatically only when GitHub *refused* it (429, 403 rate limit) or the connection was
  never made; otherwise we look for our comment again (by its hidden marker) before creating
  again, for long enough that a slow POST still in flight has landed (see :func:`_create`).
  Edits (PATCH) and deletes are idempotent and retried normally.
- "Our" comment is found by the marker *and* its author (``github-actions[bot]`` by default),
  never by asking who the token is: ``GET /user`` answers 403 for ``GITHUB_TOKEN``.
- A read-only token (forks, Dependabot) is not an error: the result says ``no-permission`` so the
  caller can save the body as an artifact for ``command: comment`` in a ``workflow_run``.
- If an earlier bug (or two concurrent runs) left several of our comments, the oldest is kept
  and edited, the others deleted: the conversation keeps one comment in its original place.

Nothing here prints or logs the token; messages are scrubbed of it in case a library echoes it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

import requests
import urllib3
from github import Auth, Github, GithubRetry
from github.GithubException import (
    GithubException,
    RateLimitExceededException,
    UnknownObjectException,
)
from github.Issue import Issue
from github.IssueComment import IssueComment

from shard_action.adapters.github_http import (
    IDEMPOTENT_METHODS,
    RETRY_STATUSES,
    USER_AGENT,
    RetryAfterCeiling,
    RetryPolicy,
    api_url_from_env,
)
from shard_action.core.markdown import fit
from shard_action.core.pull_request import Head, Refused, Target, refusal

log = logging.getLogger(__name__)

#: GitHub refuses a comment body longer than this (characters).
COMMENT_LIMIT = 65_536
DEFAULT_AUTHOR = "github-actions[bot]"
DEFAULT_POINTER = "_This report was cut to fit in a comment; the job summary has all of it._"
#: What may be retried after a lost answer: reading, and edits/deletes (the same edit twice is
#: the same edit).
COMMENT_RETRY_METHODS: frozenset[str] = IDEMPOTENT_METHODS | {"PATCH", "PUT", "DELETE"}

CommentAction = Literal["created", "updated", "unchanged", "no-permission", "failed"]


@dataclass(frozen=True)
class CommentResult:
    """What happened to the comment. ``failed`` and ``no-permission`` never raise: the caller
    writes the summary and saves the body either way, and decides the exit status."""

    action: CommentAction
    comment_id: int | None = None
    url: str | None = None
    message: str = ""
    removed_duplicates: int = 0

    @property
    def ok(self) -> bool:
        """The comment on the PR now shows ``body``."""
        return self.action in ("created", "updated", "unchanged")


class ShardGithubRetry(RetryAfterCeiling, GithubRetry):
    """PyGithub's retry, minus the one thing that duplicates comments.

    A POST is retried only when GitHub refused it (429, or a 403 that ``GithubRetry`` recognises
    as a rate limit) or no connection was made; after a 5xx or a lost answer it is *not*
    re-sent here, because it may have been applied. ``Retry-After`` is honoured up to
    ``max_retry_after`` seconds.
    """

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if not self._is_method_retryable(method):
            # 403 goes on to GithubRetry.increment, which retries rate limits and raises the
            # GitHub error otherwise; a refused request was not applied, so resending is safe.
            return status_code in (403, 429)
        return super().is_retry(method, status_code, has_retry_after)


def make_github_retry(policy: RetryPolicy | None = None) -> ShardGithubRetry:
    policy = policy or RetryPolicy()
    return ShardGithubRetry(
        **policy.limits(),
        secondary_rate_wait=policy.secondary_rate_wait,
        # A primary rate limit that resets in an hour must not hold the job for an hour.
        max_rate_limit_wait=max(policy.max_retry_after, policy.secondary_rate_wait),
        status_forcelist=sorted(RETRY_STATUSES),  # GithubRetry adds 403 (rate limits only)
        allowed_methods=COMMENT_RETRY_METHODS,
    )


def github_client(
    token: str | None,
    *,
    api_url: str | None = None,
    retry: RetryPolicy | None = None,
    timeout: int = 30,
    per_page: int = 100,
    seconds_between_requests: float | None = 0.25,
    seconds_between_writes: float | None = 1.0,
    user_agent: str = USER_AGENT,
) -> Github:
    """A PyGithub client for ``api_url`` (default ``GITHUB_API_URL``, then api.github.com).

    The pauses between requests/writes are GitHub's advice against secondary rate limits; tests
    pass 0. The client is lazy: objects are fetched only when a field is read.
    """
    return Github(
        auth=Auth.Token(token) if token else None,
        base_url=(api_url or api_url_from_env()).rstrip("/"),
        timeout=timeout,
        user_agent=user_agent,
        per_page=per_page,
        retry=make_github_retry(retry),
        seconds_between_requests=seconds_between_requests,
        seconds_between_writes=seconds_between_writes,
        lazy=True,
    )


def comment_marker(workflow: str, suite: str = "") -> str:
    """The hidden line that identifies our comment for one workflow and suite.

    A run's only suite (``suite`` empty) keeps the marker of the releases before suites, so
    an existing pull request's comment is still found and edited. A named suite comes first,
    so no workflow name can make one suite's marker another's. Values are percent-encoded
    where they could end the HTML comment or the line.
    """
    named = f"suite={_encoded(suite)} " if suite.strip() else ""
    return f"<!-- shard-action:comment {named}workflow={_encoded(workflow)} -->"


def _encoded(value: str) -> str:
    return quote(value.strip(), safe=" !#$&'()*+,./:;=?@[]^_`{|}~").replace("--", "-%2D")


def fit_body(
    body: str, *, marker: str, pointer: str = DEFAULT_POINTER, limit: int = COMMENT_LIMIT
) -> str:
    """The body with the marker, cut at a line end to fit ``limit`` with ``pointer`` appended.

    The marker is put first when missing or when the cut would lose it; the cut closes open
    blocks (:func:`shard_action.core.markdown.fit`).
    """
    if marker in body and len(body) <= limit:
        return body
    head = f"{marker}\n"
    if len(head) + len(body) <= limit:
        return head + body
    room = limit - len(head)
    if room < len(pointer) + 2:
        raise ValueError(f"a comment limit of {limit} leaves no room for the marker and pointer")
    return head + fit(body.replace(marker, ""), room, pointer)


def _scrub(text: str, gh: Github) -> str:
    auth = getattr(gh.requester, "auth", None)
    token = getattr(auth, "token", None)
    if isinstance(token, str) and token:
        text = text.replace(token, "***")
    return text


def _is_ours(comment: IssueComment, marker: str, author: str | None) -> bool:
    if marker not in (comment.body or ""):
        return False
    if author is None:
        return True
    user = comment.user  # None for a deleted account ("ghost")
    return user is not None and (user.login or "").lower() == author.lower()


def _find(issue: Issue, marker: str, author: str | None) -> list[IssueComment]:
    """Our comments on the issue, oldest first."""
    ours = [c for c in issue.get_comments() if _is_ours(c, marker, author)]
    return sorted(ours, key=lambda c: (c.created_at, c.id))


def _delete_extras(extras: list[IssueComment]) -> int:
    removed = 0
    for extra in extras:
        try:
            extra.delete()
        except UnknownObjectException:
            pass  # already gone (perhaps our own retried DELETE)
        except (GithubException, requests.RequestException) as exc:
            log.warning("could not delete duplicate comment %s: %s", extra.id, _brief(exc))
            continue
        removed += 1
    return removed


def _brief(exc: BaseException) -> str:
    if isinstance(exc, GithubException):
        message = exc.message or (exc.data.get("message") if isinstance(exc.data, dict) else None)
        return f"HTTP {exc.status}: {message or 'no message'}"
    return f"{type(exc).__name__}: {exc}"


_TRANSPORT = (requests.RequestException, urllib3.exceptions.HTTPError, ConnectionError)


def _edit(
    issue: Issue, comment: IssueComment, body: str, marker: str, author: str | None
) -> IssueComment:
    """Edit, and if the answer is lost, check whether the edit landed anyway."""

    def edit() -> IssueComment:
        comment.edit(body)
        return comment

    answer = _answer_or_loss(edit)
    if not isinstance(answer, Exception):
        return answer
    for again in _find(issue, marker, author):
        if again.id == comment.id and again.body == body:
            return again
    raise answer


def _answer_or_loss(write: Callable[[], IssueComment]) -> IssueComment | Exception:
    """The comment ``write`` answered with, or the failure when its answer was lost (a 5xx, a
    broken connection): the write may have landed anyway. A refusal (no permission, bad
    request...; rate limits were retried) is raised."""
    try:
        return write()
    except GithubException as exc:
        if exc.status < 500:
            raise
        return exc
    except _TRANSPORT as exc:
        return exc


@dataclass(frozen=True)
class _Patience:
    """How a lost POST is waited for before the next one: see :func:`_create`."""

    attempts: int
    wait: float
    settle: float


def _create(
    issue: Issue, body: str, marker: str, author: str | None, patience: _Patience
) -> IssueComment:
    """Create the comment; after a lost answer, look (long enough) before creating again.

    A POST whose answer is lost may still be at work on GitHub's side: a slow one lands after
    the client has stopped waiting. So before the next POST we keep looking for the comment
    until ``patience.settle`` seconds have passed since the lost one was *sent* (polling every
    ``patience.wait`` seconds, doubling), not just once: GitHub ends a REST request that runs
    longer than 10 seconds ("Troubleshooting the REST API", timeouts), so a POST older than that
    has either landed or never will.
    """
    failure: Exception | None = None
    for attempt in range(1, patience.attempts + 1):
        sent = time.monotonic()
        answer = _answer_or_loss(lambda: issue.create_comment(body))
        if not isinstance(answer, Exception):
            return answer
        failure = answer
        log.info("creating the comment: attempt %d lost its answer (%s)", attempt, _brief(failure))
        found = _look_until(
            issue, marker, author, since=sent, settle=patience.settle, wait=patience.wait
        )
        if found is not None:
            log.info("the comment was created after all (id %s)", found.id)
            return found
    assert failure is not None
    raise failure


def _look_until(
    issue: Issue, marker: str, author: str | None, *, since: float, settle: float, wait: float
) -> IssueComment | None:
    """Our comment, looked for until ``settle`` seconds after ``since`` (at least once)."""
    pause = max(wait, 0.0)
    while True:
        if pause > 0:
            time.sleep(pause)
        found = _find(issue, marker, author)
        if found:
            return found[0]
        left = since + settle - time.monotonic()
        if left <= 0:
            return None
        pause = min(max(pause * 2, 0.05), left)


def _upsert(
    issue: Issue, body: str, marker: str, author: str | None, patience: _Patience
) -> CommentResult:
    found = _find(issue, marker, author)
    if found:
        keep, extras = found[0], found[1:]
        removed = _delete_extras(extras)
        if keep.body == body:
            return CommentResult(
                "unchanged", keep.id, keep.html_url, "comment already up to date", removed
            )
        edited = _edit(issue, keep, body, marker, author)
        return CommentResult("updated", edited.id, edited.html_url, "comment edited", removed)

    created = _create(issue, body, marker, author, patience)
    removed = 0
    try:
        # Two runs racing (or a POST that landed late) can leave two: keep the oldest.
        found = _find(issue, marker, author)
        if found:
            keep = found[0]
            removed = _delete_extras(found[1:])
            created = keep if keep.body == body else _edit(issue, keep, body, marker, author)
    except (GithubException, *_TRANSPORT) as exc:
        log.warning("could not check for duplicate comments: %s", _brief(exc))
    return CommentResult("created", created.id, created.html_url, "comment created", removed)


def _api_trouble(where: str, exc: Exception) -> CommentResult:
    """The result for an API that refused or failed: ``no-permission`` for a 403 (a read-only
    token), else ``failed``; the message is scrubbed by the caller."""
    if isinstance(exc, RateLimitExceededException):
        return CommentResult("failed", message=f"{where}: rate limited: {_brief(exc)}")
    if isinstance(exc, GithubException):
        if exc.status == 403:
            return CommentResult(
                "no-permission",
                message=(
                    f"{where}: the token may not write comments ({_brief(exc)}); pull requests "
                    "from forks and Dependabot get a read-only token - save the body and post "
                    "it from a workflow_run workflow with `command: comment`"
                ),
            )
        return CommentResult("failed", message=f"{where}: GitHub API: {_brief(exc)}")
    return CommentResult("failed", message=f"{where}: GitHub API unreachable: {_brief(exc)}")


def upsert_comment(
    gh: Github,
    repo: str,
    pr: int,
    body: str,
    *,
    marker: str,
    author: str | None = DEFAULT_AUTHOR,
    pointer: str = DEFAULT_POINTER,
    limit: int = COMMENT_LIMIT,
    create_attempts: int = 5,
    create_wait: float = 1.0,
    create_settle: float | None = None,
) -> CommentResult:
    """Create or edit our comment on pull request (or issue) ``pr`` of ``repo`` (``OWNER/NAME``).

    ``marker`` (see :func:`comment_marker`) identifies the comment; it is added to ``body`` when
    missing. ``author`` is the login the comment must have (``None``: any author, for a personal
    token). A body over ``limit`` characters is cut and ends with ``pointer``. Never raises for
    API trouble: the result says ``failed`` or ``no-permission`` with a message.

    A POST that fails after being sent is tried ``create_attempts`` times in all; before each
    new try the comment is looked for, every ``create_wait`` seconds (doubling), until
    ``create_settle`` seconds have passed since the failed POST was sent (default: 15 times
    ``create_wait``, 15 s for the default 1 s: past the 10 s after which GitHub ends a request).
    """
    settle = 15 * create_wait if create_settle is None else create_settle
    text = fit_body(body, marker=marker, pointer=pointer, limit=limit)
    where = f"{repo}#{pr}"
    try:
        issue = gh.get_repo(repo).get_issue(pr)
        patience = _Patience(max(1, create_attempts), create_wait, max(0.0, settle))
        result = _upsert(issue, text, marker, author, patience)
    except (GithubException, *_TRANSPORT) as exc:
        result = _api_trouble(where, exc)
    result = CommentResult(
        result.action,
        result.comment_id,
        result.url,
        _scrub(result.message, gh),
        result.removed_duplicates,
    )
    level = logging.INFO if result.ok else logging.WARNING
    log.log(level, "PR comment %s: %s", result.action, result.message)
    return result


def pull_head(gh: Github, repo: str, pr: int) -> Head:
    """The pull request's head as ``core.pull_request`` judges it."""
    head = gh.get_repo(repo).get_pull(pr).head
    return Head(
        repo=head.repo.full_name if head.repo is not None else None, ref=head.ref, sha=head.sha
    )


def checked_upsert(
    gh: Github, target: Target, body: str, *, author: str | None, attempts: int, wait: float
) -> CommentResult:
    """:func:`upsert_comment` once the pull request's head allows it (``core.pull_request``).

    Raises :class:`~shard_action.core.pull_request.Refused` for a pull request that must not be
    commented on, and ``NoTarget`` for a run older than the head; API trouble is a result.
    """
    where = f"{target.repo}#{target.pr}"
    if target.checked:
        try:
            why = refusal(target, pull_head(gh, target.repo, target.pr))
        except GithubException as exc:
            if exc.status != 404:
                return CommentResult("failed", message=f"{where}: GitHub API: HTTP {exc.status}")
            why = f"pull request {where} not found: refused"
        except (requests.RequestException, urllib3.exceptions.HTTPError, ConnectionError) as exc:
            return CommentResult("failed", message=f"{where}: GitHub API unreachable: {exc}")
        if why is not None:
            raise Refused(why)
    return upsert_comment(
        gh,
        target.repo,
        target.pr,
        body,
        marker=comment_marker(target.workflow, target.suite),
        author=author,
        # A POST is never re-sent blindly (it may have landed); this loop, which looks before
        # posting again, is its retry.
        create_attempts=attempts,
        create_wait=wait,
    )


def post_comment(
    target: Target,
    body: str,
    token: str | None,
    *,
    retry: RetryPolicy,
    backoff: float,
    retries: int,
    author: str | None,
) -> CommentResult:
    """Check (in a companion) and upsert with a client of its own; API trouble comes back as
    a result, never raised (a refused pull request raises ``Refused``)."""
    if not token:
        return CommentResult(
            "no-permission",
            message=f"{target.repo}#{target.pr}: no token (set SHARD_ACTION_TOKEN or GITHUB_TOKEN)",
        )
    gh = github_client(
        token,
        api_url=api_url_from_env(),
        retry=retry,
        seconds_between_requests=min(0.25, backoff),
        seconds_between_writes=min(1.0, backoff),
    )
    return checked_upsert(gh, target, body, author=author, attempts=retries + 1, wait=backoff)
