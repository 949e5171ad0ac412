"""Trends from the history: slower tests and since when, new slowest, runs, the bottleneck.

Durations are chosen by hand so the expected verdicts can be read off them: a median of
earlier samples, a ratio of 1.5 and half a second are the rule (``core.history``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shard_action.adapters.history_file import history_from_document, read_history, write_history
from shard_action.cli import main
from shard_action.commands.report import default_templates
from shard_action.core.history import (
    History,
    Observed,
    RunRecord,
    SlowTest,
    markedly_slower,
    update_tests,
    with_run,
)
from shard_action.core.mode import ModeState
from shard_action.core.render import render_summary, render_trends, template_set
from shard_action.core.report import ShardResult, build
from shard_action.core.trends import bottleneck, trends_of

from .factories import manifest, plan, shard


@pytest.mark.parametrize(
    ("before", "latest", "slower"),
    [
        ([1.0, 1.0, 1.0], 1.6, True),  # 1.6x and +0.6 s
        ([1.0, 1.0, 1.0], 1.4, False),  # +0.4 s: under half a second
        ([0.01, 0.01, 0.01], 0.4, False),  # 40x, but only +0.39 s
        ([2.0, 2.0, 2.0], 2.9, False),  # +0.9 s, but 1.45x
        ([1.0, 1.0], 5.0, False),  # two samples are no baseline
        ([1.0, 1.0, 9.0], 1.6, True),  # the median ignores one outlier
    ],
)
def test_markedly_slower_needs_both_ratio_and_seconds(
    before: list[float], latest: float, slower: bool
) -> None:
    assert markedly_slower(before, latest) is slower


def run_series(seconds: list[float], *, tier: str = "full") -> History:
    """A history of one test timed ``seconds`` run after run (plus a steady neighbour)."""
    history = History()
    for index, value in enumerate(seconds, start=1):
        seen = [
            Observed("default", "tests/test_a.py::test_x", "p", value),
            Observed("default", "tests/test_a.py::test_steady", "p", 0.2),
        ]
        tests = update_tests(history, seen, index=index, serial=False)
        run = RunRecord(
            index=index,
            mode="parallel",
            tests=2,
            flaky=0,
            flaky_rate=0.0,
            seconds=value + 1,
            test_seconds=value + 0.2,
            shards=2,
            tier=tier,
            sha=f"{index:040x}",
            slowest=[
                SlowTest(lane="default", test="tests/test_a.py::test_x", seconds=value),
                SlowTest(lane="default", test="tests/test_a.py::test_steady", seconds=0.2),
            ],
        )
        history = with_run(
            history,
            run,
            tests,
            mode=ModeState(mode="parallel", reason="test"),
        )
    return history


def test_a_slowdown_is_reported_with_its_start_until_it_is_the_new_normal() -> None:
    history = run_series([1.0, 1.0, 1.0, 2.0])
    (slower,) = trends_of(history).slower
    assert (slower.test, slower.seconds, slower.baseline, slower.since) == (
        "tests/test_a.py::test_x",
        2.0,
        1.0,
        4,
    )
    assert slower.change == pytest.approx(2.0)
    assert slower.since_sha == f"{4:040x}"
    # still slow next run: the streak keeps its start
    assert trends_of(run_series([1.0, 1.0, 1.0, 2.0, 2.0])).slower[0].since == 4
    # once most samples agree, 2 s is the test's own median: no longer "slower"
    assert trends_of(run_series([1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0])).slower == []
    # back to normal ends the streak
    assert trends_of(run_series([1.0, 1.0, 1.0, 2.0, 1.0])).slower == []


def test_runs_are_the_last_ones_oldest_first_and_new_slowest_compares_the_same_tier() -> None:
    history = run_series([1.0, 1.0, 1.0])
    trends = trends_of(history, runs=2)
    assert [p.run for p in trends.runs] == [2, 3]
    assert [p.test_seconds for p in trends.runs] == [1.2, 1.2]
    assert trends.new_slowest == []  # the same two tests every run
    newcomer = SlowTest(lane="default", test="tests/test_b.py::test_new", seconds=3.0)
    last = history.runs[-1].model_copy(
        update={"index": 4, "slowest": [newcomer, *history.runs[-1].slowest]}
    )
    grown = history.model_copy(update={"runs": [*history.runs, last]})
    assert trends_of(grown).new_slowest == [newcomer]
    # a smoke run is not compared with the full runs before it
    smoke = history.model_copy(
        update={"runs": [*history.runs, last.model_copy(update={"tier": "smoke"})]}
    )
    assert trends_of(smoke).new_slowest == []


def _slowest(*entries: tuple[str, float]) -> list[SlowTest]:
    return [
        SlowTest(lane="default", test=f"tests/test_s.py::{name}", seconds=s) for name, s in entries
    ]


def test_a_tie_swapped_into_a_full_slowest_list_is_not_new() -> None:
    """Ten tests of 0.3-0.6 s, unchanged: the last place went to a 0.4 s test by milliseconds
    in one run and to another in the next. That is not a new slow test; a 3 s one is."""
    full = [(f"t{n}", 0.6 - n * 0.02) for n in range(9)]  # 0.60 ... 0.44
    first = RunRecord(
        index=1, tests=12, flaky=0, flaky_rate=0.0, mode="parallel",
        slowest=_slowest(*full, ("tie_a", 0.400)),
    )  # fmt: skip
    swapped = _slowest(*full, ("tie_b", 0.401))
    second = first.model_copy(update={"index": 2, "slowest": swapped})
    assert trends_of(History(runs=[first, second])).new_slowest == []
    grown = _slowest(("newcomer", 3.0), *full)
    third = first.model_copy(update={"index": 2, "slowest": grown})
    assert [x.test for x in trends_of(History(runs=[first, third])).new_slowest] == [
        "tests/test_s.py::newcomer"
    ]
    # below a full list every test that enters it is new (here: a second, 0.2 s one)
    short = first.model_copy(update={"slowest": _slowest(("t0", 0.6))})
    two = first.model_copy(update={"index": 2, "slowest": _slowest(("t0", 0.6), ("t1", 0.2))})
    assert [x.test for x in trends_of(History(runs=[short, two])).new_slowest] == [
        "tests/test_s.py::t1"
    ]


@pytest.mark.parametrize(
    ("tests", "sequential", "kind", "detail"),
    [
        ([("long", 6.0), ("a", 1.0)], False, "test", "long"),
        ([("a", 2.0), ("b", 2.0), ("c", 2.0)], True, "sequential lane", "serial"),
        ([("a", 1.0), ("b", 1.0)], False, "set-up", ""),
        ([("a", 3.0), ("b", 3.0), ("c", 3.0)], False, "shard", ""),
    ],
)
def test_the_bottleneck_is_the_longest_shard_and_its_cause(
    tests: list[tuple[str, float]], sequential: bool, kind: str, detail: str
) -> None:
    shards = [
        ("short", 0.0, 3.0, False, "default"),
        ("long-1", 0.5, 10.0, sequential, "serial"),
        ("queued", 9.0, 4.0, False, "default"),  # ends last, but is not the cause
    ]
    found = bottleneck(shards, [("long-1", name, s) for name, s in tests])
    assert found is not None
    assert (found.kind, found.shard, found.detail) == (kind, "long-1", detail)
    assert found.seconds == 10.0


def test_hostile_trend_values_are_dropped_and_an_old_history_still_reads(tmp_path: Path) -> None:
    document: dict[str, Any] = {
        "kind": "shard-action-history",
        "version": 1,
        "runs": [
            {
                "index": 1,
                "mode": "parallel",
                "tests": 1,
                "flaky": 0,
                "flaky_rate": 0.0,
                "test_seconds": float("inf"),
                "shards": -3,
                "slowest": [
                    {"lane": "d", "test": "x" * 5000, "seconds": 1.0},
                    {"lane": "d", "test": "nan", "seconds": float("nan")},
                    "not an entry",
                ],
                "bottleneck": {"kind": "meteor", "shard": "s", "seconds": 1.0},
            },
            {
                "index": 2,
                "mode": "parallel",
                "tests": 1,
                "flaky": 0,
                "flaky_rate": 0.0,
                "slowest": "nope",
                "bottleneck": [1, 2],
            },
        ],
        "tests": {"d": {"t": {"duration": 1.0, "slower_since": "yesterday"}}},
    }
    history = history_from_document(document, "history.json")
    first, second = history.runs
    assert first.test_seconds is None and first.shards == 0
    assert [len(x.test) for x in first.slowest] == [500]
    assert first.bottleneck is None and second.bottleneck is None and second.slowest == []
    assert history.tests["d"]["t"].slower_since is None
    # a file written before the trend fields existed
    old = {"kind": "shard-action-history", "version": 1, "runs": [
        {"index": 1, "mode": "parallel", "tests": 1, "flaky": 0, "flaky_rate": 0.0}
    ], "tests": {"d": {"t": {"duration": 1.0, "outcomes": "p", "last_seen": 1}}}}  # fmt: skip
    trends = trends_of(history_from_document(old, "old.json"))
    assert trends.slower == [] and trends.bottleneck is None
    assert [p.test_seconds for p in trends.runs] == [None]
    # and the mended history writes and reads back the same
    path = tmp_path / "history.json"
    write_history(path, history)
    assert read_history(path) == history


def test_the_report_carries_trends_and_the_summary_and_history_show_say_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = run_series([1.0, 1.0, 1.0])
    the_plan = plan([shard("default-1", ["tests/test_a.py::test_x"])])
    case = manifest("default-1", ["tests/test_a.py::test_x"], seconds=2.5)
    fanin = build(the_plan, [ShardResult(case)], history=history)
    trends = fanin.report.trends
    assert trends is not None and fanin.history is not None
    assert fanin.history.runs[-1].bottleneck == trends.bottleneck
    assert trends.bottleneck is not None and trends.bottleneck.shard == "default-1"
    assert [p.run for p in trends.runs] == [1, 2, 3, 4]
    templates = template_set(default_templates())
    summary = render_summary(templates, fanin.report).text
    section = render_trends(templates, trends)
    assert section.startswith("### 📈 Trends") and section in summary

    path = tmp_path / "history.json"
    write_history(path, fanin.history)
    assert main(["history", "show", str(path)]) == 0
    shown = " ".join(capsys.readouterr().out.split())  # rich wraps lines
    assert "4 runs (newest #4)" in shown and "Bottleneck" in shown
    assert main(["history", "show", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(trends.model_dump_json())
    assert main(["history", "show", str(tmp_path / "missing.json")]) == 2


def test_the_trend_chart_starts_its_axis_at_zero_so_the_bars_show_their_size() -> None:
    """Mermaid's xychart fits the y-axis to the data: a suite of 16-18 s read as empty bars."""
    history = run_series([1.0, 1.0, 1.0])
    the_plan = plan([shard("default-1", ["tests/test_a.py::test_x"])])
    case = manifest("default-1", ["tests/test_a.py::test_x"], seconds=2.5)
    trends = build(the_plan, [ShardResult(case)], history=history).report.trends
    assert trends is not None
    section = render_trends(template_set(default_templates()), trends)
    (axis,) = [line.strip() for line in section.splitlines() if "y-axis" in line]
    low, high = axis.removeprefix('y-axis "seconds"').split("-->")
    top = max(max(p.test_seconds or 0, p.wall_seconds or 0) for p in trends.runs)
    assert float(low) == 0 and top < float(high) <= max(1.0, top * 1.1) + 1
