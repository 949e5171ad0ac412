"""Stock operations through whichever backend this process runs with (storage lane)."""

from __future__ import annotations

import pytest

from inventory.backends.base import OutOfStock, Store
from inventory.models import Item


def test_put_then_get(store: Store, catalogue: list[Item]) -> None:
    for item in catalogue:
        store.put(item)
    assert store.get("NUT-0002") == catalogue[1]
    assert store.get("MIS-0000") is None


def test_all_is_sorted_by_sku(store: Store, catalogue: list[Item]) -> None:
    for item in reversed(catalogue):
        store.put(item)
    assert [i.sku for i in store.all()] == sorted(i.sku for i in catalogue)


def test_put_replaces(store: Store) -> None:
    store.put(Item("BOL-0001", "Bolt", 1, 10))
    store.put(Item("BOL-0001", "Bolt (zinc)", 2, 12))
    assert store.all() == [Item("BOL-0001", "Bolt (zinc)", 2, 12)]


def test_delete(store: Store, catalogue: list[Item]) -> None:
    store.put(catalogue[0])
    assert store.delete(catalogue[0].sku)
    assert not store.delete(catalogue[0].sku)
    assert store.all() == []


@pytest.mark.parametrize("delta, left", [(5, 13), (-8, 0), (0, 8)])
def test_adjust(store: Store, catalogue: list[Item], delta: int, left: int) -> None:
    store.put(catalogue[1])  # 8 nuts
    assert store.adjust("NUT-0002", delta).quantity == left
    assert store.get("NUT-0002") == catalogue[1].with_quantity(left)


def test_cannot_take_more_than_stock(store: Store, catalogue: list[Item]) -> None:
    store.put(catalogue[1])
    with pytest.raises(OutOfStock, match="8 in stock, 9 requested"):
        store.adjust("NUT-0002", -9)
    assert store.get("NUT-0002") == catalogue[1]


def test_total_value(store: Store, catalogue: list[Item]) -> None:
    for item in catalogue:
        store.put(item)
    assert store.total_value_cents() == sum(i.value_cents for i in catalogue)


@pytest.mark.parametrize("size", [100, 400, 1600])
def test_bulk_load(store: Store, size: int) -> None:
    for n in range(size):
        store.put(Item(f"BLK-{n:04d}", f"Bulk {n}", n, 2))
    items = store.all()
    assert len(items) == size
    assert store.total_value_cents() == 2 * sum(range(size))


def test_reconcile_against_the_store(store: Store) -> None:
    from inventory.reports import reconcile

    for n in range(40):
        store.put(Item(f"REC-{n:04d}", f"Counted {n}", n, 1))
    counted = {item.sku: item.quantity for item in store.all()}
    counted["REC-0007"] = 0
    assert reconcile(counted, store.all(), seconds_per_item=0.03) == {"REC-0007": -7}
