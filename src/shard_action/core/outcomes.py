"""What one attempt did (an outcome) and what a test did over its attempts (a status), ranked.

The one place for both vocabularies and their order of severity: whatever merges attempts,
cases or members keeps the worse, and a pass outranks a skip (something did run). Standard
library only: the pytest plugins import the core's leaf modules.
"""

from __future__ import annotations

from typing import Final, Literal

Outcome = Literal["passed", "failed", "error", "skipped"]
Status = Literal["passed", "failed", "broken", "flaky", "skipped"]
EntryStatus = Literal[Status, "quarantined"]
"""A report entry's status: a quarantined test that failed or flaked is ``quarantined`` (its
status is kept as its verdict, ``core.quarantine``)."""

FAILING: Final[frozenset[Outcome]] = frozenset({"failed", "error"})
"""Outcomes of an attempt that did not pass."""
FAILING_STATUSES: Final[frozenset[Status]] = frozenset({"failed", "broken"})
"""Statuses of a test that never passed (a flaky test passed in the end)."""
FAILED_FIRST: Final[frozenset[Status]] = frozenset({"failed", "broken", "flaky"})
"""Statuses of a test whose first attempt failed."""

OUTCOME_RANK: Final[dict[Outcome, int]] = {"skipped": 0, "passed": 1, "failed": 2, "error": 3}
STATUS_RANK: Final[dict[Status, int]] = {
    "skipped": 0,
    "passed": 1,
    "flaky": 2,
    "failed": 3,
    "broken": 4,
}
"""How bad a status is: when verdicts are merged, the worst one decides."""


def is_failing(outcome: Outcome) -> bool:
    """An attempt that did not pass (a failure or an error)."""
    return outcome in FAILING


def is_failing_status(status: EntryStatus) -> bool:
    """A test that failed on its last attempt and fails the job (``failed`` or ``broken``; not
    ``flaky``, nor ``quarantined``)."""
    return status in FAILING_STATUSES


def worse(a: Outcome, b: Outcome) -> Outcome:
    """The outcome that says more is wrong; on a tie, ``a``."""
    return a if OUTCOME_RANK[a] >= OUTCOME_RANK[b] else b
