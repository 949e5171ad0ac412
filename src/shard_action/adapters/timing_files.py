"""``--timings`` sources: files, folders and globs of past timings, read into observations.

Three formats are accepted, told apart by *content* rather than by name, because CI artifacts get
renamed (``junit.xml`` arrives as ``report``, a history as ``timings.json.gz``):

* JUnit XML (first non-blank byte ``<``), read by :mod:`shard_action.adapters.junit`;
* pytest-split's durations JSON, ``{node id: seconds}``, or its older list of ``[id, seconds]``
  pairs, so that pytest-split users can switch without losing their timings;
* our history file (a JSON object with ``"kind": "shard-action-history"``).

Gzip is recognised by its magic bytes. A folder is searched recursively for ``*.xml``,
``*.xml.gz``, ``*.json`` and ``*.json.gz``; a glob (``**`` crosses folders) takes every file it
matches. A path or glob that gives nothing is an error: a typo must not silently plan without
timings. A report whose *content* is bad (malformed, not JUnit, hostile, over the size cap) is an
error too, or, with ``on_bad_report="warn"``, a warning that names it while every other file is
kept, so one shard's corrupt report does not hide the others.

Times that are NaN, infinite or negative are dropped and counted in
:attr:`TimingInput.invalid_times`; zero is a valid time.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from shard_action.adapters.history_file import history_from_document
from shard_action.adapters.junit import DEFAULT_MAX_BYTES, open_capped, parse_junit, read_capped
from shard_action.core.history import History
from shard_action.core.models import Observation, usable_seconds
from shard_action.core.outcomes import Outcome
from shard_action.core.units import count
from shard_action.errors import InputError

OnBadReport = Literal["error", "warn"]

SUFFIXES: Final = (".xml", ".xml.gz", ".json", ".json.gz")
_GLOB_CHARS: Final = frozenset("*?[")
_SNIFF_BYTES: Final = 4096
_OUTCOME_CODES: Final[dict[str, Outcome]] = {
    "p": "passed",
    "F": "passed",  # flaky: failed, then passed on re-run
    "f": "failed",
    "s": "skipped",
}


@dataclass(frozen=True)
class TimingInput:
    """Everything read from ``--timings``.

    ``sources`` lists every file that was read, in the order read; ``skipped_reports`` the files
    left out under ``on_bad_report="warn"`` (also named in ``warnings``). ``history`` is the newest
    history file given (highest last run index, then the later one on the command line): the
    planner takes the mode from it.
    """

    observations: list[Observation] = field(default_factory=list)
    sources: tuple[str, ...] = ()
    skipped_reports: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    history: History | None = None
    invalid_times: int = 0
    missing_times: int = 0


def expand_paths(paths: Sequence[str]) -> list[Path]:
    """The files behind ``paths``: files as given, folders searched, globs expanded.

    Sorted within each folder or glob, first occurrence kept, so the result is deterministic.
    """
    found: dict[str, Path] = {}
    for given in paths:
        for path in _expand_one(given):
            found.setdefault(os.path.realpath(path), path)
    return list(found.values())


def _expand_one(given: str) -> Iterator[Path]:
    path = Path(given)
    if path.is_file():
        yield path
        return
    if path.is_dir():
        files = list(_walk(path))
        if not files:
            raise InputError(
                f"no timing reports ({', '.join('*' + s for s in SUFFIXES)}) in this folder",
                source=given,
            )
        yield from files
        return
    if _GLOB_CHARS & set(given):
        matches = sorted(glob.glob(given, recursive=True))
        if not matches:
            raise InputError("this pattern matches no file", source=given)
        for match in matches:
            match_path = Path(match)
            if match_path.is_dir():
                yield from _walk(match_path)
            elif match_path.is_file():
                yield match_path
        return
    if path.exists() or path.is_symlink():
        raise InputError("not a regular file or folder", source=given)
    raise InputError("no such file or folder", source=given)


def _walk(folder: Path) -> Iterator[Path]:
    """Report files under ``folder``, sorted; symlinked folders are not followed (no loops)."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder, onerror=_raise_walk_error):
        dirs.sort()
        for name in files:
            path = Path(root) / name
            if name.endswith(SUFFIXES) and path.is_file():  # no FIFO: reading one would hang
                found.append(path)
    yield from sorted(found)


def _raise_walk_error(exc: OSError) -> None:
    raise InputError(f"cannot read folder: {exc.strerror or exc}", source=exc.filename)


def sniff(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Literal["xml", "json", "unknown"]:
    """The format of a report, from its first non-blank character (after a BOM)."""
    with open_capped(path, max_bytes=max_bytes) as stream:
        head = stream.read(_SNIFF_BYTES)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "xml"  # UTF-16: JUnit from .NET tools; JSON is UTF-8 by RFC 8259
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<"):
        return "xml"
    if text.startswith((b"{", b"[")):
        return "json"
    return "unknown"


@dataclass(frozen=True)
class _Read:
    """What one timing source holds."""

    observations: list[Observation]
    invalid: int = 0
    missing: int = 0
    history: History | None = None


def _read_source(path: Path, source: str, max_bytes: int) -> _Read:
    """One JUnit report, pytest-split durations file or history, told apart by content."""
    _check_readable(path)
    kind = sniff(path, max_bytes=max_bytes)
    if kind == "xml":
        parsed = parse_junit(path, max_bytes=max_bytes)
        # The parser keeps any finite time (the report shows what the file says);
        # planning also refuses the implausible ones.
        timed = [(c, c.seconds) for c in parsed.report.cases if c.seconds is not None]
        usable = [(c, seconds) for c, seconds in timed if usable_seconds(seconds)]
        found = [
            Observation(
                name=case.name,
                seconds=seconds,
                source=source,
                classname=case.classname,
                file=case.file,
                outcome=case.outcome,
            )
            for case, seconds in usable
        ]
        invalid = parsed.invalid_times + len(timed) - len(usable)
        return _Read(found, invalid, parsed.missing_times)
    if kind == "json":
        document = _load_json(path, max_bytes)
        if isinstance(document, dict) and isinstance(document.get("kind"), str):
            history = history_from_document(document, source)
            return _Read(list(_history_observations(history, source)), history=history)
        observed, bad = _split_observations(document, source)
        return _Read(list(observed), bad)
    raise InputError(
        "not a timing report: expected JUnit XML, pytest-split durations JSON or a "
        "shard-action history file",
        source=source,
    )


def read_timings(
    paths: Sequence[str],
    *,
    on_bad_report: OnBadReport = "error",
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> TimingInput:
    """Read every timing source behind ``paths`` (see the module docstring for the rules).

    Raises :class:`InputError` for a missing or unreadable path, a glob or folder that gives no
    file, and, unless ``on_bad_report="warn"``, for a report with bad content.
    """
    observations: list[Observation] = []
    sources: list[str] = []
    skipped: list[str] = []
    warnings: list[str] = []
    histories: list[tuple[int, int, History]] = []
    invalid = missing = 0
    for position, path in enumerate(expand_paths(paths)):
        source = str(path)
        invalid_before = invalid
        try:
            read = _read_source(path, source, max_bytes)
        except _Unreadable as exc:
            raise exc.error from None
        except InputError as exc:
            if on_bad_report != "warn":
                raise
            skipped.append(source)
            warnings.append(f"skipped bad timing report: {exc}")
            continue
        observations.extend(read.observations)
        invalid += read.invalid
        missing += read.missing
        if read.history is not None:
            histories.append((_last_run(read.history), position, read.history))
        sources.append(source)
        if invalid > invalid_before:
            warnings.append(
                f"{source}: {count(invalid - invalid_before, 'test time')} not a number, "
                "negative or over a week were ignored; those tests are estimated"
            )
    newest = max(histories, key=lambda item: (item[0], item[1]))[2] if histories else None
    return TimingInput(
        observations=observations,
        sources=tuple(sources),
        skipped_reports=tuple(skipped),
        warnings=tuple(warnings),
        history=newest,
        invalid_times=invalid,
        missing_times=missing,
    )


class _Unreadable(Exception):
    """Carries an unreadable path's InputError past the ``warn`` handler: paths always fail."""

    def __init__(self, error: InputError) -> None:
        super().__init__(str(error))
        self.error = error


def _check_readable(path: Path) -> None:
    """A file we cannot open is a bad *path*, not a bad report: always an error."""
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise _Unreadable(
            InputError(f"cannot read: {exc.strerror or exc}", source=str(path))
        ) from exc


def _load_json(path: Path, max_bytes: int) -> Any:
    data = read_capped(path, max_bytes=max_bytes)
    try:
        return json.loads(data)
    except UnicodeDecodeError as exc:
        raise InputError(f"JSON is not valid UTF-8: {exc.reason}", source=str(path)) from exc
    except json.JSONDecodeError as exc:
        raise InputError(
            f"malformed JSON at column {exc.colno}: {exc.msg}", source=str(path), line=exc.lineno
        ) from exc
    except RecursionError as exc:
        raise InputError("JSON nested too deeply", source=str(path)) from exc


def _last_run(history: History) -> int:
    return max((run.index for run in history.runs), default=-1)


def _history_observations(history: History, source: str) -> Iterator[Observation]:
    """The history's tests at the speed of its recent runs (it stores them at its own)."""
    speed = history.speed()
    for lane, records in history.tests.items():
        for test_id, record in records.items():
            yield Observation(
                name=test_id,
                seconds=record.duration * speed,
                source=source,
                is_node_id=True,
                lane=lane,
                outcome=_OUTCOME_CODES.get(record.outcomes[-1:], "passed"),
            )


def _split_observations(document: Any, source: str) -> tuple[list[Observation], int]:
    """pytest-split's ``{id: seconds}`` (0.3+) or ``[[id, seconds], ...]`` (before 0.3)."""
    if isinstance(document, dict):
        pairs: Any = document.items()
    elif isinstance(document, list):
        pairs = document
    else:
        raise InputError("not a pytest-split durations file", source=source)
    observations: list[Observation] = []
    invalid = 0
    for position, pair in enumerate(pairs):
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            raise InputError(
                f"not a pytest-split durations file: item {position} is not an [id, seconds] pair",
                source=source,
            )
        test_id, seconds = pair
        if not isinstance(test_id, str) or isinstance(seconds, bool):
            raise InputError(
                f"not a pytest-split durations file: item {position} is not an id and a number",
                source=source,
            )
        if not isinstance(seconds, (int, float)):
            raise InputError(
                f"not a pytest-split durations file: the time of {test_id!r} is not a number",
                source=source,
            )
        value = float(seconds)
        if not usable_seconds(value):
            invalid += 1
            continue
        observations.append(
            Observation(name=test_id, seconds=value, source=source, is_node_id=True)
        )
    return observations, invalid
