"""Pytest fixtures for the fake GitHub API; import them into any ``conftest.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakegithub.server import FakeGitHub


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """A running fake GitHub API (``.api_url``) with no repositories yet; stopped afterwards."""
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture
def fake_ghes() -> Iterator[FakeGitHub]:
    """The fake as GitHub Enterprise Server would look: the API under ``/api/v3``."""
    with FakeGitHub(api_prefix="/api/v3") as fake:
        yield fake
