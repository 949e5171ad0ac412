"""Coverage fan-in with real coverage.py runs in different folders, against one serial run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from coverage import CoverageData

from shard_action.adapters.coverage_merge import (
    CoverageSource,
    _without,
    merge_coverage,
    remapper,
)
from shard_action.commands.report import default_templates
from shard_action.core.history import History
from shard_action.core.render import render_comment, render_summary, template_set
from shard_action.core.report import ShardResult, build

from .factories import manifest, plan, shard

CALC = """\
def add(a, b):
    return a + b


def sign(x):
    if x > 0:
        return 1
    if x < 0:
        return -1
    return 0


def unused():
    return "never"
"""
PART1 = "from lib.calc import add, sign\nassert add(1, 2) == 3\nassert sign(5) == 1\n"
PART2 = "from lib.calc import sign\nassert sign(-5) == -1\nassert sign(0) == 0\n"


def _project(folder: Path) -> Path:
    (folder / "lib").mkdir(parents=True)
    (folder / "lib" / "__init__.py").write_text("")
    (folder / "lib" / "calc.py").write_text(CALC)
    (folder / "part1.py").write_text(PART1)
    (folder / "part2.py").write_text(PART2)
    return folder


def _coverage(folder: Path, *args: str, data_file: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE")}
    env["COVERAGE_FILE"] = str(data_file)
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", *args],
        cwd=folder,
        env=env,
        check=True,
        capture_output=True,
    )


def _lines(data_file: Path, root: Path) -> dict[str, list[int]]:
    data = CoverageData(basename=str(data_file))
    data.read()
    return {os.path.relpath(f, root): sorted(data.lines(f) or []) for f in data.measured_files()}


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two shard checkouts in different folders, and a serial run in the report's checkout."""
    base = tmp_path_factory.mktemp("coverage")
    one = _project(base / "runner-a" / "work" / "repo")
    two = _project(base / "elsewhere" / "shard-2")
    here = _project(base / "report" / "checkout")
    _coverage(one, "--parallel-mode", "part1.py", data_file=one / ".coverage")
    _coverage(two, "--parallel-mode", "part2.py", data_file=two / ".coverage")
    _coverage(here, "part1.py", data_file=here / ".serial")
    _coverage(here, "--append", "part2.py", data_file=here / ".serial")
    (file_one,) = one.glob(".coverage.*")
    (file_two,) = two.glob(".coverage.*")
    return {"one": one, "two": two, "here": here, "data1": file_one, "data2": file_two}


@pytest.mark.slow
def test_merged_equals_one_serial_run_line_for_line(
    shards: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = shards["here"]
    monkeypatch.chdir(here)
    merged = merge_coverage(
        [
            CoverageSource(shards["data1"], str(shards["one"]), "s1"),
            CoverageSource(shards["data2"], str(shards["two"]) + "/", "s2"),
        ],
        tmp_path / "out",
    )
    assert not merged.problems
    assert merged.data_file is not None
    serial = _lines(here / ".serial", here)
    combined = _lines(merged.data_file, here)
    assert combined == serial
    assert set(serial) == {"part1.py", "part2.py", "lib/__init__.py", "lib/calc.py"}
    assert serial["lib/calc.py"] == [1, 2, 5, 6, 7, 8, 9, 10, 13]  # not 14: `unused` never ran
    totals = merged.totals
    assert totals.data_files == 2 and totals.files == 4
    # calc.py: 9 of 10 statements; part1: 3; part2: 3; __init__: 0
    assert (totals.covered_lines, totals.statements) == (15, 16)
    assert totals.percent == pytest.approx(100 * 15 / 16)
    report = json.loads((tmp_path / "out" / "coverage.json").read_text())
    assert report["files"]["lib/calc.py"]["missing_lines"] == [14]
    assert (tmp_path / "out" / "coverage.xml").read_text().startswith("<?xml")


@pytest.mark.slow
def test_a_corrupt_data_file_is_named_and_the_others_kept(
    shards: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(shards["here"])
    corrupt = tmp_path / ".coverage.s3"
    corrupt.write_bytes(b"this is not a sqlite database" * 100)
    merged = merge_coverage(
        [
            CoverageSource(shards["data1"], str(shards["one"]), "s1"),
            CoverageSource(corrupt, "/nowhere", "s3"),
            CoverageSource(tmp_path / ".coverage.missing", "/nowhere", "s4"),
        ],
        tmp_path / "out",
    )
    assert [(p.source, p.shard) for p in merged.problems] == [
        (str(corrupt), "s3"),
        (str(tmp_path / ".coverage.missing"), "s4"),
    ]
    assert "unreadable coverage data" in merged.problems[0].message
    assert merged.totals.data_files == 1 and merged.totals.percent is not None


def test_no_data_is_no_coverage_not_an_error(tmp_path: Path) -> None:
    merged = merge_coverage([], tmp_path)
    assert merged.totals.percent is None and merged.totals.note == "no coverage data files"
    assert not (tmp_path / "coverage.json").exists()
    empty = tmp_path / ".coverage.empty"
    data = CoverageData(basename=str(empty))
    data.add_lines({})  # a valid data file that measured nothing
    data.write()
    merged = merge_coverage([CoverageSource(empty, str(tmp_path))], tmp_path / "out")
    assert (
        merged.totals.percent is None
        and merged.totals.note == "the coverage data measured no files"
    )


@pytest.mark.slow
def test_sources_missing_from_the_checkout_give_no_percentage(
    shards: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty_checkout = tmp_path / "bare"
    empty_checkout.mkdir()
    monkeypatch.chdir(empty_checkout)
    merged = merge_coverage([CoverageSource(shards["data1"], str(shards["one"]))], tmp_path / "out")
    assert merged.totals.percent is None
    assert merged.totals.note is not None and "checkout" in merged.totals.note


def test_remapper() -> None:
    mapper = remapper("/home/runner/work/repo", Path("/srv/checkout"))
    assert mapper("/home/runner/work/repo/lib/a.py") == os.path.join("/srv/checkout", "lib", "a.py")
    assert mapper("/home/runner/work/repo") == "/srv/checkout"
    assert mapper("/home/runner/work/repository/a.py") == "/home/runner/work/repository/a.py"
    assert mapper("/usr/lib/python3/x.py") == "/usr/lib/python3/x.py"
    windows = remapper("D:\\a\\repo\\", Path("/srv/checkout"))
    assert windows("D:\\a\\repo\\lib\\a.py") == os.path.join("/srv/checkout", "lib", "a.py")
    assert remapper(None, Path("/x"))("/a/b.py") == "/a/b.py"
    star = remapper("/tmp/[shard]*", Path("/srv"))  # no glob meaning
    assert star("/tmp/[shard]*/a.py") == os.path.join("/srv", "a.py")
    assert star("/tmp/s/a.py") == "/tmp/s/a.py"


def test_without_drops_only_the_excluded_folder() -> None:
    data = CoverageData(no_disk=True)
    data.add_lines({"/opt/plugin/shard_action/x.py": [1, 2], "/srv/app/a.py": [3]})
    kept = _without(data, Path("/opt/plugin/shard_action"))
    assert kept.measured_files() == {"/srv/app/a.py"}
    assert sorted(kept.lines("/srv/app/a.py") or []) == [3]
    assert _without(data, Path("/elsewhere")) is data


@pytest.mark.slow
def test_the_fixture_really_ran_in_different_folders(shards: dict[str, Path]) -> None:
    one = CoverageData(basename=str(shards["data1"]))
    one.read()
    assert all(f.startswith(str(shards["one"])) for f in one.measured_files())


@pytest.mark.slow
def test_branch_coverage_is_counted_and_labelled_as_statements_and_branches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """coverage.py's total counts branches too when they are measured: say so, with both."""
    here = _project(tmp_path / "repo")
    _coverage(here, "--branch", "--parallel-mode", "part1.py", data_file=here / ".coverage")
    _coverage(here, "--branch", "--parallel-mode", "part2.py", data_file=here / ".coverage")
    first, second = sorted(here.glob(".coverage.*"))
    monkeypatch.chdir(here)
    merged = merge_coverage(
        [CoverageSource(first, str(here), "s1"), CoverageSource(second, str(here), "s2")],
        tmp_path / "out",
    )
    totals = merged.totals
    # sign(): two ifs, four branch arcs; part1 takes x > 0, part2 x < 0 and x == 0
    assert (totals.covered_lines, totals.statements) == (15, 16)
    assert (totals.covered_branches, totals.branches) == (4, 4)
    assert totals.percent == pytest.approx(100 * (15 + 4) / (16 + 4))  # not 15/16
    assert totals.shards == ("s1", "s2")

    the_plan = plan([shard("s1", ["part1.py"]), shard("s2", ["part2.py"])])
    results = [
        ShardResult(manifest("s1", ["part1.py"], start=0, seconds=1)),
        ShardResult(manifest("s2", ["part2.py"], start=0, seconds=1)),
    ]
    report = build(the_plan, results, history=History(), coverage=totals).report
    assert report.coverage.counts == "statements and branches" and not report.coverage.partial
    templates = template_set(default_templates())
    summary = render_summary(templates, report).text
    assert "**95.00%** of 16 statements and 4 branches (coverage.py's total" in summary
    assert "from 2 shard data files." in summary
    assert "🧪 statement and branch coverage 95.00%" in render_comment(templates, report).text
