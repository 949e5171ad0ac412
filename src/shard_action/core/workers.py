"""Workers inside a shard: what a shard run by ``w`` pytest-xdist workers is predicted to take.

A lane with ``workers`` runs each of its shards as one pytest process with ``-n w``. xdist hands
the tests out in the order our selection plugin leaves them, each to the next free worker, and
the plugin orders them longest first: that is list scheduling in longest-first order (LPT), so the
shard's test phase is the LPT makespan over ``w``, and each worker pays its own start-up (an
interpreter, pytest, the plugins and the imports of its tests) before its first test. The model
here is exactly that, so the plan predicts what the runner then does.

Sequential lanes and serial mode never use workers (one process, tests in order).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

WORKER_STARTUP = 1.5
"""Seconds a worker costs before its first test until a lane has measured its own (measured on
this machine's 2 cores for a networkx shard: `benchmarks/shard_overhead.py --only workers`,
docs/benchmarks.md)."""

Workers = int | Literal["auto"]
T = TypeVar("T")


AUTO_UNKNOWN = 2
"""``auto`` when the CPU count is unknown: the vCPUs of GitHub's Linux runners for private
repositories (public ones have 4)."""


def resolve(workers: Workers | None, cpus: int | None) -> int:
    """The number of worker processes: ``auto`` is the machine's CPU count; none is 1."""
    if workers is None:
        return 1
    if workers == "auto":
        return max(1, cpus or AUTO_UNKNOWN)
    return max(1, workers)


def startup(learned: float | None) -> float:
    """What starting a shard's workers adds to its start-up: the lane's learned figure
    (``Costs.workers``: a shard's start-up under xdist beyond its interpreter and its files'
    collection, from the history), else :data:`WORKER_STARTUP` (the first run)."""
    return WORKER_STARTUP if learned is None else learned


def runs_xdist(workers: int | None, *, sequential: bool) -> bool:
    """Whether a process given ``workers`` (resolved, :func:`resolve`) runs under pytest-xdist.

    One worker is one plain process: no ``-n``, tests in pytest's order, and each scope's
    fixture seen where its first test opens it. The runner, the selection's order and the
    ledger's fixture charges all ask this, so they agree on what really ran.
    """
    return workers is not None and workers > 1 and not sequential


def longest_first(order: Sequence[T], seconds: Sequence[float]) -> list[T]:
    """``order`` sorted by duration, longest first; equal durations keep their order."""
    ranked = sorted(range(len(order)), key=lambda i: (-seconds[i], i))
    return [order[i] for i in ranked]


@dataclass(frozen=True, slots=True)
class WorkerSchedule:
    """Which worker runs which test (indices into the input) and when each worker is done."""

    assignment: tuple[tuple[int, ...], ...]
    finish: tuple[float, ...]

    @property
    def makespan(self) -> float:
        return max(self.finish, default=0.0)


def schedule(seconds: Sequence[float], workers: int, startup: float = 0.0) -> WorkerSchedule:
    """List scheduling in longest-first order: each test goes to the worker free first.

    Every worker starts after ``startup``; with one worker this is ``startup + sum``.
    """
    count = max(1, workers)
    ranked = sorted(range(len(seconds)), key=lambda i: (-seconds[i], i))
    heap = [(startup, w) for w in range(count)]
    assigned: list[list[int]] = [[] for _ in range(count)]
    finish = [startup] * count
    for index in ranked:
        free_at, worker = heapq.heappop(heap)
        done = free_at + max(0.0, seconds[index])
        assigned[worker].append(index)
        finish[worker] = done
        heapq.heappush(heap, (done, worker))
    return WorkerSchedule(tuple(tuple(a) for a in assigned), tuple(finish))


def shard_seconds(seconds: Sequence[float], workers: int, startup: float = WORKER_STARTUP) -> float:
    """Predicted test phase of a shard: plain sum with one process, else the LPT schedule."""
    if workers <= 1:
        return float(sum(seconds))
    return schedule(seconds, workers, startup).makespan
