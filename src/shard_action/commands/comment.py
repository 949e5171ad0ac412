"""``shard-action comment``: put the report on the pull request, or keep it for later.

In the report job it posts the body (or edits our earlier comment); a read-only token (forks,
Dependabot) or the API being down saves the body and its metadata for later and exits 0 with a
notice (or as ``--on-api-error`` says). In a ``workflow_run`` companion it posts a saved body,
to the pull request ``core.pull_request`` decides may be trusted. The token comes from
``SHARD_ACTION_TOKEN`` or ``GITHUB_TOKEN`` and is never printed.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from shard_action.adapters import gha
from shard_action.adapters.comment_files import read_body, read_event, read_saved, save_comment
from shard_action.commands import positive_int
from shard_action.commands.api_options import (
    TOKEN_HELP,
    ApiAccess,
    add_api_options,
    api_access,
    repo_from,
)
from shard_action.core import pull_request
from shard_action.core.pull_request import META_FILE, NoTarget, Refused, Target
from shard_action.errors import InputError

if TYPE_CHECKING:
    from shard_action.adapters.comments import CommentResult

DEFAULT_SAVE_TO = Path("shard-comment")
Level = Literal["notice", "warning", "error"]


def suite_name(text: str) -> str:
    if (problem := pull_request.suite_problem(text)) is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


def find_target(
    args: argparse.Namespace, env: Mapping[str, str], event: Mapping[str, Any]
) -> Target:
    """Work out repository, pull request and workflow from flags, event and saved metadata."""
    repo = repo_from(args.repo, env)
    if repo is None:
        raise InputError("no repository: pass --repo OWNER/NAME (GITHUB_REPOSITORY is not set)")
    try:
        return pull_request.find_target(
            repo=repo, event_name=env.get("GITHUB_EVENT_NAME", ""), event=event, pr=args.pr,
            workflow=args.workflow, this_workflow=env.get("GITHUB_WORKFLOW"), suite=args.suite,
            saved=lambda: read_saved(args.body.parent),
        )  # fmt: skip
    except Refused as exc:
        source = str(args.body.parent / META_FILE) if exc.saved else None
        raise InputError(str(exc), source=source) from None


def post(args: argparse.Namespace, target: Target, body: str, access: ApiAccess) -> CommentResult:
    """Check (in a companion) and upsert; API trouble comes back as a result, never raised."""
    # Every command is imported to build the CLI; only this one pays for PyGithub.
    from shard_action.adapters.comments import post_comment  # noqa: PLC0415

    try:
        return post_comment(
            target, body, access.token, retry=access.retry_policy(), backoff=access.backoff,
            retries=access.retries, author=args.author or None,
        )  # fmt: skip
    except Refused as exc:
        raise InputError(str(exc)) from None


def _tell(level: Level, message: str) -> None:
    gha.tell(level, message, title="shard-action comment")


def _run(args: argparse.Namespace) -> int:
    env = os.environ
    access = api_access(args, env)
    try:
        target = find_target(args, env, read_event(env))
        body = read_body(args.body)
        result = post(args, target, body, access)
    except NoTarget as exc:
        gha.set_outputs({"comment": "skipped", "comment-url": "", "saved": "false"}, env=env)
        _tell("notice", str(exc))
        return 0
    saved = not result.ok and args.on_no_permission == "save"
    if saved:
        save_comment(args.save_to.resolve(), body, target, result.action, env)
    gha.set_outputs(
        {"comment": result.action, "comment-url": result.url or "", "saved": str(saved).lower()},
        env=env,
    )
    if result.ok:
        print(f"shard-action comment: {result.message}: {result.url or ''}".rstrip(": "))
        return 0
    kept = f" The comment was saved in {args.save_to}." if saved else ""
    if result.action != "no-permission":
        level: Level = "error" if args.on_api_error == "fail" else "warning"
        _tell(level, f"the PR comment failed: {result.message}.{kept}")
        return 1 if args.on_api_error == "fail" else 0
    if not saved:
        _tell("error", result.message)
        return 1
    _tell(
        "notice",
        f"{target.repo}#{target.pr}: this token may not comment (pull requests from forks and "
        f"Dependabot get a read-only one).{kept} The workflow_run companion "
        "(workflows/fork-comment.yml) posts it.",
    )
    return 0


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
        f"{TOKEN_HELP[0].upper()}{TOKEN_HELP[1:]}.",
    )
    _where_options(parser)
    _policy_options(parser)
    add_api_options(parser, retries=6)
    parser.set_defaults(func=_run)


def _where_options(parser: argparse.ArgumentParser) -> None:
    """What is posted, and where: body, pull request, repository, workflow and suite."""
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


def _policy_options(parser: argparse.ArgumentParser) -> None:
    """What to do without permission or with a failing API, and whose comment is ours."""
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
