"""The values the core works on.

Tests and observations are plain frozen dataclasses rather than pydantic models: a 1M-test plan
creates millions of them and must stay within seconds. Pydantic guards the files that cross the
boundary instead (``core.config``, ``core.plan``); :class:`Mended` is the base of the history's
records, which mend what they read back.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from pydantic import BaseModel, ConfigDict, model_validator

from shard_action.core.outcomes import Outcome

MAX_SECONDS: Final = 7 * 24 * 3600.0
"""The longest time we believe: a week, longer than any CI job may run (GitHub's limit is 6 h on
hosted runners, 5 days on self-hosted). A larger value is a broken report, and sums of a few
``1e308`` would overflow the planner's arithmetic."""


def usable_seconds(seconds: float) -> bool:
    """A duration the planner can use: a number from 0 to :data:`MAX_SECONDS` (NaN fails)."""
    return 0.0 <= seconds <= MAX_SECONDS


def sample_seconds(value: float) -> float:
    """A measured time as the history stores it: never negative, to the millisecond."""
    return round(max(0.0, value), 3)


def smoothed(samples: Sequence[float]) -> float:
    """The figure a list of recent samples stands for: their median (one outlier moves nothing).

    Test durations and the lanes' fixed costs are smoothed the same way.
    """
    if not samples:
        raise ValueError("no samples")
    return float(statistics.median(samples))


class Mended(BaseModel):
    """A record of the history as it is read back: one unusable value is dropped or clamped by
    :meth:`mended` (each record's own rules), never the whole history."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _mend(cls, data: Any) -> Any:
        return cls.mended(dict(data)) if isinstance(data, dict) else data

    @classmethod
    def mended(cls, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` (a copy of the input) with what this record cannot use mended."""
        return data


@dataclass(frozen=True, slots=True)
class TestItem:
    """A test that exists today: its id (pytest node id, or a path at file granularity)."""

    __test__: ClassVar[bool] = False  # not a pytest test class

    id: str
    file: str
    markers: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class Observation:
    """One measured duration of one test, as a report gave it.

    ``test`` is a pytest node id when the source knows it (pytest-split durations, our history).
    JUnit reports give ``classname`` + ``name`` (+ ``file`` in the xunit1 dialect) instead; those
    are resolved against today's collected ids by :func:`shard_action.core.timings.resolve`.
    """

    name: str
    seconds: float
    source: str
    classname: str | None = None
    file: str | None = None
    is_node_id: bool = False
    lane: str | None = None
    outcome: Outcome = "passed"


@dataclass(frozen=True, slots=True)
class Timings:
    """Past durations, resolved onto today's test ids, ready for the planner.

    ``durations`` holds one robust figure per test id (median over the runs the reports gave);
    ``by_lane`` holds the history's per-lane figures (lane instance name -> test id -> seconds),
    which win over ``durations`` for tests planned in that lane: under fan-out the same test has
    one timing per backend. Only ids that exist today are kept; the rest are counted in ``stale``.
    """

    durations: dict[str, float] = field(default_factory=dict)
    by_lane: dict[str, dict[str, float]] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    stale: int = 0
    unresolved: int = 0
    unresolved_examples: tuple[str, ...] = ()
    """A few of the unresolved report entries (``classname::name``, sorted), to show a user."""
    skipped_reports: tuple[str, ...] = ()
