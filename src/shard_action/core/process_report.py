"""What one runner process said: how it ended, what it collected, what each test did.

Plain frozen data the runner adapter reads from the process and its plugin files, so that the
shard's ledger (``core.ledger``) can judge it without touching a process or a file.
"""

from __future__ import annotations

from dataclasses import dataclass

from shard_action.core.outcomes import Outcome


@dataclass(frozen=True, slots=True)
class ProcessResult:
    returncode: int
    seconds: float
    timed_out: bool = False
    stderr_tail: tuple[str, ...] = ()
    """The last non-blank lines the process wrote to stderr (it is still shown as it comes)."""
    began: float = 0.0
    """Wall-clock time (epoch seconds) just before the process was started."""

    @property
    def cause(self) -> str | None:
        """The process's own last word on stderr (``No module named coverage``), if any."""
        return self.stderr_tail[-1] if self.stderr_tail else None

    @property
    def signal(self) -> int | None:
        """The signal that killed the process, if one did."""
        return -self.returncode if self.returncode < 0 else None


@dataclass(frozen=True, slots=True)
class Collection:
    """What the plugin saw at collection time in one process."""

    selected: tuple[str, ...]
    unplanned: tuple[str, ...]
    missing: tuple[str, ...]
    ignored: tuple[str, ...]
    """Collected in an owned file, planned nowhere, not drift: deliberately not run."""
    errors: tuple[tuple[str, str], ...]
    """(node, message) of every collector that failed (a module that did not import)."""
    coverage_core: str | None = None
    """The coverage.py core measuring the process (``sysmon``, ``ctrace``…), when under coverage."""
    files: tuple[tuple[str, float], ...] = ()
    """(test file, seconds its collection took), in collection order."""


@dataclass(frozen=True, slots=True)
class Clock:
    """Wall-clock times (epoch seconds) of one pytest process, from its ``clock`` event."""

    configured: float
    first: float
    last: float
    end: float


@dataclass(frozen=True, slots=True)
class TestResult:
    __test__ = False

    id: str
    outcome: Outcome
    seconds: float
    setup: float | None = None
    """The set-up phase alone (``None``: not reported); a scope's fixtures fall here."""
    teardown: float | None = None
    shared: float | None = None
    """Of the set-up: the session and package fixtures it set up (``None``: not reported)."""


@dataclass(frozen=True, slots=True)
class PytestReport:
    process: ProcessResult
    collection: Collection | None
    """``None``: pytest stopped before it finished collecting (bad arguments, a crash)."""
    results: tuple[TestResult, ...]
    running: str | None
    """A test that started and never finished: the process died or was killed inside it."""
    memory_errors: tuple[str, ...]
    clock: Clock | None = None
    """``None``: the process ran no test or did not finish its session."""
    xdist: bool = False
    """It ran under pytest-xdist (``core.workers.runs_xdist``): its results come interleaved."""
