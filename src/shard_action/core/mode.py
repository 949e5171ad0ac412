"""Parallel or serial: the mode the next plan uses, and why.

Parallel shards make a suite fast, but they also expose tests that share state (a file, a port, a
database row) and fail only when something else runs beside them. When too many tests are flaky
in a run (flaky rate over ``flaky-threshold``) the history turns to **serial**: one job runs
everything, so a red build means a broken test, not an unlucky schedule. After ``recover-after``
clean serial runs in a row it returns to **parallel**.

The rules, as a state machine over runs (``state`` is the history's mode before the run):

* A parallel run over the threshold sends the history to serial and restarts the count of clean
  serial runs.
* A serial run over the threshold does not: its flaky tests are flaky on their own, parallelism
  did not cause them and serial cannot fix them (quarantine them instead). The run is judged as
  if it were under the threshold, and the reason names those tests.
* A clean serial run (complete, and over the threshold only through tests flaky on their own)
  counts one; the count reaching ``recover-after`` returns the history to parallel.
* A run that proves nothing about serial stability does not count and does not reset the count:
  an incomplete run (lost tests or shards) and a parallel run forced by hand while the history is
  serial.
* Flaky tests the run **demoted** (``core.demotion``: parallel-sensitive, moved to their lane's
  sequential lane) are explained and left out of the rate: the rollback is the last resort.
* An **outage** (``core.outage``: most tests failing, failures clustered in one shard or one
  error, a dead shard) is not counted at all: the state stays as it was, whatever its flaky rate.

This module is pure: the report step feeds it facts and stores the decision in the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from shard_action.core.documents import Frozen
from shard_action.core.units import percent

if TYPE_CHECKING:  # the history stores a ModeState, so it imports this module
    from shard_action.core.history import History

Mode = Literal["parallel", "serial"]
NO_HISTORY = "no history yet"
SHOWN_TESTS = 5
"""Flaky test ids named in a reason; the report lists all of them."""


def flaky_rate(flaky: int, tests: int) -> float:
    """Flaky tests / tests run, 0 when nothing ran (an empty run is no evidence of flakiness)."""
    if tests <= 0:
        return 0.0
    return min(1.0, max(0.0, flaky / tests))


def plan_mode(
    config_mode: str | None, history: History | None = None, override: str | None = None
) -> tuple[Mode, str]:
    """The mode for the plan step, and why.

    ``override`` (a ``workflow_dispatch`` input) wins over ``config_mode`` (config file, variable
    or flag); ``auto`` (or nothing) follows the history, and without a history the plan is
    parallel. An empty string counts as not given, because that is what an unset workflow input
    looks like.
    """
    for given, where in ((override, "set by hand"), (config_mode, "set in the configuration")):
        forced: Mode | None = (
            "parallel" if given == "parallel" else "serial" if given == "serial" else None
        )
        if forced is not None:
            return forced, f"{where} (`mode: {forced}`); `auto` follows the history"
        if given not in (None, "", "auto"):
            raise ValueError(f"unknown mode {given!r}: expected auto, parallel or serial")
    if history is None:
        return "parallel", NO_HISTORY
    return history.mode.mode, history.mode.reason


class ModeState(Frozen):
    """The mode the next plan uses, and what the state machine remembers to leave it again:
    stored in the history, returned by :func:`next_mode`, shown in the report (one model)."""

    mode: Mode = "parallel"
    reason: str = NO_HISTORY
    clean_serial_runs: int = Field(0, description="Clean serial runs in a row so far.")
    cause: str | None = Field(
        None, description="Why the history turned serial (kept while it stays serial)."
    )
    since: int | None = Field(None, description="Index of the run that turned the history serial.")


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What the decision needs to know about the run that just finished."""

    index: int
    mode: Mode
    tests: int
    flaky: Sequence[str]
    complete: bool = True
    outage: str | None = None
    """Why the run looks like an outage (``core.outage``): then it does not count."""
    demoted: Sequence[str] = ()
    """Flaky tests the run demoted (``core.demotion``): explained, so not in ``flaky`` and not
    in the rate; the serial rollback is for what demotion does not explain."""


@dataclass(frozen=True, slots=True)
class ModeDecision:
    """The state after a run, and how the run led there (the report shows both)."""

    next: ModeState
    flaky_rate: float
    over_threshold: bool
    counted: bool
    """The run counted as a clean serial run."""
    changed: bool
    flaky_on_their_own: bool
    """The run was serial and still over the threshold: parallelism is not the cause, and the
    run does not force (or keep) serial mode."""


def _names(tests: Sequence[str]) -> str:
    shown = ", ".join(tests[:SHOWN_TESTS])
    more = len(tests) - SHOWN_TESTS
    return f"{shown} (+{more} more)" if more > 0 else shown


def _parallel(
    reason: str, rate: float, *, counted: bool, changed: bool, own: bool = False
) -> ModeDecision:
    """A parallel decision under the threshold: staying parallel, or recovering from serial.

    Either way nothing of a serial spell is carried on (no cause, no start, no count).
    """
    return ModeDecision(
        next=ModeState(mode="parallel", reason=reason),
        flaky_rate=rate,
        over_threshold=own,
        counted=counted,
        changed=changed,
        flaky_on_their_own=own,
    )


def _outage(state: ModeState, run: RunFacts, rate: float, recover_after: int) -> ModeDecision:
    """An outage's run does not count: the mode, its cause and its clean runs stay."""
    assert run.outage is not None
    note = f"run #{run.index} looked like an outage ({run.outage}) and does not count"
    if state.mode == "serial":
        reason = (
            f"{state.cause or state.reason}; {note}: {state.clean_serial_runs} of "
            f"{recover_after} clean serial runs so far"
        )
    else:
        reason = f"{note}; the mode stays parallel"
    return ModeDecision(
        next=state.model_copy(update={"reason": reason}),
        flaky_rate=rate,
        over_threshold=False,
        counted=False,
        changed=False,
        flaky_on_their_own=False,
    )


def _while_serial(
    state: ModeState,
    run: RunFacts,
    rate: float,
    recover_after: int,
    *,
    facts: str,
    own_note: str,
    own: bool,
) -> ModeDecision:
    """A serial suite's run: one clean serial run more, back to parallel after enough."""
    cause = state.cause or state.reason
    counted = run.mode == "serial" and run.complete
    clean = state.clean_serial_runs + (1 if counted else 0)
    if counted and clean >= recover_after:
        reason = (
            f"back to parallel after {clean} clean serial runs (last: run #{run.index}, "
            f"{facts}){own_note}; it was serial because {cause}"
        )
        return _parallel(reason, rate, counted=True, changed=True, own=own)
    if counted:
        note = f"run #{run.index} was a clean serial run{own_note}"
    elif run.mode != "serial":
        note = f"run #{run.index} ran in parallel (set by hand) and does not count"
    else:
        note = f"run #{run.index} was incomplete (lost tests) and does not count{own_note}"
    reason = f"{cause}; {note}: {clean} of {recover_after} clean serial runs so far"
    return ModeDecision(
        next=ModeState(
            mode="serial", reason=reason, clean_serial_runs=clean, cause=cause, since=state.since
        ),
        flaky_rate=rate,
        over_threshold=own,
        counted=counted,
        changed=False,
        flaky_on_their_own=own,
    )


def next_mode(
    state: ModeState, run: RunFacts, *, flaky_threshold: float, recover_after: int
) -> ModeDecision:
    """Apply one run to the mode state machine (see the module docstring)."""
    if recover_after < 1:
        raise ValueError("recover_after must be at least 1")
    rate = flaky_rate(len(run.flaky), run.tests)
    over = rate > flaky_threshold
    demoted = (
        f"; {len(run.demoted)} more demoted to their lane's sequential lane, not counted: "
        f"{_names(run.demoted)}"
        if run.demoted
        else ""
    )
    facts = f"flaky rate {percent(rate)} ({len(run.flaky)} of {run.tests} tests{demoted})"
    if run.outage is not None:
        return _outage(state, run, rate, recover_after)
    own = over and run.mode == "serial"
    if over and not own:
        cause = (
            f"{facts} over the {percent(flaky_threshold)} threshold in run #{run.index}: "
            f"{_names(run.flaky)}"
        )
        reason = f"{cause}; back to parallel after {recover_after} clean serial runs"
        return ModeDecision(
            next=ModeState(
                mode="serial",
                reason=reason,
                cause=cause,
                since=run.index if state.mode != "serial" or state.since is None else state.since,
            ),
            flaky_rate=rate,
            over_threshold=True,
            counted=False,
            changed=state.mode != "serial",
            flaky_on_their_own=False,
        )
    own_note = (
        f" ({facts} over the {percent(flaky_threshold)} threshold, but the run was serial: "
        f"{_names(run.flaky)} are flaky on their own, which serial cannot fix, so they do not "
        "keep the suite serial; quarantine them)"
        if own
        else ""
    )
    if state.mode == "parallel":
        if own:
            reason = f"run #{run.index} ran serial (set by hand){own_note}; the mode stays parallel"
        else:
            reason = (
                f"{facts} at or under the {percent(flaky_threshold)} threshold in run #{run.index}"
            )
        return _parallel(reason, rate, counted=False, changed=False, own=own)
    return _while_serial(state, run, rate, recover_after, facts=facts, own_note=own_note, own=own)
