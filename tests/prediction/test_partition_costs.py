"""Partitioning with a cost per group (a file's collection) that each part holding it pays."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shard_action.core.partition import (
    Algorithm,
    loads_with_costs,
    lower_bound_with_costs,
    partition,
)

items = st.lists(
    st.tuples(st.floats(0, 50, allow_nan=False), st.integers(0, 7)), min_size=1, max_size=60
)
costs = st.lists(st.floats(0, 30, allow_nan=False), min_size=8, max_size=8)


@settings(max_examples=300, deadline=None)
@given(items, st.integers(1, 9), costs)
def test_with_group_costs_every_rule_holds_and_lpt_is_never_better(
    spec: list[tuple[float, int]], parts: int, group_costs: list[float]
) -> None:
    weights = [w for w, _ in spec]
    groups = [g for _, g in spec]
    got = partition(weights, parts, Algorithm.BALANCED, groups, group_costs)
    assert sorted(i for g in got for i in g) == list(range(len(weights)))
    assert all(got) and len(got) == min(parts, len(weights))
    assert all(g == sorted(g) for g in got) and [g[0] for g in got] == sorted(g[0] for g in got)
    assert got == partition(weights, parts, Algorithm.BALANCED, groups, group_costs)
    span = max(loads_with_costs(weights, groups, group_costs, got))
    lpt = partition(weights, parts, Algorithm.LPT)
    assert span <= max(loads_with_costs(weights, groups, group_costs, lpt)) * (1 + 1e-9)
    assert span >= lower_bound_with_costs(weights, parts, groups, group_costs) * (1 - 1e-9)


def test_a_file_with_a_heavy_import_is_not_split_for_nothing() -> None:
    # four files of 4 x 1 s tests; f0 costs 6 s to import, the others 0.1 s; two parts
    weights = [1.0] * 16
    groups = [i // 4 for i in range(16)]
    heavy = [6.0, 0.1, 0.1, 0.1]
    got = partition(weights, 2, Algorithm.BALANCED, groups, heavy)
    holding = [p for p in got if any(groups[i] == 0 for i in p)]
    assert len(holding) == 1  # f0 whole, in one part
    # by hand: f0 alone (4 + 6 = 10) against f1-f3 (12 + 0.3 = 12.3)
    assert max(loads_with_costs(weights, groups, heavy, got)) <= 12.3 + 1e-9
    # without costs the same input cuts files to reach 8 | 8, which really costs more
    blind = partition(weights, 2, Algorithm.BALANCED, groups)
    assert max(loads_with_costs(weights, groups, heavy, blind)) > 12.3
