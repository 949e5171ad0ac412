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

A shard's fixed costs (start-up, finish) are estimated here too when no run has measured them
(:func:`first_costs`): the plan step has just run pytest's collection of the whole suite, so its
own clock is the best figure there is for a shard's start-up (interpreter and plugins, then each
file's import), and the finish gets :data:`FINISH`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from shard_action.core.models import usable_seconds
from shard_action.core.plan import EstimateInfo, ProbeInfo
from shard_action.core.prediction import Costs, first_file, shared_import, without_shared

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

# Fixed costs before any run measured them. Measured 2026-12-04 on the 2-core development
# machine while other sessions loaded it (load average 3.4-7.1): `shard-action local` of the
# bundled example (15 shards in 3 runs, and 15 more one process at a time), of its two model
# test files as one 44-test shard (5 runs each way) and of networkx 3.4.2's algorithms/flow
# (3 runs each way), every run with coverage off and on, reading report.json's measured parts;
# medians. The figures are those of a quiet machine: the finish grew with the load (about
# 0.35 s per unit of load average in these runs) and the first measured run replaces them all.
RUN_LEAD: Final = 0.2
"""Seconds ``shard-action run`` adds before pytest starts (its own import, reading the plan),
beyond the plan's collection clock: that clock plus 0.5 s over-predicted the measured start-up
by 0.2-0.3 s on the example (0.47 and 0.56 s measured) and the 44-test shard (0.66 s), and by
0.9 s on networkx flow (2.08 s)."""
REWRITE: Final = 1.5
"""A shard's collection of a file against the plan's (``--assert=plain``): the shard rewrites
each test module's asserts, on a fresh checkout without bytecode (docs/benchmarks.md: 8 s
collected with rewriting against 2.2 s plain on networkx, mostly outside the files' own time;
unchanged by the 2026-12-04 runs, whose start-ups the collection clock already predicted)."""
COVERAGE_STARTUP: Final = 0.5
"""What ``coverage run`` adds to the start-up (importing coverage.py, tracing collection):
+0.52 s on the example, +0.58 s on the 44-test shard, +0.54 s on networkx flow."""
FINISH: Final = 0.5
"""Seconds from a shard's last test to its end (session end, JUnit, manifest), coverage off:
0.2-0.55 s on the example on a quiet machine (issue 13's session); here under load 1.3 s
(example, load 3.6), 1.8 s (one at a time, 5.2), 2.4 s (44-test shard, 6.8) and 3.2 s
(networkx flow, 5): about 0.35 s per unit of load, 0.35-0.5 s at load 1-1.5."""
COVERAGE_FINISH: Final = 1.0
"""What saving coverage data adds to the finish: +2.1 s on the example (load 3.6), +1.0 s on
the 44-test shard (6.8), +0.1 s on networkx flow; the median."""


@dataclass(frozen=True, slots=True)
class Collection:
    """What the plan's own pytest collection measured, in seconds."""

    interpreter: float
    """Process start to pytest's configure (interpreter, plugins, conftest)."""
    files: Mapping[str, float] = field(default_factory=dict)
    """Each test file's collection (importing it, building its items), in collection order."""


def first_costs(collection: Collection | None, *, coverage: bool) -> Costs | None:
    """A lane's fixed costs before any run measured them, from the plan's collection.

    Start-up: the collection's interpreter and plugins plus :data:`RUN_LEAD` (and
    :data:`COVERAGE_STARTUP` with ``coverage``) and its shared import, and each file's
    collection times :data:`REWRITE`; finish: :data:`FINISH`, plus :data:`COVERAGE_FINISH` with
    ``coverage``. The shared import (``core.prediction.shared_import`` of this one process) is
    what the first collected file took beyond the others: every shard's process pays it, so it
    is start-up, and that file keeps only its own rest. It is not scaled by :data:`REWRITE`:
    what a test file imports from the project or its packages is not assert-rewritten.

    ``None`` (nothing measured: a test list, files for another runner) keeps the old prediction:
    ``shard-overhead`` and the tests only.
    """
    if collection is None or not usable_seconds(collection.interpreter):
        return None
    first = first_file(collection.files.items())
    firsts = [] if first is None else [first]
    shared, own = without_shared(collection.files, firsts, shared_import(firsts))
    files = {
        name: round(seconds * REWRITE, 6)
        for name, seconds in own.items()
        if usable_seconds(seconds)
    }
    lead = RUN_LEAD + (COVERAGE_STARTUP if coverage else 0.0)
    finish = FINISH + (COVERAGE_FINISH if coverage else 0.0)
    return Costs(interpreter=collection.interpreter + lead + shared, finish=finish, files=files)


Method = Literal["measured", "same-file", "same-lane", "source-size", "default-duration"]
"""How a test's duration was found: its own timing, the median of the measured tests of its
file or of its lane, this module's estimate, or the config's ``default-duration``."""


def per_test(file_bytes: int | None, tests_in_file: int) -> float:
    """Estimated seconds for each of the ``tests_in_file`` tests of a file of ``file_bytes``."""
    if file_bytes is None or tests_in_file <= 0:
        return UNKNOWN_SIZE
    scale = max(file_bytes, 0) / tests_in_file / REF_BYTES
    return min(HIGH, max(LOW, BASE * scale))


FACTOR_RANGE: Final = (0.01, 1000.0)
"""A probe's factor is clamped to this: beyond it a few tests say more about themselves than
about the suite (the rule alone was 0.007x-0.17x of measured suites, docs/benchmarks.md)."""
PROBED_HIGH: Final = 600.0
"""Seconds per test a probe-scaled estimate may reach (the unscaled rule stops at HIGH)."""


@dataclass(frozen=True, slots=True)
class Calibration:
    """What the first-run probe measured (``core.probe``) against this rule on the same tests."""

    tests: int
    """Tests the probe timed (``cut`` of them ran out of budget: counted as far as they got)."""
    cut: int
    measured: float
    estimated: float
    unused: str | None = None
    """Why the factor is not trusted (too few tests finished), if so: then it is 1."""
    failed: tuple[str, ...] = ()
    """Lanes whose probe process failed (``core.probe.ProbeTimes.failed``)."""

    @property
    def factor(self) -> float:
        """Measured over estimated: what every source-size estimate is multiplied by."""
        if self.unused is not None:
            return 1.0
        low, high = FACTOR_RANGE
        return min(high, max(low, self.measured / self.estimated))

    def info(self) -> ProbeInfo:
        """What ``plan.json`` says of it."""
        return ProbeInfo(
            tests=self.tests, cut=self.cut, measured=self.measured, factor=self.factor,
            unused=self.unused, failed=list(self.failed),
        )  # fmt: skip


def per_file(
    file_bytes: Mapping[str, int],
    tests_per_file: Mapping[str, int],
    calibration: Calibration | None = None,
) -> dict[str, float]:
    """Estimated seconds per test for every file that has tests, scaled by ``calibration``."""
    factor = 1.0 if calibration is None else calibration.factor
    return {
        name: min(PROBED_HIGH, per_test(file_bytes.get(name), tests) * factor)
        for name, tests in tests_per_file.items()
    }


FIRST_RUN_NOTE: Final = (
    "start-up and finish per shard from this plan's own collection until a run measures them "
    "(within about 2x)"
)
PROBED_RELIABILITY: Final = (
    "the suite total within about 4x, low rather than high when a few slow tests take most of it"
)
"""How far a probe-scaled suite total was from the measured one (docs/benchmarks.md, 2026-12-04):
0.97x on the bundled example, 0.39x on scipy's io, 0.24-0.28x on networkx's flow under load
(0.47x on its quiet serial times), where the source-size rule alone gave 0.007x, 0.17x, 0.02x."""


def first_run_note(reliability: str) -> str:
    """The reliability sentence of a plan whose fixed costs were estimated (:func:`first_costs`)."""
    return f"{reliability}; {FIRST_RUN_NOTE}" if reliability else FIRST_RUN_NOTE


def reliability(methods: Mapping[str, int], probe: ProbeInfo | None = None) -> str:
    """One sentence for a person: how the estimated durations were found, how far to trust them
    (``probe``: the source-size ones were scaled by a first-run probe, ``core.probe``)."""
    guessed = methods.get("source-size", 0)
    fixed = methods.get("default-duration", 0)
    near = methods.get("same-file", 0) + methods.get("same-lane", 0)
    if not (guessed or fixed or near):
        return "every duration was measured"
    parts = []
    if near:
        parts.append(f"{near} from measured tests of the same file or lane (close)")
    if guessed and probe is not None and probe.unused is not None:
        parts.append(
            f"{guessed} from source size, unscaled: the first-run probe {probe.unused} "
            f"({RELIABILITY} on the suite total, nothing per test)"
        )
    elif guessed and probe is not None:
        cut = f", {probe.cut} of them cut at the budget" if probe.cut else ""
        parts.append(
            f"{guessed} from source size scaled x{probe.factor:.3g} by a probe that ran "
            f"{probe.tests} of them in {probe.measured:.2g} s{cut} ({PROBED_RELIABILITY}; "
            "nothing per test)"
        )
    elif guessed:
        parts.append(
            f"{guessed} from source size without any timing ({RELIABILITY} on the suite "
            "total, nothing per test)"
        )
    if guessed and probe is not None and probe.failed:
        lanes = f"lane{'s' if len(probe.failed) > 1 else ''} {', '.join(probe.failed)}"
        parts.append(f"the probe's process failed for {lanes} (see the log)")
    if fixed:
        parts.append(f"{fixed} at default-duration (as configured)")
    return "; ".join(parts)


def described(
    methods: Mapping[str, int], seconds: float, *, first_run: bool, probe: ProbeInfo | None
) -> EstimateInfo:
    """A plan's estimate record: the counts, their sum, the flags and the sentence for them
    (``first_run``: the fixed costs came from the plan's own collection, :func:`first_costs`).
    A probe that scaled no estimate (every test had a timing) is not recorded."""
    used = probe if methods.get("source-size", 0) else None
    sentence = reliability(methods, used)
    return EstimateInfo(
        methods=dict(methods),
        seconds=seconds,
        reliability=first_run_note(sentence) if first_run else sentence,
        first_run=first_run,
        probe=used,
    )


def first_run_info(
    info: EstimateInfo, *, costs: bool, calibration: Calibration | None
) -> EstimateInfo:
    """``info`` (the planner's, from the counts alone) once it is known what the first run
    estimated: its fixed costs from the collection (``costs``), its durations scaled by a probe
    (``calibration``)."""
    probe = info.probe if calibration is None else calibration.info()
    return described(info.methods, info.seconds, first_run=costs or info.first_run, probe=probe)
