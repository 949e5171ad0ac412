"""Numbers for a person, written one way everywhere: durations and counted nouns.

Every view (the plan summary, the terminal, the job summary, the PR comment) formats through
these, so the same time never reads "1 m 15 s" in one place and "1m 15s" in another, and one
shard is never "1 shards".
"""

from __future__ import annotations

import math
from typing import Final

MISSING: Final = "\u2013"
"""Shown for a value that is not known (en dash)."""


def duration(value: object) -> str:
    """Seconds for a person: ``0.4 s``, ``12 s``, ``2 m 05 s``, ``1 h 02 m``."""
    if value is None:
        return MISSING
    seconds = float(value)  # type: ignore[arg-type]
    if not math.isfinite(seconds):
        return MISSING
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 10:
        return f"{sign}{seconds:.1f} s"
    if seconds < 60:
        return f"{sign}{seconds:.0f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{sign}{whole // 60} m {whole % 60:02d} s"
    return f"{sign}{whole // 3600} h {whole % 3600 // 60:02d} m"


def count(number: object, noun: str, plural: str | None = None) -> str:
    """``1 shard``, ``2 shards``, ``1,234 tests``: the number with its noun agreeing.

    ``noun`` is the singular; ``plural`` when adding "s" is wrong (``1 shard data file``, ``2
    shard data files`` need none: the noun is the last word).
    """
    value = int(number)  # type: ignore[call-overload]
    return f"{value:,} {noun if value == 1 else plural or noun + 's'}"


TIMES: Final = "\u00d7"


def speedup(ratio: float) -> str:
    """E.g. "1.7 times faster"; a ratio below 1 reads "1.3 times slower", never "0.8 faster"."""
    if not math.isfinite(ratio) or ratio <= 0:
        return MISSING
    if round(ratio, 1) < 1.0:
        return f"{1 / ratio:.1f}{TIMES} slower"
    return f"{ratio:.1f}{TIMES} faster"
