"""A shard's coverage data: one process's file is moved, ``[paths]`` or several are combined.

Real ``coverage run`` processes write the parts; the result is read back with coverage.py's
data API, as the report reads it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from coverage import CoverageData

from shard_action.adapters.runner import remaps_paths, save_coverage

CODE = "def f(x):\n    if x:\n        return 1\n    return 2\n\nf(1)\n"


def measure(project: Path, script: Path, parts: Path) -> None:
    """One ``coverage run --parallel-mode`` process writing its part into ``parts``."""
    parts.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "COVERAGE_FILE": str(parts / ".coverage")}
    env.pop("COVERAGE_PROCESS_START", None)
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "--parallel-mode", str(script)],
        cwd=project,
        env=env,
        check=True,
        capture_output=True,
    )


def measured(data_file: Path) -> dict[str, list[int]]:
    data = CoverageData(basename=str(data_file))
    data.read()
    return {Path(f).name: sorted(data.lines(f) or ()) for f in data.measured_files()}


@pytest.mark.slow
def test_one_part_is_moved_not_combined(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    script = project / "mod.py"
    script.write_text(CODE, encoding="utf-8")
    parts = tmp_path / "parts"
    measure(project, script, parts)
    (part,) = parts.glob(".coverage*")
    out = tmp_path / "results" / ".coverage.s-1"
    out.parent.mkdir()
    problem = save_coverage(sys.executable, parts, out, cwd=project, env={})
    assert problem is None
    assert not part.exists()
    assert measured(out) == {"mod.py": [1, 2, 3, 6]}


@pytest.mark.slow
def test_two_parts_are_combined(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "a.py").write_text("x = 1\n", encoding="utf-8")
    (project / "b.py").write_text("y = 2\nz = 3\n", encoding="utf-8")
    parts = tmp_path / "parts"
    measure(project, project / "a.py", parts)
    measure(project, project / "b.py", parts)
    out = tmp_path / ".coverage.s-1"
    assert save_coverage(sys.executable, parts, out, cwd=project, env={}) is None
    assert measured(out) == {"a.py": [1], "b.py": [1, 2]}


@pytest.mark.slow
def test_a_paths_section_still_goes_through_combine(tmp_path: Path) -> None:
    """``[paths]`` maps another copy of the code onto the project's: only combine applies it."""
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "mod.py").write_text(CODE, encoding="utf-8")
    installed = tmp_path / "installed"
    installed.mkdir()
    (installed / "mod.py").write_text(CODE, encoding="utf-8")
    (project / ".coveragerc").write_text(
        f"[paths]\nsource =\n    src/\n    {installed}/\n", encoding="utf-8"
    )
    parts = tmp_path / "parts"
    measure(project, installed / "mod.py", parts)
    out = tmp_path / ".coverage.s-1"
    assert save_coverage(sys.executable, parts, out, cwd=project, env={}) is None
    data = CoverageData(basename=str(out))
    data.read()
    (file,) = data.measured_files()
    assert Path(file).parent.name == "src"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (".coveragerc", "[run]\nbranch = true\n[paths]\nsource = src/\n", True),
        (".coveragerc", "[run]\nbranch = true\n", False),
        ("setup.cfg", "[coverage:paths]\nsource = src/\n", True),
        ("tox.ini", "[tox]\nenvlist = py\n", False),
        ("pyproject.toml", "[tool.coverage.paths]\nsource = ['src/']\n", True),
        ("pyproject.toml", "[tool.coverage.run]\nbranch = true\n[tool.x]\npaths = 1\n", True),
        ("pyproject.toml", "[tool.coverage.run]\nbranch = true\n", False),
    ],
)
def test_paths_sections_are_found_in_every_config_file(
    tmp_path: Path, name: str, text: str, expected: bool
) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    assert remaps_paths(tmp_path, {}) is expected


def test_a_config_named_by_coverage_rcfile_is_read(tmp_path: Path) -> None:
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "cov.ini").write_text("[paths]\nsource = src/\n", encoding="utf-8")
    assert not remaps_paths(tmp_path, {})
    assert remaps_paths(tmp_path, {"COVERAGE_RCFILE": "ci/cov.ini"})
