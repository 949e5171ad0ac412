"""The process runs with exactly the backend its lane set (storage lane)."""

from __future__ import annotations

import os

from inventory.backends import BACKEND_VAR, DEFAULT_BACKEND, active_backend
from inventory.backends.base import Store


def test_store_is_the_lane_backend(store: Store) -> None:
    assert store.name == os.environ.get(BACKEND_VAR, DEFAULT_BACKEND)


def test_backend_pinned_for_the_whole_process() -> None:
    # Pinned by the first test of this process; the environment still agrees.
    assert active_backend() == os.environ.get(BACKEND_VAR, DEFAULT_BACKEND)
