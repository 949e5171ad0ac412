"""Clients pointed at the fake GitHub with retry settings small enough for a quick suite."""

from __future__ import annotations

from typing import Any

import requests
from github import Github

from shard_action.adapters.comments import github_client
from shard_action.adapters.github_http import RetryPolicy, make_session
from tests.fakegithub import WRITE_TOKEN, FakeGitHub

#: The production policy's shape with waits in milliseconds.
FAST = RetryPolicy(
    total=10, backoff_factor=0.001, backoff_max=0.01, max_retry_after=3, secondary_rate_wait=0.01
)
REPO = "octo/app"
PR = 7


def client(fake: FakeGitHub, token: str | None = WRITE_TOKEN, **kwargs: Any) -> Github:
    options: dict[str, Any] = {
        "api_url": fake.api_url,
        "retry": FAST,
        "timeout": 5,
        "seconds_between_requests": 0,
        "seconds_between_writes": 0,
    }
    options.update(kwargs)
    return github_client(token, **options)


def session(token: str | None = WRITE_TOKEN, **kwargs: Any) -> requests.Session:
    kwargs.setdefault("retry", FAST)
    kwargs.setdefault("timeout", 5.0)
    return make_session(token, **kwargs)
