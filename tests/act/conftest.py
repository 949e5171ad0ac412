"""Fixtures of the act scenarios: one toolkit per session (official actions, wheelhouse)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.act.world import MissingActions, Toolkit, build_toolkit


@pytest.fixture(scope="session")
def toolkit(tmp_path_factory: pytest.TempPathFactory) -> Toolkit:
    """Built once per session; a missing ``shared/actions`` fails the tests, it never skips."""
    try:
        return build_toolkit(tmp_path_factory.mktemp("act-toolkit"))
    except MissingActions as missing:
        pytest.fail(str(missing), pytrace=False)


@pytest.fixture(scope="module")
def act_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("act-logs")
