"""Catch new flakes early: tests the history does not know run again in the shards' spare time.

Each new test gets ``early-flake-runs`` extra runs in a shard of its own lane instance whose
predicted wall leaves room under its stage's makespan (a shard that would finish early), after
that shard's own tests, each round in a fresh process. Deterministic: the same plan and history
give the same placement. Without a history no test counts as new (every test would be).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from shard_action.core.history import History
from shard_action.core.manifest import ShardManifest
from shard_action.core.outcomes import is_failing
from shard_action.core.plan import Plan, PlannedShard, Slice
from shard_action.core.units import count

STARTUP_SECONDS = 1.0
"""A round's process start when the shard's prediction has no start-up of its own."""


@dataclass(frozen=True)
class Placed:
    """The plan with its early runs, and what a person is told about them."""

    plan: Plan
    new: int
    """New tests in the plan (lane instance, id pairs)."""
    placed: int
    """Of those, the ones given extra runs (the rest found no spare time)."""

    def note(self) -> str:
        runs = count(self.plan.runner.early_flake_runs, "more run")
        return (
            f"early-flake runs: {self.placed} of {count(self.new, 'new test')} fit the shards' "
            f"spare time, {runs} each"
        )


@dataclass
class _Room:
    shard: PlannedShard
    left: float
    startup: float
    tests: dict[str, list[str]] = field(default_factory=dict)


def _rooms(plan: Plan) -> list[_Room]:
    """Each shard's spare time: its stage's makespan (first tier, rest) less its own wall."""
    stage = {first: max((s.predicted_seconds for s in plan.shards if s.first == first), default=0)
             for first in (True, False)}  # fmt: skip
    rooms = []
    for shard in plan.shards:
        startup = shard.prediction.startup if shard.prediction is not None else 0.0
        left = stage[shard.first] - shard.predicted_seconds
        rooms.append(_Room(shard, left, startup or STARTUP_SECONDS))
    return rooms


def _per_test(plan: Plan) -> Mapping[str, float]:
    """A new test's cost: its lane's mean test time (the plan keeps no per-test estimate)."""
    return {lane.name: lane.seconds / lane.tests if lane.tests else 0.0 for lane in plan.lanes}


def place_early_runs(plan: Plan, known: Collection[str], runs: int) -> Placed:
    """Give each new test (an id not in ``known``) ``runs`` extra runs where there is room.

    Longest lanes' tests first, then plan order; each goes to the shard of its lane instance
    with the most room left (ties: plan order) that can take ``runs`` more of it, plus ``runs``
    process starts for a shard's first early test. Serial mode has one shard and no room.
    """
    if runs <= 0 or not known or plan.mode == "serial":
        return Placed(plan, 0, 0)
    cost = _per_test(plan)
    rooms = _rooms(plan)
    new = [(piece.lane, t) for s in plan.shards for piece in s.slices for t in piece.tests
           if t not in known]  # fmt: skip
    placed = 0
    for lane, test in sorted(new, key=lambda pair: -cost.get(pair[0], 0.0)):  # stable
        fits = []
        for room in rooms:
            if all(piece.lane != lane for piece in room.shard.slices):
                continue
            need = runs * cost.get(lane, 0.0) + (0 if room.tests else runs * room.startup)
            if need <= room.left:
                fits.append((room, need))
        if not fits:
            continue
        room, need = max(fits, key=lambda fit: fit[0].left)  # first of the roomiest
        room.left -= need
        room.tests.setdefault(lane, []).append(test)
        placed += 1
    shards = [
        room.shard.model_copy(
            update={"early": [Slice(lane=lane, tests=ids) for lane, ids in room.tests.items()]}
        )
        for room in rooms
    ]
    runner = plan.runner.model_copy(update={"early_flake_runs": runs})
    return Placed(plan.model_copy(update={"shards": shards, "runner": runner}), len(new), placed)


def known_tests(history: History | None) -> frozenset[str]:
    """Every id the history has a record of, in any lane (none without a history)."""
    if history is None:
        return frozenset()
    return frozenset(test for by_id in history.tests.values() for test in by_id)


def early_failures(manifests: Iterable[ShardManifest]) -> dict[tuple[str, str], str]:
    """(lane instance, test) -> the evidence, for each new test that failed in an early round.

    The fan-in turns such a test, passed in its own run, into a flaky one; it never makes a
    test failed or lost (a round that did not report a test holds nothing against it).
    """
    found: dict[tuple[str, str], str] = {}
    for manifest in manifests:
        for early in manifest.early:
            for test, outcomes in early.outcomes.items():
                failed = sum(is_failing(o) for o in outcomes)
                if failed:
                    found[(early.lane, test)] = (
                        f"failed {failed} of {len(outcomes)} early-flake runs (new test)"
                    )
    return found
