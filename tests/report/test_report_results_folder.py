"""``report --results`` naming nothing is a typo (exit 2 with the path), not a run whose shards
all died (exit 3): the CLI as a user calls it."""

from __future__ import annotations

from pathlib import Path

import pytest

from shard_action.cli import main

from .factories import manifest, plan, shard


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(plan([shard("s1", ["tests/test_a.py::test_one"])]).model_dump_json())
    return path


@pytest.mark.parametrize("kind", ["missing", "a file"])
def test_results_naming_no_folder_is_exit_2_with_the_path(
    tmp_path: Path, plan_file: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "shard-results"
    real.mkdir()
    wrong = tmp_path / "shard-resluts"
    if kind == "a file":
        wrong.write_text("not results\n")
    out = tmp_path / "out"
    code = main(
        ["report", "--plan", str(plan_file), "--results", str(real), str(wrong),
         "--out", str(out)]
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert str(wrong) in err
    assert ("no such folder" if kind == "missing" else "not a folder") in err
    assert not out.exists()  # refused before anything was written


def test_an_empty_results_folder_is_still_a_run_with_every_shard_lost(
    tmp_path: Path, plan_file: Path
) -> None:
    """The action makes the folder even when no shard uploaded: that is exit 3, not a typo."""
    empty = tmp_path / "shard-results"
    empty.mkdir()
    code = main(
        ["report", "--plan", str(plan_file), "--results", str(empty), "--out",
         str(tmp_path / "out")]
    )  # fmt: skip
    assert code == 3


def test_a_manifest_file_is_accepted_as_results(tmp_path: Path, plan_file: Path) -> None:
    folder = tmp_path / "s1"
    folder.mkdir()
    path = folder / "manifest.json"
    test = "tests/test_a.py::test_one"
    path.write_text(manifest("s1", [test], outcomes={test: "passed"}).model_dump_json())
    code = main(
        ["report", "--plan", str(plan_file), "--results", str(path), "--out",
         str(tmp_path / "out")]
    )  # fmt: skip
    assert code == 0
