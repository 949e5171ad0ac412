"""What the test interpreter and the project's coverage configuration say about the core.

Read once per shard, for :func:`shard_action.core.coverage_core.choose_core`. The interpreter is
asked directly when it is ours, else with one small ``python -c`` (about 30 ms; no coverage
import). The configuration is looked at as text (``.coveragerc``, ``setup.cfg``, ``tox.ini``,
``pyproject.toml`` and ``COVERAGE_RCFILE``), erring towards "cannot use sysmon": a mention of
``branch = true``, ``plugins``, ``dynamic_context`` or a green-thread ``concurrency`` counts.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

from shard_action.core.coverage_core import CoverageFacts

CONFIG_FILES = (".coveragerc", "setup.cfg", "tox.ini", "pyproject.toml")
_PROBE = (
    "import json, sys\n"
    "try:\n"
    "    from importlib.metadata import version\n"
    "    v = version('coverage')\n"
    "except Exception:\n"
    "    v = None\n"
    "print(json.dumps([sys.implementation.name, list(sys.version_info[:2]), v]))\n"
)
_BRANCH = re.compile(r"^\s*branch\s*=\s*(true|1|yes|on)\b", re.IGNORECASE | re.MULTILINE)
_PLUGINS = re.compile(r"^\s*plugins\s*=", re.IGNORECASE | re.MULTILINE)
_CONTEXT = re.compile(r"^\s*dynamic_context\s*=", re.IGNORECASE | re.MULTILINE)
_GREEN = re.compile(r"\b(greenlet|eventlet|gevent)\b")


def coverage_config_texts(cwd: Path, env: Mapping[str, str]) -> list[tuple[str, str]]:
    """(file name, text) of each coverage configuration file there is, coverage's parts only
    roughly: a ``setup.cfg``/``tox.ini`` without ``coverage:`` or a ``pyproject.toml`` without
    ``tool.coverage`` says nothing about coverage and is left out."""
    paths = [cwd / name for name in CONFIG_FILES]
    if env.get("COVERAGE_RCFILE"):
        paths.append(cwd / env["COVERAGE_RCFILE"])
    found = []
    for path in paths:
        try:
            text = path.read_text("utf-8", errors="replace")
        except OSError:
            continue
        if path.name in ("setup.cfg", "tox.ini") and "coverage:" not in text:
            continue
        if path.name == "pyproject.toml" and "tool.coverage" not in text:
            continue
        found.append((path.name, text))
    return found


def _version_tuple(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    numbers = re.findall(r"\d+", text)[:3]
    return tuple(int(n) for n in numbers) if numbers else None


def _interpreter(
    python: str, cwd: Path, env: Mapping[str, str]
) -> tuple[str, tuple[int, int], str | None] | None:
    if os.path.abspath(python) == os.path.abspath(sys.executable):
        try:
            version: str | None = metadata.version("coverage")
        except metadata.PackageNotFoundError:
            version = None
        return sys.implementation.name, (sys.version_info[0], sys.version_info[1]), version
    try:
        proc = subprocess.run(
            [python, "-c", _PROBE],
            cwd=cwd,
            env=dict(env),
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        name, (major, minor), version = json.loads(proc.stdout)
    except (OSError, ValueError, TypeError, subprocess.TimeoutExpired):
        return None
    return str(name), (int(major), int(minor)), None if version is None else str(version)


def coverage_facts(python: str, cwd: Path, env: Mapping[str, str]) -> CoverageFacts | None:
    """The facts, or ``None`` when the interpreter could not be asked."""
    asked = _interpreter(python, cwd, env)
    if asked is None:
        return None
    implementation, version, coverage_version = asked
    texts = [text for _, text in coverage_config_texts(cwd, env)]
    blocker = None
    for text in texts:
        if _PLUGINS.search(text):
            blocker = "with coverage plugins"
        elif _CONTEXT.search(text):
            blocker = "dynamic contexts"
        elif "concurrency" in text and _GREEN.search(text):
            blocker = "greenlet/eventlet/gevent concurrency"
        if blocker:
            break
    return CoverageFacts(
        implementation=implementation,
        python=version,
        coverage=_version_tuple(coverage_version),
        branch=any(_BRANCH.search(text) for text in texts),
        blocker=blocker,
    )
