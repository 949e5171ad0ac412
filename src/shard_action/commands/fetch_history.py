"""``shard-action fetch-history``: the newest trusted history artifact, or a first-run notice.

The plan step wants the timing history of earlier runs, but a plan without it is still a correct
plan (from estimates), and the GitHub API is sometimes slow, rate-limited or down. So this command
never fails the job over the API: it waits a bounded time (a few retries with backoff), then
warns and lets the plan go on. It does fail (exit 2) for a mistake the user can fix, such as a
malformed ``--repo``, because retrying tomorrow would not help.

Besides the step output ``history`` (the file's path, or empty) it leaves ``fetch-history.json``
in the output folder: ``status`` is ``found``, ``none`` (no history yet), ``unusable`` (an
artifact that is unsafe to unpack or is not a history we can read: it is set aside, and the next
trusted report starts a new history in its place) or ``error`` (the API failed, or the search
reached its limit of runs while a trusted history may lie further back). The action
carries that file to the report job inside the plan artifact, so a run that could not *read* the
history does not *replace* it with a fresh one-run history.

Only the history of the same workflow file is read when ``GITHUB_WORKFLOW_REF`` names it: two
workflows of one repository may both upload ``shard-action-history``, each timing its own tests.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from shard_action.adapters import gha
from shard_action.adapters.files import make_folder, write_text_atomic
from shard_action.adapters.history_file import read_history
from shard_action.core.fetched import FetchedHistory, FetchStatus
from shard_action.errors import InputError

if TYPE_CHECKING:
    from shard_action.adapters.github_http import RetryPolicy

STATUS_FILE = "fetch-history.json"
TOKEN_VARS = ("SHARD_ACTION_TOKEN", "GITHUB_TOKEN", "GH_TOKEN")
"""Where the token is read from, first found wins. It is never a flag: flags end up in logs."""


def token_from_env(env: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if env is None else env
    for name in TOKEN_VARS:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


#: The running workflow (``owner/repo/.github/workflows/tests.yml@refs/heads/main``), set by
#: GitHub; absent locally and on older GitHub Enterprise Server versions.
WORKFLOW_REF_VARIABLE: Final = "GITHUB_WORKFLOW_REF"

#: Variables that set the API options' defaults, for a job that cannot pass flags (the action).
RETRIES_VARIABLE: Final = "SHARD_ACTION_API_RETRIES"
BACKOFF_VARIABLE: Final = "SHARD_ACTION_API_BACKOFF"


def _from_env(
    env: Mapping[str, str], name: str, kind: type[int] | type[float], default: float
) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise InputError(f"not a number: {raw!r}", source=f"environment variable {name}") from None
    if value < 0:
        raise InputError(f"must be 0 or more, got {raw}", source=f"environment variable {name}")
    return value


def add_api_options(parser: argparse.ArgumentParser, *, retries: int) -> None:
    """How patient to be with the API; the defaults suit a CI job, tests pass small values.

    ``SHARD_ACTION_API_RETRIES`` / ``SHARD_ACTION_API_BACKOFF`` change the defaults (read when
    the command runs), for steps of the action that take no extra arguments.
    """
    parser.add_argument(
        "--retries",
        type=int,
        default=None,
        metavar="N",
        help=f"retries per API request on 5xx, 429, rate limits and resets (default: "
        f"${RETRIES_VARIABLE} or {retries})",
    )
    parser.add_argument(
        "--backoff",
        type=float,
        default=None,
        metavar="SECONDS",
        help=f"first wait of the exponential backoff between retries (default: "
        f"${BACKOFF_VARIABLE} or 1); it also caps the pause GitHub asks for between writes",
    )
    parser.set_defaults(api_retries_default=retries)


def api_patience(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[int, float]:
    """``(retries, backoff)``: the flags, else the variables, else the command's defaults."""
    retries = args.retries
    if retries is None:
        retries = int(_from_env(env, RETRIES_VARIABLE, int, args.api_retries_default))
    backoff = args.backoff
    if backoff is None:
        backoff = _from_env(env, BACKOFF_VARIABLE, float, 1.0)
    return retries, backoff


def quiet_libraries(env: Mapping[str, str] | None = None) -> None:
    """Our own messages say what happened; the libraries' warnings would say it twice.

    Python prints warnings of loggers without handlers to stderr ("last resort"); a
    ``NullHandler`` on the chatty loggers stops that without changing their levels, so whoever
    configures logging (a test's caplog, ``RUNNER_DEBUG=1`` below) still gets every record.
    """
    env = os.environ if env is None else env
    if env.get("RUNNER_DEBUG") == "1":
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
        return
    for name in ("github", "urllib3", "shard_action"):
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())
        for handler in logger.handlers:
            # PyGithub prints its INFO lines ("Request POST ... failed with 403") to stderr.
            if type(handler) is logging.StreamHandler and handler.level < logging.WARNING:
                handler.setLevel(logging.WARNING)


def retry_policy(args: argparse.Namespace) -> RetryPolicy:
    # Every command is imported to build the CLI; only these two pay for requests/PyGithub.
    from shard_action.adapters.github_http import RetryPolicy  # noqa: PLC0415

    if args.retries < 0:
        raise InputError(f"--retries must be 0 or more, got {args.retries}")
    if args.backoff < 0:
        raise InputError(f"--backoff must be 0 or more, got {args.backoff}")
    backoff = float(args.backoff)
    return RetryPolicy(
        total=args.retries,
        backoff_factor=backoff,
        backoff_max=max(backoff, min(30.0, 16 * backoff)),
        max_retry_after=max(backoff, min(60.0, 60 * backoff)),
        secondary_rate_wait=max(backoff, min(60.0, 60 * backoff)),
    )


def repo_from(value: str | None, env: Mapping[str, str]) -> str | None:
    repo = (value or env.get("GITHUB_REPOSITORY", "")).strip()
    if not repo:
        return None
    owner, _, name = repo.partition("/")
    if not owner or not name or "/" in name:
        raise InputError(f"repository must be OWNER/NAME, got {repo!r}", source="--repo")
    return repo


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
        "it through the REST API (GITHUB_API_URL, token from SHARD_ACTION_TOKEN or "
        "GITHUB_TOKEN) and unpack it safely into DIR. No history yet, or the API failing, is "
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
