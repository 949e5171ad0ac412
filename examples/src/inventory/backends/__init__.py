"""Where stock is kept: one backend per process, chosen by ``$INVENTORY_BACKEND``.

The variable is read once, the first time a store is asked for, and then pinned: a process that
sees it change afterwards raises :class:`BackendSwitched` instead of quietly mixing two
backends' data. That is the contract shard-action's isolated lanes keep (one backend per
process), and the storage tests check it on every test.
"""

from __future__ import annotations

import os
from pathlib import Path

from inventory.backends.base import Store
from inventory.backends.memory import MemoryStore
from inventory.backends.sqlite import SqliteStore

BACKEND_VAR = "INVENTORY_BACKEND"
DEFAULT_BACKEND = "memory"
BACKENDS = ("memory", "sqlite")


class BackendSwitched(RuntimeError):
    """The backend variable changed after the process picked its backend."""


def make_store(name: str, *, folder: Path | None = None) -> Store:
    """A fresh, empty store of the named backend (``folder`` holds sqlite's file)."""
    if name == "memory":
        return MemoryStore()
    if name == "sqlite":
        return SqliteStore(":memory:" if folder is None else folder / "inventory.sqlite3")
    raise ValueError(f"unknown backend {name!r} (known: {', '.join(BACKENDS)})")


class BackendSelector:
    """Reads the backend variable once and refuses any later change."""

    def __init__(self, var: str = BACKEND_VAR) -> None:
        self.var = var
        self.pinned: str | None = None

    def current(self) -> str:
        seen = os.environ.get(self.var, DEFAULT_BACKEND)
        if self.pinned is None:
            if seen not in BACKENDS:
                raise ValueError(f"${self.var}={seen!r} is not a backend ({', '.join(BACKENDS)})")
            self.pinned = seen
        elif seen != self.pinned:
            raise BackendSwitched(
                f"this process started with {self.var}={self.pinned} and now sees {seen}: "
                "one process must never switch backend"
            )
        return self.pinned


_selector = BackendSelector()


def active_backend() -> str:
    """The backend of this process (pinned at first use)."""
    return _selector.current()


def open_store(folder: Path | None = None) -> Store:
    return make_store(active_backend(), folder=folder)
