"""Lane assignment: markers, path globs, id patterns, first match, default lane, fan-out."""

from __future__ import annotations

import pytest

from shard_action.core.config import Config, LaneConfig
from shard_action.core.lanes import assign_lanes, compile_glob, lane_instances
from shard_action.core.models import TestItem


def _test(node_id: str, *markers: str) -> TestItem:
    return TestItem(id=node_id, file=node_id.split("::", maxsplit=1)[0], markers=frozenset(markers))


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("tests/db/*.py", "tests/db/test_a.py", True),
        ("tests/db/*.py", "tests/db/deep/test_a.py", False),  # * stays in one folder
        ("tests/**/test_*.py", "tests/db/deep/test_a.py", True),  # ** crosses folders
        ("tests/**/test_*.py", "tests/test_a.py", True),  # **/ also matches no folder
        ("tests/**", "tests/a/b/c.py", True),
        ("tests/integration", "tests/integration/sub/test_x.py", True),  # a folder
        ("tests/integration/", "tests/integration/test_x.py", True),
        ("tests/integration", "tests/integration_extra/test_x.py", False),
        ("test_db_*.py", "tests/deep/test_db_pg.py", True),  # no "/": a name at any depth
        ("test_db_*.py", "tests/test_api.py", False),
        ("integration", "tests/integration/test_x.py", True),
        ("./tests/db/*.py", "tests/db/test_a.py", True),
        ("tests/db/*.py", "./tests/db/test_a.py", True),
        ("tests/test_[ab].py", "tests/test_b.py", True),
        ("tests/test_[!ab].py", "tests/test_b.py", False),
        ("tests/test_[!ab].py", "tests/test_c.py", True),
        ("tests/test_?.py", "tests/test_ab.py", False),
        ("tests/test_(x).py", "tests/test_(x).py", True),  # regex characters are literal
        ("tests/test_a+.py", "tests/test_aa.py", False),
        ("tests\\db\\*.py", "tests/db/test_a.py", True),
    ],
)
def test_glob_rules(pattern: str, path: str, expected: bool) -> None:
    assert compile_glob(pattern)(path) is expected


def test_first_matching_lane_wins_and_the_rest_go_to_the_default_lane() -> None:
    config = Config(
        lanes=[
            LaneConfig(name="slow", markers=["slow"]),
            LaneConfig(name="db", paths=["tests/db/**"]),
            LaneConfig(name="net", ids=[r"::test_http_", r"\[remote\]$"]),
        ]
    )
    tests = [
        _test("tests/db/test_a.py::test_q", "slow"),  # marker lane comes first
        _test("tests/db/test_a.py::test_r"),
        _test("tests/test_b.py::test_http_get"),
        _test("tests/test_b.py::test_x[remote]"),
        _test("tests/db/test_a.py::test_http_get"),  # db is listed before net
        _test("tests/test_b.py::test_plain", "fast"),
    ]
    assert assign_lanes(config, tests) == ["slow", "db", "net", "net", "db", "default"]


def test_id_patterns_with_inline_flags_still_work() -> None:
    config = Config(lanes=[LaneConfig(name="x", ids=["(?i)^TESTS/A", "zzz"])])
    assert assign_lanes(config, [_test("tests/a.py::t"), _test("tests/b.py::t")]) == [
        "x",
        "default",
    ]


def test_a_lane_without_rules_matches_nothing_unless_it_is_the_default_lane() -> None:
    config = Config(lanes=[LaneConfig(name="empty"), LaneConfig(name="default", env={"A": "1"})])
    assert assign_lanes(config, [_test("tests/a.py::t")]) == ["default"]


def test_lane_instances_keep_config_order_and_put_an_unconfigured_default_last() -> None:
    config = Config(
        lanes=[
            LaneConfig(name="db", markers=["db"], backends=["sqlite", "pg"], env={"X": "1"}),
            LaneConfig(name="slow", markers=["slow"], mode="sequential", isolated=False),
        ]
    )
    instances = lane_instances(config)
    assert [i.name for i in instances] == ["db-sqlite", "db-pg", "slow", "default"]
    assert instances[0].env == {"X": "1", "BACKEND": "sqlite"}
    assert instances[1].env == {"X": "1", "BACKEND": "pg"}
    assert instances[1].base == "db" and instances[1].backend == "pg"
    assert instances[2].mode == "sequential" and instances[2].isolated is False


def test_a_configured_default_lane_keeps_its_place() -> None:
    config = Config(
        lanes=[
            LaneConfig(name="default", env={"A": "1"}),
            LaneConfig(name="db", markers=["db"], backend_var="DB", backends=["pg"]),
        ]
    )
    instances = lane_instances(config)
    assert [i.name for i in instances] == ["default", "db-pg"]
    assert instances[1].env == {"DB": "pg"}


def test_glob_work_is_cached_per_file() -> None:
    """2000 tests in two files: the globs look at each file once, not once per test."""
    seen: list[str] = []
    config = Config(lanes=[LaneConfig(name="db", paths=["tests/db/*"])])
    tests = [
        TestItem(id=f"{name}::t{i}", file=_Recording(name, seen))
        for name in ("tests/db/test_a.py", "tests/test_b.py")
        for i in range(1000)
    ]
    assert assign_lanes(config, tests) == ["db"] * 1000 + ["default"] * 1000
    assert seen == ["tests/db/test_a.py", "tests/test_b.py"]


class _Recording(str):
    """A path that records when the glob matcher normalises it (its first step)."""

    seen: list[str]

    def __new__(cls, value: str, seen: list[str]) -> _Recording:
        self = super().__new__(cls, value)
        self.seen = seen
        return self

    def replace(self, old: str, new: str, count: int = -1) -> str:  # type: ignore[override]
        self.seen.append(str(self))
        return str(self).replace(old, new, count)
