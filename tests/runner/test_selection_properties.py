"""Properties of ``core.selection``: across all shards of a plan every collected test of the
shards' files runs exactly once (once per fan-out value), including ids that drifted."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shard_action.core.plan import Plan
from shard_action.core.selection import (
    Selection,
    check_plan,
    decide,
    file_owners,
    files_in_order,
    function_of,
    not_run,
    selection_for,
    slices_of,
)
from shard_action.core.testids import file_of
from tests.runner.plans import LaneSlice, plan, shard

LANES = {"a": ["a"], "b": ["b"], "db": ["db-x", "db-y"]}  # base -> instances


@st.composite
def plans_and_collections(draw: st.DrawFn) -> tuple[Plan, dict[str, list[str]]]:
    n_files = draw(st.integers(1, 5))
    files = [f"tests/test_{i}.py" for i in range(n_files)]
    tests = [f"{f}::t{j}[x::{j}]" for f in files for j in range(draw(st.integers(1, 4)))]
    base_of_test = {t: draw(st.sampled_from(sorted(LANES))) for t in tests}
    serial = draw(st.booleans())
    runs: list[tuple[str, list[str]]] = []  # (lane instance, tests) in plan order
    for base in draw(st.permutations(sorted(LANES))):
        mine = [t for t in tests if base_of_test[t] == base]
        if not mine:
            continue
        for instance in LANES[base]:
            if serial:
                runs.append((instance, mine))
                continue
            k = draw(st.integers(1, 3))
            slots = [draw(st.integers(0, k - 1)) for _ in mine]
            for slot in range(k):
                part = [t for t, s in zip(mine, slots, strict=True) if s == slot]
                if part:
                    runs.append((instance, part))
    bases = {i: b for b, instances in LANES.items() for i in instances}
    if serial:
        built = plan(
            shard("serial", *[LaneSlice(lane, ts) for lane, ts in runs]), bases=bases, mode="serial"
        )
    else:
        built = plan(
            *[shard(f"{lane}-{n}", LaneSlice(lane, ts)) for n, (lane, ts) in enumerate(runs)],
            bases=bases,
        )
    collections: dict[str, list[str]] = {}
    for f in files:  # what a process collecting the file sees: some ids drifted, some new
        seen: list[str] = []
        for t in (t for t in tests if file_of(t) == f):
            change = draw(st.sampled_from(["same", "same", "gone", "drifted"]))
            if change == "same":
                seen.append(t)
            elif change == "drifted":  # a clock or random parameter: a new id, same function
                seen.append(f"{t.split('[')[0]}[{draw(st.floats(0, 1))} 'q' $(x)]")
        seen += [f"{f}::new_{n}" for n in range(draw(st.integers(0, 2)))]  # not drift
        collections[f] = draw(st.permutations(seen))
    return built, collections


@settings(max_examples=300, deadline=None)
@given(plans_and_collections())
def test_every_collected_id_runs_exactly_once_per_fan_out_value(
    case: tuple[Plan, dict[str, list[str]]],
) -> None:
    built, collections = case
    owners = file_owners(built)
    bases = {lane.name: lane.base for lane in built.lanes}
    planned_in: Counter[str] = Counter()
    runs_of: dict[str, list[str]] = defaultdict(list)  # id -> lane instances that ran it
    holders: dict[str, set[str]] = defaultdict(set)  # file -> lane instances holding it
    for s in built.shards:
        for piece in slices_of(built, s):
            planned_in.update(piece.tests)
            files = files_in_order(piece.tests)
            for f in files:
                holders[f].add(piece.lane.name)
            sel = selection_for(built, s.id, piece.index, owners=owners)
            collected = [t for f in files for t in collections[f]]
            decision = decide(sel, collected)
            assert set(decision.selected) <= set(collected)
            assert [t for t in collected if t in set(decision.selected)] == list(
                decision.selected
            ), "collection order is kept"
            for t in piece.tests:  # a planned id is run by its process, or recorded missing
                assert (t in decision.selected) != (t in decision.missing)
            assert not_run(piece.tests, decision.selected, decision.missing) == []
            for t in decision.selected:
                runs_of[t].append(piece.lane.name)
    for f, seen in collections.items():
        for t in seen:
            if t in planned_in:
                assert len(runs_of[t]) == planned_in[t], t
            elif "::new_" in t:
                assert not runs_of[t], f"{t} is not in the plan and replaces no planned id"
            else:
                instances = runs_of[t]
                assert instances, f"drifted {t} never ran"
                assert len(set(instances)) == len(instances), f"{t} ran twice in one lane"
                groups = {bases[i] for i in instances}
                assert len(groups) == 1, f"{t} ran in two lanes: {instances}"
                (group,) = groups
                holding = {i for i in holders[f] if bases[i] == group}
                assert set(instances) == holding, "once per fan-out value"


def test_owner_is_the_first_shard_holding_the_file() -> None:
    built = plan(
        shard("slow-1", LaneSlice("slow", ["t/a.py::x"])),
        shard("default-1", LaneSlice("default", ["t/a.py::y", "t/b.py::z"])),
        shard("default-2", LaneSlice("default", ["t/b.py::w"])),
    )
    assert file_owners(built) == {
        "t/a.py": frozenset({("slow-1", 0)}),
        "t/b.py": frozenset({("default-1", 0)}),
    }


def test_fan_out_gives_one_owner_per_backend() -> None:
    built = plan(
        shard("db-x-1", LaneSlice("db-x", ["t/a.py::x"])),
        shard("db-x-2", LaneSlice("db-x", ["t/a.py::y"])),
        shard("db-y-1", LaneSlice("db-y", ["t/a.py::x", "t/a.py::y"])),
        bases={"db-x": "db", "db-y": "db"},
    )
    assert file_owners(built) == {"t/a.py": frozenset({("db-x-1", 0), ("db-y-1", 0)})}


def test_whole_file_ids_keep_every_test_of_the_file() -> None:
    sel = Selection(keep=("t/a.py",), known=frozenset({"t/a.py"}), owned_files=frozenset())
    decision = decide(sel, ["t/a.py::x", "t/a.py::y[1]", "t/b.py::z"])
    assert decision.selected == ("t/a.py::x", "t/a.py::y[1]")
    assert decision.missing == ()
    assert decide(sel, []).missing == ("t/a.py",)


def test_only_ids_that_replace_a_vanished_planned_id_are_drift() -> None:
    sel = Selection(
        keep=("t/a.py::t[1]", "t/a.py::u[x]"),
        known=frozenset({"t/a.py::t[1]", "t/a.py::u[x]"}),
        owned_files=frozenset({"t/a.py"}),
    )
    decision = decide(sel, ["t/a.py::t[2]", "t/a.py::u[x]", "t/a.py::u[y]", "t/a.py::v"])
    assert decision.selected == ("t/a.py::t[2]", "t/a.py::u[x]")
    assert decision.unplanned == ("t/a.py::t[2]",)
    assert decision.missing == ("t/a.py::t[1]",)
    assert decision.ignored == ("t/a.py::u[y]", "t/a.py::v")


def test_function_of_keeps_brackets_in_folders_and_colons_in_parameters() -> None:
    assert function_of("t/[x]/a.py::C::t[a::b[c]]") == "t/[x]/a.py::C::t"
    assert function_of("t/a.py::t") == "t/a.py::t"


def test_files_that_failed_to_collect_are_not_drift() -> None:
    sel = Selection(keep=("t/a.py::x", "t/b.py::y"), known=frozenset(), owned_files=frozenset())
    assert decide(sel, ["t/a.py::x"], broken_files=["t/b.py"]).missing == ()


def test_a_slice_of_a_lane_the_plan_lacks_is_refused() -> None:
    built = plan(shard("s", LaneSlice("a", ["t/a.py::x"])))
    orphan = built.model_copy(update={"lanes": []})
    with pytest.raises(ValueError, match="shard 's': no lane 'a' in the plan"):
        check_plan(orphan)
    check_plan(built)
