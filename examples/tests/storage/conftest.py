"""The storage lane: every test goes through the backend named by ``$INVENTORY_BACKEND``.

shard-action plans these tests once per backend (``backends = ["sqlite", "memory"]``) in
isolated lanes, so each process sees one backend for its whole life. The autouse guard below
fails any test of a process whose backend variable changed after start: the symptom of a runner
that mixes lanes in one process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from inventory.backends import BACKEND_VAR, active_backend, open_store
from inventory.backends.base import Store

AT_START = os.environ.get(BACKEND_VAR)
"""The backend variable when this process imported the lane's tests."""


@pytest.fixture(autouse=True)
def one_backend_per_process() -> Iterator[str]:
    seen = os.environ.get(BACKEND_VAR)
    assert seen == AT_START, (
        f"{BACKEND_VAR} changed inside this process: {AT_START!r} at start, {seen!r} now"
    )
    backend = active_backend()  # pins the backend on first use
    yield backend
    assert active_backend() == backend  # raises BackendSwitched if it changed meanwhile


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(tmp_path)
    yield opened
    opened.close()
