"""Run the real ``shard-action run`` in a subprocess on suites written into tmp_path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from shard_action.core.manifest import ShardManifest, SliceResult
from shard_action.core.plan import Plan

CLI = [sys.executable, "-m", "shard_action", "run"]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
QUIET_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
"""Test processes of generated suites load no third-party plugins by default: hypothesis alone
costs each pytest process about 2 s here. A test that needs one passes it with ``-p``, or
overrides this with an empty value."""

PYPROJECT = """\
[tool.pytest.ini_options]
markers = ["slowish: a marker"]
"""


def copy_examples(target: Path) -> Path:
    """A private copy of the bundled ``examples/`` project, without anything a run left there."""
    ignore = shutil.ignore_patterns(
        "var", ".coverage*", "shard-results", ".pytest_cache", "__pycache__", ".shard-action"
    )
    shutil.copytree(EXAMPLES, target, ignore=ignore)
    return target


def write_suite(root: Path, files: dict[str, str], *, pyproject: str = PYPROJECT) -> Path:
    """Write test files (dedented) under ``root``, with a pyproject so rootdir is ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(pyproject, "utf-8")
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body), "utf-8")
    return root


def collect_ids(root: Path, *args: str) -> list[str]:
    """Today's node ids, the way pytest prints them (independent of our collection code)."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
        cwd=root,
        env={**os.environ, **QUIET_ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [line for line in proc.stdout.splitlines() if "::" in line]


def save_plan(root: Path, built: Plan) -> Path:
    path = root / "plan.json"
    path.write_text(built.model_dump_json(indent=2), "utf-8")
    return path


def run_shard(
    root: Path,
    plan_path: Path,
    shard_id: str,
    *extra: str,
    results: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 240,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    results = results or root / "results" / shard_id
    command = [
        *CLI,
        "--plan",
        str(plan_path),
        "--shard",
        shard_id,
        "--results",
        str(results),
    ]
    if extra:
        command += ["--", *extra]
    proc = subprocess.run(
        command,
        cwd=root,
        env={**os.environ, **QUIET_ENV, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return proc, results


def manifest(results: Path) -> ShardManifest:
    return ShardManifest.model_validate_json((results / "manifest.json").read_text("utf-8"))


def only_slice(got: ShardManifest) -> SliceResult:
    """The run of a shard that has one (every shard of a parallel plan)."""
    (run,) = got.slices
    return run


def log_lines(path: Path) -> list[dict[str, Any]]:
    """JSON lines that test files append to record what ran, where and with which env."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]
