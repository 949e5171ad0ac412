"""The merged JUnit: every executed test once, re-runs as Surefire elements, any id survives."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shard_action.adapters.junit import read_junit
from shard_action.adapters.junit_write import write_junit
from shard_action.core.completeness import LostTest
from shard_action.core.report import TestEntry
from shard_action.core.resolver import Resolver


def entry(test: str, status: str = "passed", **kw: object) -> TestEntry:
    outcome = {"passed": "passed", "flaky": "passed", "skipped": "skipped"}.get(status, "failed")
    values: dict[str, object] = {
        "test": test,
        "lane": "default",
        "shard": "s1",
        "status": status,
        "outcome": outcome,
        "attempts": 1,
    }
    values.update(kw)
    return TestEntry.model_validate(values)


def test_every_test_once_with_its_final_outcome(tmp_path: Path) -> None:
    tests = [
        entry("tests/test_a.py::test_ok", seconds=1.25, file="tests/test_a.py", line=3),
        entry("tests/test_a.py::TestK::test_flaky", "flaky", attempts=3, failures=["first", None]),
        entry(
            "tests/test_a.py::test_broken",
            "broken",
            attempts=3,
            message="boom",
            failures=["boom", "again", None],
        ),
        entry("tests/test_a.py::test_error", "failed", outcome="error", message="setup"),
        entry("tests/test_b.py::test_skip", "skipped", shard="s2"),
        entry("pkg/test_file.py", "passed", shard="s2"),
    ]
    lost = [
        LostTest(test="tests/test_c.py::test_gone", lane="default", shard="s3", reason="shard died")
    ]
    path = tmp_path / "junit.xml"
    write_junit(path, tests, lost)

    report = read_junit(path)
    outcomes = [
        (c.classname, c.name, c.outcome, c.flaky_failures, c.rerun_failures) for c in report.cases
    ]
    assert outcomes == [
        ("tests.test_a", "test_ok", "passed", 0, 0),
        ("tests.test_a.TestK", "test_flaky", "passed", 2, 0),
        ("tests.test_a", "test_broken", "failed", 0, 2),
        ("tests.test_a", "test_error", "error", 0, 0),
        ("tests.test_b", "test_skip", "skipped", 0, 0),
        (None, "pkg/test_file.py", "passed", 0, 0),
        ("tests.test_c", "test_gone", "error", 0, 0),
    ]
    assert report.cases[0].seconds == 1.25 and report.cases[0].line == 3
    root = ET.parse(path).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "7",
        "1",
        "2",
        "1",
    )
    assert [s.get("name") for s in root] == ["s1", "s2", "shard-action: lost tests"]
    flaky = root.find(".//testcase[@name='test_flaky']")
    assert flaky is not None
    assert [f.get("message") for f in flaky.findall("flakyFailure")] == ["first", None]
    props = {p.get("name"): p.get("value") for p in flaky.iter("property")}
    assert props == {
        "shard-action.id": "tests/test_a.py::TestK::test_flaky",
        "shard-action.shard": "s1",
        "shard-action.lane": "default",
        "shard-action.status": "flaky",
        "shard-action.attempts": "3",
    }
    broken = root.find(".//testcase[@name='test_broken']")
    assert broken is not None
    assert [f.get("message") for f in broken.findall("rerunFailure")] == ["again", None]
    gone = root.find(".//testcase[@name='test_gone']/error")
    assert gone is not None and gone.get("type") == "shard-action.lost"
    assert gone.get("message") == "shard died"


@settings(max_examples=80, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_any_id_is_written_as_valid_xml_that_maps_back(
    tmp_path_factory: pytest.TempPathFactory, param: str
) -> None:
    test_id = f"tests/test_h.py::test_h[{param}]"
    path = tmp_path_factory.mktemp("junit") / "junit.xml"
    write_junit(path, [entry(test_id, "broken", attempts=2, message=param)])
    (case,) = read_junit(path).cases  # parses: no character broke the document
    assert Resolver([test_id]).lookup(case) == test_id
    props = {p.get("name"): p.get("value") for p in ET.parse(path).getroot().iter("property")}
    assert props["shard-action.id"] is not None


def test_fanned_out_ids_are_one_case_per_lane_instance_told_apart_by_suite_and_lane(
    tmp_path: Path,
) -> None:
    """The serial shard ran the same id under two backends: two cases, each in a suite of its
    lane, with pytest's own classname and name (so the file still maps back to node ids)."""
    test_id = "tests/storage/test_repo.py::test_save"
    tests = [
        entry("tests/test_a.py::test_ok", shard="serial", lane="default"),
        entry(test_id, shard="serial", lane="storage-sqlite", fanned_out=True),
        entry(test_id, "flaky", shard="serial", lane="storage-memory", attempts=2, fanned_out=True),
        entry(test_id, shard="storage-sqlite-1", lane="storage-sqlite", fanned_out=True),
    ]
    path = tmp_path / "junit.xml"
    write_junit(path, tests)
    root = ET.parse(path).getroot()
    suites = [
        (
            suite.get("name"),
            [
                (case.get("classname"), case.get("name"), props(case)["shard-action.lane"])
                for case in suite.iter("testcase")
            ],
        )
        for suite in root
    ]
    pair = ("tests.storage.test_repo", "test_save")
    assert suites == [
        ("serial / default", [("tests.test_a", "test_ok", "default")]),
        ("serial / storage-sqlite", [(*pair, "storage-sqlite")]),
        ("serial / storage-memory", [(*pair, "storage-memory")]),
        ("storage-sqlite-1", [(*pair, "storage-sqlite")]),
    ]
    cases = read_junit(path).cases
    assert [Resolver([test_id]).lookup(c) for c in cases[1:]] == [test_id] * 3
    assert root.get("tests") == "4"


def props(case: ET.Element) -> dict[str, str | None]:
    return {p.get("name") or "": p.get("value") for p in case.iter("property")}
