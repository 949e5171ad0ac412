"""Stage 4 of the fan-in, remember: the tests' records with this run in (each test under its home
lane, its own time at the history's speed), the flip rates they give, the run's record, and the
history the next plan reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shard_action.core.fan_in_check import Checked
from shard_action.core.fan_in_given import Given
from shard_action.core.fan_in_judge import Judged
from shard_action.core.fan_in_shards import measured_with_setup
from shard_action.core.history import (
    MAX_SLOWEST,
    History,
    Observed,
    RunRecord,
    TestRecord,
    flip_rate,
    judged_runs,
    letter_of,
    record_of,
    update_tests,
    with_run,
)
from shard_action.core.mode import ModeDecision
from shard_action.core.outcomes import is_failing_status
from shard_action.core.plan import Plan
from shard_action.core.prediction import learned, speed_factor
from shard_action.core.report_document import Report, TestEntry
from shard_action.core.trends import bottleneck, slowest


def _carried(checked: Checked) -> dict[tuple[str, str, str], float]:
    """(shard, lane, test) -> the module or class fixture seconds pytest charged to the test."""
    return {
        (r.manifest.shard, lane, test): seconds
        for r in checked.by_shard.values()
        if r.manifest.measured is not None
        for lane, tests in r.manifest.measured.carried.items()
        for test, seconds in tests.items()
    }


def records_with_run(
    checked: Checked, judged: Judged, given: Given
) -> tuple[dict[str, dict[str, TestRecord]], float | None]:
    """The tests' history with this run in, and this machine's speed against the history's
    (``None``: too few tests to compare, e.g. the history's first run).

    A test's own time leaves out the module or class fixture pytest charged to it (the
    manifest's ``carried``): the history keeps that per scope (``core.fixtures``)."""
    carried, previous = _carried(checked), given.previous

    def own(e: TestEntry) -> float | None:
        if e.seconds is None:
            return None
        return max(0.0, e.seconds - carried.get((e.shard or "", e.lane, e.test), 0.0))

    measured = speed_factor(
        (seconds, before.duration)
        for e in judged.entries
        if (seconds := own(e)) is not None
        and e.status == "passed"
        and (before := previous.record(e.lane, e.test)) is not None
        and before.recent
    )
    speed = 1.0 if measured is None else measured
    observed = [
        Observed(
            e.lane,
            e.test,
            letter_of(e.status),
            None if (s := own(e)) is None else s / speed,
        )
        for e in judged.entries
        # an outage's failures say nothing about the tests: no flips, no durations
        if e.kind != "drift" and not (judged.outage is not None and is_failing_status(e.status))
    ]
    records = update_tests(
        previous,
        observed,
        index=previous.next_index(),
        serial=checked.plan.mode == "serial",
        limits=given.settings.limits,
    )
    return records, measured


def with_flips(
    entries: Sequence[TestEntry],
    records: Mapping[str, Mapping[str, TestRecord]],
    *,
    serial: bool,
) -> list[TestEntry]:
    """Each flaky or failing test with its flip rate over the history's window, this run in."""
    judged = []
    for entry in entries:
        record = record_of(records, entry.lane, entry.test)
        update: dict[str, Any] = {}
        if entry.status == "flaky":
            update = {
                "flip_rate": flip_rate(record.outcomes) if record is not None else 1.0,
                "flip_window": judged_runs(record.outcomes) if record is not None else 1,
                "flaky_on_its_own": record.last_serial_flake is not None
                if record is not None
                else serial,
            }
        elif is_failing_status(entry.status) and record is not None:
            update = {
                "flip_rate": flip_rate(record.outcomes),
                "flip_window": judged_runs(record.outcomes),
            }
        judged.append(entry.model_copy(update=update) if update else entry)
    return judged


def run_record(
    plan: Plan,
    report: Report,
    entries: Sequence[TestEntry],
    judged: Judged,
    decision: ModeDecision,
    *,
    sha: str | None,
    speed: float | None,
) -> RunRecord:
    sequential = {s.id: plan.sequential(s) for s in plan.shards}
    ran = [
        (s.shard, s.start_offset or 0.0, s.actual_seconds, sequential.get(s.shard, False), s.lane)
        for s in report.shards
        if s.actual_seconds is not None
    ]
    timed = [e for e in entries if e.kind != "drift"]
    return RunRecord(
        index=judged.facts.index,
        mode=plan.mode,
        tests=judged.facts.tests,
        flaky=len(judged.flaky_names),
        flaky_rate=decision.flaky_rate,
        failed=report.counts.failing,
        lost=report.counts.lost,
        coverage=None if report.coverage.partial else report.coverage.percent,
        seconds=report.timing.wall_seconds,
        flaky_tests=judged.flaky_names,
        sha=sha,
        outage=judged.outage,
        test_seconds=sum(e.seconds or 0.0 for e in timed),
        shards=len(plan.shards),
        tier=plan.tier,
        slowest=slowest([(e.lane, e.test, e.seconds) for e in timed], MAX_SLOWEST),
        bottleneck=bottleneck(ran, [(e.shard, e.test, e.seconds) for e in timed]),
        speed=None if speed is None else round(speed, 3),
    )


def remember(
    checked: Checked,
    judged: Judged,
    decision: ModeDecision,
    records: dict[str, dict[str, TestRecord]],
    run: RunRecord,
    *,
    given: Given,
    speed: float | None,
) -> History:
    """Stage 4, remember: the history with this run in (computed for a fork too, so its
    report shows trends; only a writable one is kept)."""
    previous = given.previous
    # A shard that stopped early or ran in an outage measured its failure, not its costs.
    measurements = [
        (r.manifest.lane, m)
        for r in checked.by_shard.values()
        if not r.manifest.failure
        and (m := measured_with_setup(r.manifest, (given.setups or {}).get(r.manifest.shard)))
        is not None
    ]
    costs = (
        previous.costs
        if judged.outage is not None
        else learned(previous.costs, measurements, speed=1.0 if speed is None else speed)
    )
    return with_run(
        previous,
        run,
        records,
        mode=decision.next,
        limits=given.settings.limits,
        costs=costs,
        demotion=judged.moved.demotion,
    )
