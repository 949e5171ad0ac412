"""Reports (default lane): durations from milliseconds to about a second."""

from __future__ import annotations

import pytest

from inventory.models import Item
from inventory.reports import reconcile, restock_plan, total_value_cents


def test_total_value(catalogue: list[Item]) -> None:
    assert total_value_cents(catalogue) == 120 * 15 + 8 * 5 + 0 + 45 * 9


def test_restock_plan_orders_whole_batches(catalogue: list[Item]) -> None:
    assert restock_plan(catalogue, minimum=20) == {"NUT-0002": 20, "WSH-0003": 20}


def test_restock_plan_nothing_to_order(catalogue: list[Item]) -> None:
    assert restock_plan(catalogue, minimum=0) == {}


def test_restock_plan_needs_a_positive_batch(catalogue: list[Item]) -> None:
    with pytest.raises(ValueError, match="positive"):
        restock_plan(catalogue, minimum=5, batch=0)


def test_reconcile_finds_differences(catalogue: list[Item]) -> None:
    counted = {"BOL-0001": 118, "NUT-0002": 8, "SCR-0004": 45, "NEW-0009": 3}
    # WSH-0003 was recorded with 0 units and not counted: no difference
    assert reconcile(counted, catalogue, seconds_per_item=0.05) == {"BOL-0001": -2, "NEW-0009": 3}


@pytest.mark.parametrize("items", [5, 10, 20, 40])
def test_reconcile_batch(items: int) -> None:
    recorded = [Item(f"BAT-{n:04d}", f"Batch item {n}", n, 1) for n in range(items)]
    counted = {item.sku: item.quantity for item in recorded}
    counted["BAT-0000"] = 1
    assert reconcile(counted, recorded, seconds_per_item=0.03) == {"BAT-0000": 1}
