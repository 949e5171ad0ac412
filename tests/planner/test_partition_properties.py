"""Properties of the partitioning algorithms on random weights."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shard_action.core.partition import Algorithm, lower_bound, makespan, partition

# Zeros, denormals, tiny, ordinary and huge values: ties, zero weights and one dominating item.
weight = st.one_of(
    st.just(0.0),
    st.just(5e-324),  # the smallest float: shares of it underflow to zero
    st.floats(min_value=1e-6, max_value=1e-3),
    st.floats(min_value=0.01, max_value=100.0),
    st.floats(min_value=1e4, max_value=1e7),
)
weights_lists = st.lists(weight, min_size=0, max_size=60)
parts_counts = st.integers(min_value=1, max_value=70)
group_ids = st.lists(st.integers(min_value=0, max_value=6), min_size=60, max_size=60)


def _check_shape(weights: list[float], parts: int, groups: list[list[int]]) -> None:
    assert sorted(i for g in groups for i in g) == list(range(len(weights)))
    assert len(groups) == min(parts, len(weights))
    assert all(groups), "an empty group"
    assert all(g == sorted(g) for g in groups)
    assert [g[0] for g in groups] == sorted(g[0] for g in groups)


@settings(max_examples=300, deadline=None)
@given(weights_lists, parts_counts, st.sampled_from(Algorithm))
def test_every_item_once_and_no_empty_group(
    weights: list[float], parts: int, algorithm: Algorithm
) -> None:
    _check_shape(weights, parts, algorithm(weights, parts))


@settings(max_examples=200, deadline=None)
@given(weights_lists, parts_counts, group_ids)
def test_grouped_input_keeps_the_same_shape(
    weights: list[float], parts: int, groups: list[int]
) -> None:
    result = partition(weights, parts, Algorithm.BALANCED, groups[: len(weights)])
    _check_shape(weights, parts, result)


@settings(max_examples=300, deadline=None)
@given(weights_lists, parts_counts, st.booleans(), group_ids)
def test_balanced_is_never_worse_than_lpt_nor_below_the_bound(
    weights: list[float], parts: int, grouped: bool, groups: list[int]
) -> None:
    lpt = makespan(weights, Algorithm.LPT(weights, parts))
    balanced = makespan(
        weights, partition(weights, parts, groups=groups[: len(weights)] if grouped else None)
    )
    bound = lower_bound(weights, parts)
    assert balanced <= lpt
    assert balanced >= bound * (1 - 1e-12)


@settings(max_examples=100, deadline=None)
@given(weights_lists, parts_counts, st.sampled_from(Algorithm))
def test_same_input_same_groups(weights: list[float], parts: int, algorithm: Algorithm) -> None:
    assert algorithm(list(weights), parts) == algorithm(list(weights), parts)


@st.composite
def perfect_instances(draw: st.DrawFn) -> tuple[list[float], int, float]:
    """Integer weights made by cutting ``parts`` bins of equal sum: the bound is reachable."""
    parts = draw(st.integers(min_value=2, max_value=5))
    total = draw(st.integers(min_value=1, max_value=200))
    scale = draw(st.sampled_from([1.0, 0.01, 37.5]))
    weights: list[float] = []
    for _ in range(parts):
        pieces = draw(st.integers(min_value=1, max_value=min(4, total)))
        cuts = sorted(
            draw(
                st.lists(
                    st.integers(min_value=1, max_value=total - 1),
                    min_size=pieces - 1,
                    max_size=pieces - 1,
                    unique=True,
                )
            )
            if total > 1
            else []
        )
        edges = [0, *cuts, total]
        weights.extend(float(b - a) * scale for a, b in itertools.pairwise(edges))
    order = draw(st.permutations(range(len(weights))))
    return [weights[i] for i in order], parts, total * scale


@settings(max_examples=300, deadline=None)
@given(perfect_instances())
def test_balanced_reaches_the_bound_when_a_perfect_split_exists(
    instance: tuple[list[float], int, float],
) -> None:
    weights, parts, per_part = instance
    result = makespan(weights, Algorithm.BALANCED(weights, parts))
    assert result == pytest.approx(per_part, rel=1e-9)


def test_lpt_is_beaten_where_lpt_is_known_to_be_weak() -> None:
    # The classic: LPT gives {3,2,2} / {3,2} = 7; the optimum is {3,3} / {2,2,2} = 6.
    weights = [3.0, 3.0, 2.0, 2.0, 2.0]
    assert makespan(weights, Algorithm.LPT(weights, 2)) == 7.0
    assert makespan(weights, Algorithm.BALANCED(weights, 2)) == 6.0


def test_ties_are_broken_by_position_not_by_hash() -> None:
    weights = [1.0] * 8
    assert Algorithm.LPT(weights, 3) == [[0, 3, 6], [1, 4, 7], [2, 5]]
    assert Algorithm.BALANCED(weights, 3) == Algorithm.BALANCED(weights, 3)


def test_zero_weights_still_fill_every_part() -> None:
    weights = [0.0] * 5 + [4.0]
    groups = Algorithm.BALANCED(weights, 4)
    assert len(groups) == 4 and all(groups)


def test_large_inputs_reach_the_bound_quickly() -> None:
    rng = random.Random(7)
    weights = [rng.lognormvariate(-4, 1.5) for _ in range(20_000)]
    groups = Algorithm.BALANCED(weights, 16)
    assert makespan(weights, groups) <= lower_bound(weights, 16) * (1 + 1e-6)
    assert not math.isnan(makespan(weights, groups))


def test_grouped_input_keeps_small_groups_whole() -> None:
    # 8 files of 4 tests, each file 10 s in total: 4 parts of two whole files each.
    weights = [1.0, 2.0, 3.0, 4.0] * 8
    groups = [i // 4 for i in range(32)]
    result = partition(weights, 4, groups=groups)
    assert makespan(weights, result) == 20.0
    for part in result:
        files = {groups[i] for i in part}
        assert all(sum(1 for i in part if groups[i] == f) == 4 for f in files)
