"""Today's tests: pytest collection, a list of ids from a file, or test files matched by globs.

The planner must plan the tests that exist *now*, not the ones the history remembers. pytest is
asked through a small plugin (``shard_action.pytest_collect``) so ids, files and markers come out
exactly as pytest sees them; collection errors stop the plan with the errors named, because a
module that failed to import would otherwise vanish from every shard without anyone noticing.

An unchanged tree need not be collected twice: with ``cache_dir`` set, the result is stored under
a key made from the content of every file that can change what pytest collects.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shard_action.adapters.plugin_path import env_for
from shard_action.core.models import TestItem
from shard_action.core.testids import file_of
from shard_action.core.units import count
from shard_action.errors import InputError

PLUGIN = "shard_action.pytest_collect"
OUT_VAR = "SHARD_ACTION_COLLECT_OUT"
SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", "node_modules", "__pycache__",
     ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", ".shard-action", "build",
     "dist", ".eggs"}
)  # fmt: skip
CACHE_SUFFIXES = frozenset({".py", ".toml", ".ini", ".cfg", ".txt", ".json", ".yaml", ".yml"})


@dataclass(frozen=True)
class Collected:
    """What collection found: the tests in collection order, and what to tell the user."""

    tests: tuple[TestItem, ...]
    source: str
    warnings: tuple[str, ...] = field(default=())
    cached: bool = False


def _dedupe(items: Sequence[TestItem], source: str) -> tuple[tuple[TestItem, ...], list[str]]:
    seen: set[str] = set()
    kept: list[TestItem] = []
    duplicates: list[str] = []
    for item in items:
        if item.id in seen:
            duplicates.append(item.id)
            continue
        seen.add(item.id)
        kept.append(item)
    warnings = []
    if duplicates:
        shown = ", ".join(repr(d) for d in duplicates[:5])
        more = f" and {len(duplicates) - 5} more" if len(duplicates) > 5 else ""
        warnings.append(
            f"{source}: {count(len(duplicates), 'duplicate test id')} planned once: {shown}{more}"
        )
    return tuple(kept), warnings


def read_test_list(path: Path) -> Collected:
    """One test id per line; blank lines and ``#`` comment lines are skipped.

    Ids can hold spaces, quotes, ``$()`` and any unicode: nothing is stripped but the line
    ending (``\n`` or ``\r\n``, and a UTF-8 byte-order mark that Windows editors put first),
    so the id that reaches the runner is the id that was written. Lines are split on ``\n``
    alone: ``str.splitlines`` would also split inside an id at U+2028, U+0085 or a form feed.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError("test list not found", source=str(path)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read test list: {exc}", source=str(path)) from exc
    items = []
    for line in text.split("\n"):
        test_id = line.removesuffix("\r")
        if test_id.strip() and not test_id.lstrip().startswith("#"):
            items.append(TestItem(id=test_id, file=file_of(test_id)))
    tests, warnings = _dedupe(items, str(path))
    return Collected(tests=tests, source=str(path), warnings=tuple(warnings))


def _walk(root: Path, skip: Path | None = None) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIP_DIRS
            and (skip is None or Path(dirpath, d).resolve() != skip)
            and not d.endswith(".egg-info")
            and not (Path(dirpath, d) / "pyvenv.cfg").exists()
        )
        for name in sorted(filenames):
            yield Path(dirpath, name)


def match_test_files(root: Path, patterns: Sequence[str]) -> Collected:
    """Test files for runners split by file (jest, go test, rspec…): each file is one test id."""
    found: dict[str, None] = {}
    for pattern in patterns:
        matches = [
            p
            for p in root.glob(pattern)
            if p.is_file() and not (set(p.relative_to(root).parts[:-1]) & SKIP_DIRS)
        ]
        for path in sorted(matches):
            found.setdefault(path.relative_to(root).as_posix(), None)
    items = tuple(TestItem(id=name, file=name) for name in found)
    return Collected(tests=items, source="test-files: " + ", ".join(patterns))


def tree_key(root: Path, extra: Sequence[str], skip: Path | None = None) -> str:
    """A hash of every file that can change what pytest collects, plus the collection options."""
    digest = hashlib.sha256()
    for part in extra:
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    for path in _walk(root, skip.resolve() if skip else None):
        if path.suffix not in CACHE_SUFFIXES:
            continue
        digest.update(path.relative_to(root).as_posix().encode("utf-8", "surrogateescape"))
        digest.update(b"\0")
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            digest.update(b"unreadable")
    return digest.hexdigest()


def _parse_payload(data: Any, where: str) -> tuple[list[TestItem], list[dict[str, str]]]:
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise InputError("collection output is not what the plugin writes", source=where)
    items = [
        TestItem(id=str(i["id"]), file=str(i["file"]), markers=frozenset(i.get("markers", ())))
        for i in data["items"]
    ]
    errors = [dict(e) for e in data.get("errors", [])]
    return items, errors


def collect_pytest(
    root: Path,
    args: Sequence[str] = (),
    *,
    python: str | None = None,
    cache_dir: Path | None = None,
    env: dict[str, str] | None = None,
) -> Collected:
    """Run ``pytest --collect-only`` in ``root`` and return the tests in collection order."""
    interpreter = python or sys.executable
    key = None
    if cache_dir is not None:
        key = tree_key(root, [interpreter, *args], skip=cache_dir)
        cached = cache_dir / f"collect-{key[:32]}.json"
        if cached.is_file():
            try:
                items, _ = _parse_payload(json.loads(cached.read_text("utf-8")), str(cached))
            except (OSError, ValueError, InputError):
                pass  # a damaged cache entry is just a miss
            else:
                tests, warnings = _dedupe(items, "pytest collection")
                return Collected(tests, "pytest collection (cached)", tuple(warnings), True)
    with tempfile.TemporaryDirectory(prefix="shard-action-collect-") as tmp:
        out = Path(tmp, "collected.json")
        run_env = env_for(interpreter, os.environ if env is None else env, Path(tmp))
        run_env[OUT_VAR] = str(out)
        command = [interpreter, "-m", "pytest", "--collect-only", "-qq", "-p", PLUGIN, *args]
        try:
            proc = subprocess.run(
                command, cwd=root, env=run_env, capture_output=True, text=True, check=False
            )
        except OSError as exc:
            raise InputError(f"cannot start pytest: {exc}", source=interpreter) from exc
        if not out.is_file():
            if "No module named pytest" in proc.stderr:
                raise InputError(
                    f"pytest is not installed for {interpreter}: install it there "
                    "(pip install pytest), or set `python` (SHARD_ACTION_PYTHON) to the "
                    "interpreter of your project"
                )
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise InputError(
                f"pytest collection failed (exit {proc.returncode}) in {root}:\n{tail}"
            )
        payload = json.loads(out.read_text("utf-8"))
    items, errors = _parse_payload(payload, "pytest collection")
    if errors:
        lines = []
        for error in errors[:10]:
            last = error.get("error", "").strip().splitlines()[-1:] or ["(no message)"]
            lines.append(f"  {error.get('node') or '(rootdir)'}: {last[0]}")
        more = f"\n  … and {len(errors) - 10} more" if len(errors) > 10 else ""
        raise InputError(
            f"pytest could not collect {count(len(errors), 'module')} in {root}; fix them or "
            "exclude them with collect-args:\n" + "\n".join(lines) + more
        )
    if proc.returncode not in (0, 5):
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise InputError(f"pytest collection failed (exit {proc.returncode}) in {root}:\n{tail}")
    if cache_dir is not None and key is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp_file = cache_dir / f".collect-{key[:32]}.{os.getpid()}.tmp"
        tmp_file.write_text(json.dumps(payload, ensure_ascii=False), "utf-8")
        tmp_file.replace(cache_dir / f"collect-{key[:32]}.json")
    tests, warnings = _dedupe(items, "pytest collection")
    return Collected(tests=tests, source="pytest collection", warnings=tuple(warnings))
