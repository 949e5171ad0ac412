"""The jobs of this workflow run from the REST API, for each shard job's set-up (``core.jobs``).

``GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs`` (paged, ``filter=latest``: a re-run's
newest attempt of each job) needs ``actions: read``. Set-up is a nicety: no run id, no token, no
permission, an API error all give no jobs and one sentence why, never a failed report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import requests

from shard_action.adapters.github_http import (
    GitHubAPIError,
    RetryPolicy,
    api_url_from_env,
    iter_items,
    make_session,
)
from shard_action.core.jobs import Job, jobs_of

MAX_PAGES = 10
"""100 jobs a page: a matrix holds at most 256 jobs, plus the plan and report jobs."""
RETRY = RetryPolicy(total=3, backoff_factor=0.5, backoff_max=4.0, max_retry_after=10.0)
"""Patient enough for a blip; set-up is not worth holding the report for long."""


@dataclass(frozen=True, slots=True)
class RunJobs:
    jobs: list[Job]
    notice: str | None = None
    """Why there are no jobs, when it is worth telling (``None`` outside Actions)."""


def list_jobs(
    session: requests.Session, api_url: str, repo: str, run_id: str, *, max_pages: int = MAX_PAGES
) -> list[Job]:
    """Every job of the run's newest attempt (raises :class:`GitHubAPIError`)."""
    url = f"{api_url}/repos/{repo}/actions/runs/{run_id}/jobs"
    params: dict[str, str | int] = {"per_page": 100, "filter": "latest"}
    return jobs_of(iter_items(session, url, "jobs", params=params, max_pages=max_pages))


def read_run_jobs(env: Mapping[str, str], token: str | None, retry: RetryPolicy = RETRY) -> RunJobs:
    """This run's jobs, or none and why (see the module docstring)."""
    run_id = env.get("GITHUB_RUN_ID", "").strip()
    repo = env.get("GITHUB_REPOSITORY", "").strip()
    if not run_id or not repo:
        return RunJobs([])
    lost = "the shards' set-up times are not measured"
    if not token:
        return RunJobs([], f"no token: {lost}")
    session = make_session(token, retry=retry)
    try:
        return RunJobs(list_jobs(session, api_url_from_env(env), repo, run_id))
    except (GitHubAPIError, requests.RequestException) as exc:
        return RunJobs([], f"the jobs of this run could not be read ({exc}): {lost}")
    finally:
        session.close()
