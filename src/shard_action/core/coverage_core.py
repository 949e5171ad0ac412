"""Which coverage.py measurement core a shard asks for (``COVERAGE_CORE``).

coverage.py's ``sysmon`` core measures with ``sys.monitoring`` (PEP 669), which costs less than
the C trace function for line coverage. What supports it, from coverage.py's change log:
CPython 3.12+ and coverage 7.4+ for line coverage (7.4.2+ warns and falls back instead of failing
below 3.12); branch coverage only on Python 3.14+ with coverage 7.7+ (default core there since
7.9.1); never with plugins or dynamic contexts, nor with greenlet/eventlet/gevent concurrency.
``auto`` asks for ``sysmon`` only where all of that holds, so coverage never has to fall back
(and print a warning into the shard's output); anywhere else coverage.py chooses as it would
without us. A ``COVERAGE_CORE`` already in the environment is the user's choice and wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CoreSetting = Literal["auto", "sysmon", "ctrace", "pytrace"]
SYSMON_LINES = (3, 12)
SYSMON_BRANCHES = (3, 14)
COVERAGE_SYSMON = (7, 4)
COVERAGE_SYSMON_BRANCHES = (7, 7)


@dataclass(frozen=True, slots=True)
class CoverageFacts:
    """What the test interpreter and the project's coverage configuration say."""

    implementation: str
    python: tuple[int, int]
    coverage: tuple[int, ...] | None
    """coverage.py's version in the test interpreter (``None``: not installed)."""
    branch: bool = False
    blocker: str | None = None
    """A configured feature sysmon cannot measure with (plugins, dynamic contexts…)."""


@dataclass(frozen=True, slots=True)
class CoreChoice:
    core: str | None
    """The value for ``COVERAGE_CORE``; ``None``: leave it to coverage.py."""
    reason: str


TRACERS = {"SysMonitor": "sysmon", "CTracer": "ctrace", "PyTracer": "pytrace"}
"""coverage.py's tracer class names (``Coverage.sys_info()["core"]``) -> ``COVERAGE_CORE`` names."""


def core_name(tracer: str | None) -> str | None:
    """``sysmon``/``ctrace``/``pytrace`` for a tracer name coverage.py reports; others as given."""
    if not tracer:
        return None
    return TRACERS.get(tracer, tracer)


def _version(numbers: tuple[int, ...]) -> str:
    return ".".join(str(n) for n in numbers)


def choose_core(setting: CoreSetting, facts: CoverageFacts | None) -> CoreChoice:
    """``COVERAGE_CORE`` for a shard: a named core as given, ``auto`` by :class:`CoverageFacts`."""
    if setting != "auto":
        return CoreChoice(setting, f"coverage-core = {setting}")
    if facts is None:
        return CoreChoice(None, "coverage.py's default (the test interpreter could not be asked)")
    where = f"{facts.implementation} {_version(facts.python)}"
    if facts.coverage is None:
        return CoreChoice(None, f"coverage.py's default (no coverage.py version known in {where})")
    tool = f"coverage {_version(facts.coverage)}"
    if facts.implementation != "cpython" or facts.python < SYSMON_LINES:
        return CoreChoice(
            None, f"coverage.py's default: sys.monitoring needs CPython 3.12+ ({where})"
        )
    if facts.coverage < COVERAGE_SYSMON:
        return CoreChoice(None, f"coverage.py's default: {tool} has no sysmon core (7.4+)")
    if facts.blocker is not None:
        return CoreChoice(None, f"coverage.py's default: sysmon cannot measure {facts.blocker}")
    if facts.branch and (
        facts.python < SYSMON_BRANCHES or facts.coverage < COVERAGE_SYSMON_BRANCHES
    ):
        return CoreChoice(
            None,
            f"coverage.py's default: branch coverage with sysmon needs Python 3.14+ and "
            f"coverage 7.7+ ({where}, {tool})",
        )
    return CoreChoice("sysmon", f"sysmon ({where}, {tool}{', branches' if facts.branch else ''})")
