"""Suites the planner benchmarks run on: the stored real timings and seeded synthetic ones.

Real suites come from ``tests/data/timings/<project>/`` (two serial runs of a real project's own
test suite, see its README). Synthetic suites are heavy-tailed like the real ones: most tests take
milliseconds, a few take seconds, and the first test of each file carries the file's fixture set-up.
Everything is seeded, so two runs of a benchmark see the same suites.
"""

from __future__ import annotations

import gzip
import json
import random
from dataclasses import dataclass
from pathlib import Path

from shard_action.core.models import TestItem
from shard_action.core.testids import file_of

ROOT = Path(__file__).resolve().parent.parent
TIMINGS_DIR = ROOT / "tests" / "data" / "timings"


@dataclass(frozen=True)
class Suite:
    """A suite: its tests in collection order and one or two runs' durations."""

    name: str
    tests: list[TestItem]
    run1: dict[str, float]
    run2: dict[str, float]

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.tests]


def _read_json(path: Path) -> dict[str, float]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        data: dict[str, float] = json.load(handle)
    return data


def real_suites(directory: Path = TIMINGS_DIR) -> list[Suite]:
    """Every stored suite, its tests being the ids timed in run 1, in collection order.

    Ids of run 1 that run 2 lacks (marshmallow has ids with the clock time in them) keep their run-1
    time in run 2, so scoring on run 2 only measures noise.
    """
    suites: list[Suite] = []
    for folder in sorted(p for p in directory.iterdir() if p.is_dir()):
        run1 = _read_json(folder / "test_durations.json.gz")
        run2 = _read_json(folder / "test_durations2.json.gz")
        with gzip.open(folder / "collect.txt.gz", "rt", encoding="utf-8") as handle:
            collected = [line for line in handle.read().splitlines() if "::" in line]
        position = {node_id: i for i, node_id in enumerate(collected)}
        ordered = sorted(run1, key=lambda n: (position.get(n, len(position)), n))
        tests = [TestItem(id=n, file=file_of(n)) for n in ordered]
        second = {n: run2.get(n, run1[n]) for n in ordered}
        suites.append(Suite(folder.name, tests, run1, second))
    return suites


def synthetic_suite(
    name: str,
    tests: int,
    seed: int,
    *,
    tests_per_file: int = 40,
    sigma: float = 1.6,
    fixture_share: float = 0.3,
    markers: dict[str, float] | None = None,
) -> Suite:
    """A heavy-tailed suite: log-normal test times, a Pareto tail, fixture cost on first tests.

    ``markers`` maps a marker name to the share of tests that carry it. Files sit in a few
    folders (``tests/unit``, ``tests/integration``, ``tests/api``), so lanes can pick them by glob.
    """
    rng = random.Random(seed)
    folders = ("tests/unit", "tests/integration", "tests/api", "tests/unit/models")
    items: list[TestItem] = []
    run1: dict[str, float] = {}
    run2: dict[str, float] = {}
    file_index = 0
    while len(items) < tests:
        size = min(tests - len(items), max(1, int(rng.expovariate(1 / tests_per_file)) + 1))
        folder = folders[rng.randrange(len(folders))]
        path = f"{folder}/test_mod{file_index:06d}.py"
        file_index += 1
        fixture = rng.lognormvariate(-2.0, 1.5) if rng.random() < fixture_share else 0.0
        for j in range(size):
            seconds = rng.lognormvariate(-4.5, sigma)
            if rng.random() < 0.002:
                seconds += rng.paretovariate(1.2)
            if j == 0:
                seconds += fixture
            node_id = f"{path}::test_case_{j}[p{j % 7}]"
            marks = frozenset(m for m, share in (markers or {}).items() if rng.random() < share)
            items.append(TestItem(id=node_id, file=path, markers=marks))
            run1[node_id] = seconds
            run2[node_id] = seconds * rng.lognormvariate(0.0, 0.15)
    return Suite(name, items, run1, run2)


def synthetic_suites() -> list[Suite]:
    """The heavy-tailed suites of the quality benchmark."""
    return [
        synthetic_suite("synthetic-2k", 2_000, seed=1),
        synthetic_suite("synthetic-10k-sigma2", 10_000, seed=2, sigma=2.0, tests_per_file=80),
        synthetic_suite("synthetic-500-fat", 500, seed=3, sigma=2.4, tests_per_file=10),
    ]
