"""A lane with workers learns what starting its xdist workers costs, in place of the 1.5 s guess.

Two real ``shard-action local`` runs of a small suite with ``workers = 2``: the first plan adds
``WORKER_STARTUP`` (no history), the first run measures the shard's start-up beyond its
interpreter and its files' collection (``Measured.workers``), and the second plan's start-up is
what the first run measured (an auditor saw 1.74 s predicted from the history for 0.9 s measured:
the interpreter, the files and the constant).
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shard_action.core.history import History
from shard_action.core.manifest import ShardManifest
from shard_action.core.plan import Plan
from shard_action.core.workers import WORKER_STARTUP
from tests.runner.helpers import PYPROJECT, QUIET_ENV, write_suite

pytestmark = pytest.mark.slow

LOCAL = [sys.executable, "-m", "shard_action", "local"]
CONFIG = '[tool.shard-action]\n[[tool.shard-action.lanes]]\nname = "default"\nworkers = 2\n'


def _suite(root: Path) -> Path:
    test = "import time\ndef test_a(): time.sleep(0.05)\ndef test_b(): pass\n"
    files = {f"tests/test_{name}.py": test for name in "abcd"}
    return write_suite(root, files, pyproject=PYPROJECT + CONFIG)


def _local(root: Path, out: Path, history: Path) -> None:
    command = [
        *LOCAL, str(root), "--out", str(out), "--history", str(history), "--shards", "1",
        "--shard-overhead", "0", "--coverage", "false", "--jobs", "1",
    ]  # fmt: skip
    proc = subprocess.run(
        command, cwd=root, env={**os.environ, **QUIET_ENV}, capture_output=True, text=True,
        timeout=240, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _startup(out: Path) -> float:
    (shard,) = Plan.model_validate_json((out / "plan.json").read_text("utf-8")).shards
    assert shard.prediction is not None
    return shard.prediction.startup


def test_the_second_plan_starts_the_workers_as_the_first_run_measured(tmp_path: Path) -> None:
    root = _suite(tmp_path / "suite")
    history = tmp_path / "history.json"
    first, second = tmp_path / "out-1", tmp_path / "out-2"
    _local(root, first, history)
    after_first = History.model_validate_json(history.read_text("utf-8"))
    shutil.copy(history, tmp_path / "history-1.json")
    _local(root, second, history)

    manifest = ShardManifest.model_validate_json(
        (first / "shards" / "default-1" / "manifest.json").read_text("utf-8")
    )
    measured = manifest.measured
    assert measured is not None and measured.workers is not None
    # what a worker pays is real (an interpreter, pytest, xdist) and far below a guess of 1.5 s
    # on this suite; the parts add up to the start-up measured
    assert 0.05 < measured.workers < WORKER_STARTUP
    files = math.fsum(measured.files.values())
    assert measured.interpreter + files + measured.workers == pytest.approx(
        measured.parts.startup, abs=0.005
    )
    assert len(after_first.costs["default"].workers) == 1
    assert _startup(first) >= WORKER_STARTUP  # no history: the first-run figure

    predicted, actual = _startup(second), measured.parts.startup
    # the old model predicted the interpreter + files + 1.5 s, about 0.9 s over: a loaded
    # 2-core machine moves a 1 s start-up by a few tenths, not by that
    assert abs(predicted - actual) <= 0.3 + 0.3 * actual, (predicted, actual)
    worker_part = predicted - measured.interpreter - files
    assert worker_part < 1.2, (predicted, measured)
    after_second = History.model_validate_json(history.read_text("utf-8"))
    assert len(after_second.costs["default"].workers) == 2
