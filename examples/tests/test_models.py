"""Fast unit tests: validation of items (default lane)."""

from __future__ import annotations

import pytest

from inventory.models import Item, ValidationError


@pytest.mark.parametrize(
    "sku",
    ["", "BOL-01", "bol-0001", "BOL0001", "BOLT-0001", "BOL-00001", "B0L-0001", " BOL-0001"],
)
def test_bad_sku_is_refused(sku: str) -> None:
    with pytest.raises(ValidationError, match="bad SKU"):
        Item(sku, "Bolt", 1, 1)


@pytest.mark.parametrize(
    "quantity, price, message",
    [(-1, 10, "negative quantity"), (1, -10, "negative price")],
)
def test_negative_numbers_are_refused(quantity: int, price: int, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Item("BOL-0001", "Bolt", quantity, price)


def test_blank_name_is_refused() -> None:
    with pytest.raises(ValidationError, match="needs a name"):
        Item("BOL-0001", "   ", 1, 1)


def test_value_is_quantity_times_price() -> None:
    assert Item("BOL-0001", "Bolt", 12, 15).value_cents == 180


def test_with_quantity_keeps_the_rest() -> None:
    item = Item("BOL-0001", "Bolt", 12, 15)
    assert item.with_quantity(3) == Item("BOL-0001", "Bolt", 3, 15)
    assert item.quantity == 12
