"""Lane assignment: which lane each test belongs to, and what a lane becomes once fanned out.

A test joins the first configured lane that matches it by marker, by path glob on its file, or by
id pattern; a test no lane matched goes to the default lane (``Config.default_lane``). A lane
with ``backends`` fans out into one *instance* per value (``{lane}-{value}``, with
``{backend_var}={value}`` in its env): the same tests are planned once per instance.

Order of instances (it is the order of lanes in the plan and of runs in serial mode): the
configured lanes in config order, fan-out values in their order; the default lane keeps its place
when it is configured under its own name, and otherwise comes last, after every lane that picks
tests explicitly, because it holds "the rest".

Path globs (``LaneConfig.paths``), matched against the test's file path (``/`` separators, a
leading ``./`` or ``/`` ignored):

- ``*`` and ``?`` stay within one folder, ``[abc]`` is a character class, ``**`` crosses folders
  (``tests/**/test_db_*.py``; ``**/`` also matches no folder at all);
- a pattern that matches a folder matches every file under it (``tests/integration``);
- a pattern without ``/`` matches a file or folder name at any depth (``test_*_db.py``), like
  ``.gitignore``.

A lane instance with demoted tests (``core.demotion``) gets a **demoted lane**
``{instance}.demoted``: the same env, backend, isolation and limits, but sequential (one shard,
one process, the tests in order, no workers). Why its own lane rather than a configured
sequential lane: a test keeps the environment it was written for (a fan-out lane's backend, a
lane's env), which another lane may not give it, and a suite without a sequential lane can
demote too. The history keeps its timings and outcomes under its home lane (``home_lane``):
one test, one series, across demotion.

At a million tests the glob work is done once per distinct file, not once per test.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from shard_action.core.config import DEMOTED_SUFFIX, Config, LaneConfig, Selection
from shard_action.core.models import TestItem
from shard_action.core.testids import normalise_path


@dataclass(frozen=True, slots=True)
class LaneInstance:
    """One planned lane: a configured lane, or one fan-out value of it."""

    name: str
    base: str
    mode: Literal["parallel", "sequential"] = "parallel"
    env: dict[str, str] = field(default_factory=dict)
    isolated: bool = True
    max_shards: int | None = None
    backend: str | None = None
    timeout: float | None = None
    memory_mb: int | None = None
    workers: int | Literal["auto"] | None = None


def demoted_lane(instance: LaneInstance) -> LaneInstance:
    """The lane a lane instance's demoted tests run in (see the module docstring)."""
    return LaneInstance(
        name=instance.name + DEMOTED_SUFFIX,
        base=instance.base,
        mode="sequential",
        env=dict(instance.env),
        isolated=instance.isolated,
        max_shards=1,
        backend=instance.backend,
        timeout=instance.timeout,
        memory_mb=instance.memory_mb,
        workers=None,
    )


def with_demoted(
    lanes: Sequence[tuple[LaneInstance, list[int]]],
    ids: Sequence[str],
    demoted: Mapping[str, Collection[str]],
) -> list[tuple[LaneInstance, list[int]]]:
    """Each lane instance with its tests (positions into ``ids``), the demoted ones moved to
    the instance's demoted lane, which comes right after it (a lane left empty is dropped)."""
    out: list[tuple[LaneInstance, list[int]]] = []
    for instance, positions in lanes:
        moving = demoted.get(instance.name)
        if not moving:
            out.append((instance, positions))
            continue
        kept = [p for p in positions if ids[p] not in moving]
        moved = [p for p in positions if ids[p] in moving]
        if kept or not moved:
            out.append((instance, kept))
        if moved:
            out.append((demoted_lane(instance), moved))
    return out


def home_lane(name: str) -> tuple[str, bool]:
    """The lane instance a test belongs to, from the lane it ran in, and whether it ran
    demoted (no configured lane ends with the suffix, so the name is unambiguous)."""
    if name.endswith(DEMOTED_SUFFIX):
        return name.removesuffix(DEMOTED_SUFFIX), True
    return name, False


def _translate(pattern: str) -> str:
    """Turn one glob into a regular expression; ``fnmatch`` would let ``*`` cross folders."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "*":
            if pattern.startswith("**", i):
                i += 2
                while i < n and pattern[i] == "*":
                    i += 1
                if i < n and pattern[i] == "/":
                    out.append("(?:.*/)?")
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            start = i + 1
            if pattern.startswith("!", start):
                start += 1
            if pattern.startswith("]", start):  # a leading "]" is a member, as in fnmatch
                start += 1
            end = pattern.find("]", start)
            if end < 0:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                elif body.startswith("^"):
                    body = "\\" + body
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def _normalise(path: str) -> str:
    """A path or pattern as lanes match it: an id's file, never absolute."""
    return normalise_path(path).lstrip("/")


def compile_glob(pattern: str) -> Callable[[str], bool]:
    """A predicate on file paths for one ``paths`` entry (rules in the module docstring)."""
    pattern = _normalise(pattern).rstrip("/") or "**"
    regex = re.compile(_translate(pattern), re.DOTALL)
    if "/" not in pattern:

        def by_name(path: str) -> bool:
            return any(regex.fullmatch(part) for part in _normalise(path).split("/"))

        return by_name

    def by_path(path: str) -> bool:
        path = _normalise(path)
        if regex.fullmatch(path):
            return True
        cut = path.rfind("/")
        while cut > 0:  # a pattern that matches a folder matches what is inside it
            path = path[:cut]
            if regex.fullmatch(path):
                return True
            cut = path.rfind("/")
        return False

    return by_path


def lane_instances(config: Config) -> list[LaneInstance]:
    """Every lane instance the config defines, in plan order (see the module docstring)."""
    lanes = list(config.lanes)
    if not any(lane.name == config.default_lane for lane in lanes):
        lanes.append(LaneConfig(name=config.default_lane))
    instances: list[LaneInstance] = []
    for lane in lanes:
        values: list[str | None] = list(lane.backends) or [None]
        for value in values:
            env = dict(lane.env)
            if value is not None:
                env[lane.backend_var] = value
            instances.append(
                LaneInstance(
                    name=lane.name if value is None else f"{lane.name}-{value}",
                    base=lane.name,
                    mode=lane.mode,
                    env=env,
                    isolated=lane.isolated,
                    max_shards=lane.max_shards,
                    backend=value,
                    timeout=lane.timeout,
                    memory_mb=lane.memory_mb,
                    workers=lane.workers,
                )
            )
    return instances


class _Matcher:
    """The rules of one configured lane (or tier: the same rules), compiled once."""

    def __init__(self, lane: Selection) -> None:
        self.name = lane.name
        self.markers = frozenset(lane.markers)
        self.globs = [compile_glob(p) for p in lane.paths]
        regex: re.Pattern[str] | None = None
        if lane.ids:
            try:  # one alternation is much faster than a loop over patterns
                regex = re.compile("|".join(f"(?:{p})" for p in lane.ids))
            except re.error:  # e.g. global flags in the middle: fall back to a loop
                regex = None
        self.id_regex = regex
        self.id_patterns = [re.compile(p) for p in lane.ids] if regex is None else []
        self.has_ids = bool(lane.ids)

    def matches_file(self, path: str) -> bool:
        return any(glob(path) for glob in self.globs)


def assign_lanes(config: Config, tests: Sequence[TestItem]) -> list[str]:
    """The configured lane name (not the instance) of each test, in the order of ``tests``."""
    matchers = [_Matcher(lane) for lane in config.lanes]
    if not matchers:
        return [config.default_lane] * len(tests)
    per_test = [
        (i, m.markers, m.id_regex, m.id_patterns)
        for i, m in enumerate(matchers)
        if m.markers or m.has_ids
    ]
    names = [m.name for m in matchers] + [config.default_lane]
    unmatched = len(matchers)
    first_by_file: dict[str, int] = {}
    result: list[str] = []
    append = result.append
    for test in tests:
        lane = first_by_file.get(test.file)
        if lane is None:
            lane = next(
                (i for i, m in enumerate(matchers) if m.globs and m.matches_file(test.file)),
                unmatched,
            )
            first_by_file[test.file] = lane
        markers = test.markers
        for i, wanted, regex, patterns in per_test:
            if i >= lane:
                break
            if (
                (markers and wanted and not wanted.isdisjoint(markers))
                or (regex is not None and regex.search(test.id) is not None)
                or (patterns and any(p.search(test.id) for p in patterns))
            ):
                lane = i
                break
        append(names[lane])
    return result


def selected(rules: Selection, tests: Sequence[TestItem]) -> list[bool]:
    """Whether each test matches ``rules`` (markers, path globs, id patterns), as a lane would
    match it: tiers select tests with the lanes' rules, so one rule means one thing."""
    matcher = _Matcher(rules)
    by_file: dict[str, bool] = {}
    result: list[bool] = []
    for test in tests:
        hit = by_file.get(test.file)
        if hit is None:
            hit = by_file[test.file] = matcher.matches_file(test.file)
        if not hit and matcher.markers and test.markers:
            hit = not matcher.markers.isdisjoint(test.markers)
        if not hit and matcher.id_regex is not None:
            hit = matcher.id_regex.search(test.id) is not None
        if not hit and matcher.id_patterns:
            hit = any(p.search(test.id) for p in matcher.id_patterns)
        result.append(hit)
    return result
