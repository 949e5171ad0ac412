"""Catch new flakes early: new tests, and the tests of changed files, run again in spare time.

Each candidate gets ``early-flake-runs`` extra runs in a shard of its own lane instance whose
predicted wall leaves room under its stage's makespan (a shard that would finish early), after
that shard's own tests, each round in a fresh process. Deterministic: the same plan, history and
changed files give the same placement. A candidate is a **new** test (an id the history does not
know; without a history no test counts as new, since every test would be) or a test in a
**changed file** (the paths ``plan --changed-files`` lists, relative to the project folder: a
pull request's diff), because a test someone just edited is as likely to flake as a new one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from shard_action.core.history import History
from shard_action.core.manifest import ShardManifest
from shard_action.core.outcomes import is_failing
from shard_action.core.plan import Plan, PlannedShard, Slice
from shard_action.core.testids import file_of, normalise_path
from shard_action.core.units import count

STARTUP_SECONDS = 1.0
"""A round's process start and finish when the shard's prediction has none of its own."""


@dataclass(frozen=True)
class Placed:
    """The plan with its early runs, and what a person is told about them."""

    plan: Plan
    new: int
    """Candidates in the plan (lane instance, id pairs): new tests and changed files' tests."""
    placed: int
    """Of those, the ones given extra runs (the rest found no spare time)."""
    changed: int = 0
    """Of the candidates, the ones in a changed file."""

    def note(self) -> str:
        runs = count(self.plan.runner.early_flake_runs, "more run")
        tests = count(self.new, "new test")
        if self.changed:
            tests = f"{count(self.new, 'test')} ({self.new - self.changed:,} new, "
            tests += f"{self.changed:,} in changed files)"
        return f"early-flake runs: {self.placed} of {tests} fit the shards' spare time, {runs} each"


@dataclass
class _Room:
    shard: PlannedShard
    left: float
    process: float
    """One round's fixed cost: a process's start-up and finish, from the shard's prediction."""
    tests: dict[str, list[str]] = field(default_factory=dict)


def _rooms(plan: Plan) -> list[_Room]:
    """Each shard's spare time: its stage's makespan (first tier, rest) less its own wall."""
    stage = {first: max((s.predicted_seconds for s in plan.shards if s.first == first), default=0)
             for first in (True, False)}  # fmt: skip
    rooms = []
    for shard in plan.shards:
        parts = shard.prediction
        process = parts.startup + parts.finish if parts is not None else 0.0
        left = stage[shard.first] - shard.predicted_seconds
        rooms.append(_Room(shard, left, process or STARTUP_SECONDS))
    return rooms


def _per_test(plan: Plan) -> Mapping[str, float]:
    """A new test's cost: its lane's mean test time without its longest test (the plan keeps
    no per-test estimate; one 10 s test among a dozen of 1 ms made every new test cost 0.8 s)."""
    return {
        lane.name: (lane.seconds - lane.longest) / (lane.tests - 1)
        if lane.tests > 1
        else lane.seconds
        for lane in plan.lanes
    }


def changed_paths(lines: Iterable[str]) -> frozenset[str]:
    """Changed files as test ids name them (``testids.normalise_path``), blanks dropped."""
    paths = (normalise_path(line.strip()) for line in lines)
    return frozenset(p for p in paths if p and p != ".")


def place_early_runs(
    plan: Plan, known: Collection[str], runs: int, changed: Collection[str] = frozenset()
) -> Placed:
    """Give each candidate ``runs`` extra runs where there is room: a new test (an id not in
    ``known``, when the history knows any) or a test whose file is in ``changed``
    (:func:`changed_paths`).

    Longest lanes' tests first, then plan order; each goes to the shard of its lane instance
    with the most room left (ties: plan order) that can take ``runs`` more of it, plus ``runs``
    processes (start-up and finish) for a shard's first early test of each lane. Serial mode
    has one shard and no room.
    """
    if runs <= 0 or not (known or changed) or plan.mode == "serial":
        return Placed(plan, 0, 0)
    cost = _per_test(plan)
    rooms = _rooms(plan)
    tests = [(piece.lane, t) for s in plan.shards for piece in s.slices for t in piece.tests]
    edited = {pair for pair in tests if file_of(pair[1]) in changed}
    new = [pair for pair in tests if pair in edited or (known and pair[1] not in known)]
    placed = 0
    for lane, test in sorted(new, key=lambda pair: -cost.get(pair[0], 0.0)):  # stable
        fits = []
        for room in rooms:
            if all(piece.lane != lane for piece in room.shard.slices):
                continue
            # each lane's rounds are processes of their own: start-up and finish once per lane
            need = runs * cost.get(lane, 0.0) + (0 if lane in room.tests else runs * room.process)
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
    updated = plan.model_copy(update={"shards": shards, "runner": runner})
    return Placed(updated, len(new), placed, len(edited))


def known_tests(history: History | None) -> frozenset[str]:
    """Every id the history has a record of, in any lane (none without a history)."""
    if history is None:
        return frozenset()
    return frozenset(test for by_id in history.tests.values() for test in by_id)


def early_failures(manifests: Iterable[ShardManifest]) -> dict[tuple[str, str], str]:
    """(lane instance, test) -> the evidence, for each candidate that failed in an early round.

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
                        f"failed {failed} of {len(outcomes)} early-flake runs (new or changed test)"
                    )
    return found
