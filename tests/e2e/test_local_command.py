"""``shard-action local`` as a user meets it: no path (``./examples``), ``--shards``, the progress
lines in a log, the live table on a terminal, and the summary at the end.

A tiny generated project stands in for ``examples/`` so each run takes seconds; the real example
runs in ``test_local_pipeline.py``.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import clean_env, shard_action

pytestmark = pytest.mark.slow

TESTS = {
    f"tests/test_{name}.py": "".join(
        f"def test_{name}_{i}():\n    assert {i} + 1 > {i}\n\n" for i in range(4)
    )
    for name in ("alpha", "beta", "gamma")
}


def tiny_project(folder: Path) -> Path:
    (folder / "tests").mkdir(parents=True)
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "tiny"\nversion = "0"\n\n'
        '[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n'
    )
    for path, text in TESTS.items():
        (folder / path).write_text(text)
    return folder


def test_no_path_means_examples_here_with_the_shards_asked_for(tmp_path: Path) -> None:
    tiny_project(tmp_path / "examples")
    proc = shard_action(["local", "--shards", "2", "--no-history"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    out = tmp_path / "shard-action-out"
    plan = json.loads((out / "plan.json").read_text())
    assert len(plan["shards"]) == 2
    assert sorted(t for s in plan["shards"] for t in s["tests"]) == sorted(
        f"{path}::test_{path[11:-3]}_{i}" for path in TESTS for i in range(4)
    )
    # Not a terminal: one plain line per event, then the rendered summary.
    for shard in plan["shards"]:
        assert f"shard {shard['id']}: started" in proc.stdout
        assert re.search(rf"shard {shard['id']}: passed in \d", proc.stdout)
    assert "12 tests passed" in proc.stdout, proc.stdout[-2000:]
    assert "shards: 2 in" in proc.stdout
    assert (out / "report" / "report.json").is_file()


def test_no_path_and_no_examples_is_explained(tmp_path: Path) -> None:
    proc = shard_action(["local"], cwd=tmp_path)
    assert proc.returncode == 2
    assert "no project folder given and there is no ./examples here" in proc.stderr


def test_a_terminal_gets_the_live_table(tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "project")
    main, child = pty.openpty()
    env = clean_env({"COLUMNS": "120", "LINES": "40", "TERM": "xterm"})
    with subprocess.Popen(
        [sys.executable, "-m", "shard_action", "local", str(project), "--shards", "2",
         "--no-history", "--out", str(tmp_path / "out")],
        cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=child, stderr=child,
    ) as proc:  # fmt: skip
        os.close(child)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the child side closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = proc.wait(timeout=300)
    os.close(main)
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode("utf-8", "replace"))
    assert code == 0, screen[-3000:]
    # The table, redrawn while the shards run, then the last state.
    assert screen.count("predicted") >= 2 and "elapsed" in screen and "status" in screen
    assert "passed" in screen
    assert ": started" not in screen  # the plain lines are for logs only
