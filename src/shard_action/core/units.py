"""Numbers for a person, written one way everywhere: durations, ratios, percentages, counts.

Every view (the plan summary, the terminal, the job summary, the PR comment) formats through
these, so the same time never reads "1 m 15 s" in one place and "1m 15s" in another, a change
carries its sign (``+2.4 s``), a ratio has one decimal and one shard is never "1 shards".
"""

from __future__ import annotations

import math
from typing import Final

MISSING: Final = "\u2013"
"""Shown for a value that is not known (en dash)."""


def finite(value: object) -> float | None:
    """A finite float from a JSON number (not a bool, not text), else None: the one reading of
    a number from a document or a plugin's payload (NaN and inf are no figure)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def _finite(value: object) -> float | None:
    """``value`` as a finite number, or None for what is shown as :data:`MISSING` (a template may
    hand over what ``float`` reads)."""
    if value is None:
        return None
    return finite(float(value))  # type: ignore[arg-type]


BELOW_A_TENTH: Final = "<0.1 s"
"""A time over 0 that one decimal would round to ``0.0 s``: it is not nothing (``--target-time
0.001`` read "target-time 0.0 s")."""


def duration(value: object) -> str:
    """Seconds for a person: ``<0.1 s``, ``0.4 s``, ``12 s``, ``2 m 05 s``, ``1 h 02 m``."""
    seconds = _finite(value)
    if seconds is None:
        return MISSING
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if 0 < seconds < 0.05:
        return sign + BELOW_A_TENTH
    if seconds < 10:
        return f"{sign}{seconds:.1f} s"
    if seconds < 60:
        return f"{sign}{seconds:.0f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{sign}{whole // 60} m {whole % 60:02d} s"
    return f"{sign}{whole // 3600} h {whole % 3600 // 60:02d} m"


def signed(value: object) -> str:
    """A change in seconds with its sign: ``+2.4 s``, ``-1 m 05 s``, ``±0.0 s`` (also for a
    change under 0.05 s, which :func:`duration` would write ``<0.1 s``)."""
    seconds = _finite(value)
    if seconds is None:
        return MISSING
    if abs(seconds) < 0.05:  # a change too small for one decimal is none (not "+<0.1 s")
        return "\u00b1" + duration(0.0)
    text = duration(abs(seconds))
    return ("+" if seconds > 0 else "-") + text


def shown(seconds: float) -> float:
    """The figure :func:`duration` writes for ``seconds``, as a number, rounded as it rounds."""
    sign, size = (-1.0 if seconds < 0 else 1.0), abs(seconds)
    if size < 10:
        return sign * float(f"{size:.1f}")
    if size < 60:
        return sign * float(f"{size:.0f}")
    whole = round(size)
    return sign * float(whole if whole < 3600 else whole // 60 * 60)


def change(after: object, before: object) -> str:
    """``after - before`` as :func:`signed` writes it, from the two figures as shown: a table
    of 3.3 s against 6.8 s says -3.5 s, not the -3.6 s of the unrounded values."""
    a, b = _finite(after), _finite(before)
    if a is None or b is None:
        return MISSING
    return signed(round(shown(a) - shown(b), 6))


def count(number: object, noun: str, plural: str | None = None) -> str:
    """``1 shard``, ``2 shards``, ``1,234 tests``: the number with its noun agreeing.

    ``noun`` is the singular; ``plural`` when adding "s" is wrong (``1 shard data file``, ``2
    shard data files`` need none: the noun is the last word).
    """
    value = int(number)  # type: ignore[call-overload]
    return f"{value:,} {noun if value == 1 else plural or noun + 's'}"


TIMES: Final = "\u00d7"


def ratio(value: object) -> str:
    """A ratio for a person: one decimal and the times sign (:data:`TIMES`)."""
    x = _finite(value)
    return MISSING if x is None else f"{x:.1f}{TIMES}"


def percent(value: object, digits: int = 1) -> str:
    """A fraction (0.05) as a percentage (``5.0%``)."""
    x = _finite(value)
    return MISSING if x is None else f"{x * 100:.{digits}f}%"


def points(value: object, digits: int = 2) -> str:
    """A change in percentage points, signed: ``+0.40 pp``, ``±0.00 pp``."""
    x = _finite(value)
    if x is None:
        return MISSING
    if round(x, digits) == 0:
        return f"\u00b1{0:.{digits}f} pp"
    return f"{x:+.{digits}f} pp"


def number(value: object) -> str:
    """An integer with thousands separators."""
    if value is None:
        return MISSING
    return f"{int(value):,}"  # type: ignore[call-overload]


SAME_SPEED: Final = (0.95, 1.05)
"""Ratios from the first up to (not including) the second read "about the same": "1.0 times
faster" says nothing, and a 3% gain is within a run's noise."""


def speedup(value: object, than: str | None = None) -> str:
    """A speed-up ratio in words: "1.7 times faster", "about the same", "1.3 times slower" (a
    ratio below 1 is never "0.8 times faster"); with ``than``: "1.7 times faster than one job",
    "about as fast as one job" (times written :data:`TIMES`)."""
    x = _finite(value)
    if x is None or x <= 0:
        return MISSING
    if SAME_SPEED[0] <= x < SAME_SPEED[1]:
        return f"about as fast as {than}" if than else "about the same"
    text = f"{ratio(1 / x)} slower" if x < 1.0 else f"{ratio(x)} faster"
    return f"{text} than {than}" if than else text
