"""Fixtures for end-to-end runs of the real pipeline on copies of the bundled example project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
IGNORE = shutil.ignore_patterns(
    ".shard-action", "var", ".coverage*", "shard-results", ".pytest_cache", "__pycache__"
)


def copy_examples(dest: Path) -> Path:
    shutil.copytree(EXAMPLES, dest, ignore=IGNORE)
    return dest


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting for a parent that no longer reaps it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a user's shell: no GitHub runtime, no leftover shard-action settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SHARD_ACTION_", "GITHUB_", "EXAMPLE_", "COV_", "PYTEST_"))
        and k not in ("COVERAGE_FILE", "COVERAGE_PROCESS_START")
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def shard_action(
    args: list[str], cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shard_action", *args],
        cwd=cwd,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
