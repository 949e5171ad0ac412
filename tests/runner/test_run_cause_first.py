"""The cause first, not a flood: a shard whose interpreter lacks coverage stops before its tests.

A real interpreter without coverage (a venv that sees this environment's packages except
coverage), real ``shard-action run`` processes and a real ``shard-action report``: the cause is
said once per shard with the count of its lost tests, never copied onto each of its 463 tests
(that once printed 6,562 lines and a 275 KB job summary).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from .helpers import QUIET_ENV, manifest, run_shard, save_plan, write_suite
from .plans import LaneSlice, plan, shard

pytestmark = pytest.mark.slow

CAUSE = "No module named coverage"
MANY = 463


def python_without_coverage(folder: Path) -> str:
    """A venv whose site-packages link every package of this environment but coverage."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120
    )
    ours = Path(sysconfig.get_paths()["purelib"])
    linked = folder / "linked"
    linked.mkdir()
    for entry in ours.iterdir():
        if entry.name.startswith("coverage") or entry.suffix == ".pth":
            continue
        (linked / entry.name).symlink_to(entry)
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib).mkdir(parents=True, exist_ok=True)
    (Path(purelib) / "linked.pth").write_text(f"{linked}\n", "utf-8")
    probe = subprocess.run(
        [str(python), "-c", "import pytest, coverage"], capture_output=True, text=True, check=False
    )
    assert "No module named 'coverage'" in probe.stderr, probe.stderr  # pytest imported
    return str(python)


def test_a_shard_without_coverage_says_why_once_with_its_count(tmp_path: Path) -> None:
    root = write_suite(
        tmp_path / "suite",
        {
            "tests/test_many.py": f"""
                import pytest

                @pytest.mark.parametrize("n", range({MANY}))
                def test_n(n):
                    assert n >= 0
            """,
            "tests/test_few.py": "def test_a(): pass\ndef test_b(): pass\n",
        },
    )
    many = [f"tests/test_many.py::test_n[{n}]" for n in range(MANY)]
    few = ["tests/test_few.py::test_a", "tests/test_few.py::test_b"]
    python = python_without_coverage(tmp_path / "nocov")
    built = plan(
        shard("big-1", LaneSlice("big", many)),
        shard("small-1", LaneSlice("small", few)),
        coverage=True,
        python=python,
    )
    plan_path = save_plan(root, built)
    for shard_id in ("big-1", "small-1"):
        proc, results = run_shard(root, plan_path, shard_id, results=root / "r" / shard_id)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        got = manifest(results)
        assert got.failure is not None and CAUSE in got.failure, got.failure
        assert len(got.failure) < 400, "the cause, not a list of ids"

    out = root / "out"
    report = subprocess.run(
        [sys.executable, "-m", "shard_action", "report", "--plan", str(plan_path),
         "--results", str(root / "r"), "--out", str(out)],
        cwd=root, env={**os.environ, **QUIET_ENV}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert report.returncode == 3, report.stdout + report.stderr
    printed = report.stdout
    assert printed.count(CAUSE) == 2, printed  # once per shard
    assert f"LOST {MANY} tests of shard big-1 (lane big): " in printed
    assert "LOST 2 tests of shard small-1 (lane small): " in printed
    assert len(printed.splitlines()) < 40, "one line per shard, a few ids, not a paragraph each"

    for name in ("summary.md", "comment.md"):
        text = (out / name).read_text("utf-8")
        assert text.count(CAUSE) == 2, name  # one row per shard
    summary = (out / "summary.md").read_text("utf-8")
    assert len(summary.encode()) < 80_000  # every id once, folded; was 275 KB
    assert summary.count("test&#95;n&#91;<wbr>462&#93;") == 1
