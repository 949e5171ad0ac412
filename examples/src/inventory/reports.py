"""Reports over a list of items: totals, restock proposals, and a slow reconciliation."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from inventory.models import Item


def total_value_cents(items: Iterable[Item]) -> int:
    return sum(item.value_cents for item in items)


def restock_plan(items: Iterable[Item], minimum: int, batch: int = 10) -> dict[str, int]:
    """Units to order per SKU so that every item has at least ``minimum``, in whole batches."""
    if batch <= 0:
        raise ValueError("batch must be positive")
    plan: dict[str, int] = {}
    for item in items:
        short = minimum - item.quantity
        if short > 0:
            plan[item.sku] = -(-short // batch) * batch
    return plan


def reconcile(
    counted: Mapping[str, int], recorded: Iterable[Item], *, seconds_per_item: float = 0.0
) -> dict[str, int]:
    """Differences counted - recorded per SKU (a warehouse count takes time: simulated)."""
    items = list(recorded)
    differences: dict[str, int] = {}
    for item in items:
        time.sleep(seconds_per_item)
        delta = counted.get(item.sku, 0) - item.quantity
        if delta:
            differences[item.sku] = delta
    known = {item.sku for item in items}
    for sku, quantity in counted.items():
        if sku not in known and quantity:
            differences[sku] = quantity  # found on the shelf, never recorded
    return differences
