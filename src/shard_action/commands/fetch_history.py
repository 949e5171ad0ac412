"""``shard-action fetch-history``: the newest trusted history artifact, or a first-run notice.

A plan without the history is still correct (from estimates), so the API failing is a warning
and exit 0 after a bounded wait; a mistake the user can fix (a bad ``--repo``) is exit 2. What
was found goes to ``fetch-history.json`` (``core.fetched``), which the report job reads.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Literal

from shard_action.adapters import gha
from shard_action.adapters.files import make_folder, write_text_atomic
from shard_action.commands.api_options import TOKEN_HELP, add_api_options, api_access, repo_from
from shard_action.errors import InputError

STATUS_FILE = "fetch-history.json"


def _run(args: argparse.Namespace) -> int:
    env = os.environ
    access = api_access(args, env)
    artifact = args.artifact.strip()
    if not artifact:
        raise InputError("--artifact must name the history artifact")
    repo = repo_from(args.repo, env)
    out: Path = args.out.resolve()
    make_folder(out)
    # requests is imported by the commands that call the API only (see api_options)
    from shard_action.adapters.history_fetch import fetch_record  # noqa: PLC0415

    record = fetch_record(
        artifact=artifact, out=out, repo=repo, branch=(args.branch or "").strip() or None,
        token=access.token, retry=access.retry_policy(), env=env,
    )  # fmt: skip
    write_text_atomic(out / STATUS_FILE, record.model_dump_json(indent=1) + "\n")
    gha.set_outputs({"history": record.history or "", "history-status": record.status}, env=env)
    if record.status == "found":
        print(f"shard-action fetch-history: {record.reason} -> {record.history}")
    elif record.status == "none":
        message = f"no timing history yet ({record.reason}): this plan uses estimates"
        _tell("notice", message)
    elif record.status == "unusable":
        message = (
            f"{record.reason}; this plan uses estimates and the next trusted report "
            "starts a new history"
        )
        _tell("warning", message)
    else:
        message = f"could not fetch the timing history, planning from estimates: {record.reason}"
        _tell("warning", message)
    return 0


def _tell(level: Literal["notice", "warning"], message: str) -> None:
    gha.tell(level, message, title="shard-action history", prefix="shard-action fetch-history")


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
