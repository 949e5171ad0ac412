"""The values the core works on.

Tests and observations are plain frozen dataclasses rather than pydantic models: a 1M-test plan
creates millions of them and must stay within seconds. Pydantic guards the files that cross the
boundary instead (``core.config``, ``core.plan``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

Outcome = Literal["passed", "failed", "error", "skipped"]


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
