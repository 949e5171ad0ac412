"""Targeted demotion: move the one parallel-sensitive test out of parallel, before the suite.

A test that fails in a parallel run and passes when our runner re-runs it alone, in a fresh
process, failed because of what ran beside it (a polluted global, a shared file, a port): it is
*parallel-sensitive*. Sending the whole suite to serial for it (``core.mode``) costs every test
its parallelism; moving that test into its lane's **demoted lane** (``{lane}.demoted``, see
``core.lanes``: the lane's env and limits, but sequential, one process, in a shard of its own)
costs one shard. The history remembers the demoted tests in one field (:class:`Demotion`); the
next plans read it.

Rules, applied by :func:`update` to each run (``promote-after`` and ``max-demoted`` in the
config):

* **demote** a test that was flaky in a parallel run, in a parallel lane, with our re-run in a
  fresh process as witness, and never flaky in a serial run (flaky on its own: serial cannot
  help it, so it is never demoted; the report suggests quarantining it). At most
  ``max-demoted`` tests are demoted at once; a candidate over the cap is not demoted. The
  tests demoted in a run are *explained*: they are left out of the flaky rate that decides
  the mode, so one order-dependent test no longer sends the suite to serial;
* **demote**, by the *serial route*, a test that failed its first attempt in parallel runs
  (in a parallel lane) where nothing re-ran it alone (re-runs off, a ``command`` runner, a
  retry inside the process) and then passed in :data:`SERIAL_PASSES` serial runs: the history
  keeps the tally (:class:`Suspect`). A serial run it fails or is flaky in ends the tally
  (serial does not help it); so does :data:`FORGET_AFTER` runs without a parallel failure. A
  test our runner re-ran alone is judged by the first route only: passed alone, it is
  demoted there; failed alone too, it needs the company of another test, which a demoted lane
  cannot give;
* **promote** a demoted test after ``promote-after`` clean runs in a row in its demoted lane
  (passed), so a fixed test comes back to parallel. A failure resets the count (a broken test
  is not a flake, it stays demoted); if it is parallel-sensitive still, the next parallel run
  demotes it again;
* **not helped**: a demoted test that is flaky in its demoted lane was not fixed by running
  alone in its lane (it meets another shard through a shared resource, or it is random). It
  leaves the demoted lane, counts toward the flaky rate like any flaky test (so the serial
  rollback stays the last resort), and is not demoted again for :data:`FORGET_AFTER` runs;
* a test flaky in a **serial** run is flaky on its own: no longer demoted, never again;
* an **outage** (``core.outage``) teaches nothing: the demotion state stays as it was.

This module is pure; the report step feeds it one :class:`Seen` per test and stores the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from pydantic import Field

from shard_action.core.documents import Frozen
from shard_action.core.outcomes import FAILED_FIRST
from shard_action.core.units import count

FORGET_AFTER: Final = 30
"""Runs after which a test demotion did not help may be demoted again (the history's
``prune-after``: by then the code has moved on)."""
MAX_NOT_HELPED: Final = 200
"""Not-helped entries (and suspects) kept; the oldest go first."""
SERIAL_PASSES: Final = 2
"""Serial runs a suspect must pass before the serial route demotes it: without a re-run alone,
a pass in a serial run is the only witness, and one pass of a random test is a coin toss."""


class DemotedTest(Frozen):
    """One test the next plans run in its lane's demoted lane."""

    __test__ = False

    lane: str = Field(description="Its lane instance (the demoted lane is `{lane}.demoted`).")
    test: str
    since: int = Field(description="The run that demoted it.")
    clean_runs: int = Field(0, ge=0, description="Clean runs in a row in the demoted lane.")
    reason: str = Field(description="Why it was demoted, for a person.")


class NotHelped(Frozen):
    """A test that was flaky in its demoted lane too: not demoted again for a while."""

    lane: str
    test: str
    run: int = Field(description="The run in which demotion did not help.")


class Suspect(Frozen):
    """A test that failed in parallel with nothing to re-run it alone: the serial route's tally."""

    lane: str
    test: str
    parallel_failures: int = Field(ge=1, description="Parallel runs it failed in (first attempt).")
    serial_passes: int = Field(0, ge=0, description="Serial runs it passed in since.")
    last: int = Field(description="The run of its last parallel failure.")


class Demotion(Frozen):
    """The history's demotion state: one field of ``History``."""

    demoted: list[DemotedTest] = Field(default_factory=list)
    not_helped: list[NotHelped] = Field(default_factory=list)
    suspects: list[Suspect] = Field(
        default_factory=list,
        description="Tests that failed in parallel runs where nothing re-ran them alone: "
        f"demoted once they pass in {SERIAL_PASSES} serial runs.",
    )

    def tests(self) -> dict[str, frozenset[str]]:
        """Lane instance -> its demoted test ids: what the planner moves."""
        lanes: dict[str, set[str]] = {}
        for entry in self.demoted:
            lanes.setdefault(entry.lane, set()).add(entry.test)
        return {lane: frozenset(ids) for lane, ids in lanes.items()}


@dataclass(frozen=True, slots=True)
class Seen:
    """One test of the run that just finished, as demotion sees it."""

    lane: str
    """Its home lane instance (for a test that ran demoted: the lane it was demoted from)."""
    test: str
    status: str
    """The verdict: passed, flaky, failed, broken, skipped, quarantined."""
    demoted: bool = False
    """It ran in its lane's demoted lane."""
    alone: bool = False
    """Our runner re-ran it in a fresh process (the witness that it passes alone)."""
    own: bool = False
    """Flaky in a serial run, now or before: flaky on its own."""
    sequential: bool = False
    """Its lane is sequential already: demotion has nothing to move it to."""
    label: str = ""
    """How a person (and the flaky rate's list) names it; the id when empty."""


Change = Literal["demoted", "promoted", "not helped", "flaky on its own", "cap reached"]


@dataclass(frozen=True, slots=True)
class Event:
    """What this run changed for one test."""

    lane: str
    test: str
    change: Change
    label: str


@dataclass(frozen=True, slots=True)
class Step:
    """The demotion state after a run and what changed."""

    demotion: Demotion
    events: tuple[Event, ...] = ()

    @property
    def explained(self) -> tuple[str, ...]:
        """Labels of the flaky tests this run demoted: left out of the flaky rate."""
        return tuple(e.label for e in self.events if e.change == "demoted")


def _reason(index: int) -> str:
    return f"failed in parallel in run #{index} and passed when re-run alone"


def _serial_reason(suspect: Suspect) -> str:
    return (
        f"failed in {count(suspect.parallel_failures, 'parallel run')} (last #{suspect.last}) "
        f"and passed in {count(suspect.serial_passes, 'serial run')} after"
    )


def _demoted_step(
    entry: DemotedTest, seen: Seen, promote_after: int
) -> tuple[DemotedTest | None, Change | None]:
    """A demoted test that ran: kept (with its count), or gone and why."""
    if seen.own:
        return None, "flaky on its own"
    if seen.status == "flaky":
        return None, "not helped"
    if seen.status == "passed":
        clean = entry.clean_runs + 1
        if clean >= promote_after:
            return None, "promoted"
        return entry.model_copy(update={"clean_runs": clean}), None
    if seen.status in ("failed", "broken"):
        return entry.model_copy(update={"clean_runs": 0}), None
    return entry, None  # skipped or quarantined: no evidence either way


def _suspected(before: Suspect | None, seen: Seen, index: int, serial: bool) -> Suspect | None:
    """The serial route's tally for one test that ran outside a demoted lane (module
    docstring): a parallel failure nothing re-ran alone counts, a serial pass counts, a serial
    failure or flakiness on its own ends it."""
    failed = seen.status in FAILED_FIRST
    if seen.own or (serial and failed):
        return None
    if serial:
        if before is not None and seen.status == "passed":
            return before.model_copy(update={"serial_passes": before.serial_passes + 1})
        return before
    if not failed or seen.alone or seen.sequential:
        return before  # our re-run alone decides such a test (the first route), or nothing does
    if before is None:
        return Suspect(lane=seen.lane, test=seen.test, parallel_failures=1, last=index)
    return before.model_copy(
        update={"parallel_failures": before.parallel_failures + 1, "last": index}
    )


@dataclass
class _Run:
    """One run applied to the demotion state: the working copies :func:`update` fills."""

    index: int
    mode: Literal["parallel", "serial"]
    promote_after: int
    max_demoted: int
    current: dict[tuple[str, str], DemotedTest]
    blocked: dict[tuple[str, str], NotHelped]
    suspects: dict[tuple[str, str], Suspect]
    kept: dict[tuple[str, str], DemotedTest] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    def room(self) -> bool:
        return len(self.kept) + len(self.current) < self.max_demoted

    def demote(self, item: Seen, reason: str) -> bool:
        """Demote ``item`` if the cap leaves room; either way the event says what happened."""
        label = item.label or item.test
        if not self.room():
            self.events.append(Event(item.lane, item.test, "cap reached", label))
            return False
        self.kept[(item.lane, item.test)] = DemotedTest(
            lane=item.lane, test=item.test, since=self.index, reason=reason
        )
        self.events.append(Event(item.lane, item.test, "demoted", label))
        return True

    def ran_demoted(self, item: Seen, entry: DemotedTest) -> None:
        key = (item.lane, item.test)
        if not item.demoted and not item.own:
            self.kept[key] = entry  # ran in its own lane (a plan that did not demote): no evidence
            return
        after, change = _demoted_step(entry, item, self.promote_after)
        if after is not None:
            self.kept[key] = after
        if change is not None:
            self.events.append(Event(item.lane, item.test, change, item.label or item.test))
        if change == "not helped":
            self.blocked[key] = NotHelped(lane=item.lane, test=item.test, run=self.index)

    def ran(self, item: Seen) -> None:
        """A test not demoted before this run: the first route, else the serial route."""
        key = (item.lane, item.test)
        if self.max_demoted == 0 or item.demoted or key in self.blocked:
            return  # 0: demotion off, so no "cap reached" (nor tally) either
        parallel = self.mode == "parallel"
        if parallel and item.status == "flaky" and item.alone and not item.own:
            if not item.sequential:
                self.demote(item, _reason(self.index))
            return
        suspect = _suspected(self.suspects.pop(key, None), item, self.index, not parallel)
        if suspect is None:
            return
        if suspect.serial_passes >= SERIAL_PASSES and self.demote(item, _serial_reason(suspect)):
            return
        self.suspects[key] = suspect

    def step(self) -> Step:
        self.kept.update(self.current)  # demoted tests this run did not run stay as they were
        blocked = sorted(self.blocked.values(), key=lambda n: (-n.run, n.lane, n.test))
        live = [
            s
            for key, s in self.suspects.items()
            if key not in self.kept and self.index - s.last < FORGET_AFTER
        ]
        live = sorted(live, key=lambda s: (-s.last, s.lane, s.test))[:MAX_NOT_HELPED]
        return Step(
            Demotion(
                demoted=sorted(self.kept.values(), key=lambda e: (e.lane, e.test)),
                not_helped=sorted(blocked[:MAX_NOT_HELPED], key=lambda n: (n.lane, n.test)),
                suspects=sorted(live, key=lambda s: (s.lane, s.test)),
            ),
            tuple(self.events),
        )


def update(
    before: Demotion,
    seen: Sequence[Seen],
    *,
    index: int,
    mode: Literal["parallel", "serial"],
    outage: bool,
    promote_after: int,
    max_demoted: int,
) -> Step:
    """Apply run ``index`` to the demotion state (rules in the module docstring)."""
    if promote_after < 1 or max_demoted < 0:
        raise ValueError("promote_after must be at least 1 and max_demoted at least 0")
    if outage:
        return Step(before)
    run = _Run(
        index=index,
        mode=mode,
        promote_after=promote_after,
        max_demoted=max_demoted,
        current={(e.lane, e.test): e for e in before.demoted},
        blocked={(n.lane, n.test): n for n in before.not_helped if index - n.run < FORGET_AFTER},
        suspects={(s.lane, s.test): s for s in before.suspects},
    )
    for item in seen:
        entry = run.current.pop((item.lane, item.test), None)
        if entry is not None:
            run.ran_demoted(item, entry)
        else:
            run.ran(item)
    return run.step()


class DemotionRow(Frozen):
    """One line of the report's demotion table."""

    test: str
    lane: str = Field(description="The test's lane instance.")
    state: Literal[
        "demoted", "still demoted", "promoted", "not helped", "flaky on its own", "cap reached"
    ]
    detail: str = Field(description="For a person: why, and what happens next.")


_DETAIL: Final[dict[str, str]] = {
    "promoted": "clean in its demoted lane for {n} runs in a row: back to parallel",
    "not helped": "flaky in its demoted lane too: counted toward the flaky rate, not demoted "
    "again for a while",
    "flaky on its own": "flaky in a serial run: demotion cannot help (quarantine it)",
    "cap reached": "parallel-sensitive, but max-demoted ({cap}) tests are demoted already: "
    "counted toward the flaky rate",
}


def rows(step: Step, *, promote_after: int, max_demoted: int) -> list[DemotionRow]:
    """The report's table: this run's changes, then the tests still demoted."""
    out: list[DemotionRow] = []
    new = {(e.lane, e.test) for e in step.events if e.change == "demoted"}
    for event in step.events:
        if event.change == "demoted":
            continue
        detail = _DETAIL[event.change].format(n=promote_after, cap=max_demoted)
        out.append(DemotionRow(test=event.test, lane=event.lane, state=event.change, detail=detail))
    for entry in step.demotion.demoted:
        left = promote_after - entry.clean_runs
        fresh = (entry.lane, entry.test) in new
        out.append(
            DemotionRow(
                test=entry.test,
                lane=entry.lane,
                state="demoted" if fresh else "still demoted",
                detail=f"{entry.reason}; back to parallel after {left} clean "
                f"run{'s' if left != 1 else ''} in its demoted lane",
            )
        )
    return out
