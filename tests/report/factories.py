"""Small builders for plans and manifests, so each test states only what it is about."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone

from shard_action.core.manifest import Drift, Rerun, ShardManifest, SliceResult
from shard_action.core.outcomes import Outcome
from shard_action.core.plan import (
    FanInSettings,
    LanePlan,
    Plan,
    PlannedShard,
    RunnerSettings,
    Slice,
    TimingsInfo,
    Totals,
)

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def shard(
    shard_id: str,
    tests: Sequence[str],
    lane: str = "default",
    *,
    slices: Sequence[tuple[str, int]] | None = None,
    predicted: float = 10.0,
) -> PlannedShard:
    """``slices``: (lane, how many of ``tests``) in turn; by default one slice of ``lane``."""
    cuts: list[Slice] = []
    start = 0
    for name, count in slices or [(lane, len(tests))]:
        cuts.append(Slice(lane=name, tests=list(tests[start : start + count])))
        start += count
    assert start == len(tests), "the slices must add up to the tests"
    return PlannedShard(
        id=shard_id,
        lane=lane,
        name=f"{lane} {shard_id}",
        slices=cuts,
        predicted_seconds=predicted,
        estimated_tests=0,
    )


def plan(
    shards: Sequence[PlannedShard],
    *,
    mode: str = "parallel",
    overhead: float = 0.0,
    fail_on_flaky: bool = False,
) -> Plan:
    lanes = sorted({piece.lane for s in shards for piece in s.slices})
    total = sum(s.predicted_seconds for s in shards)
    makespan = max((s.predicted_seconds for s in shards), default=0.0) + overhead
    return Plan(
        mode=mode,
        mode_reason="test plan",
        granularity="test",
        shard_overhead=overhead,
        shards=list(shards),
        lanes=[
            LanePlan(
                name=lane,
                base=lane,
                mode="parallel",
                env={},
                isolated=True,
                tests=0,
                seconds=0.0,
                longest=0.0,
                shards=1,
                lower_bound=makespan,
                makespan=makespan,
                critical=False,
            )
            for lane in lanes
        ],
        lower_bound=makespan,
        makespan=makespan,
        serial_seconds=total + overhead,
        totals=Totals(tests=sum(len(s.tests) for s in shards), seconds=total, shards=len(shards)),
        timings=TimingsInfo(),
        runner=RunnerSettings(fail_on_flaky=fail_on_flaky),
        # These plans test the all-or-nothing serial rollback: demotion off (max-demoted 0).
        # tests/demotion turns it on.
        fan_in=FanInSettings(max_demoted=0),
    )


def slice_result(
    lane: str,
    tests: Sequence[str],
    *,
    outcomes: Mapping[str, Outcome] | None = None,
    reruns: Sequence[Rerun] = (),
    drift: Sequence[Drift] = (),
    junit: Sequence[str] = (),
    planned: int | None = None,
) -> SliceResult:
    """One lane run of a shard; every test passed unless ``outcomes`` says otherwise."""
    given = dict(outcomes or {})
    return SliceResult(
        lane=lane,
        planned=len(tests) if planned is None else planned,
        tests=list(tests),
        outcomes={t: given.get(t, "passed") for t in tests},
        reruns=list(reruns),
        drift=list(drift),
        exit_codes=[0],
        junit=list(junit),
    )


def manifest(
    shard_id: str,
    tests: Sequence[str] = (),
    *,
    lane: str = "default",
    outcomes: Mapping[str, Outcome] | None = None,
    reruns: Sequence[Rerun] = (),
    drift: Sequence[Drift] = (),
    start: float = 0.0,
    seconds: float = 10.0,
    failure: str | None = None,
    workdir: str = "/work/checkout",
    junit: Sequence[str] = (),
    coverage: Sequence[str] = (),
    mode: str = "parallel",
    exit_code: int = 0,
    slices: Sequence[SliceResult] | None = None,
) -> ShardManifest:
    """A shard's manifest: one slice of ``lane`` over ``tests``, or the ``slices`` given."""
    if slices is None:
        slices = [
            slice_result(lane, tests, outcomes=outcomes, reruns=reruns, drift=drift, junit=junit)
        ]
    return ShardManifest(
        shard=shard_id,
        lane=lane,
        mode=mode,
        started=T0 + timedelta(seconds=start),
        finished=T0 + timedelta(seconds=start + seconds),
        exit_code=exit_code,
        slices=list(slices),
        coverage=list(coverage),
        workdir=workdir,
        failure=failure,
    )
