"""A tiny inventory library: items, prices, stock kept in a pluggable store, a journal and a
status server. Small on purpose; its tests are what the example is about."""

from inventory.models import Item, ValidationError

__all__ = ["Item", "ValidationError"]
