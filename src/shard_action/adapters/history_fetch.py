"""What ``fetch-history`` found, as the record the report job reads (``core.fetched``).

A plan without the history is still correct (from estimates), so every API or artifact trouble
becomes a status here, never an exception: ``none`` (no history yet), ``unusable`` (set aside)
or ``error`` (the API failed or the search hit its limit: the report must not replace it).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

import requests

from shard_action.adapters.artifacts import (
    SearchLimitReached,
    fetch_history,
    workflow_file_from_ref,
)
from shard_action.adapters.github_http import (
    GitHubAPIError,
    RetryPolicy,
    api_url_from_env,
    make_session,
)
from shard_action.adapters.history_file import read_history
from shard_action.core.fetched import FetchedHistory, FetchStatus
from shard_action.errors import InputError

#: The running workflow (``owner/repo/.github/workflows/tests.yml@refs/heads/main``), set by
#: GitHub; absent locally and on older GitHub Enterprise Server versions.
WORKFLOW_REF_VARIABLE: Final = "GITHUB_WORKFLOW_REF"


def fetch_record(
    *,
    artifact: str,
    out: Path,
    repo: str | None,
    branch: str | None,
    token: str | None,
    retry: RetryPolicy,
    env: Mapping[str, str],
) -> FetchedHistory:
    """Look for the history artifact of ``repo`` and unpack it into ``out``.

    ``GITHUB_API_URL`` says where the API is; ``GITHUB_WORKFLOW_REF`` limits the search to runs
    of the same workflow file (another workflow's history times other tests).
    """
    api_url = api_url_from_env(env)
    if repo is None:
        return _record("none", "no repository given (GITHUB_REPOSITORY is not set)")
    workflow = workflow_file_from_ref(env.get(WORKFLOW_REF_VARIABLE), repo)
    session = make_session(token, retry=retry)
    try:
        found = fetch_history(
            session, api_url, repo, artifact_name=artifact, dest=out, default_branch=branch,
            workflow=workflow,
        )  # fmt: skip
    except SearchLimitReached as exc:
        # Not "none": a history beyond the limit must not be replaced by a one-run one.
        return _record("error", f"the history search reached its limit: {exc}")
    except (GitHubAPIError, requests.RequestException, OSError) as exc:
        return _record("error", f"the GitHub API failed: {exc}")
    except InputError as exc:
        return _record("unusable", f"the history artifact cannot be used: {exc}")
    finally:
        session.close()
    if found.path is None:
        return _record("none", found.reason)
    try:
        read_history(found.path)
    except InputError as exc:
        # Keep it for a human to look at, out of the way of the plan and the report.
        found.path.replace(found.path.with_name(found.path.name + ".unusable"))
        return _record("unusable", f"{found.reason}, but it cannot be used: {exc}")
    return FetchedHistory(
        status="found",
        reason=found.reason,
        history=str(found.path),
        run_id=found.run.id if found.run is not None else None,
        artifact_id=found.artifact.id if found.artifact is not None else None,
    )


def _record(status: FetchStatus, reason: str) -> FetchedHistory:
    return FetchedHistory(status=status, reason=reason)
