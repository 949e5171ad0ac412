"""Which annotations to emit, within what GitHub shows.

GitHub keeps at most 10 error, 10 warning and 10 notice annotations per step and 50 per job
(actions/toolkit, docs/problem-matchers.md, "Limitations"); the rest are dropped without a
word, so a run with 40 broken tests would show 10 chosen by print order and hide that there
were more. Here the caller passes the annotations most important first (broken tests before
lost ones), and when a level holds more than fits, its last slot says how many were left out
and where to read them (the job summary lists everything).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

Level = Literal["error", "warning", "notice"]
LEVELS: Final[tuple[Level, ...]] = ("error", "warning", "notice")
PER_STEP: Final = 10
"""Annotations of one level GitHub keeps per step."""
PER_JOB: Final = 50
"""Annotations GitHub keeps per job, all steps and levels together."""


@dataclass(frozen=True, slots=True)
class Annotation:
    level: Level
    message: str
    title: str | None = None
    file: str | None = None
    line: int | None = None


def within_limits(
    annotations: Sequence[Annotation],
    pointer: Callable[[Level, int], Annotation],
    *,
    per_level: int = PER_STEP,
    total: int = PER_JOB,
) -> list[Annotation]:
    """The annotations to emit: per level the first ones in the given order, at most
    ``per_level`` of each and ``total`` in all (errors first, then warnings, then notices).

    Where a level is cut, its last kept slot becomes ``pointer(level, hidden)``, ``hidden``
    counting the annotations of that level not shown. The order within a level is kept.
    """
    if per_level < 1 or total < 1:
        raise ValueError("the limits must be at least 1")
    chosen: list[Annotation] = []
    budget = total
    for level in LEVELS:
        items = [a for a in annotations if a.level == level]
        room = min(per_level, budget)
        if not items or room <= 0:
            continue
        if len(items) <= room:
            kept = items
        else:
            kept = [*items[: room - 1], pointer(level, len(items) - (room - 1))]
        chosen += kept
        budget -= len(kept)
    return chosen
