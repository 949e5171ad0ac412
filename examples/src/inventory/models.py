"""Stock items and their validation."""

from __future__ import annotations

import re
from dataclasses import dataclass

SKU_PATTERN = re.compile(r"^[A-Z]{3}-\d{4}$")


class ValidationError(ValueError):
    """An item that cannot be stored."""


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    quantity: int
    unit_price_cents: int

    def __post_init__(self) -> None:
        if not SKU_PATTERN.match(self.sku):
            raise ValidationError(f"bad SKU {self.sku!r}: expected three letters, dash, 4 digits")
        if not self.name.strip():
            raise ValidationError("an item needs a name")
        if self.quantity < 0:
            raise ValidationError(f"negative quantity for {self.sku}")
        if self.unit_price_cents < 0:
            raise ValidationError(f"negative price for {self.sku}")

    @property
    def value_cents(self) -> int:
        return self.quantity * self.unit_price_cents

    def with_quantity(self, quantity: int) -> Item:
        return Item(self.sku, self.name, quantity, self.unit_price_cents)
