"""Our pytest plugins in an interpreter that does not have shard-action installed.

The tests run with the project's own Python (its virtualenv), which need not hold shard-action:
in the GitHub Action we live in a venv of our own. The plugins need only pytest and the standard
library, so a copy of their few files is put on that interpreter's ``PYTHONPATH``. Not our
installation's folder: for a wheel install that is a whole ``site-packages``, whose compiled
packages would leak into an interpreter they were not built for.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

import shard_action

PLUGIN_FILES = (
    "__init__.py",
    "pytest_select.py",
    "pytest_collect.py",
    "core/__init__.py",
    "core/selection.py",
    "core/testids.py",
)
"""What the plugins import: a copy of these runs in any interpreter that has pytest."""


def plugin_copy(folder: Path) -> Path:
    """A folder holding just enough of ``shard_action`` to load the plugins."""
    package = Path(shard_action.__file__).resolve().parent
    target = folder / "plugin"
    for name in PLUGIN_FILES:
        (target / "shard_action" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(package / name, target / "shard_action" / name)
    return target


def env_for(python: str, env: Mapping[str, str], scratch: Path) -> dict[str, str]:
    """``env`` for running ``python`` with our plugins importable (a copy under ``scratch``)."""
    run_env = dict(env)
    if os.path.abspath(python) != os.path.abspath(sys.executable):
        run_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(plugin_copy(scratch)), run_env.get("PYTHONPATH", "")) if p
        )
    return run_env
