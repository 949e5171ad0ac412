"""The real suites from PyPI that the executed benchmarks run: packages that ship their tests.

- ``networkx`` (pure Python, 6,900 tests; light per-file imports once the package is in);
- ``scipy`` (compiled, its test files import heavy subpackages: ``scipy.interpolate`` pulls in
  ``scipy.sparse``, ``scipy.linalg``, ``scipy.spatial``, ``scipy.special``), for what per-file
  import cost does to start-up and balance.

Both are pinned in the ``bench`` extra. A suite is copied out of site-packages into a scratch
project without bytecode (a fresh checkout), with its wheel's bundled shared libraries
(``scipy.libs``: the extensions find them by a relative path).
"""

from __future__ import annotations

import shutil
from importlib import metadata, util
from pathlib import Path
from typing import Final

ENV: Final = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
"""For every process of both tools: scipy's BLAS would start a thread per core in each shard,
and on a shared 2-core machine that measures contention, not sharding."""

PINNED: Final = {"networkx": "3.4.2", "scipy": "1.17.1"}
"""The versions the figures in docs/benchmarks.md were measured with (the ``bench`` extra)."""


def installed(name: str) -> tuple[Path, str]:
    """The installed package's folder and version."""
    spec = util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            f"{name} is not installed: `.venv/bin/pip install -e '.[bench]'` "
            f"(the bench extra pins {name}=={PINNED.get(name, '?')})"
        )
    return Path(next(iter(spec.submodule_search_locations))), metadata.version(name)


def copy_suite(name: str, source: Path, dest: Path) -> None:
    """``dest/<name>`` (and ``dest/<name>.libs`` when the wheel has one), without bytecode."""
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copytree(source, dest / name, ignore=skip)
    libs = source.with_name(f"{name}.libs")
    if libs.is_dir():
        shutil.copytree(libs, dest / libs.name, ignore=skip)
