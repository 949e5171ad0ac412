"""A dict in the process: fast, and gone when the process ends."""

from __future__ import annotations

from inventory.backends.base import Store
from inventory.models import Item


class MemoryStore(Store):
    name = "memory"

    def __init__(self) -> None:
        self._items: dict[str, Item] = {}

    def put(self, item: Item) -> None:
        self._items[item.sku] = item

    def get(self, sku: str) -> Item | None:
        return self._items.get(sku)

    def all(self) -> list[Item]:
        return [self._items[sku] for sku in sorted(self._items)]

    def delete(self, sku: str) -> bool:
        return self._items.pop(sku, None) is not None
