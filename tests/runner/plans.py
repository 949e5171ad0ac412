"""Build small plans by hand, independent of the planner, for the runner's tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from shard_action.core.plan import (
    LanePlan,
    Plan,
    PlannedShard,
    RunnerSettings,
    Slice,
    TimingsInfo,
    Totals,
)


@dataclass
class LaneSlice:
    """One slice of a shard with its lane's rules (a shard of a parallel plan has one)."""

    lane: str
    tests: Sequence[str]
    env: dict[str, str] = field(default_factory=dict)
    sequential: bool = False
    isolated: bool = True
    timeout: float | None = None
    memory_mb: int | None = None
    workers: int | Literal["auto"] | None = None

    def rules(self, base: str) -> LanePlan:
        return LanePlan(
            name=self.lane,
            base=base,
            mode="sequential" if self.sequential else "parallel",
            env=self.env,
            isolated=self.isolated,
            timeout=self.timeout,
            memory_mb=self.memory_mb,
            workers=self.workers,
            tests=0,
            seconds=0.0,
            longest=0.0,
            shards=1,
            lower_bound=0.0,
            makespan=0.0,
            critical=False,
        )


@dataclass(frozen=True)
class HandShard:
    """A planned shard and the rules of its slices' lanes, which the plan's lanes carry."""

    planned: PlannedShard
    slices: tuple[LaneSlice, ...]


def shard(shard_id: str, *slices: LaneSlice, lane: str | None = None) -> HandShard:
    tests = [t for piece in slices for t in piece.tests]
    planned = PlannedShard(
        id=shard_id,
        lane=lane or (slices[0].lane if len(slices) == 1 else "serial"),
        name=shard_id,
        slices=[Slice(lane=piece.lane, tests=list(piece.tests)) for piece in slices],
        predicted_seconds=float(len(tests)),
        estimated_tests=len(tests),
    )
    return HandShard(planned, slices)


def plan(
    *shards: HandShard,
    bases: dict[str, str] | None = None,
    mode: Literal["parallel", "serial"] = "parallel",
    **runner: object,
) -> Plan:
    """A plan over the given shards; ``bases`` maps fan-out lane instances to their lane.

    The first slice of a lane sets its rules. Coverage is off unless a test asks for it: it
    costs every runner process start-up time.
    """
    runner.setdefault("coverage", False)
    lanes: dict[str, LanePlan] = {}
    for s in shards:
        for piece in s.slices:
            if piece.lane not in lanes:
                lanes[piece.lane] = piece.rules((bases or {}).get(piece.lane, piece.lane))
    total = sum(len(s.planned.tests) for s in shards)
    return Plan(
        mode=mode,
        mode_reason="built by hand for a test",
        granularity="test",
        shard_overhead=0.0,
        shards=[s.planned for s in shards],
        lanes=list(lanes.values()),
        lower_bound=0.0,
        makespan=0.0,
        serial_seconds=0.0,
        totals=Totals(tests=total, seconds=float(total), shards=len(shards)),
        timings=TimingsInfo(),
        runner=RunnerSettings.model_validate(runner),
    )
