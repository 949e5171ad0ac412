"""Unit tests of the backend factory and of the one-backend-per-process guard (default lane).

Every backend's code runs here, whatever ``$INVENTORY_BACKEND`` says, so line coverage of a
plain serial run equals that of the sharded run whose storage lane fans out over both backends.
The guard is tested on a fresh selector: the process's own pinned backend is never touched.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from inventory.backends import (
    BACKENDS,
    BackendSelector,
    BackendSwitched,
    make_store,
)
from inventory.backends.base import OutOfStock
from inventory.models import Item


@pytest.mark.parametrize("name", BACKENDS)
def test_every_backend_stores_and_forgets(name: str, tmp_path: Path) -> None:
    store = make_store(name, folder=tmp_path)
    try:
        assert store.name == name
        store.put(Item("BOL-0001", "Bolt", 5, 15))
        store.put(Item("AXE-0001", "Axe", 1, 2500))
        assert store.get("BOL-0001") == Item("BOL-0001", "Bolt", 5, 15)
        assert [i.sku for i in store.all()] == ["AXE-0001", "BOL-0001"]
        assert store.adjust("BOL-0001", -5).quantity == 0
        with pytest.raises(OutOfStock):
            store.adjust("BOL-0001", -1)
        with pytest.raises(KeyError):
            store.adjust("NOP-0000", 1)
        assert store.total_value_cents() == 2500
        assert store.delete("AXE-0001") is True
        assert store.delete("AXE-0001") is False
        assert store.get("AXE-0001") is None
    finally:
        store.close()


def test_sqlite_in_memory_without_folder() -> None:
    store = make_store("sqlite")
    store.put(Item("BOL-0001", "Bolt", 5, 15))
    assert store.all() == [Item("BOL-0001", "Bolt", 5, 15)]
    store.close()


def test_unknown_backend() -> None:
    with pytest.raises(ValueError, match="unknown backend 'postgres'"):
        make_store("postgres")


def test_selector_pins_the_first_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAMPLE_TEST_BACKEND", "sqlite")
    selector = BackendSelector("EXAMPLE_TEST_BACKEND")
    assert selector.current() == "sqlite"
    assert selector.current() == "sqlite"
    monkeypatch.setenv("EXAMPLE_TEST_BACKEND", "memory")
    with pytest.raises(BackendSwitched, match="never switch backend"):
        selector.current()


def test_selector_default_and_bad_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXAMPLE_TEST_BACKEND", raising=False)
    assert BackendSelector("EXAMPLE_TEST_BACKEND").current() == "memory"
    monkeypatch.setenv("EXAMPLE_TEST_BACKEND", "mongo")
    with pytest.raises(ValueError, match="not a backend"):
        BackendSelector("EXAMPLE_TEST_BACKEND").current()
