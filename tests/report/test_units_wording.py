"""One way to write a duration, a count and a speed-up, in every view that shows them.

The plan summary, the terminal table and ``local``'s last lines used to write times their own
way ("1m 15s" beside the report's "1 m 15 s") and "1 shard(s)"; these check the words a reader
sees in each view, not just the helper.
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shard_action.adapters import collect
from shard_action.adapters.terminal import print_plan
from shard_action.commands.plan import plan_summary
from shard_action.core.config import Config
from shard_action.core.models import TestItem, Timings
from shard_action.core.planner import make_plan
from shard_action.core.units import change, count, duration, finite, signed, speedup


@pytest.mark.parametrize(
    ("number", "noun", "plural", "text"),
    [
        (0, "shard", None, "0 shards"),
        (1, "shard", None, "1 shard"),
        (2, "shard", None, "2 shards"),
        (1234, "test", None, "1,234 tests"),
        (1, "process", "processes", "1 process"),
        (3, "process", "processes", "3 processes"),
        (1, "shard data file", None, "1 shard data file"),
    ],
)
def test_count(number: int, noun: str, plural: str | None, text: str) -> None:
    assert count(number, noun, plural) == text


@pytest.mark.parametrize(
    ("ratio", "text"),
    [(1.74, "1.7\u00d7 faster"), (1.0, "about the same"), (0.95, "about the same"),
     (1.049, "about the same"), (1.06, "1.1\u00d7 faster"), (0.94, "1.1\u00d7 slower"),
     (0.8, "1.2\u00d7 slower"), (0.0, "\u2013"), (float("nan"), "\u2013")],
)  # fmt: skip
def test_speedup(ratio: float, text: str) -> None:
    assert speedup(ratio) == text


def test_speedup_against_something() -> None:
    assert speedup(1.74, "one job") == "1.7\u00d7 faster than one job"
    assert speedup(1.01, "one job") == "about as fast as one job"
    assert speedup(0.5, "one job") == "2.0\u00d7 slower than one job"


def _one_shard_plan(seconds: float) -> str:
    tests = [TestItem(id="tests/test_a.py::test_one", file="tests/test_a.py")]
    timings = Timings(durations={"tests/test_a.py::test_one": seconds})
    config = Config(shards=1, shard_overhead=0.0)
    plan = make_plan(config, tests, timings, mode="parallel", mode_reason="test")
    stream = io.StringIO()
    print_plan(plan, stream)
    return plan_summary(plan)[0] + "\n" + stream.getvalue()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.0, "0.0 s"), (0.001, "<0.1 s"), (0.049, "<0.1 s"), (-0.01, "-<0.1 s"), (0.05, "0.1 s"),
     (0.4, "0.4 s"), (12.4, "12 s"), (125, "2 m 05 s"), (3720, "1 h 02 m"), (None, "\u2013")],
)  # fmt: skip
def test_duration(seconds: float | None, text: str) -> None:
    assert duration(seconds) == text


def test_a_change_below_a_tenth_is_no_change() -> None:
    """A time under 0.05 s is ``<0.1 s``; a change that small is none, as before."""
    assert [signed(x) for x in (0.01, -0.049, 0.0, 0.05)] == ["\u00b10.0 s"] * 3 + ["+0.1 s"]


@pytest.mark.parametrize(
    ("after", "before", "text"),
    [
        (3.34, 6.84, "-3.5 s"),  # shown 3.3 s and 6.8 s; unrounded it is -3.50 -> "-3.5 s" too
        (3.26, 6.84, "-3.5 s"),  # shown 3.3 s and 6.8 s; unrounded -3.58 would read "-3.6 s"
        (12.4, 9.96, "+2.0 s"),  # shown 12 s and 10 s
        (65.4, 59.6, "+5.0 s"),  # shown 1 m 05 s and 60 s
        (1.04, 1.0, "\u00b10.0 s"),  # both shown 1.0 s
        (None, 1.0, "\u2013"),
    ],
)
def test_a_change_is_the_difference_of_the_figures_as_shown(
    after: float | None, before: float, text: str
) -> None:
    assert change(after, before) == text


def _read(text: str) -> float:
    """What a person reads in a :func:`duration` figure, in seconds (this test's own parser)."""
    sign = -1.0 if text.startswith("-") else 1.0
    text = text.lstrip("-")
    if m := re.fullmatch(r"(\d+) h (\d\d) m", text):
        return sign * (int(m[1]) * 3600 + int(m[2]) * 60)
    if m := re.fullmatch(r"(\d+) m (\d\d) s", text):
        return sign * (int(m[1]) * 60 + int(m[2]))
    m = re.fullmatch(r"([\d.]+) s", text)
    assert m, text
    return sign * float(m[1])


@settings(max_examples=500, deadline=None)
@given(
    st.floats(min_value=0.05, max_value=20_000, allow_nan=False),
    st.floats(min_value=0.05, max_value=20_000, allow_nan=False),
)
def test_a_change_agrees_with_the_two_figures_a_person_reads(after: float, before: float) -> None:
    assert change(after, before) == signed(_read(duration(after)) - _read(duration(before)))


@pytest.mark.parametrize(
    ("after", "before", "text"),
    [(6.65, 5.67, "+1.0 s"), (3659, 3601, "\u00b10.0 s")],  # 6.7 - 5.7 s; 1 h 00 m both
)
def test_a_change_rounds_as_the_figures_do(after: float, before: float, text: str) -> None:
    assert change(after, before) == text


def test_a_target_time_below_a_tenth_is_not_shown_as_zero() -> None:
    """``--target-time 0.001`` printed "target-time 0.0 s" on the terminal and in the summary."""
    tests = [TestItem(id=f"tests/test_a.py::test_{i}", file="tests/test_a.py") for i in range(2)]
    config = Config(shards="auto", target_time=0.001, shard_overhead=1.0)
    plan = make_plan(config, tests, Timings(), mode="parallel", mode_reason="t")
    stream = io.StringIO()
    print_plan(plan, stream)
    terminal, summary = stream.getvalue(), plan_summary(plan)[0]
    assert "target-time <0.1 s" in terminal, terminal
    assert "target-time &lt;0.1 s" in summary, summary  # Markdown's escape of "<"
    assert "target-time 0.0 s" not in terminal + summary


def test_plan_views_use_the_one_format() -> None:
    text = _one_shard_plan(75.3)
    assert "1 test" in text and "1 shard" in text
    assert "shard(s)" not in text and "1 shards" not in text and "1 tests" not in text
    assert "1 m 15 s" in text
    assert not re.search(r"\d+m \d+s|\d\.\ds\b", text), text  # the old "1m 15s", "0.4s"
    assert "x1.0" not in text and "1.0x" not in text


def test_the_plan_summary_is_a_template_users_can_extend(tmp_path: Path) -> None:
    tests = [TestItem(id="tests/test_a.py::test_one", file="tests/test_a.py")]
    plan = make_plan(
        Config(shards=1, shard_overhead=0.0), tests, Timings(), mode="parallel", mode_reason="t"
    )
    (tmp_path / "plan.md.j2").write_text(
        '{% extends "default/plan.md.j2" %}{% block title %}# Ours: {{ plan.mode }}\n'
        "{% endblock %}",
        encoding="utf-8",
    )
    text, warnings = plan_summary(plan, tmp_path)
    assert text.startswith("# Ours: parallel\n") and warnings == []
    assert re.search(r"^\| [^|]*Lane[^|]* \| Mode \|", text, re.M)  # the default's other blocks
    (tmp_path / "plan.md.j2").write_text("{% for %}", encoding="utf-8")
    text, warnings = plan_summary(plan, tmp_path)
    assert text.startswith("## shard-action plan\n")
    assert len(warnings) == 1 and "plan.md.j2:1" in warnings[0] and "default used" in warnings[0]


def test_the_plan_summary_counts_the_job_set_up_once() -> None:
    """``predicted_seconds`` is already set-up + start-up + tests + finish: the shard table and
    the Gantt chart added ``shard-overhead`` on top (17 s and a bar from 5 s to 17 s for a 12 s
    shard)."""
    tests = [TestItem(id="tests/test_a.py::test_one", file="tests/test_a.py")]
    timings = Timings(durations={"tests/test_a.py::test_one": 7.0})
    plan = make_plan(
        Config(shards=1, shard_overhead=5.0), tests, timings, mode="parallel", mode_reason="t"
    )
    shard = plan.shards[0]
    assert shard.prediction is not None and shard.prediction.setup == 5.0
    total = shard.predicted_seconds
    assert total == pytest.approx(shard.prediction.total) and total >= 12.0
    text = plan_summary(plan)[0]
    row = next(line for line in text.splitlines() if line.startswith("| <code>default-1"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    # shard, tests, predicted, parts (no Lane column: default-1 names its lane), estimated
    assert cells[2] == duration(total), row
    parts = shard.prediction
    assert cells[3] == " + ".join(
        duration(x) for x in (parts.setup, parts.startup, parts.tests, parts.finish)
    )
    assert cells[3].startswith("5.0 s + ") and " + 7.0 s + " in cells[3]
    bars = re.findall(r"^    default-1 .*:(\d+), (\d+)$", text, re.MULTILINE)
    assert bars == [("0", str(round(total * 1000)))], text


def test_a_number_is_read_one_way_from_documents_and_payloads() -> None:
    # the collection clock (adapters.collect) reads its payload through units.finite
    assert [finite(v) for v in (2, 0.5, -1.0)] == [2.0, 0.5, -1.0]
    assert [finite(v) for v in (True, "1.5", None, math.nan, math.inf, [1])] == [None] * 6
    payload = {"started": 10.0, "clock": {"configured": 12.5}, "files": {"a.py": 0.25}}
    times = collect._times(payload)
    assert times is not None and (times.interpreter, times.files) == (2.5, {"a.py": 0.25})
    for odd in (True, math.nan, "10"):
        assert collect._times({**payload, "started": odd}) is None
    skewed = collect._times({**payload, "files": {"a.py": math.inf, "b.py": -1, "c.py": False}})
    assert skewed is not None and skewed.files == {}
