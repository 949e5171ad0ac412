"""Past durations, mapped onto the tests that exist today.

Reports name tests in their own way: pytest-split and our history use node ids, JUnit XML uses
``classname`` + ``name`` (+ ``file`` in pytest's xunit1 dialect). pytest writes a case as
(``_pytest/junitxml.py``, ``mangle_test_address``): classname = the file path with ``/`` turned
into ``.`` and ``.py`` dropped, then the classes, joined by ``.``; name = the function with its
parameters kept whole. A classname alone cannot say where the module ends and the classes begin
(``a.b.test_x.TestA`` may be ``a/b/test_x.py`` or ``a.b/test_x.py``), so we resolve against the
*collected* ids: their files, written the same dotted way, say where the module ends; we rebuild
``file::Class::Nested::name`` and keep it only if that id exists today. That is exact for dots in
folder names, nested classes and parameters holding ``.``, ``/``, ``::`` or ``[`` (the name is
never split). The xunit1 ``file`` attribute is not trusted for the module (pytest writes the file
that *defines* the function, a base class's module for inherited tests); it settles ties.

When the classname's first component is not a top-level name of today (``tests`` in
``tests.test_x``), the report came from another rootdir or a ``junit_prefix``; we then try the
classname without its leading components, and as a *suffix* of a module of today (a rootdir one
level down), always keeping the module's own name. When it is a top-level name of today, no
fallback is tried, so a deleted module's test is never charged to a same-named test elsewhere.
Several ids that match equally (``a.b/test_x.py`` and ``a/b/test_x.py``) are settled by ``file``
when it can, and are otherwise unresolved, not guessed.

What cannot be resolved (counted in :attr:`Timings.unresolved`, per distinct test):

* cases from producers that are not pytest (Java, jest, Go…) whose names match no collected id,
  and pytest's collection-error entries (empty classname);
* cases of tests whose module is gone: they cannot be told apart from foreign names;
* names pytest escaped in a way we do not mirror. We mirror its XML escaping of characters XML
  cannot hold (``#x1B``); ids written by pytest < 9 for a path holding ``[`` are garbled by its
  old parser and do not resolve; ``--collect-only -q`` output is taken as the ids, best effort;
* ties that ``file`` cannot settle, as above.

A case whose module exists today but whose id does not (a renamed test, or an id holding a
timestamp) is *stale*, like a node id that no longer exists (:attr:`Timings.stale`, per distinct
test).

Several runs: a test's figure is the median over its sources (reports, history files, lanes of
a history), so one slow or fast run does not decide the plan. Within one source, a test that
appears several times was re-run (pytest-rerunfailures, gotestsum, TestNG retries): the *last*
entry counts, because it is the attempt that decided the outcome, while earlier attempts may have
been cut short by the failure or stretched by a timeout. At file granularity each test's median is
summed per file (medians first, then sums: a report from one shard may hold only part of a file);
a figure given for the file itself (a history written at file granularity) wins over the sum.

Speed: plain dicts and strings only; the module table holds the distinct files (not every id)
and is built once, only when JUnit observations are present; per classname the candidate
prefixes are computed once. 1M observations resolve in a few seconds.
"""

from __future__ import annotations

import heapq
import statistics
from collections.abc import Iterable, Sequence
from typing import Final, Literal

from shard_action.core.models import MAX_SECONDS, Observation, TestItem, Timings
from shard_action.core.testids import file_of, module_name, normalise_path, xml_escape

Granularity = Literal["test", "file"]

_MAX_TIES: Final = 64
"""Files sharing one dotted (suffix) name beyond which a classname is too ambiguous to try."""


class _Modules:
    """Today's test files by dotted module name, to split classnames where pytest joined them.

    ``prefixes(classname)`` gives, most specific first, groups of node-id prefixes
    (``file::Class::Nested``) that the classname can stand for; a group holds more than one
    prefix only when several files share a dotted name.
    """

    def __init__(self, files: Iterable[str]) -> None:
        self.files = set(files)
        self._exact: dict[str, list[str]] = {}
        self._suffix: dict[str, list[str]] = {}
        for file in self.files:
            parts = module_name(file).split(".")
            self._exact.setdefault(".".join(parts), []).append(file)
            for start in range(1, len(parts)):
                self._suffix.setdefault(".".join(parts[start:]), []).append(file)
        self._roots = {name.partition(".")[0] for name in self._exact}
        self.cache: dict[str, list[list[str]]] = {}
        self._paths: dict[str, list[str]] | None = None

    def prefixes(self, classname: str) -> list[list[str]]:
        found = self.cache.get(classname)
        if found is not None:
            return found
        parts = classname.split(".")
        if parts[0] in self._roots:
            # Today's top-level names are authoritative: no fallback that could charge a
            # deleted module's test to a same-named test elsewhere.
            plans = [(0, self._exact)]
        else:
            plans = [
                (start, self._exact)
                for start in range(1, len(parts))
                if parts[start] in self._roots
            ]
            plans.append((0, self._suffix))
        groups: list[list[str]] = []
        for start, table in plans:
            for end in range(len(parts), start, -1):
                files = table.get(".".join(parts[start:end]))
                if files and len(files) <= _MAX_TIES:
                    groups.append(sorted("::".join([f, *parts[end:]]) for f in files))
        self.cache[classname] = groups
        return groups

    def by_path(self, path: str) -> str | None:
        """Today's file for a report's path: equal, or the one unique suffix match."""
        path = normalise_path(path)
        if path in self.files:
            return path
        if self._paths is None:
            self._paths = {}
            for known in self.files:
                parts = known.split("/")
                for start in range(len(parts)):
                    self._paths.setdefault("/".join(parts[start:]), []).append(known)
        parts = path.split("/")
        for start in range(len(parts)):
            files = self._paths.get("/".join(parts[start:]))
            if files:
                return files[0] if len(files) == 1 else None
        return None


def _settle(candidates: list[str], file: str | None) -> str | None:
    """One of several equally good ids, chosen by the report's ``file``, or None."""
    if len(candidates) == 1:
        return candidates[0]
    if not file:
        return None
    file = normalise_path(file)
    matches = [
        c
        for c in candidates
        if (path := file_of(c)) == file or file.endswith("/" + path) or path.endswith("/" + file)
    ]
    return matches[0] if len(matches) == 1 else None


def _robust(values: list[float]) -> float:
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return (values[0] + values[1]) / 2
    return float(statistics.median(values))


def resolve(
    observations: Sequence[Observation],
    tests: Sequence[TestItem],
    *,
    granularity: Granularity,
    sources: Sequence[str] | None = None,
    skipped_reports: Sequence[str] = (),
) -> Timings:
    """One robust duration per test that exists today (a file path at file granularity).

    Observations with a NaN, negative or implausible (over ``MAX_SECONDS``) time are ignored
    (the adapters count them).
    ``sources`` defaults to the distinct sources of the observations, in order of appearance;
    ``skipped_reports`` is passed through for the plan's record.
    """
    ids = {t.id: None for t in tests}
    mapper: _TestMapper | _FileMapper = (
        _FileMapper(ids) if granularity == "file" else _TestMapper(ids)
    )
    node = mapper.node
    junit = mapper.junit

    # One dict per (source, lane); assigning in document order keeps the last re-run.
    groups: dict[tuple[str, str | None], dict[str, float]] = {}
    current: dict[str, float] = {}
    current_source: str | None = None
    current_lane: str | None = None
    for obs in observations:
        seconds = obs.seconds
        if not (0.0 <= seconds <= MAX_SECONDS):  # NaN fails; usable_seconds, inlined (hot loop)
            continue
        if obs.is_node_id:
            name = obs.name
            key = name if name in ids else node(name)
        else:
            key = junit(obs)
        if key is None:
            continue
        if obs.source != current_source or obs.lane != current_lane:
            current_source, current_lane = obs.source, obs.lane
            current = groups.setdefault((obs.source, obs.lane), {})
        current[key] = seconds

    units = _pool(list(groups.values()))
    lanes: dict[str, list[dict[str, float]]] = {}
    for (_source, lane), values in groups.items():
        if lane is not None:
            lanes.setdefault(lane, []).append(values)
    lane_units = {lane: _pool(lane_groups) for lane, lane_groups in lanes.items()}

    if granularity == "file":
        durations = _sum_per_file(units, tests)
        by_lane = {lane: _sum_per_file(values, tests) for lane, values in lane_units.items()}
    else:
        durations = _in_test_order(units, tests)
        by_lane = {lane: _in_test_order(values, tests) for lane, values in lane_units.items()}

    if sources is None:
        sources = list(dict.fromkeys(obs.source for obs in observations))
    return Timings(
        durations=durations,
        by_lane=by_lane,
        sources=tuple(sources),
        stale=len(mapper.stale),
        unresolved=len(mapper.unresolved),
        unresolved_examples=_examples(mapper.unresolved),
        skipped_reports=tuple(skipped_reports),
    )


def _examples(unresolved: set[tuple[str | None, str, str | None]]) -> tuple[str, ...]:
    """The first few unresolved entries in a stable order, as ``classname::name``."""
    names = (f"{cls}::{name}" if cls else name for cls, name, _ in unresolved)
    return tuple(heapq.nsmallest(3, names))


def _in_test_order(units: dict[str, float], tests: Sequence[TestItem]) -> dict[str, float]:
    result: dict[str, float] = {}
    get = units.get
    for t in tests:
        seconds = get(t.id)
        if seconds is not None:
            result[t.id] = seconds
    return result


def _pool(groups: list[dict[str, float]]) -> dict[str, float]:
    """The median per unit over the groups (sources) that measured it."""
    if not groups:
        return {}
    if len(groups) == 1:
        return groups[0]
    pooled: dict[str, list[float]] = {}
    for group in groups:
        for key, seconds in group.items():
            values = pooled.get(key)
            if values is None:
                pooled[key] = [seconds]
            else:
                values.append(seconds)
    return {key: _robust(values) for key, values in pooled.items()}


class _TestMapper:
    """Observations -> today's node ids, counting stale and unresolved tests."""

    def __init__(self, ids: dict[str, None]) -> None:
        self.ids = ids
        self.stale: set[str] = set()
        self.unresolved: set[tuple[str | None, str, str | None]] = set()
        self._modules: _Modules | None = None
        self._escaped: dict[str, str] | None = None

    def node(self, name: str) -> str | None:
        self.stale.add(name)
        return None

    def _escaped_ids(self) -> dict[str, str]:
        """Ids holding characters XML cannot hold, as pytest writes them in a report."""
        if self._escaped is None:
            self._escaped = {}
            for node_id in self.ids:
                if not (node_id.isascii() and node_id.isprintable()):
                    path, _, tail = node_id.partition("::")
                    self._escaped[f"{path}::{xml_escape(tail)}"] = node_id
        return self._escaped

    def junit(self, obs: Observation) -> str | None:
        """Fast path: the classname names one module of today and the rebuilt id exists."""
        classname = obs.classname
        if classname:
            if self._modules is None:
                self._modules = _Modules(file_of(i) for i in self.ids if "::" in i)
            groups = self._modules.cache.get(classname)
            if groups is None:
                groups = self._modules.prefixes(classname)
            if len(groups) == 1 and len(groups[0]) == 1:
                candidate = f"{groups[0][0]}::{obs.name}"
                if candidate in self.ids:
                    return candidate
        return self._junit_slow(obs)

    def _junit_slow(self, obs: Observation) -> str | None:
        name = obs.name
        ids = self.ids
        if name in ids:  # a producer that writes node ids as names
            return name
        classname = obs.classname
        if classname and self._modules is not None:
            groups = self._modules.prefixes(classname)
            escaped = self._escaped_ids() if "#x" in name else None
            hits: list[str] = []
            for group in groups:
                for prefix in group:
                    candidate = f"{prefix}::{name}"
                    if candidate in ids:
                        hits.append(candidate)
                    elif escaped is not None and candidate in escaped:
                        hits.append(escaped[candidate])
            if hits:
                # Several hits: the classname splits into module + classes in more than one way
                # that exists today (``a/b.py::C`` and ``a/b/C.py``). Only ``file`` may choose.
                found = _settle(sorted(set(hits)), obs.file)
                if found is not None:
                    return found
            elif groups:
                self.stale.add(f"{classname}::{name}")
                return None
        self.unresolved.add((classname, name, obs.file))
        return None


class _FileMapper:
    """Observations -> units at file granularity: a node id (summed into its file) or a file."""

    def __init__(self, files: dict[str, None]) -> None:
        self.files = files
        self.stale: set[str] = set()
        self.unresolved: set[tuple[str | None, str, str | None]] = set()
        self._modules: _Modules | None = None

    def node(self, name: str) -> str | None:
        if file_of(name) in self.files:
            return name
        self.stale.add(name)
        return None

    def junit(self, obs: Observation) -> str | None:
        if self._modules is None:
            self._modules = _Modules(self.files)
        modules = self._modules
        classname, name = obs.classname, obs.name
        if classname:
            groups = modules.cache.get(classname)
            if groups is None:
                groups = modules.prefixes(classname)
            if groups and len(groups[0]) == 1:  # fast path: one module of today
                return f"{groups[0][0]}::{name}"
            for group in groups:
                found = _settle(group, obs.file)
                if found is not None:
                    return f"{found}::{name}"
            as_path = modules.by_path(classname)
            if as_path is not None:  # jest-junit and others can write the file as classname
                return f"{as_path}::{name}"
        if obs.file:
            as_path = modules.by_path(obs.file)
            if as_path is not None:
                return "::".join([as_path, classname or "", name])
        self.unresolved.add((classname, name, obs.file))
        return None


def _sum_per_file(units: dict[str, float], tests: Sequence[TestItem]) -> dict[str, float]:
    direct: dict[str, float] = {}
    summed: dict[str, float] = {}
    for unit, seconds in units.items():
        file, sep, _ = unit.partition("::")
        if not sep:
            direct[file] = seconds
        else:
            summed[file] = summed.get(file, 0.0) + seconds
    result: dict[str, float] = {}
    for t in tests:
        if t.id in direct:
            result[t.id] = direct[t.id]
        elif t.id in summed:
            result[t.id] = summed[t.id]
    return result
