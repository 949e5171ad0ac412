"""Module and class fixtures: a cost pytest charges to one test of its scope, paid per shard.

pytest runs a module-scoped fixture's set-up inside the set-up of the module's first test, and
its teardown inside the last test's teardown (a class-scoped one likewise per class). So every
shard that holds any test of the scope pays it once, and a plan that splits the scope pays it
again in each further shard, while the timings show it only as one slow test. This module finds
it in one process's tests, in the order they ran: where a test opens a scope, its set-up above
the process's typical set-up (a test that opens none) is the scope's; where it closes one, its
teardown above the typical teardown too. That extra is taken off the test's own time and kept
per scope (``core.prediction.LaneCosts.scopes``), so the planner charges it once per shard that
holds the scope, and prefers not to split a costly one.

A test that opens several scopes at once (a file's first test is also its class's first) gives
the extra to the outermost, the module: a class's own fixture is seen where the class is not the
first thing in its file.

The process's first test also sets up the session and package fixtures, and its last test tears
them down: those are the process's start-up and finish (``Charges.startup``, ``Charges.finish``),
not its first or last file's. The plugin times the set-up of those fixtures one by one
(``TestResult.shared``), so the first test's scope is still measured; the last test's teardown
cannot be told apart (pytest has no hook before a finaliser), so it is all finish and the last
scope keeps the set-up it was seen to pay.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from shard_action.core.process_report import TestResult
from shard_action.core.testids import SEPARATOR

MIN_SECONDS: Final = 0.01
"""An extra below this is noise (timers, a function fixture's spread), not a scope's cost."""


def scopes_of(test_id: str) -> list[str]:
    """The scopes a test runs in, outermost first: its file, then each enclosing class.

    ``tests/a.py::TestX::test_y[p::q]`` -> ``tests/a.py``, ``tests/a.py::TestX`` (a ``::``
    inside the parameters is not a class).
    """
    path, sep, tail = test_id.partition(SEPARATOR)
    scopes = [path]
    if not sep:
        return scopes
    for name in tail.partition("[")[0].split(SEPARATOR)[:-1]:
        scopes.append(scopes[-1] + SEPARATOR + name)
    return scopes


def _outermost_new(chain: Sequence[str], other: Sequence[str]) -> str | None:
    """The outermost scope of ``chain`` that ``other`` (a neighbour's chain) is not in."""
    seen = set(other)
    return next((scope for scope in chain if scope not in seen), None)


def _typical(quiet: Sequence[float], every: Sequence[float]) -> float:
    """A phase's time without scope fixtures: the median of the tests that open (or close) no
    scope; when each test is a scope of its own, the shortest."""
    return float(statistics.median(quiet)) if quiet else min(every)


def _above(seconds: float, typical: float) -> float:
    extra = seconds - typical
    return extra if extra >= MIN_SECONDS else 0.0


@dataclass(frozen=True, slots=True)
class Charges:
    """What one process's phase times say beyond its tests' own time (seconds)."""

    per_test: dict[str, float] = field(default_factory=dict)
    """Per test: the extra its reported time includes (a scope's, or the session's)."""
    scopes: dict[str, float] = field(default_factory=dict)
    """Per scope seen to open: its cost, the median over its visits (0.0: nothing stood out)."""
    startup: float = 0.0
    """The first test's set-up extra: session and package fixtures (and its first scopes')."""
    finish: float = 0.0
    """The last test's teardown extra: the session's teardown (and its last scopes')."""


def charges(results: Sequence[TestResult]) -> Charges:
    """One process's results in run order -> what each test, each scope and the process's
    start-up and finish paid beyond the tests' own time.

    Results without their set-up and teardown apart (an older plugin) give nothing.
    """
    timed = [r for r in results if r.setup is not None and r.teardown is not None]
    if not timed:
        return Charges()
    chains = [scopes_of(r.id) for r in timed]
    last = len(timed) - 1
    opens = [_outermost_new(chains[i], chains[i - 1] if i else ()) for i in range(last + 1)]
    closes = [_outermost_new(chains[i], chains[i + 1] if i < last else ()) for i in range(last + 1)]
    setups = [r.setup or 0.0 for r in timed]
    # the session's part of the first set-up is the process's start-up, not its first scope's
    startup = _above(min(timed[0].shared or 0.0, setups[0]), 0.0)
    setups[0] -= startup
    teardowns = [r.teardown or 0.0 for r in timed]
    quiet_in = [s for s, o in zip(setups, opens, strict=True) if o is None]
    quiet_out = [t for t, c in zip(teardowns, closes, strict=True) if c is None]
    typical_in = _typical(quiet_in, setups)
    typical_out = _typical(quiet_out, teardowns[:-1] or teardowns)  # the last holds the session's
    finish = _above(teardowns[last], typical_out)
    per_test: dict[str, float] = {}
    visits: dict[str, list[float]] = {}
    for i, (result, setup, teardown, opened, closed) in enumerate(
        zip(timed, setups, teardowns, opens, closes, strict=True)
    ):
        extra = startup if i == 0 else 0.0
        if opened is not None:
            paid = _above(setup, typical_in)
            visits.setdefault(opened, []).append(paid)
            extra += paid
        if i == last:
            extra += finish
        elif closed is not None:
            paid = _above(teardown, typical_out)
            seen = visits.setdefault(closed, [0.0])
            seen[-1] += paid
            extra += paid
        if extra > 0:
            per_test[result.id] = min(extra, result.seconds)
    return Charges(
        per_test=per_test,
        scopes={scope: float(statistics.median(v)) for scope, v in visits.items()},
        startup=startup,
        finish=finish,
    )
