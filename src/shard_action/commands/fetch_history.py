"""``shard-action fetch-history``: the newest trusted history artifact, or a first-run notice.

A plan without the history is still correct (from estimates), so the API failing is a warning
and exit 0 after a bounded wait; a mistake the user can fix (a bad ``--repo``) is exit 2. What
was found goes to ``fetch-history.json`` (``core.fetched``), which the report job reads.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from shard_action.adapters import gha
from shard_action.adapters.files import make_folder, write_text_atomic
from shard_action.adapters.history_file import read_history
from shard_action.commands.api_options import (
    TOKEN_HELP,
    add_api_options,
    api_patience,
    quiet_libraries,
    repo_from,
    retry_policy,
    token_from_env,
)
from shard_action.core.fetched import FetchedHistory, FetchStatus
from shard_action.errors import InputError

if TYPE_CHECKING:
    from shard_action.adapters.github_http import RetryPolicy

STATUS_FILE = "fetch-history.json"
#: The running workflow (``owner/repo/.github/workflows/tests.yml@refs/heads/main``), set by
#: GitHub; absent locally and on older GitHub Enterprise Server versions.
WORKFLOW_REF_VARIABLE: Final = "GITHUB_WORKFLOW_REF"


@dataclass(frozen=True)
class Fetched:
    status: FetchStatus
    reason: str
    path: Path | None = None
    run_id: int | None = None
    artifact_id: int | None = None


def fetch(
    *,
    artifact: str,
    out: Path,
    repo: str | None,
    branch: str | None,
    token: str | None,
    api_url: str,
    retry: RetryPolicy,
    workflow_ref: str | None = None,
) -> Fetched:
    """Look for the history; every API or artifact trouble becomes ``status="error"``.

    ``workflow_ref`` (``GITHUB_WORKFLOW_REF``) limits it to runs of the same workflow file.
    """
    import requests  # noqa: PLC0415 - see retry_policy

    from shard_action.adapters.artifacts import (  # noqa: PLC0415
        SearchLimitReached,
        fetch_history,
        workflow_file_from_ref,
    )
    from shard_action.adapters.github_http import GitHubAPIError, make_session  # noqa: PLC0415

    if repo is None:
        return Fetched("none", "no repository given (GITHUB_REPOSITORY is not set)")
    workflow = workflow_file_from_ref(workflow_ref, repo)
    session = make_session(token, retry=retry)
    try:
        found = fetch_history(
            session, api_url, repo, artifact_name=artifact, dest=out, default_branch=branch,
            workflow=workflow,
        )  # fmt: skip
    except SearchLimitReached as exc:
        # Not "none": a history beyond the limit must not be replaced by a one-run one.
        return Fetched("error", f"the history search reached its limit: {exc}")
    except (GitHubAPIError, requests.RequestException, OSError) as exc:
        return Fetched("error", f"the GitHub API failed: {exc}")
    except InputError as exc:
        return Fetched("unusable", f"the history artifact cannot be used: {exc}")
    finally:
        session.close()
    if found.path is None:
        return Fetched("none", found.reason)
    try:
        read_history(found.path)
    except InputError as exc:
        # Keep it for a human to look at, out of the way of the plan and the report.
        found.path.replace(found.path.with_name(found.path.name + ".unusable"))
        return Fetched("unusable", f"{found.reason}, but it cannot be used: {exc}")
    return Fetched(
        "found",
        found.reason,
        found.path,
        found.run.id if found.run is not None else None,
        found.artifact.id if found.artifact is not None else None,
    )


def _run(args: argparse.Namespace) -> int:
    env = os.environ
    quiet_libraries(env)
    args.retries, args.backoff = api_patience(args, env)
    artifact = args.artifact.strip()
    if not artifact:
        raise InputError("--artifact must name the history artifact")
    repo = repo_from(args.repo, env)
    out: Path = args.out.resolve()
    make_folder(out)
    result = fetch(
        artifact=artifact,
        out=out,
        repo=repo,
        branch=(args.branch or "").strip() or None,
        token=token_from_env(env),
        api_url=_api_url(env),
        retry=retry_policy(args),
        workflow_ref=env.get(WORKFLOW_REF_VARIABLE),
    )
    record = FetchedHistory(
        status=result.status,
        reason=result.reason,
        history=str(result.path) if result.path else None,
        run_id=result.run_id,
        artifact_id=result.artifact_id,
    )
    write_text_atomic(out / STATUS_FILE, record.model_dump_json(indent=1) + "\n")
    gha.set_outputs({"history": str(result.path or ""), "history-status": result.status}, env=env)
    if result.status == "found":
        print(f"shard-action fetch-history: {result.reason} -> {result.path}")
    elif result.status == "none":
        message = f"no timing history yet ({result.reason}): this plan uses estimates"
        _tell("notice", message)
    elif result.status == "unusable":
        message = (
            f"{result.reason}; this plan uses estimates and the next trusted report "
            "starts a new history"
        )
        _tell("warning", message)
    else:
        message = f"could not fetch the timing history, planning from estimates: {result.reason}"
        _tell("warning", message)
    return 0


def _api_url(env: Mapping[str, str]) -> str:
    from shard_action.adapters.github_http import api_url_from_env  # noqa: PLC0415

    return api_url_from_env(env)


def _tell(level: Literal["notice", "warning"], message: str) -> None:
    if gha.in_actions():
        gha.annotate(level, message, title="shard-action history")
    else:
        print(f"shard-action fetch-history: {level}: {message}", file=sys.stderr)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "fetch-history",
        help="download the newest history artifact of a successful default-branch run",
        description="Find the newest unexpired history artifact uploaded by a successful run on "
        "the default branch of this repository (never a fork's or a pull request's; only of the "
        "current workflow file when GITHUB_WORKFLOW_REF names it), download "
        f"it through the REST API (GITHUB_API_URL, {TOKEN_HELP}) and unpack it safely into "
        "DIR. No history yet, or the API failing, is "
        "a notice or a warning and exit status 0: the plan then uses estimates. Writes "
        f"DIR/{STATUS_FILE} and the step outputs `history` (path or empty) and "
        "`history-status` (found, none, unusable, error).",
    )
    parser.add_argument(
        "--artifact",
        default="shard-action-history",
        metavar="NAME",
        help="artifact name (default: shard-action-history)",
    )
    parser.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="folder to unpack the history into"
    )
    parser.add_argument(
        "--repo", metavar="OWNER/NAME", help="repository (default: $GITHUB_REPOSITORY)"
    )
    parser.add_argument(
        "--branch",
        metavar="NAME",
        help="the default branch (default: asked from the API); only its runs are trusted",
    )
    add_api_options(parser, retries=4)
    parser.set_defaults(func=_run)
