"""Tiers: the plan covers one tier, and a first tier gets shards of its own that run first.

Expected sets are written out by hand from the rules (markers, path globs, id patterns), never
computed by the selection code under test; the property test checks the invariants the issue
names: every test of the tier in exactly one shard, first shards hold exactly the first tier.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shard_action.cli import main
from shard_action.core.config import Config
from shard_action.core.matrix import matrix
from shard_action.core.models import TestItem, Timings
from shard_action.core.plan import Plan
from shard_action.core.planner import make_plan
from shard_action.core.prediction import Costs
from shard_action.core.selection import check_plan
from shard_action.core.tiers import in_tier, split_first, staged
from shard_action.errors import InputError
from tests.plan_json import shard_tests

TESTS = [
    TestItem("tests/test_api.py::test_login", "tests/test_api.py", frozenset({"smoke"})),
    TestItem("tests/test_api.py::test_logout", "tests/test_api.py"),
    TestItem("tests/unit/test_math.py::test_add", "tests/unit/test_math.py"),
    TestItem("tests/unit/test_math.py::test_health_check", "tests/unit/test_math.py"),
    TestItem("tests/e2e/test_flow.py::test_checkout", "tests/e2e/test_flow.py"),
]
TIERS = [
    {"name": "smoke", "markers": ["smoke"], "ids": ["health"]},
    {"name": "core", "paths": ["tests/unit", "tests/test_api.py"]},
]


def ids(tests: list[TestItem]) -> list[str]:
    return [t.id for t in tests]


def test_a_tier_selects_by_marker_path_and_id_and_full_is_everything() -> None:
    config = Config(tiers=TIERS)
    assert ids(in_tier(config, "smoke", TESTS)) == [
        "tests/test_api.py::test_login",
        "tests/unit/test_math.py::test_health_check",
    ]
    assert ids(in_tier(config, "core", TESTS)) == [
        "tests/test_api.py::test_login",
        "tests/test_api.py::test_logout",
        "tests/unit/test_math.py::test_add",
        "tests/unit/test_math.py::test_health_check",
    ]
    assert ids(in_tier(config, "full", TESTS)) == ids(TESTS)
    with pytest.raises(InputError, match="tier 'nightly' is not defined"):
        in_tier(config, "nightly", TESTS)


def test_first_tier_splits_the_planned_tier() -> None:
    first, rest = split_first(Config(tiers=TIERS, tier="core", first_tier="smoke"), TESTS)
    assert ids(first) == [
        "tests/test_api.py::test_login",
        "tests/unit/test_math.py::test_health_check",
    ]
    assert ids(rest) == ["tests/test_api.py::test_logout", "tests/unit/test_math.py::test_add"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"tier": "nightly"}, "tier 'nightly' is not a tier"),
        ({"first_tier": "quick"}, "first-tier 'quick' is not a tier"),
        ({"first_tier": "full"}, "first-tier cannot be 'full'"),
        ({"tiers": [{"name": "full"}]}, "tier name 'full' is taken"),
        ({"tiers": [{"name": "a"}, {"name": "a"}]}, "tier name 'a' is used twice"),
        ({"tiers": [{"name": "a", "ids": ["("]}]}, "invalid regular expression"),
    ],
)
def test_bad_tier_config_is_refused_with_the_key(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Config(**values)


def _staged(config: Config, tests: list[TestItem], timings: Timings) -> Plan:
    first, rest = split_first(config, tests)
    assert config.first_tier is not None
    one = make_plan(config, first, timings, mode="parallel", mode_reason="test")
    two = make_plan(config, rest, timings, mode="parallel", mode_reason="test")
    return staged(one, two, tier=config.tier, first_tier=config.first_tier)


def test_a_staged_plan_adds_the_stages_up_and_keeps_ids_unique() -> None:
    config = Config(tiers=TIERS, first_tier="smoke", shard_overhead=5.0, shards=2)
    timings = Timings(durations={t.id: 10.0 for t in TESTS})
    plan = _staged(config, TESTS, timings)
    first = [s for s in plan.shards if s.first]
    assert [s.id for s in first] == ["smoke.default-1", "smoke.default-2"]
    assert sorted(t for s in first for t in s.tests) == [
        "tests/test_api.py::test_login",
        "tests/unit/test_math.py::test_health_check",
    ]
    # first stage: 2 shards of 10 s; the rest: 3 tests of 10 s on 2 shards = 20 s; 5 s each
    assert plan.makespan == pytest.approx((5 + 10) + (5 + 20))
    assert plan.serial_seconds == pytest.approx(5 + 50)
    assert plan.totals.tests == 5 and plan.totals.shards == 4
    check_plan(plan)
    assert [e["shard"] for e in matrix(plan, first=True)["include"]] == [s.id for s in first]
    assert len(matrix(plan, first=False)["include"]) == 2


def test_a_staged_plan_counts_the_estimates_of_both_stages() -> None:
    config = Config(tiers=TIERS, first_tier="smoke", shards=2, default_duration=3.0)
    plan = _staged(config, TESTS, Timings(durations={"tests/test_api.py::test_logout": 1.0}))
    # first stage (login, health_check): nothing measured in it, default-duration 3 s each;
    # the rest: logout measured, add and checkout take its lane's median, 1 s each
    assert plan.timings.estimate.methods == {"default-duration": 2, "measured": 1, "same-lane": 2}
    assert plan.timings.estimate.seconds == pytest.approx(3 + 3 + 1 + 1)
    assert "2 at default-duration" in plan.timings.estimate.reliability
    assert plan.timings.measured == 1 and plan.timings.estimated == 4


def test_a_staged_first_run_plan_keeps_the_note_on_estimated_fixed_costs() -> None:
    config = Config(tiers=TIERS, first_tier="smoke", shards=2)
    first, rest = split_first(config, TESTS)
    guess = Costs(interpreter=0.4, finish=1.5)
    halves = [
        make_plan(config, half, Timings(), mode="parallel", mode_reason="test", first_run=guess)
        for half in (first, rest)
    ]
    plan = staged(*halves, tier=config.tier, first_tier="smoke")
    assert "start-up and finish per shard from this plan's own collection" in (
        plan.timings.estimate.reliability
    )
    without = [
        make_plan(config, half, Timings(), mode="parallel", mode_reason="t")
        for half in (first, rest)
    ]
    plain = staged(*without, tier=config.tier, first_tier="smoke")
    assert "own collection" not in plain.timings.estimate.reliability


NAMES = st.sampled_from(["a", "b", "c", "d"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(NAMES, st.integers(0, 30), st.booleans(), st.floats(0, 50)),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from(["full", "core"]),
    st.integers(1, 6),
)
def test_every_test_of_the_tier_lands_in_exactly_one_shard(
    rows: list[tuple[str, int, bool, float]], tier: str, shards: int
) -> None:
    tests = [
        TestItem(
            f"tests/{f}/test_x.py::test_{n}",
            f"tests/{f}/test_x.py",
            frozenset({"smoke"} if s else ()),
        )
        for f, n, s, _ in rows
    ]
    unique = list({t.id: t for t in tests}.values())
    config = Config(
        tiers=[
            {"name": "smoke", "markers": ["smoke"]},
            {"name": "core", "paths": ["tests/a", "tests/b"]},
        ],
        tier=tier,
        first_tier="smoke",
        shards=shards,
    )
    timings = Timings(durations={f"tests/{f}/test_x.py::test_{n}": d for f, n, _, d in rows})
    first, rest = split_first(config, unique)
    if not first or not rest:
        return
    plan = _staged(config, unique, timings)
    check_plan(plan)
    in_plan = [t for s in plan.shards for t in s.tests]
    wanted = [t.id for t in unique if tier == "full" or t.file.startswith(("tests/a/", "tests/b/"))]
    assert sorted(in_plan) == sorted(wanted)
    smoke = {t.id for t in unique if "smoke" in t.markers}
    assert {t for s in plan.shards if s.first for t in s.tests} == smoke & set(wanted)


def test_plan_tier_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    listed = tmp_path / "ids.txt"
    listed.write_text("".join(t.id + "\n" for t in TESTS), encoding="utf-8")
    (tmp_path / "shard.yml").write_text(json.dumps({"tiers": TIERS}), encoding="utf-8")
    out = tmp_path / "out"
    common = ["plan", "--config", "shard.yml", "--tests-from", str(listed), "--out", str(out)]
    assert main([*common, "--tier", "core", "--first-tier", "smoke"]) == 0
    plan = json.loads((out / "plan.json").read_text("utf-8"))
    assert plan["tier"] == "core" and plan["first_tier"] == "smoke"
    first = sorted(t for s in plan["shards"] if s["first"] for t in shard_tests(s))
    rest = sorted(t for s in plan["shards"] if not s["first"] for t in shard_tests(s))
    # a test list carries no markers: only the id pattern of smoke selects here
    assert first == ["tests/unit/test_math.py::test_health_check"]
    assert rest == [
        "tests/test_api.py::test_login",
        "tests/test_api.py::test_logout",
        "tests/unit/test_math.py::test_add",
    ]

    assert main([*common, "--tier", "nightly"]) == 2
    # a tier that selects nothing is an empty run, refused like an empty collection
    (tmp_path / "shard.yml").write_text(
        json.dumps({"tiers": [{"name": "none", "ids": ["nothing-matches"]}]}), encoding="utf-8"
    )
    assert main([*common, "--tier", "none"]) == 5
