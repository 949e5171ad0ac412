"""Which coverage.py core a shard asks for, and the manifest saying which one measured it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from shard_action.adapters.coverage_facts import coverage_facts
from shard_action.core.coverage_core import CoverageFacts, choose_core, core_name
from tests.runner.helpers import (
    collect_ids,
    manifest,
    only_slice,
    run_shard,
    save_plan,
    write_suite,
)
from tests.runner.plans import LaneSlice, plan, shard


def facts(
    python: tuple[int, int],
    coverage: tuple[int, ...] | None = (7, 17),
    *,
    branch: bool = False,
    blocker: str | None = None,
) -> CoverageFacts:
    return CoverageFacts("cpython", python, coverage, branch=branch, blocker=blocker)


@pytest.mark.parametrize(
    ("given", "core", "why"),
    [
        (facts((3, 11)), None, "needs CPython 3.12+ (cpython 3.11)"),
        (facts((3, 12)), "sysmon", "sysmon (cpython 3.12, coverage 7.17)"),
        (facts((3, 13), (7, 3, 4)), None, "coverage 7.3.4 has no sysmon core"),
        (facts((3, 12), None), None, "no coverage.py version known"),
        (facts((3, 13), branch=True), None, "branch coverage with sysmon needs Python 3.14+"),
        (facts((3, 14), (7, 6), branch=True), None, "and coverage 7.7+"),
        (facts((3, 14), (7, 9, 1), branch=True), "sysmon", "branches"),
        (facts((3, 12), blocker="dynamic contexts"), None, "cannot measure dynamic contexts"),
        (CoverageFacts("pypy", (3, 12), (7, 17)), None, "needs CPython 3.12+ (pypy 3.12)"),
        (None, None, "could not be asked"),
    ],
)
def test_auto_asks_for_sysmon_only_where_it_measures_everything(
    given: CoverageFacts | None, core: str | None, why: str
) -> None:
    choice = choose_core("auto", given)
    assert choice.core == core
    assert why in choice.reason


def test_a_named_core_is_asked_for_as_given() -> None:
    assert choose_core("pytrace", facts((3, 11))).core == "pytrace"
    assert choose_core("sysmon", None).core == "sysmon"


def test_tracer_names_become_core_names() -> None:
    assert [core_name(t) for t in ("SysMonitor", "CTracer", "PyTracer", None, "Other")] == [
        "sysmon",
        "ctrace",
        "pytrace",
        None,
        "Other",
    ]


@pytest.mark.parametrize(
    ("name", "text", "branch", "blocker"),
    [
        (".coveragerc", "[run]\nbranch = True\n", True, None),
        ("setup.cfg", "[coverage:run]\nbranch = 1\n", True, None),
        ("setup.cfg", "[tool:pytest]\nbranch = true\n", False, None),
        ("pyproject.toml", "[tool.coverage.run]\nbranch = true\n", True, None),
        ("pyproject.toml", "[tool.coverage.run]\nbranch = false\n", False, None),
        (".coveragerc", "[run]\nplugins = django_coverage_plugin\n", False, "coverage plugins"),
        (".coveragerc", "[run]\ndynamic_context = test_function\n", False, "dynamic contexts"),
        ("tox.ini", "[coverage:run]\nconcurrency =\n    gevent\n", False, "concurrency"),
        (".coveragerc", "[run]\nconcurrency = thread\n", False, None),
    ],
)
def test_the_projects_coverage_settings_are_read(
    tmp_path: Path, name: str, text: str, branch: bool, blocker: str | None
) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    got = coverage_facts(sys.executable, tmp_path, {})
    assert got is not None
    assert got.branch is branch
    assert (got.blocker is None) if blocker is None else (blocker in (got.blocker or ""))


@pytest.mark.slow
def test_another_interpreter_is_asked_in_a_subprocess(tmp_path: Path) -> None:
    """A wrapper script is "another" interpreter by path: it answers like ours in-process."""
    link = tmp_path / "python"
    link.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    link.chmod(0o755)
    here = coverage_facts(sys.executable, tmp_path, os.environ)
    there = coverage_facts(str(link), tmp_path, os.environ)
    assert there == here
    assert there is not None and there.python == sys.version_info[:2]
    assert coverage_facts(str(tmp_path / "missing"), tmp_path, os.environ) is None


EXPECTED_AUTO = "sysmon" if sys.version_info >= (3, 12) else "ctrace"
"""What `auto` gives this interpreter with a plain config: the rule written out by hand."""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("setting", "env", "measured"),
    [
        ("auto", {}, EXPECTED_AUTO),
        ("pytrace", {}, "pytrace"),
        ("auto", {"COVERAGE_CORE": "pytrace"}, "pytrace"),
    ],
)
def test_the_manifest_says_which_core_measured_the_shard(
    tmp_path: Path, setting: str, env: dict[str, str], measured: str
) -> None:
    root = write_suite(tmp_path / "suite", {"tests/test_a.py": "def test_a():\n    assert 1\n"})
    ids = collect_ids(root)
    built = plan(shard("c-1", LaneSlice("c", ids)), coverage=True, coverage_core=setting)
    proc, results = run_shard(root, save_plan(root, built), "c-1", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert only_slice(manifest(results)).coverage_core == measured
    assert f"coverage measured with the {measured} core" in proc.stdout
