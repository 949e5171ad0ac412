"""Stage 2 of the fan-in, judge: the tests against the history (known flaky), the quarantine
file and the demotion state, whether the run was an outage, and the facts of this run that the
mode is decided on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shard_action.core.demotion import Seen, Step
from shard_action.core.demotion import update as update_demotion
from shard_action.core.fan_in_check import Checked
from shard_action.core.fan_in_given import Settings
from shard_action.core.fan_in_quarantine import covered_by_quarantine
from shard_action.core.flakiness import OUR_RERUN
from shard_action.core.history import History, known_flaky
from shard_action.core.lanes import home_lane
from shard_action.core.mode import RunFacts
from shard_action.core.outage import Ran
from shard_action.core.outage import detect as detect_outage
from shard_action.core.outcomes import FAILED_FIRST, is_failing_status
from shard_action.core.plan import Plan
from shard_action.core.quarantine import QuarantineEntry
from shard_action.core.report_document import TestEntry
from shard_action.core.testids import label


@dataclass(frozen=True, slots=True)
class Judged:
    """Stage 2, judge: the tests against the history (known flaky, quarantine, demotion), the
    outage, and the facts of this run the mode is decided on."""

    entries: tuple[TestEntry, ...]
    covered: Mapping[int, QuarantineEntry]
    flaky_names: list[str]
    outage: str | None
    moved: Step
    facts: RunFacts


def judge(checked: Checked, previous: History, settings: Settings) -> Judged:
    """Stage 2: the checked tests against the previous history and the quarantine file."""
    plan = checked.plan
    entries = _with_known_flaky(checked.entries, previous)
    index = previous.next_index()
    covered = covered_by_quarantine(plan, entries)
    # A known-flaky test that failed every attempt flipped in this run too: it counts as flaky
    # in the rate that decides the mode, so a serial run that hit it is not a clean one. A
    # quarantined test does not count: its flakiness is known and owned.
    flaky_names = [
        label(e.test, e.lane, e.fanned_out)
        for n, e in enumerate(entries)
        if (e.status == "flaky" or e.known_flaky) and n not in covered
    ]
    outage = _outage(checked, entries, settings)
    moved = _demotion(
        plan, entries, covered, previous, settings=settings, index=index, outage=outage is not None
    )
    facts = RunFacts(
        index=index,
        mode=plan.mode,
        tests=sum(e.status != "skipped" for e in entries),
        flaky=[n for n in flaky_names if n not in set(moved.explained)],
        complete=checked.completeness.complete,
        outage=outage,
        demoted=moved.explained,
    )
    return Judged(tuple(entries), covered, flaky_names, outage, moved, facts)


def _with_known_flaky(entries: Sequence[TestEntry], previous: History) -> list[TestEntry]:
    """A test that failed every attempt but flipped in the history's window: ``failed``."""
    judged = []
    for entry in entries:
        before = previous.record(entry.lane, entry.test)
        if is_failing_status(entry.status) and before is not None and known_flaky(before.outcomes):
            judged.append(entry.model_copy(update={"known_flaky": True, "status": "failed"}))
        else:
            judged.append(entry)
    return judged


def _outage(checked: Checked, entries: Sequence[TestEntry], settings: Settings) -> str | None:
    by_shard = checked.by_shard.values()
    stopped = [r.manifest.shard for r in by_shard if r.manifest.failure and r.manifest.shard]
    ran = [
        Ran(
            shard=e.shard,
            failed_first=e.status in FAILED_FIRST,
            error=e.outcome == "error",
            message=e.message,
        )
        for e in entries
        if e.status != "skipped"
    ]
    return detect_outage(
        ran,
        threshold=settings.outage_threshold,
        shards=sum(1 for s in checked.ran.shards if s.tests),
        dead_shards=[x.shard for x in checked.completeness.lost_shards] + stopped,
    )


def _demotion(
    plan: Plan,
    entries: Sequence[TestEntry],
    covered: Mapping[int, QuarantineEntry],
    previous: History,
    *,
    settings: Settings,
    index: int,
    outage: bool,
) -> Step:
    """This run applied to the history's demotion state (``core.demotion``); quarantined tests
    are owned already and left out."""
    serial = plan.mode == "serial"
    lanes = {lane.name: lane for lane in plan.lanes}
    seen = []
    for n, e in enumerate(entries):
        if n in covered or e.kind == "drift":
            continue
        home, demoted = home_lane(e.lane)
        record = previous.record(e.lane, e.test)
        lane = lanes.get(e.lane)
        seen.append(
            Seen(
                lane=home,
                test=e.test,
                status=e.status,
                demoted=demoted,
                alone=OUR_RERUN in e.evidence,
                own=(serial and e.status == "flaky")
                or (record is not None and record.last_serial_flake is not None),
                sequential=lane is not None and lane.sequential and not demoted,
                label=label(e.test, e.lane, e.fanned_out),
            )
        )
    return update_demotion(
        previous.demotion,
        seen,
        index=index,
        mode=plan.mode,
        outage=outage,
        promote_after=settings.promote_after,
        max_demoted=settings.max_demoted,
    )
