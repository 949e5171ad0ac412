"""Fault injection for the fake GitHub API: what can go wrong between us and GitHub.

A :class:`Fault` says what happens to one request; a :class:`FaultRule` says which requests it
hits, either from a scripted sequence or at a seeded random rate, so every test is repeatable.
"""

from __future__ import annotations

import random
import re
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal[
    "status", "too-many", "secondary", "slow", "held", "reset", "applied", "applied-reset"
]

SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)


@dataclass(frozen=True)
class Fault:
    """One thing going wrong.

    - ``status``: answer ``status`` (500/502/503...) without doing anything.
    - ``too-many``: 429 with ``Retry-After``.
    - ``secondary``: 403 secondary rate limit with ``Retry-After`` (GitHub's wording).
    - ``slow``: wait ``delay`` seconds, then answer normally.
    - ``held``: wait until the test calls ``fake.release_held()``, then do it and answer (the
      client has usually given up by then): a write that lands late, deterministically.
    - ``reset``: close the connection without an answer, nothing done.
    - ``applied``: do the request (a POST creates), then answer ``status`` instead of the result.
    - ``applied-reset``: do the request, then close the connection without an answer.
    """

    kind: FaultKind
    status: int = 500
    retry_after: str | None = None
    delay: float = 0.0

    @classmethod
    def error(cls, status: int = 500) -> Fault:
        return cls("status", status=status)

    @classmethod
    def too_many(cls, retry_after: str | int = 1) -> Fault:
        return cls("too-many", status=429, retry_after=str(retry_after))

    @classmethod
    def secondary(cls, retry_after: str | int | None = 1) -> Fault:
        ra = None if retry_after is None else str(retry_after)
        return cls("secondary", status=403, retry_after=ra)

    @classmethod
    def slow(cls, delay: float) -> Fault:
        return cls("slow", delay=delay)

    @classmethod
    def held(cls) -> Fault:
        return cls("held")

    @classmethod
    def reset(cls) -> Fault:
        return cls("reset")

    @classmethod
    def applied(cls, status: int = 502) -> Fault:
        return cls("applied", status=status)

    @classmethod
    def applied_reset(cls) -> Fault:
        return cls("applied-reset")

    @property
    def performs(self) -> bool:
        """Whether the request takes effect although the client sees a failure."""
        return self.kind in {"slow", "held", "applied", "applied-reset"}


#: The mix used for "N% of requests fail": 5xx, rate limits, resets and applied-but-failed.
DEFAULT_MIX: tuple[Fault, ...] = (
    Fault.error(500),
    Fault.error(502),
    Fault.error(503),
    Fault.too_many(0),
    Fault.secondary(0),
    Fault.reset(),
    Fault.applied(502),
    Fault.applied_reset(),
    Fault.slow(0.01),
)


@dataclass
class FaultRule:
    """Which requests a fault hits. ``methods``/``path`` (a regex searched in the API path, prefix
    removed) and ``host`` (``"api"`` or ``"blob"``) narrow it; ``None`` matches everything.

    Scripted: ``script`` is consumed one entry per matching request (``None`` = let it through);
    once it runs out the rule lets everything through. Random: ``rate`` of matching requests get a
    fault drawn from ``kinds`` with a ``random.Random(seed)``.
    """

    methods: frozenset[str] | None = None
    path: re.Pattern[str] | None = None
    host: Literal["api", "blob"] | None = None
    script: deque[Fault | None] | None = None
    rate: float = 0.0
    kinds: Sequence[Fault] = DEFAULT_MIX
    seed: int = 0
    hits: list[Fault] = field(default_factory=list)
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def matches(self, method: str, path: str, host: str) -> bool:
        if self.methods is not None and method.upper() not in self.methods:
            return False
        if self.host is not None and host != self.host:
            return False
        return self.path is None or self.path.search(path) is not None

    def draw(self) -> Fault | None:
        with self._lock:
            fault: Fault | None
            if self.script is not None:
                fault = self.script.popleft() if self.script else None
            elif self.rate > 0 and self._rng.random() < self.rate:
                fault = self._rng.choice(list(self.kinds))
            else:
                fault = None
            if fault is not None:
                self.hits.append(fault)
            return fault


def rule(
    *,
    methods: Iterable[str] | None = None,
    path: str | None = None,
    host: Literal["api", "blob"] | None = None,
    script: Iterable[Fault | None] | None = None,
    rate: float = 0.0,
    kinds: Sequence[Fault] = DEFAULT_MIX,
    seed: int = 0,
) -> FaultRule:
    """Build a :class:`FaultRule` from plain arguments."""
    return FaultRule(
        methods=None if methods is None else frozenset(m.upper() for m in methods),
        path=None if path is None else re.compile(path),
        host=host,
        script=None if script is None else deque(script),
        rate=rate,
        kinds=tuple(kinds),
        seed=seed,
    )
