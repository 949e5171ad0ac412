"""The one mapping from a JUnit case to a planned id, for whole-file ids (runners split by file)."""

from __future__ import annotations

import pytest

from shard_action.core.results import CaseResult
from shard_action.core.testids import CaseIndex, normalise_path

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
    assert CaseIndex(FILES, "/ci/repo").lookup(given) == expected


def test_paths_are_made_relative_to_the_root() -> None:
    assert normalise_path("C:\\ci\\repo\\tests\\t.py", "C:\\ci\\repo") == "tests/t.py"
    assert normalise_path("././a/b.py") == "a/b.py"
    assert normalise_path("/ci/repository/a.py", "/ci/repo") == "/ci/repository/a.py"
