"""Today's tests: pytest collection, a list of ids from a file, or test files matched by globs.

The planner must plan the tests that exist *now*, not the ones the history remembers. pytest is
asked through a small plugin (``shard_action.pytest_collect``) so ids, files and markers come out
exactly as pytest sees them; collection errors stop the plan with the errors named, because a
module that failed to import would otherwise vanish from every shard without anyone noticing.

Collection runs with ``--assert=plain`` (before the user's ``collect-args``, which may undo it):
assertion rewriting changes how a failing ``assert`` reports, never which tests exist, and on a
cold checkout it is most of collection's cost (networkx: 8 s collected against 2.2 s plain).

An unchanged tree need not be collected twice: with ``cache_dir`` set (``plan`` sets it unless
``--no-collect-cache``), the result is stored under :func:`tree_key`, a hash of everything that
can change what pytest collects.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shard_action import __version__
from shard_action.adapters.plugin_path import env_for
from shard_action.core.config import Config
from shard_action.core.estimate import Collection
from shard_action.core.models import TestItem
from shard_action.core.testids import file_of
from shard_action.core.units import count, finite
from shard_action.errors import InputError

PLUGIN = "shard_action.pytest_collect"
OUT_VAR = "SHARD_ACTION_COLLECT_OUT"
SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", "node_modules", "__pycache__",
     ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", ".shard-action", "build",
     "dist", ".eggs"}
)  # fmt: skip
LARGE_FILE = 1 << 20
"""Files above this size enter the cache key by size and mtime, not content."""
PLAIN_ASSERT = "--assert=plain"


@dataclass(frozen=True)
class Collected:
    """What collection found: the tests in collection order, and what to tell the user.

    ``times``: what pytest's collection took (a cached one: when it ran), for a first run's
    start-up estimate; ``None`` when pytest did not collect.
    """

    tests: tuple[TestItem, ...]
    source: str
    warnings: tuple[str, ...] = field(default=())
    cached: bool = False
    times: Collection | None = None


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


def read_list_file(path: Path, what: str) -> str:
    """A list file's text (UTF-8; a byte-order mark dropped), or an input error naming it."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"{what} not found", source=str(path)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {what}: {exc}", source=str(path)) from exc


def read_test_list(path: Path) -> Collected:
    """One test id per line; blank lines and ``#`` comment lines are skipped.

    Ids can hold spaces, quotes, ``$()`` and any unicode: nothing is stripped but the line
    ending (``\n`` or ``\r\n``, and a UTF-8 byte-order mark that Windows editors put first),
    so the id that reaches the runner is the id that was written. Lines are split on ``\n``
    alone: ``str.splitlines`` would also split inside an id at U+2028, U+0085 or a form feed.
    """
    text = read_list_file(path, "test list")
    items = []
    for line in text.split("\n"):
        test_id = line.removesuffix("\r")
        if test_id.strip() and not test_id.lstrip().startswith("#"):
            items.append(TestItem(id=test_id, file=file_of(test_id)))
    tests, warnings = _dedupe(items, str(path))
    return Collected(tests=tests, source=str(path), warnings=tuple(warnings))


def _walk(root: Path, skip: Sequence[Path] = ()) -> Iterator[Path]:
    skipped = {p.resolve() for p in skip}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIP_DIRS
            and (not skipped or Path(dirpath, d).resolve() not in skipped)
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


def _interpreter_state(interpreter: str, root: Path, env: Mapping[str, str]) -> list[str]:
    """The interpreter's version and import path, with each path entry's mtime.

    A folder's mtime changes when an entry is added or removed, so installing, upgrading or
    removing a package (a new ``*.dist-info``, a ``.pth`` file) changes the key. Asked of the
    interpreter itself (about 30 ms): it may be the project's, not ours.
    """
    try:
        proc = subprocess.run(
            [interpreter, "-c", "import json, sys; print(json.dumps([sys.version, sys.path]))"],
            cwd=root,
            env=dict(env),
            capture_output=True,
            text=True,
            check=False,
        )
        version, paths = json.loads(proc.stdout)
    except (OSError, ValueError, TypeError):
        return ["unknown interpreter", interpreter]  # collection itself will then say why
    state = [interpreter, str(version)]
    inside = root.resolve()
    for entry in paths:
        try:
            where = Path(entry or root).resolve()
            if where == inside or inside in where.parents:
                state.append(str(entry))  # the tree itself is hashed file by file
            else:
                state.append(f"{entry}\0{where.stat().st_mtime_ns}")
        except (OSError, TypeError, ValueError):
            state.append(f"{entry}\0-")
    return state


def _collection_env(env: Mapping[str, str]) -> list[str]:
    """The variables pytest and imports read: ``PYTEST_*`` (addopts, plugins), ``PYTHONPATH``."""
    return sorted(
        f"{k}={v}"
        for k, v in env.items()
        if (k.startswith("PYTEST_") and k != "PYTEST_CURRENT_TEST" and "XDIST" not in k)
        or k in ("PYTHONPATH", "PYTHONSAFEPATH")
    )


def tree_key(
    root: Path,
    extra: Sequence[str],
    skip: Sequence[Path] = (),
    *,
    interpreter: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """A hash of everything that can change what pytest collects in ``root``.

    Made of: our version and the collection plugin's source; ``extra`` (the collection
    arguments); with ``interpreter``, its version, ``sys.path`` and each path entry's mtime
    (installed packages) and the ``PYTEST_*``/``PYTHONPATH`` variables of ``env``; then the
    relative path and content of every file under ``root`` (a file over 1 MiB by size and mtime),
    except in vendored/tool folders (:data:`SKIP_DIRS`, virtualenvs) and ``skip`` (our cache and
    output folders) and coverage data files. Not covered: a ``conftest.py`` that reads other
    environment variables or files outside ``root``; ``--no-collect-cache`` is for those.
    """
    digest = hashlib.sha256()

    def add(text: str) -> None:
        digest.update(text.encode("utf-8", "surrogateescape") + b"\0")

    add(f"shard-action {__version__}")
    plugin = Path(__file__).resolve().parent.parent / "pytest_collect.py"
    digest.update(hashlib.sha256(plugin.read_bytes()).digest())
    for part in extra:
        add(part)
    if interpreter is not None:
        environ = os.environ if env is None else env
        for part in [*_interpreter_state(interpreter, root, environ), *_collection_env(environ)]:
            add(part)
    for path in _walk(root, skip):
        if path.name.startswith(".coverage"):
            continue  # coverage data: changes on every run, never read by collection
        add(path.relative_to(root).as_posix())
        try:
            stat = path.stat()
            if stat.st_size > LARGE_FILE:
                add(f"{stat.st_size}:{stat.st_mtime_ns}")
            else:
                digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            add("unreadable")
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


def _times(data: Any) -> Collection | None:
    """The collection's clock from the plugin's payload (``started``: set by us before pytest);
    an older or odd payload gives ``None``, never an error."""
    clock = data.get("clock") if isinstance(data, dict) else None
    started = finite(data.get("started")) if isinstance(data, dict) else None
    configured = finite(clock.get("configured")) if isinstance(clock, dict) else None
    if started is None or configured is None:
        return None
    files = data.get("files")
    seconds = {
        str(name): number
        for name, value in (files.items() if isinstance(files, dict) else ())
        if (number := finite(value)) is not None and number >= 0
    }
    return Collection(interpreter=max(0.0, configured - started), files=seconds)


def _from_cache(cached: Path) -> Collected | None:
    """The stored collection of an unchanged tree; a damaged entry is just a miss."""
    if not cached.is_file():
        return None
    try:
        data = json.loads(cached.read_text("utf-8"))
        items, _ = _parse_payload(data, str(cached))
    except (OSError, ValueError, InputError):
        return None
    tests, warnings = _dedupe(items, "pytest collection")
    return Collected(tests, "pytest collection (cached)", tuple(warnings), True, _times(data))


def _tail(proc: subprocess.CompletedProcess[str]) -> str:
    return "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])


def _run_collection(
    root: Path, args: Sequence[str], interpreter: str, env: dict[str, str] | None
) -> tuple[Any, subprocess.CompletedProcess[str]]:
    """The plugin's payload (parsed JSON) and the finished process."""
    with tempfile.TemporaryDirectory(prefix="shard-action-collect-") as tmp:
        out = Path(tmp, "collected.json")
        run_env = env_for(interpreter, os.environ if env is None else env, Path(tmp))
        run_env[OUT_VAR] = str(out)
        command = [
            interpreter, "-m", "pytest", "--collect-only", "-qq", "-p", PLUGIN, PLAIN_ASSERT, *args
        ]  # fmt: skip
        started = time.time()
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
            raise InputError(
                f"pytest collection failed (exit {proc.returncode}) in {root}:\n{_tail(proc)}"
            )
        payload = json.loads(out.read_text("utf-8"))
        if isinstance(payload, dict):
            payload["started"] = started
        return payload, proc


def _refuse_errors(errors: Sequence[Mapping[str, str]], root: Path) -> None:
    """A module that did not import would vanish from every shard: stop, naming it."""
    if not errors:
        return
    lines = []
    for error in errors[:10]:
        last = error.get("error", "").strip().splitlines()[-1:] or ["(no message)"]
        lines.append(f"  {error.get('node') or '(rootdir)'}: {last[0]}")
    more = f"\n  … and {len(errors) - 10} more" if len(errors) > 10 else ""
    raise InputError(
        f"pytest could not collect {count(len(errors), 'module')} in {root}; fix them or "
        "exclude them with collect-args:\n" + "\n".join(lines) + more
    )


def collect_pytest(
    root: Path,
    args: Sequence[str] = (),
    *,
    python: str | None = None,
    cache_dir: Path | None = None,
    skip: Sequence[Path] = (),
    env: dict[str, str] | None = None,
) -> Collected:
    """Run ``pytest --collect-only`` in ``root`` and return the tests in collection order.

    With ``cache_dir``, an unchanged tree (:func:`tree_key`; ``skip`` names more folders that
    are ours, such as the plan's output) reuses the last collection instead.
    """
    interpreter = python or sys.executable
    key = None
    if cache_dir is not None:
        key = tree_key(root, args, [cache_dir, *skip], interpreter=interpreter, env=env)
        hit = _from_cache(cache_dir / f"collect-{key[:32]}.json")
        if hit is not None:
            return hit
    payload, proc = _run_collection(root, args, interpreter, env)
    items, errors = _parse_payload(payload, "pytest collection")
    _refuse_errors(errors, root)
    if proc.returncode not in (0, 5):
        raise InputError(
            f"pytest collection failed (exit {proc.returncode}) in {root}:\n{_tail(proc)}"
        )
    if cache_dir is not None and key is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp_file = cache_dir / f".collect-{key[:32]}.{os.getpid()}.tmp"
        tmp_file.write_text(json.dumps(payload, ensure_ascii=False), "utf-8")
        tmp_file.replace(cache_dir / f"collect-{key[:32]}.json")
    tests, warnings = _dedupe(items, "pytest collection")
    return Collected(
        tests=tests, source="pytest collection", warnings=tuple(warnings), times=_times(payload)
    )


def todays_tests(
    config: Config,
    root: Path,
    tests_from: Path | None,
    cache: Path | None,
    ours: Sequence[Path] = (),
) -> Collected:
    """From a list, from globs, or from pytest (``cache``: the collection cache under ``root``,
    relative; ``ours``: folders we write into, left out of the cache key)."""
    if tests_from is not None:
        return read_test_list(tests_from)
    if config.test_files:
        return match_test_files(root, config.test_files)
    collected = collect_pytest(
        root,
        config.collect_args,
        python=config.python,
        cache_dir=root / cache if cache is not None else None,
        skip=ours,
    )
    if collected.cached:
        print(
            f"collection: {count(len(collected.tests), 'test')} from the cache in "
            f"{cache} (nothing that collection reads changed; --no-collect-cache to collect "
            "again)"
        )
    return collected


def file_sizes(root: Path, tests: Sequence[TestItem]) -> dict[str, int]:
    """Bytes of each test file that exists under ``root``, for estimates without timings.

    Ids of a list or of another rootdir may name files that are not there: those are left out
    (their tests get the estimate's typical figure), never an error.
    """
    sizes: dict[str, int] = {}
    for name in dict.fromkeys(t.file for t in tests):
        try:
            sizes[name] = (root / name).stat().st_size
        except (OSError, ValueError):
            continue
    return sizes


def no_tests_message(config: Config, root: Path, tests_from: Path | None) -> str:
    """Why today's tests are none, naming where we looked, and how to accept that."""
    if tests_from is not None:
        where = f"the test list {tests_from} holds no test id"
    elif config.test_files:
        where = f"no file in {root} matches test-files {config.test_files}"
    else:
        args = f" with collect-args {config.collect_args}" if config.collect_args else ""
        where = f"pytest collected no test in {root}{args}"
    return (
        f"{where}. Check the working directory and the filters; to accept an empty run, set "
        "allow-no-tests = true (or SHARD_ACTION_ALLOW_NO_TESTS=true, --allow-no-tests true)"
    )
