"""Stage 3 of the fan-in, decide: the next run's mode (``core.mode``), and the report's account
of it (the history's mode as it was when the decision is not recorded)."""

from __future__ import annotations

from shard_action.core.fan_in_given import Settings
from shard_action.core.fan_in_judge import Judged
from shard_action.core.history import History
from shard_action.core.mode import ModeDecision, RunFacts, next_mode
from shard_action.core.plan import Plan
from shard_action.core.report_document import ModeEntry, ModeThresholds


def decide(previous: History, judged: Judged, settings: Settings) -> ModeDecision:
    """Stage 3, decide: the next run's mode."""
    return next_mode(
        previous.mode,
        judged.facts,
        flaky_threshold=settings.flaky_threshold,
        recover_after=settings.recover_after,
    )


def mode_entry(
    plan: Plan,
    decision: ModeDecision,
    previous: History,
    settings: Settings,
    run: RunFacts,
    *,
    recorded: bool,
) -> ModeEntry:
    """This run's mode and the next one: the decision when it is recorded in the history, else
    the history's mode as it was, saying why it stays."""
    upcoming, changed = decision.next, decision.changed
    if not recorded:
        cause = (
            "a run from a fork does not change the history"
            if settings.fork
            else "the history could not be read, so it was not updated"
        )
        reason = f"unchanged ({cause}): {previous.mode.reason}"
        upcoming, changed = previous.mode.model_copy(update={"reason": reason}), False
    return ModeEntry(
        **ModeThresholds.taken_from(settings),
        mode=plan.mode,
        reason=plan.mode_reason,
        next=upcoming,
        changed=changed,
        recorded=recorded,
        flaky_rate=decision.flaky_rate,
        rate_flaky=len(run.flaky),
        rate_tests=run.tests,
        outage=run.outage,
        flaky_on_their_own=decision.flaky_on_their_own,
    )
