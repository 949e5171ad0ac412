"""Fixtures shared by every lane."""

from __future__ import annotations

import pytest

from inventory.models import Item


@pytest.fixture
def catalogue() -> list[Item]:
    return [
        Item("BOL-0001", "Bolt M6", 120, 15),
        Item("NUT-0002", "Nut M6", 8, 5),
        Item("WSH-0003", "Washer M6", 0, 2),
        Item("SCR-0004", "Wood screw 4x40", 45, 9),
    ]
