"""The history stays bounded: series per test and per run are capped, old entries age out.

The figures at 100k tests and 50 runs are measured by ``benchmarks/history_size.py``
(``docs/benchmarks.md``); this checks the bounds themselves, at a size a test can afford.
"""

from __future__ import annotations

from pathlib import Path

from shard_action.adapters.history_file import read_history, write_history
from shard_action.core.history import (
    MAX_SLOWEST,
    History,
    Limits,
    Observed,
    RunRecord,
    SlowTest,
    update_tests,
    with_run,
)
from shard_action.core.mode import ModeState

LIMITS = Limits(window=6, samples=4, prune_after=5, max_tests=1_500, max_runs=8)


def test_series_are_capped_and_renamed_tests_age_out(tmp_path: Path) -> None:
    history = History()
    path = tmp_path / "history.json"
    for index in range(1, 31):
        # 1,000 tests that stay, and 100 new names every run (renamed or deleted later)
        seen = [Observed("d", f"t/test_{i}.py::test", "p", 1.0 + index % 3) for i in range(1000)]
        seen += [Observed("d", f"t/gone_{index}_{i}.py::test", "p", 0.1) for i in range(100)]
        tests = update_tests(history, seen, index=index, serial=False, limits=LIMITS)
        run = RunRecord(
            index=index, mode="parallel", tests=len(seen), flaky=0, flaky_rate=0.0,
            slowest=[SlowTest(lane="d", test=o.test, seconds=3.0) for o in seen[:50]],
        )  # fmt: skip
        history = with_run(
            history, run, tests, mode=ModeState(mode="parallel", reason="t"), limits=LIMITS,
        )  # fmt: skip
        write_history(path, history)
        history = read_history(path)
    records = history.tests["d"]
    assert [run.index for run in history.runs] == list(range(23, 31))  # the last 8
    assert all(len(run.slowest) == MAX_SLOWEST for run in history.runs)  # 50 given, 10 kept
    # the 1,000 that stay, plus the new names of the last 5 runs (26..30): 1,500, the cap
    assert len(records) == 1_500
    assert not any(test.startswith("t/gone_25_") for test in records)
    assert all(len(r.recent) <= 4 and len(r.outcomes) <= 6 for r in records.values())
    assert path.stat().st_size / len(records) < 160  # bytes per record, runs included
