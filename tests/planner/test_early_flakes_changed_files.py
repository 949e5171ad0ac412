"""Early-flake runs for the tests of changed files (``core.early_flakes``, ``--changed-files``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shard_action.adapters.changed_files import read_changed_files
from shard_action.core.early_flakes import changed_paths, place_early_runs
from shard_action.core.plan import Plan
from shard_action.errors import InputError
from tests.report.factories import plan, shard

KNOWN = {"t/a.py::old_1", "t/a.py::old_4", "t/b.py::old_2", "t/b.py::old_5", "t/c.py::old_3"}


def _built() -> Plan:
    built = plan(
        [
            shard("a-1", ["t/a.py::old_1", "t/a.py::old_4"], predicted=20.0),
            shard("a-2", ["t/b.py::old_2", "t/b.py::old_5"], predicted=8.0),
            shard("a-3", ["t/c.py::old_3", "t/a.py::new_6"], predicted=19.0),
        ]
    )
    lanes = [lane.model_copy(update={"tests": 10, "seconds": 5.0}) for lane in built.lanes]
    return built.model_copy(update={"lanes": lanes})  # 0.5 s a test


def _early(placed: Plan) -> list[tuple[str, list[str]]]:
    return [(s.id, [t for e in s.early for t in e.tests]) for s in placed.shards]


def test_the_tests_of_a_changed_file_are_candidates_beside_the_new_ones() -> None:
    placed = place_early_runs(_built(), KNOWN, 3, changed_paths(["t/b.py"]))
    # a-2 has 20 - 8 = 12 s of room: 3 starts (3 s) and 3 runs of each of the three
    # candidates (1.5 s each, 4.5 s in all) fit there; a-3 has 1 s, a-1 none.
    assert _early(placed.plan) == [
        ("a-1", []),
        ("a-2", ["t/b.py::old_2", "t/b.py::old_5", "t/a.py::new_6"]),
        ("a-3", []),
    ]
    assert (placed.new, placed.placed, placed.changed) == (3, 3, 2)
    assert placed.note() == (
        "early-flake runs: 3 of 3 tests (1 new, 2 in changed files) fit the shards' spare "
        "time, 3 more runs each"
    )


def test_without_a_history_only_the_changed_files_tests_are_candidates() -> None:
    placed = place_early_runs(_built(), set(), 2, changed_paths(["./t/a.py"]))
    assert _early(placed.plan) == [
        ("a-1", []),
        ("a-2", ["t/a.py::old_1", "t/a.py::old_4", "t/a.py::new_6"]),
        ("a-3", []),
    ]
    assert (placed.new, placed.changed) == (3, 3)
    untouched = place_early_runs(_built(), KNOWN, 2, changed_paths(["docs/x.md", "t/c.py.bak"]))
    assert (untouched.new, untouched.changed) == (1, 0), "only the new test"
    assert untouched.note().startswith("early-flake runs: 1 of 1 new test fit")
    off = place_early_runs(_built(), set(), 0, changed_paths(["t/a.py"]))
    assert off.plan == _built()


def test_changed_paths_are_written_as_test_ids_write_them() -> None:
    lines = ["./t/b.py", "t\\c.py", "  t/a.py  ", "", " ", ".", "t/d.py\r"]
    assert changed_paths(lines) == {"t/a.py", "t/b.py", "t/c.py", "t/d.py"}
    # the one rule of a report's path (testids.normalise_path): every leading ./ goes, and a
    # line that is only ./ names no file
    assert changed_paths(["././t/e.py", "./", "./."]) == {"t/e.py"}


def test_the_list_is_read_one_a_line_or_nul_separated(tmp_path: Path) -> None:
    lines = tmp_path / "lines.txt"
    lines.write_text("\ufefft/a.py\r\nt/b.py\n\n", "utf-8")
    assert read_changed_files(lines) == {"t/a.py", "t/b.py"}
    nul = tmp_path / "nul.txt"
    nul.write_bytes(b"t/a new\nline.py\0t/b.py\0")
    assert read_changed_files(nul) == {"t/a new\nline.py", "t/b.py"}
    with pytest.raises(InputError, match="not found"):
        read_changed_files(tmp_path / "missing.txt")
