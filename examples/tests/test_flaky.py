"""A controllably flaky test (default lane).

Deterministic by default. With ``EXAMPLE_FLAKY_DIR=<folder>`` it fails on its first attempt and
passes when run again in a fresh process: it leaves a marker file in that folder the first time.
shard-action re-runs it and must call it *flaky*, not broken, and nothing else flaky.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from inventory.pricing import price_table

FLAKY_DIR_VAR = "EXAMPLE_FLAKY_DIR"


def test_price_table_cache_warms_up() -> None:
    price_table.cache_clear()
    first = price_table(199, 20)
    second = price_table(199, 20)
    assert first is second
    assert price_table.cache_info().hits == 1
    assert first[9] == 1890  # 10 units: 19.90 less 5% = 18.905, rounded half to even

    folder = os.environ.get(FLAKY_DIR_VAR)
    if folder:
        marker = Path(folder) / "test_price_table_cache_warms_up.failed-once"
        if not marker.exists():
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(f"failed once in process {os.getpid()}\n", encoding="utf-8")
            pytest.fail(f"planted flake: first attempt fails because ${FLAKY_DIR_VAR} is set")
