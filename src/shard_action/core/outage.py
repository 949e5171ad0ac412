"""Outages are not flakes: a run whose failures say "the world broke", not "a test is flaky".

A database that did not start fails every test that needs it; a runner that died takes its
shard with it. Counting such a run would send the suite to serial (or reset its recovery) and
write flips into every test's history, for nothing a test did. So a run that looks like an
outage is left out of the flaky rate and the mode decision, and its failures out of the tests'
flip history. Its failures still fail the job: an outage hides nothing, it only stops the run
from teaching the history something false.

A run is an outage when (``threshold`` is ``outage-threshold``, default 0.8, like Trunk's "over
80% failing"; a rule needs at least :data:`MIN_FAILURES` failing tests, so one red test in a
tiny suite is never an outage):

* **most tests fail**: over ``threshold`` of the tests that ran failed their first attempt;
* **one shard**: one shard of several holds over ``threshold`` of the failures, and over
  ``threshold`` of that shard's tests failed;
* **one error**: over ``threshold`` of the failing tests ended in the same *error* (pytest's
  word for a failure outside the test body, e.g. a fixture that could not connect), numbers
  left out of the comparison so that ports and timings do not split it;
* **a dead shard**: a shard left no results, or stopped (crashed, killed at a limit).

``threshold = 1`` turns the three share rules off; a dead shard always counts as an outage.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from shard_action.core.units import count

MIN_FAILURES: Final = 3
_NUMBERS: Final = re.compile(r"0x[0-9a-fA-F]+|\d+(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class Ran:
    """One test that ran, as the outage rules see it."""

    shard: str
    failed_first: bool
    """Its first attempt failed (failed, broken or flaky)."""
    error: bool = False
    """Its last failure was an error, not an assertion."""
    message: str | None = None


def signature(message: str | None) -> str:
    """A failure message as the one-error rule compares it: first line, numbers left out."""
    first = (message or "").strip().splitlines()[0] if (message or "").strip() else ""
    return _NUMBERS.sub("#", first)[:300]


def detect(
    tests: Sequence[Ran],
    *,
    threshold: float,
    shards: int,
    dead_shards: Sequence[str] = (),
) -> str | None:
    """Why the run is an outage, or None. ``shards``: shards planned with tests."""
    if dead_shards:
        names = ", ".join(dead_shards[:5]) + (" …" if len(dead_shards) > 5 else "")
        return f"{count(len(dead_shards), 'shard')} died or left no results ({names})"
    failing = [t for t in tests if t.failed_first]
    if len(failing) < MIN_FAILURES or not tests:
        return None
    share = len(failing) / len(tests)
    if share > threshold:
        return (
            f"{len(failing)} of {count(len(tests), 'test')} failed ({share:.0%}, over the "
            f"{threshold:.0%} outage threshold)"
        )
    by_shard = Counter(t.shard for t in failing)
    shard, failed = by_shard.most_common(1)[0]
    size = sum(1 for t in tests if t.shard == shard)
    if shards > 1 and failed / len(failing) > threshold and failed / size > threshold:
        return (
            f"{failed} of the {count(len(failing), 'failure')} are in shard {shard}: "
            f"{failed / size:.0%} of its {count(size, 'test')} failed (over the "
            f"{threshold:.0%} outage threshold)"
        )
    errors = Counter(signature(t.message) for t in failing if t.error and signature(t.message))
    if errors:
        text, same = errors.most_common(1)[0]
        if same >= MIN_FAILURES and same / len(failing) > threshold:
            return (
                f"{same} of the {count(len(failing), 'failing test')} ended in the same error "
                f"({text})"
            )
    return None
