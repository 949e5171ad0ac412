"""The interface every backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod

from inventory.models import Item


class OutOfStock(ValueError):
    """Taking more units than the store holds."""


class Store(ABC):
    name: str

    @abstractmethod
    def put(self, item: Item) -> None:
        """Insert or replace an item."""

    @abstractmethod
    def get(self, sku: str) -> Item | None: ...

    @abstractmethod
    def all(self) -> list[Item]:
        """Every item, ordered by SKU."""

    @abstractmethod
    def delete(self, sku: str) -> bool: ...

    def adjust(self, sku: str, delta: int) -> Item:
        """Add (or with a negative delta, take) units; never below zero."""
        item = self.get(sku)
        if item is None:
            raise KeyError(sku)
        if item.quantity + delta < 0:
            raise OutOfStock(f"{sku}: {item.quantity} in stock, {-delta} requested")
        updated = item.with_quantity(item.quantity + delta)
        self.put(updated)
        return updated

    def total_value_cents(self) -> int:
        return sum(item.value_cents for item in self.all())

    def close(self) -> None:
        """Release resources (nothing to do for most backends)."""
