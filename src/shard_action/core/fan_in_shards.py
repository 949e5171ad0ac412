"""The fan-in's view of each shard (status, predicted against measured, start offset) and of the
run's timing against one serial job; lost tests grouped by shard and reason."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone

from shard_action.core.completeness import Completeness, LostTest
from shard_action.core.fan_in_given import ShardResult
from shard_action.core.manifest import ShardManifest
from shard_action.core.outcomes import is_failing_status
from shard_action.core.plan import Plan, PlannedShard
from shard_action.core.prediction import Measured
from shard_action.core.report_document import (
    LostGroup,
    ShardEntry,
    ShardStatus,
    TestEntry,
    TimingEntry,
)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def timing(
    plan: Plan,
    shards: Mapping[str, ShardResult],
    entries: Sequence[TestEntry],
    concurrency: int | None,
) -> TimingEntry:
    """Wall time against one serial job, which would pay job set-up and the time outside the
    tests once (not once per shard, as the shards' durations back to back would): an honest
    speed-up."""
    manifests = [result.manifest for result in shards.values()]
    own = {m.shard: m.wall for m in manifests}
    in_tests = dict.fromkeys(own, 0.0)
    for entry in entries:
        if entry.seconds is not None and entry.shard in in_tests:
            in_tests[entry.shard] += entry.seconds
    tests = sum(in_tests.values())
    # Without any test's own time (JUnit without durations) a shard is all start-up, so the
    # shards back to back are the only estimate of a serial job.
    startups = [max(0.0, own[shard] - in_tests[shard]) for shard in own]
    startup = max(startups, default=0.0) if tests > 0 else sum(startups)
    wall = None
    if manifests:
        start = min(_utc(m.started) for m in manifests)
        end = max(_utc(m.finished) for m in manifests)
        wall = max(0.0, (end - start).total_seconds())
    overhead = plan.shard_overhead
    serial = overhead + startup + tests if manifests else None
    speedup = None
    if serial is not None and wall is not None and overhead + wall > 0:
        speedup = serial / (overhead + wall)
    return TimingEntry(
        wall_seconds=wall,
        busy_seconds=sum(own.values()),
        overhead_seconds=overhead,
        test_seconds=tests,
        startup_seconds=startup,
        serial_estimate=serial,
        predicted_makespan=plan.makespan,
        predicted_serial=plan.serial_seconds,
        lower_bound=plan.lower_bound,
        speedup=speedup,
        estimated_tests=plan.timings.estimated,
        concurrency=concurrency,
    )


def _shard_status(
    held: bool, shard: PlannedShard | None, manifest: ShardManifest | None, failing: int
) -> ShardStatus:
    """``held``: held back on purpose; no ``shard``: not in the plan; no ``manifest``: lost."""
    if held:
        return "not run"
    if manifest is None:
        return "missing"
    if shard is None:
        return "unknown"
    if manifest.failure:
        return "stopped"
    return "failed" if failing or manifest.exit_code != 0 else "passed"


def _predicted(shard: PlannedShard | None, setup: float | None) -> float | None:
    """The plan's prediction, with the job's set-up only when it is measured too."""
    if shard is None:
        return None
    if shard.prediction is not None:
        return shard.prediction.total - (0.0 if setup is not None else shard.prediction.setup)
    return shard.predicted_seconds


def shard_entries(
    plan: Plan,
    shards: Mapping[str, ShardResult],
    tests: Sequence[TestEntry],
    unmatched: Mapping[str, int],
    completeness: Completeness,
    *,
    not_run: frozenset[str] = frozenset(),
    setups: Mapping[str, float] | None = None,
) -> list[ShardEntry]:
    starts = [_utc(r.manifest.started) for r in shards.values()]
    origin = min(starts) if starts else None
    executed = Counter(test.shard for test in tests)
    failing = Counter(test.shard for test in tests if is_failing_status(test.status))
    flaky = Counter(test.shard for test in tests if test.status == "flaky")
    entries: list[ShardEntry] = []
    order = [s.id for s in plan.shards] + list(completeness.unknown_shards)
    planned = {s.id: s for s in plan.shards}
    for shard_id in order:
        shard = planned.get(shard_id)
        result = shards.get(shard_id)
        manifest = result.manifest if result is not None else None
        status = _shard_status(shard_id in not_run, shard, manifest, failing.get(shard_id, 0))
        setup = (setups or {}).get(shard_id)
        measured = measured_with_setup(manifest, setup)
        prediction = shard.prediction if shard is not None else None
        predicted = _predicted(shard, setup)
        wall = manifest.wall if manifest else None
        entries.append(
            ShardEntry(
                shard=shard_id,
                lane=shard.lane if shard is not None else (manifest.lane if manifest else "?"),
                name=shard.name if shard is not None else shard_id,
                status=status,
                planned=len(shard.tests) if shard is not None else 0,
                executed=executed.get(shard_id, 0),
                predicted_seconds=predicted,
                actual_seconds=None if wall is None else wall + (setup or 0.0),
                prediction=prediction,
                measured=None if measured is None else measured.parts,
                start_offset=(_utc(manifest.started) - origin).total_seconds()
                if manifest is not None and origin is not None
                else None,
                exit_code=manifest.exit_code if manifest is not None else None,
                failure=manifest.failure if manifest is not None else None,
                failing=failing.get(shard_id, 0),
                flaky=flaky.get(shard_id, 0),
                unmatched_cases=unmatched.get(shard_id, 0),
            )
        )
    return entries


def measured_with_setup(manifest: ShardManifest | None, setup: float | None) -> Measured | None:
    """The shard's own measurement, with its job's set-up when the jobs endpoint gave it."""
    if manifest is None or manifest.measured is None:
        return None
    measured = manifest.measured
    if setup is None:
        return measured
    parts = measured.parts.model_copy(update={"setup": max(0.0, setup)})
    return measured.model_copy(update={"parts": parts})


def lost_groups(lost: Sequence[LostTest], results: Mapping[str, ShardResult]) -> list[LostGroup]:
    """One group per (shard, reason), in the order the lost tests come (plan order)."""
    groups: dict[tuple[str, str], list[LostTest]] = {}
    for item in lost:
        groups.setdefault((item.shard, item.reason), []).append(item)
    out = []
    for (shard, reason), items in groups.items():
        result = results.get(shard)
        lanes = sorted({i.lane for i in items})
        out.append(
            LostGroup(
                shard=shard,
                lane=lanes[0] if len(lanes) == 1 else ", ".join(lanes),
                tests=len(items),
                reason=reason,
                cause=result.manifest.failure if result is not None else None,
            )
        )
    return out
