"""Prices: volume discounts, coupons and tax, in integer cents (no float money)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

# (minimum quantity, discount in percent), highest tier first
VOLUME_TIERS: tuple[tuple[int, int], ...] = ((100, 15), (50, 10), (10, 5))
COUPONS: dict[str, int] = {"WELCOME10": 10, "CAFÉ-CRÈME": 20, "tier::gold": 25}


def volume_discount(quantity: int) -> int:
    """Discount in percent for buying ``quantity`` units at once."""
    if quantity < 0:
        raise ValueError("quantity must not be negative")
    for minimum, percent in VOLUME_TIERS:
        if quantity >= minimum:
            return percent
    return 0


def apply_percent(cents: int, percent: int) -> int:
    """``cents`` less ``percent`` percent, rounded half to even (as accountants do)."""
    if not 0 <= percent <= 100:
        raise ValueError(f"percent out of range: {percent}")
    value = Decimal(cents) * (Decimal(100 - percent) / Decimal(100))
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def coupon_percent(code: str) -> int:
    try:
        return COUPONS[code]
    except KeyError:
        raise ValueError(f"unknown coupon {code!r}") from None


def add_tax(cents: int, rate_percent: Decimal) -> int:
    value = Decimal(cents) * (1 + rate_percent / 100)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def order_total(
    unit_price_cents: int, quantity: int, *, coupon: str | None = None, tax: str = "0"
) -> int:
    """Total of one order line: volume discount, then coupon, then tax."""
    cents = apply_percent(unit_price_cents * quantity, volume_discount(quantity))
    if coupon is not None:
        cents = apply_percent(cents, coupon_percent(coupon))
    return add_tax(cents, Decimal(tax))


@lru_cache(maxsize=256)
def price_table(unit_price_cents: int, max_quantity: int) -> tuple[int, ...]:
    """Totals for 1..max_quantity units; cached because catalogues ask for it on every page."""
    return tuple(order_total(unit_price_cents, q) for q in range(1, max_quantity + 1))


def format_cents(cents: int, currency: str = "EUR") -> str:
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{rest:02d} {currency}"
