"""``shard-action comment``: put the report on the pull request, or keep it for later.

Two situations, one command:

- **In the report job** (``pull_request`` events): post the body, or edit our earlier comment, via
  :func:`~shard_action.adapters.comments.upsert_comment`. A pull request from a fork (or from
  Dependabot) gets a read-only token; that is not an error. The body is saved with what is needed
  to post it later (pull request, head, run) in a folder the action uploads as an artifact, and
  the command exits 0 with a notice. The API being down is handled the same way, and then exits
  as ``--on-api-error`` says: the summary and the artifacts were written by earlier steps anyway.
- **In a ``workflow_run`` companion** (which has a write token): post a body saved by the run that
  triggered it. GitHub leaves ``workflow_run.pull_requests`` empty for forks, so the pull request
  number comes from the saved metadata, which was written by an untrusted run. It is believed
  only if that pull request's head is the head the triggering run built (same repository and
  branch, both taken from the event, which GitHub writes): a fork can only ever comment on its
  own pull request. And it is posted only while the triggering run's commit is still the pull
  request's head: a companion that finishes late for an older push must not overwrite the
  comment of a newer one.

The token comes from ``SHARD_ACTION_TOKEN`` or ``GITHUB_TOKEN`` and is never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shard_action.adapters import gha
from shard_action.adapters.files import write_text_atomic
from shard_action.commands import positive_int
from shard_action.commands.api_options import (
    add_api_options,
    api_patience,
    quiet_libraries,
    repo_from,
    retry_policy,
    token_from_env,
)
from shard_action.errors import InputError

if TYPE_CHECKING:
    from shard_action.adapters.comments import CommentResult

BODY_FILE = "comment.md"
META_FILE = "comment.json"
DEFAULT_SAVE_TO = Path("shard-comment")
MAX_BODY_BYTES = 4 * 1024 * 1024
"""A saved body may come from an untrusted run: read only this much (GitHub takes 65,536 chars)."""
MAX_EVENT_BYTES = 64 * 1024 * 1024

Level = Literal["notice", "warning", "error"]
REPO_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$"
"""GitHub's OWNER/NAME: an owner of letters, digits and hyphens, a name of those and ``._``."""
SUITE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
"""The action's ``suite`` input, checked the same way by its first step."""


class SavedComment(BaseModel):
    """What the report job leaves beside a body it could not post (``comment.json``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

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


class NoTarget(Exception):
    """Nothing to comment on (not a pull request, or an outdated run): say so and exit 0."""


def read_event(env: Mapping[str, str]) -> dict[str, Any]:
    """The event payload GitHub wrote to ``GITHUB_EVENT_PATH`` (empty outside Actions)."""
    path = env.get("GITHUB_EVENT_PATH", "").strip()
    if not path:
        return {}
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_EVENT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read the event payload: {exc}", source=path) from exc
    if len(raw) > MAX_EVENT_BYTES:
        raise InputError("the event payload is too large", source=path)
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise InputError(f"the event payload is not JSON: {exc}", source=path) from exc
    return data if isinstance(data, dict) else {}


def suite_name(text: str) -> str:
    """``--suite``: empty (the run's only suite) or letters, digits, ``-`` and ``_``."""
    if text and not SUITE_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r}: a suite is letters, digits, '-' and '_' (at most 64, starting with a "
            "letter or digit)"
        )
    return text


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def read_saved(folder: Path) -> SavedComment | None:
    """The metadata saved beside a body, or ``None`` when there is none."""
    path = folder / META_FILE
    if not path.is_file():
        return None
    try:
        raw = path.read_bytes()[:MAX_BODY_BYTES]
        return SavedComment.model_validate_json(raw)
    except (OSError, ValidationError) as exc:
        detail = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise InputError(f"not a saved comment's metadata: {detail}", source=str(path)) from None


def read_body(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BODY_BYTES)
    except FileNotFoundError:
        raise InputError("comment body not found", source=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=str(path)) from exc
    return raw.decode("utf-8", errors="replace")


def find_target(
    args: argparse.Namespace, env: Mapping[str, str], event: Mapping[str, Any]
) -> Target:
    """Work out repository, pull request and workflow from flags, event and saved metadata."""
    repo = repo_from(args.repo, env)
    if repo is None:
        raise InputError("no repository: pass --repo OWNER/NAME (GITHUB_REPOSITORY is not set)")
    event_name = env.get("GITHUB_EVENT_NAME", "")
    run = event.get("workflow_run") if event_name == "workflow_run" else None
    if isinstance(run, dict):
        return _companion_target(args, repo, run)
    workflow = args.workflow or env.get("GITHUB_WORKFLOW", "") or "shard-action"
    pull = event.get("pull_request")
    pr = args.pr
    if pr is None and isinstance(pull, dict) and isinstance(pull.get("number"), int):
        pr = pull["number"]
    if pr is None and _dig(event, "issue", "pull_request") is not None:
        number = _dig(event, "issue", "number")
        pr = number if isinstance(number, int) else None
    if pr is None:
        raise NoTarget(f"no pull request in this {event_name or 'run'}: nothing to comment on")
    return Target(
        repo=repo,
        pr=pr,
        workflow=workflow,
        suite=args.suite,
        head_sha=_str(_dig(pull, "head", "sha")),
        head_repo=_str(_dig(pull, "head", "repo", "full_name")),
        head_ref=_str(_dig(pull, "head", "ref")),
    )


def _companion_target(args: argparse.Namespace, repo: str, run: Mapping[str, Any]) -> Target:
    workflow = args.workflow or _str(run.get("name")) or "shard-action"
    head_repo = _str(_dig(run, "head_repository", "full_name"))
    head_ref = _str(run.get("head_branch"))
    base = Target(
        repo=repo,
        pr=0,
        workflow=workflow,
        suite=args.suite,
        head_sha=_str(run.get("head_sha")),
        head_repo=head_repo,
        head_ref=head_ref,
        current_head_only=True,
    )
    if args.pr is not None:
        return replace(base, pr=args.pr)
    pulls = run.get("pull_requests")
    if isinstance(pulls, list):
        for pull in pulls:
            if isinstance(pull, dict) and isinstance(pull.get("number"), int):
                return replace(base, pr=pull["number"])
    saved = read_saved(args.body.parent)
    if saved is None:
        raise NoTarget(
            f"the triggering run {run.get('id')} names no pull request and no {META_FILE} "
            "was saved beside the body: nothing to comment on"
        )
    if saved.repo.lower() != repo.lower():
        raise InputError(
            f"the saved comment is for {saved.repo}, not for this repository ({repo}): refused",
            source=str(args.body.parent / META_FILE),
        )
    if head_repo is None or head_ref is None:
        raise InputError(
            "the workflow_run event names no head repository and branch to check the saved "
            "pull request against: refused"
        )
    return replace(base, pr=saved.pr, verify_head=(head_repo, head_ref))


def _verify(gh: Any, target: Target) -> str | None:
    """Why the saved pull request must not be commented on, or ``None`` when it may.

    Raises :class:`NoTarget` when the run built an older commit than the pull request's head:
    nothing is wrong, but the comment of the newer run must stay.
    """
    if target.verify_head is None and not target.current_head_only:
        return None
    pull = gh.get_repo(target.repo).get_pull(target.pr)
    head = pull.head
    if target.verify_head is not None:
        actual_repo = head.repo.full_name if head.repo is not None else None
        want_repo, want_ref = target.verify_head
        if (actual_repo or "").lower() != want_repo.lower() or head.ref != want_ref:
            return (
                f"pull request #{target.pr} has head {actual_repo}:{head.ref}, but the run that "
                f"saved the comment built {want_repo}:{want_ref}: refused"
            )
    if target.current_head_only and (target.head_sha is None or head.sha != target.head_sha):
        built = (target.head_sha or "an unknown commit")[:12]
        raise NoTarget(
            f"pull request #{target.pr} is now at {str(head.sha)[:12]}, but this run built "
            f"{built}: its comment is not posted, so the newer run's comment stays"
        )
    return None


def post(args: argparse.Namespace, target: Target, body: str, token: str | None) -> CommentResult:
    """Check (in a companion) and upsert; API trouble comes back as a result, never raised."""
    # Every command is imported to build the CLI; only this one pays for PyGithub.
    import requests  # noqa: PLC0415
    import urllib3  # noqa: PLC0415
    from github.GithubException import GithubException  # noqa: PLC0415

    from shard_action.adapters.comments import (  # noqa: PLC0415
        CommentResult,
        comment_marker,
        github_client,
        upsert_comment,
    )
    from shard_action.adapters.github_http import api_url_from_env  # noqa: PLC0415

    transport = (requests.RequestException, urllib3.exceptions.HTTPError, ConnectionError)
    where = f"{target.repo}#{target.pr}"
    if not token:
        return CommentResult(
            "no-permission",
            message=f"{where}: no token (set SHARD_ACTION_TOKEN or GITHUB_TOKEN)",
        )
    policy = retry_policy(args)
    gh = github_client(
        token,
        api_url=api_url_from_env(),
        retry=policy,
        seconds_between_requests=min(0.25, args.backoff),
        seconds_between_writes=min(1.0, args.backoff),
    )
    try:
        refusal = _verify(gh, target)
    except GithubException as exc:
        if exc.status == 404:
            refusal = f"pull request {where} not found: refused"
        else:
            return CommentResult("failed", message=f"{where}: GitHub API: HTTP {exc.status}")
    except transport as exc:
        return CommentResult("failed", message=f"{where}: GitHub API unreachable: {exc}")
    if refusal is not None:
        raise InputError(refusal)
    return upsert_comment(
        gh,
        target.repo,
        target.pr,
        body,
        marker=comment_marker(target.workflow, target.suite),
        author=args.author or None,
        # A POST is never re-sent blindly (it may have landed); this loop, which looks before
        # posting again, is its retry.
        create_attempts=args.retries + 1,
        create_wait=args.backoff,
    )


def save(folder: Path, body: str, target: Target, reason: str, env: Mapping[str, str]) -> None:
    run_id = env.get("GITHUB_RUN_ID", "")
    meta = SavedComment(
        repo=target.repo,
        pr=target.pr,
        workflow=target.workflow,
        head_sha=target.head_sha,
        head_repo=target.head_repo,
        head_ref=target.head_ref,
        run_id=int(run_id) if run_id.isdigit() else None,
        reason=reason,
    )
    write_text_atomic(folder / BODY_FILE, body)
    write_text_atomic(folder / META_FILE, meta.model_dump_json(indent=1) + "\n")


def _tell(level: Level, message: str) -> None:
    if gha.in_actions():
        gha.annotate(level, message, title="shard-action comment")
    else:
        print(f"shard-action comment: {level}: {message}", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    env = os.environ
    quiet_libraries(env)
    args.retries, args.backoff = api_patience(args, env)
    event = read_event(env)
    try:
        target = find_target(args, env, event)
    except NoTarget as exc:
        gha.set_outputs({"comment": "skipped", "comment-url": "", "saved": "false"}, env=env)
        _tell("notice", str(exc))
        return 0
    body = read_body(args.body)
    try:
        result = post(args, target, body, token_from_env(env))
    except NoTarget as exc:
        gha.set_outputs({"comment": "skipped", "comment-url": "", "saved": "false"}, env=env)
        _tell("notice", str(exc))
        return 0
    saved = False
    if not result.ok and args.on_no_permission == "save":
        folder: Path = args.save_to.resolve()
        save(folder, body, target, result.action, env)
        saved = True
    gha.set_outputs(
        {"comment": result.action, "comment-url": result.url or "", "saved": str(saved).lower()},
        env=env,
    )
    if result.ok:
        print(f"shard-action comment: {result.message}: {result.url or ''}".rstrip(": "))
        return 0
    where = f"{target.repo}#{target.pr}"
    kept = f" The comment was saved in {args.save_to}." if saved else ""
    if result.action == "no-permission":
        if args.on_no_permission == "save":
            _tell(
                "notice",
                f"{where}: this token may not comment (pull requests from forks and Dependabot "
                f"get a read-only one).{kept} The workflow_run companion "
                "(workflows/fork-comment.yml) posts it.",
            )
            return 0
        _tell("error", result.message)
        return 1
    level: Level = "error" if args.on_api_error == "fail" else "warning"
    _tell(level, f"the PR comment failed: {result.message}.{kept}")
    return 1 if args.on_api_error == "fail" else 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "comment",
        help="post (or edit) the report comment on the pull request, or save it for later",
        description="Create or edit the one comment of this workflow (and suite) on the pull "
        "request (found by a hidden marker, never duplicated). Repository, pull request and "
        "workflow come from the GitHub event unless given; in a workflow_run workflow the pull "
        f"request comes from the {META_FILE} saved beside the body, checked against the "
        "triggering run's head, and the comment is posted only while that run's commit is the "
        "pull request's head. A read-only token (forks, Dependabot) saves the body and its "
        "metadata for the workflow_run companion and exits 0. "
        "Token: SHARD_ACTION_TOKEN or GITHUB_TOKEN.",
    )
    parser.add_argument(
        "--body", type=Path, required=True, metavar="FILE", help="the comment (Markdown)"
    )
    parser.add_argument(
        "--pr", type=positive_int, metavar="N", help="pull request number (default: from the event)"
    )
    parser.add_argument(
        "--repo", metavar="OWNER/NAME", help="repository (default: $GITHUB_REPOSITORY)"
    )
    parser.add_argument(
        "--workflow",
        metavar="NAME",
        help="workflow whose comment this is, part of the hidden marker (default: "
        "$GITHUB_WORKFLOW, or the triggering workflow's name in a workflow_run)",
    )
    parser.add_argument(
        "--suite",
        type=suite_name,
        default="",
        metavar="NAME",
        help="the suite whose comment this is (the action's `suite` input), part of the hidden "
        "marker, so two suites of one workflow keep a comment each (default: the run's only suite)",
    )
    parser.add_argument(
        "--on-no-permission",
        choices=("save", "fail"),
        default="save",
        help="save: keep the body for the workflow_run companion and exit 0 (default); "
        "fail: exit 1. With save, a comment the API failed to take is saved too",
    )
    parser.add_argument(
        "--save-to",
        type=Path,
        default=DEFAULT_SAVE_TO,
        metavar="DIR",
        help=f"where to save the body and {META_FILE} (default: {DEFAULT_SAVE_TO})",
    )
    parser.add_argument(
        "--on-api-error",
        choices=("warn", "fail"),
        default="warn",
        help="the API is down or keeps failing: warn and exit 0 (default), or exit 1",
    )
    parser.add_argument(
        "--author",
        default="github-actions[bot]",
        metavar="LOGIN",
        help="login our comment is made by (default: github-actions[bot]); set it when posting "
        "with a personal or app token, or '' to accept any author",
    )
    add_api_options(parser, retries=6)
    parser.set_defaults(func=_run)
