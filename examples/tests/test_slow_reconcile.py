"""Long reconciliation jobs: the heavy tail of the suite, planned in the `slow` lane by marker."""

from __future__ import annotations

import pytest

from inventory.models import Item
from inventory.reports import reconcile

pytestmark = pytest.mark.slow


def _warehouse(size: int) -> list[Item]:
    return [Item(f"WHS-{n:04d}", f"Shelf item {n}", n % 7, 3) for n in range(size)]


def test_two_site_count() -> None:
    recorded = _warehouse(30)
    counted = {item.sku: item.quantity for item in recorded}
    assert reconcile(counted, recorded, seconds_per_item=0.06) == {}


def test_full_warehouse_count() -> None:
    recorded = _warehouse(50)
    counted = {item.sku: item.quantity for item in recorded}
    counted["WHS-0003"] += 2
    assert reconcile(counted, recorded, seconds_per_item=0.06) == {"WHS-0003": 2}


def test_year_end_count() -> None:
    recorded = _warehouse(80)
    counted = {item.sku: item.quantity for item in recorded if item.sku != "WHS-0010"}
    assert reconcile(counted, recorded, seconds_per_item=0.06) == {"WHS-0010": -(10 % 7)}
