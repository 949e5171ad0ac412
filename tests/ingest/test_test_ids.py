"""Test ids: the one mapping from a JUnit case to a planned id (whole-file ids here), the one
path normalisation and the one label a person reads."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shard_action.core.resolver import Resolver
from shard_action.core.results import CaseResult
from shard_action.core.testids import label, normalise_path, slashes

FILES = ["tests/test_a.py", "tests/sub/test_a.py", "src/app.test.js"]


def case(name: str, classname: str | None = None, file: str | None = None) -> CaseResult:
    return CaseResult(name, classname, file, 0.1, "passed")


@pytest.mark.parametrize(
    "given, expected",
    [
        (case("test_x", "tests.test_a"), "tests/test_a.py"),  # pytest xunit2: no file
        (case("test_x", "tests.sub.test_a.TestK"), "tests/sub/test_a.py"),
        (case("adds", "app adds", "/ci/repo/src/app.test.js"), "src/app.test.js"),  # workdir
        (case("adds", "app adds", "/elsewhere/repo/src/app.test.js"), "src/app.test.js"),
        (case("adds", "app", "./src/app.test.js"), "src/app.test.js"),
        (case("test_x", "tests.test_b"), None),  # an unplanned file is no planned file
        (case("test_x", "other.module"), None),
    ],
)
def test_a_case_names_its_file_or_nothing(given: CaseResult, expected: str | None) -> None:
    assert Resolver(FILES, "/ci/repo").lookup(given) == expected


def test_paths_are_made_relative_to_the_root() -> None:
    assert normalise_path("C:\\ci\\repo\\tests\\t.py", "C:\\ci\\repo") == "tests/t.py"
    assert normalise_path("././a/b.py") == "a/b.py"
    assert normalise_path("/ci/repository/a.py", "/ci/repo") == "/ci/repository/a.py"


PATH_PARTS = st.lists(st.sampled_from(["tests", "a b", ".", "..", "x.py", "", "sub"]), max_size=5)
SEPARATORS = st.sampled_from(["/", "\\"])


@given(PATH_PARTS, SEPARATORS, st.sampled_from(["", "./", "././", ".\\"]))
def test_normalising_twice_changes_nothing(parts: list[str], sep: str, lead: str) -> None:
    path = lead + sep.join(parts)
    once = normalise_path(path)
    assert normalise_path(once) == once
    assert "\\" not in once and not once.startswith("./")


@given(PATH_PARTS, PATH_PARTS, SEPARATORS)
def test_a_path_under_the_root_loses_the_root_whatever_the_slashes(
    root: list[str], rest: list[str], sep: str
) -> None:
    top = "/".join(["/ci", *(p for p in root if p not in (".", ""))])
    tail = "/".join(p for p in rest if p not in (".", "")) or "t.py"
    assert normalise_path((top + "/" + tail).replace("/", sep), top.replace("/", sep)) == tail
    assert slashes(top.replace("/", "\\")) == top


def test_a_test_carries_its_lane_only_when_fanned_out() -> None:
    assert label("tests/t.py::a", "db-sqlite", True) == "tests/t.py::a (lane db-sqlite)"
    assert label("tests/t.py::a", "default", False) == "tests/t.py::a"
