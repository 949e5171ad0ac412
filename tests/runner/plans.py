"""Build small plans by hand, independent of the planner, for the runner's tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from shard_action.core.plan import (
    LanePlan,
    LaneRun,
    Plan,
    PlannedShard,
    RunnerSettings,
    TimingsInfo,
    Totals,
)


@dataclass
class Run:
    """One lane run inside a shard (a shard of a parallel plan has exactly one)."""

    lane: str
    tests: Sequence[str]
    env: dict[str, str] = field(default_factory=dict)
    sequential: bool = False
    isolated: bool = True
    timeout: float | None = None
    memory_mb: int | None = None
    base: str | None = None


def shard(shard_id: str, *runs: Run, lane: str | None = None) -> PlannedShard:
    tests = [t for run in runs for t in run.tests]
    return PlannedShard(
        id=shard_id,
        lane=lane or (runs[0].lane if len(runs) == 1 else "serial"),
        name=shard_id,
        env=dict(runs[0].env) if len(runs) == 1 else {},
        sequential=all(r.sequential for r in runs),
        tests=tests,
        runs=[
            LaneRun(
                lane=r.lane,
                env=r.env,
                sequential=r.sequential,
                isolated=r.isolated,
                count=len(r.tests),
                timeout=r.timeout,
                memory_mb=r.memory_mb,
            )
            for r in runs
        ],
        predicted_seconds=float(len(tests)),
        estimated_tests=len(tests),
    )


def plan(
    *shards: PlannedShard,
    bases: dict[str, str] | None = None,
    mode: Literal["parallel", "serial"] = "parallel",
    **runner: object,
) -> Plan:
    """A plan over the given shards; ``bases`` maps fan-out lane instances to their lane.

    Coverage is off unless a test asks for it: it costs every runner process start-up time.
    """
    runner.setdefault("coverage", False)
    lanes: dict[str, LanePlan] = {}
    for s in shards:
        for r in s.runs:
            base = (bases or {}).get(r.lane, r.lane)
            lanes.setdefault(
                r.lane,
                LanePlan(
                    name=r.lane,
                    base=base,
                    mode="sequential" if r.sequential else "parallel",
                    env=r.env,
                    isolated=r.isolated,
                    tests=0,
                    seconds=0.0,
                    longest=0.0,
                    shards=1,
                    lower_bound=0.0,
                    makespan=0.0,
                    critical=False,
                ),
            )
    total = sum(len(s.tests) for s in shards)
    return Plan(
        mode=mode,
        mode_reason="built by hand for a test",
        granularity="test",
        shard_overhead=0.0,
        shards=list(shards),
        lanes=list(lanes.values()),
        lower_bound=0.0,
        makespan=0.0,
        serial_seconds=0.0,
        totals=Totals(tests=total, seconds=float(total), shards=len(shards)),
        timings=TimingsInfo(),
        runner=RunnerSettings.model_validate(runner),
    )
