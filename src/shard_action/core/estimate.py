"""A test's duration when nothing was ever measured for it, nor for any test beside it.

The first run of a project has no history. Assuming one second per test (the old default) made
a 2.5 s suite read 2 m 26 s and split into 16 shards: real unit tests take milliseconds. What the
plan step knows without running anything is the source: how many bytes each test file holds and
how many tests it collected. A file with much code per test tends to hold slower tests (set-up
written out, larger inputs) than a file of many parametrized one-liners; the figure is clamped so
one huge file with one test cannot decide the plan.

    seconds per test = clamp(BASE * bytes per test / REF_BYTES, LOW, HIGH)

Calibrated on seven real suites we did not write (click, python-dateutil, Jinja2, marshmallow,
sqlparse, tomlkit, networkx; their own tests, run serially on 2 cores): the estimated suite time
was within :data:`RELIABILITY` of the measured one (the suites' own speed per test differs by 25x,
0.4 ms in marshmallow to 10 ms in networkx, with the same bytes per test), against 290-2,200
times too high at 1 s per test (``benchmarks/estimate_accuracy.py``, docs/benchmarks.md). A
collection-time or square-root variant did no better. It says nothing about which
single test is slow, so the plan says how it estimated and how far to trust it, and the first
measured run replaces every figure.

Tests whose file (or lane) has measured tests are not estimated here: the planner takes the
median of those first (``core.planner``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

BASE: Final = 0.002
"""Seconds for a test whose file holds :data:`REF_BYTES` bytes per test."""
REF_BYTES: Final = 300.0
"""A typical unit-test file: 250-350 bytes of source per collected test in the suites above."""
LOW: Final = 0.0005
HIGH: Final = 0.5
UNKNOWN_SIZE: Final = BASE
"""A test whose file cannot be read (a test list, a runner split by file): the typical figure."""

RELIABILITY: Final = "within about 4x either way"
"""How far the estimated suite time was from the measured one on the calibration suites."""

Method = Literal["measured", "same-file", "same-lane", "source-size", "default-duration"]
"""How a test's duration was found: its own timing, the median of the measured tests of its
file or of its lane, this module's estimate, or the config's ``default-duration``."""


def per_test(file_bytes: int | None, tests_in_file: int) -> float:
    """Estimated seconds for each of the ``tests_in_file`` tests of a file of ``file_bytes``."""
    if file_bytes is None or tests_in_file <= 0:
        return UNKNOWN_SIZE
    scale = max(file_bytes, 0) / tests_in_file / REF_BYTES
    return min(HIGH, max(LOW, BASE * scale))


def per_file(file_bytes: Mapping[str, int], tests_per_file: Mapping[str, int]) -> dict[str, float]:
    """Estimated seconds per test for every file that has tests."""
    return {name: per_test(file_bytes.get(name), tests) for name, tests in tests_per_file.items()}


def reliability(methods: Mapping[str, int]) -> str:
    """One sentence for a person: how the estimated durations were found, how far to trust them."""
    guessed = methods.get("source-size", 0)
    fixed = methods.get("default-duration", 0)
    near = methods.get("same-file", 0) + methods.get("same-lane", 0)
    if not (guessed or fixed or near):
        return "every duration was measured"
    parts = []
    if near:
        parts.append(f"{near} from measured tests of the same file or lane (close)")
    if guessed:
        parts.append(
            f"{guessed} from source size without any timing ({RELIABILITY} on the suite "
            "total, nothing per test)"
        )
    if fixed:
        parts.append(f"{fixed} at default-duration (as configured)")
    return "; ".join(parts)
