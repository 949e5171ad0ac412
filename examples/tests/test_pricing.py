"""Fast unit tests of prices (default lane), including test ids that are hard to pass around.

The coupon ids hold spaces, unicode, ``::``, quotes and ``$()``: shard-action hands ids to pytest
through a file, never through a shell, so they need no escaping anywhere.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.pricing import (
    add_tax,
    apply_percent,
    coupon_percent,
    format_cents,
    order_total,
    volume_discount,
)


@pytest.mark.parametrize(
    "quantity, percent",
    [(0, 0), (1, 0), (9, 0), (10, 5), (49, 5), (50, 10), (99, 10), (100, 15), (10_000, 15)],
)
def test_volume_discount_tiers(quantity: int, percent: int) -> None:
    assert volume_discount(quantity) == percent


def test_negative_quantity_has_no_discount() -> None:
    with pytest.raises(ValueError, match="negative"):
        volume_discount(-1)


@pytest.mark.parametrize(
    "cents, percent, expected",
    [(1000, 10, 900), (250, 50, 125), (5, 50, 2), (15, 50, 8), (999, 0, 999), (999, 100, 0)],
)
def test_apply_percent_rounds_half_to_even(cents: int, percent: int, expected: int) -> None:
    assert apply_percent(cents, percent) == expected


@pytest.mark.parametrize("percent", [-1, 101])
def test_apply_percent_range(percent: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        apply_percent(100, percent)


@pytest.mark.parametrize(
    "code, percent",
    [
        pytest.param("WELCOME10", 10, id="welcome 10% off"),
        pytest.param("CAFÉ-CRÈME", 20, id="café crème ☕"),
        pytest.param("tier::gold", 25, id="tier::gold"),
    ],
)
def test_known_coupons(code: str, percent: int) -> None:
    assert coupon_percent(code) == percent


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("$(rm -rf ~)", id="shell $(echo pwned) `uname`"),
        pytest.param('say "cheese"', id="quotes \"double\" and 'single'"),
        pytest.param("", id="empty; echo gotcha"),
    ],
)
def test_unknown_coupons_are_refused(code: str) -> None:
    with pytest.raises(ValueError, match="unknown coupon"):
        coupon_percent(code)


def test_order_total_applies_discount_coupon_then_tax() -> None:
    # 60 x 1.00 = 60.00; volume -10% = 54.00; WELCOME10 -10% = 48.60; +20% tax = 58.32
    assert order_total(100, 60, coupon="WELCOME10", tax="20") == 5832


def test_order_total_without_extras() -> None:
    assert order_total(199, 3) == 597


def test_add_tax_rounds_half_to_even() -> None:
    assert add_tax(5, Decimal(10)) == 6  # 5.5 -> 6
    assert add_tax(15, Decimal(10)) == 16  # 16.5 -> 16


@pytest.mark.parametrize(
    "cents, text",
    [(0, "0.00 EUR"), (5, "0.05 EUR"), (123456, "1,234.56 EUR"), (-250, "-2.50 EUR")],
)
def test_format_cents(cents: int, text: str) -> None:
    assert format_cents(cents) == text
