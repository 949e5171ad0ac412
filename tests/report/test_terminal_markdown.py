"""The terminal: test-id tables become lists, Mermaid becomes a pointer, and a table too wide
for the terminal becomes lines rather than cutting an id."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from shard_action.adapters.shard_pool import ShardProcess, progress_table
from shard_action.adapters.terminal import console, fitted, print_markdown, print_plan
from shard_action.commands.report import default_templates
from shard_action.core.config import Config, LaneConfig
from shard_action.core.history import History
from shard_action.core.models import TestItem, Timings
from shard_action.core.plan import Plan
from shard_action.core.planner import make_plan
from shard_action.core.render import for_terminal, render_summary, template_set
from shard_action.core.report import Report, ShardResult, build
from shard_action.core.units import duration

from .factories import manifest, plan, shard

SUMMARY = """## title

| Tests | Passed |
| ---: | ---: |
| 3 | 2 |

| Test | Lane | Shard | Message |
| --- | --- | --- | --- |
| <code>t.py&#58;&#58;test&#124;x</code> | <code>default</code> | <code>d-1</code> | a \\| b |
| <code>t.py&#58;&#58;test_y</code> | <code>default</code> | <code>d-2</code> | \u2013 |

```mermaid
gantt
    title Shards
```

after
"""


def test_test_tables_become_lists_and_the_chart_a_note() -> None:
    text = for_terminal(SUMMARY, chart_note="*chart: summary.md*")
    assert text.split("\n") == [
        "## title",
        "",
        "| Tests | Passed |",
        "| ---: | ---: |",
        "| 3 | 2 |",
        "",
        "- <code>t.py&#58;&#58;test&#124;x</code> — Lane: <code>default</code> · "
        "Shard: <code>d-1</code> · Message: a \\| b",
        "- <code>t.py&#58;&#58;test_y</code> — Lane: <code>default</code> · "
        "Shard: <code>d-2</code>",
        "",
        "*chart: summary.md*",
        "",
        "after",
        "",
    ]


def _long_lanes(tests_each: int) -> tuple[list[LaneConfig], list[TestItem]]:
    """The example's two lanes with long names, and ``tests_each`` tests in each."""
    lanes = [
        LaneConfig(name=name, paths=[f"tests/{name}/*.py"])
        for name in ("storage-sqlite", "storage-memory")
    ]
    tests = [
        TestItem(id=f"tests/{lane.name}/test_x.py::test_{i}",
                 file=f"tests/{lane.name}/test_x.py")
        for lane in lanes for i in range(tests_each)
    ]  # fmt: skip
    return lanes, tests


def _plan_with_long_lanes() -> Plan:
    lanes, tests = _long_lanes(3)
    config = Config(shards=1, shard_overhead=0.0, lanes=lanes)
    return make_plan(config, tests, Timings(), mode="parallel", mode_reason="test")


@pytest.mark.parametrize("columns", [120, 50, 30])
def test_the_plan_table_never_cuts_a_shard_id(
    columns: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    plan = _plan_with_long_lanes()
    stream = io.StringIO()
    print_plan(plan, stream)
    text = stream.getvalue()
    ids = [shard.id for shard in plan.shards]
    assert ids and all(len(shard_id) > 14 for shard_id in ids)
    lines = text.splitlines()
    for shard_id in ids:
        assert any(shard_id in line for line in lines), (shard_id, text)
    assert "\u2026" not in text
    assert all(len(line) <= columns for line in lines), text
    assert ("┃ shard" in text) == (columns >= 50)  # a table only where it fits whole


def _report_with_long_shard_ids() -> Report:
    shards, results = [], []
    for n, lane in enumerate(("storage-sqlite", "storage-memory")):
        tests = [f"tests/{lane}/test_x.py::test_{i}" for i in range(5)]
        shards.append(shard(f"{lane}-1", tests, lane, predicted=4.5))
        results.append(ShardResult(manifest(f"{lane}-1", tests, lane=lane, start=n), {}))
    return build(plan(shards), results, history=History()).report


@pytest.mark.parametrize("columns", [80, 60, 140])
def test_the_summary_on_a_terminal_never_cuts_a_shard_id(columns: int) -> None:
    """`local | cat` draws at 80 columns: the shard table read ``storage-sqlite…`` twice."""
    templates = template_set(default_templates())
    summary = render_summary(templates, _report_with_long_shard_ids()).text
    stream = io.StringIO()
    print_markdown(Console(file=stream, width=columns), summary, chart_note="*chart elsewhere*")
    text = stream.getvalue()
    for shard_id in ("storage-sqlite-1", "storage-memory-1"):
        assert any(shard_id in line for line in text.splitlines()), text
    assert "\u2026" not in text
    assert "gantt" not in text and "mermaid" not in text and "chart elsewhere" in text
    assert all(len(line) <= columns for line in text.splitlines()), text


def test_the_local_progress_table_predicts_without_the_job_set_up(tmp_path: Path) -> None:
    """``local`` has no checkout or install: its live table showed the plan's 5 s of job
    set-up on top of the 2 s the shard takes on this machine."""
    tests = [TestItem(id="tests/test_a.py::test_one", file="tests/test_a.py")]
    timings = Timings(durations={"tests/test_a.py::test_one": 2.0})
    planned = make_plan(
        Config(shards=1, shard_overhead=5.0), tests, timings, mode="parallel", mode_reason="t"
    )
    one = planned.shards[0]
    assert one.prediction is not None and one.prediction.setup == 5.0
    job = ShardProcess(shard=one, results=tmp_path / "r", log=tmp_path / "log")
    stream = io.StringIO()
    Console(file=stream, width=120).print(progress_table([job], 0.0))
    row = next(line for line in stream.getvalue().splitlines() if "default-1" in line)
    assert (
        duration(one.predicted_seconds - 5.0) in row and duration(one.predicted_seconds) not in row
    )


def test_the_terminal_shows_each_shards_prediction_in_parts_not_the_configured_overhead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    tests = [TestItem(id=f"tests/test_a.py::test_{i}", file="tests/test_a.py") for i in range(4)]
    timings = Timings(durations={t.id: 2.5 for t in tests})
    plan = make_plan(
        Config(shards=1, shard_overhead=7.0), tests, timings, mode="parallel", mode_reason="t"
    )
    stream = io.StringIO()
    print_plan(plan, stream)
    text = stream.getvalue()
    # no history: set-up is the configured shard-overhead (7 s), the tests 4 x 2.5 s
    assert "7.0 s + " in text and " + 10 s + " in text, text
    assert "overhead 7.0 s per shard" not in text


def _plan_like_the_example() -> Plan:
    """Two lanes with long names, as in ``examples/``: 15 tests each, 12 timed at 0.3 s and 10
    at 0.2 s, the rest estimated from their file's median; 2 s of job set-up."""
    lanes, tests = _long_lanes(15)
    durations = {t.id: 0.3 for t in tests[:12]} | {t.id: 0.2 for t in tests[15:25]}
    config = Config(shards=2, shard_overhead=2.0, lanes=lanes)
    return make_plan(config, tests, Timings(durations=durations), mode="parallel", mode_reason="t")


def _rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("\u2502 storage-")]


def test_a_ci_log_of_80_columns_shows_ids_and_numbers_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A CI log is no terminal: rich draws it 80 columns wide. The plan table there read
    ``│ storage-sql… │ storage-s… │ … │ 8.9… │``: it was drawn when rich could squeeze it in by
    cutting cells, not when it fitted whole. Now a column of details goes first (the plan
    summary has it); locally, without the set-up, the whole table fits."""
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    plan = _plan_like_the_example()
    stream = io.StringIO()
    print_plan(plan, stream)
    ci = stream.getvalue()
    # 15 x 0.3 s = 4.5 s and 15 x 0.2 s = 3.0 s of tests, 2.0 s of set-up, no start-up measured
    assert _rows(ci) == [
        "│ storage-sqlite-1 │    15 │     6.5 s │      2.0 s + 0.0 s + 4.5 s + 0.0 s │",
        "│ storage-memory-1 │    15 │     5.0 s │      2.0 s + 0.0 s + 3.0 s + 0.0 s │",
    ], ci
    assert "(left out to fit 80 columns, shown in the plan summary: estimated)" in ci
    stream = io.StringIO()
    print_plan(plan, stream, local=True)
    here = stream.getvalue()
    assert _rows(here) == [
        "│ storage-sqlite-1 │    15 │     4.5 s │     0.0 s + 4.5 s + 0.0 s │         3 │",
        "│ storage-memory-1 │    15 │     3.0 s │     0.0 s + 3.0 s + 0.0 s │         5 │",
    ], here
    assert "left out" not in here
    for text in (ci, here):
        assert "\u2026" not in text and all(len(line) <= 80 for line in text.splitlines()), text


def test_a_narrower_log_keeps_the_shards_their_tests_and_predictions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    stream = io.StringIO()
    print_plan(_plan_like_the_example(), stream)
    text = stream.getvalue()
    assert _rows(text) == [
        "│ storage-sqlite-1 │    15 │     6.5 s │",
        "│ storage-memory-1 │    15 │     5.0 s │",
    ], text
    assert "estimated, set-up + start-up + tests + finish)" in " ".join(text.split())


def test_the_live_table_at_80_columns_keeps_ids_and_numbers_whole(tmp_path: Path) -> None:
    """``local``'s progress table goes through the same fitting: at 80 columns it read
    ``storage-sqlite…`` beside ``storage-s…``; the ids name their lanes, so no Lane column."""
    plan = _plan_like_the_example()
    done = subprocess.Popen([sys.executable, "-c", ""])
    done.wait()
    jobs = [
        ShardProcess(shard=plan.shards[0], results=tmp_path, log=tmp_path / "a.log",
                     process=done, code=0, wall=4.2),
        ShardProcess(shard=plan.shards[1], results=tmp_path, log=tmp_path / "b.log"),
    ]  # fmt: skip
    stream = io.StringIO()
    out = console(stream)
    out.width = 80
    out.print(fitted(out, progress_table(jobs, 0.0)))
    text = stream.getvalue()
    assert _rows(text) == [
        "│ storage-sqlite-1 │    15 │     4.5 s │   4.2 s │ passed │",
        "│ storage-memory-1 │    15 │     3.0 s │         │ queued │",
    ], text
