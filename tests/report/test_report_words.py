"""What a person reads first: the verdict title agrees with the run table, the speed-up is
honest (set-up counted once, "slower" below 1, local concurrency and estimated timings said),
and a failing test's cell holds its first line with the whole message folded beneath."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shard_action.commands.report import default_templates
from shard_action.core.history import History
from shard_action.core.markdown import first_line, md_fenced
from shard_action.core.plan import TimingsInfo
from shard_action.core.render import render_comment, render_summary, template_set
from shard_action.core.report import Report, Settings, ShardResult, build
from shard_action.core.results import CaseResult, JUnitReport
from shard_action.core.units import MISSING, TIMES, signed
from shard_action.core.vocabulary import title

from .factories import manifest, plan, shard

A = [f"tests/test_a.py::test_{n}" for n in range(5)]
B = [f"tests/test_b.py::test_{n}" for n in range(5)]
TEMPLATES = template_set(default_templates())


def _junit(tests: list[str], seconds: float, failed: dict[str, str] | None = None) -> JUnitReport:
    failed = failed or {}
    cases = []
    for test in tests:
        file, name = test.split("::")
        cases.append(
            CaseResult(
                name,
                file.removesuffix(".py").replace("/", "."),
                file,
                seconds,
                "failed" if test in failed else "passed",
                message=failed.get(test),
            )
        )
    return JUnitReport(source="junit.xml", cases=tuple(cases))


def _run(
    *,
    a_seconds: float = 30,
    b_seconds: float = 20,
    per_test: float = 5.0,
    overhead: float = 5.0,
    failed: dict[str, str] | None = None,
    settings: Settings | None = None,
    estimated: int = 0,
    b_start: float = 2,
) -> Report:
    """Shard a: 5 tests of ``per_test`` s in ``a_seconds``; shard b likewise, ``b_start`` s
    later."""
    the_plan = plan([shard("a", A, predicted=25), shard("b", B, predicted=20)], overhead=overhead)
    the_plan = the_plan.model_copy(
        update={"timings": TimingsInfo(measured=10 - estimated, estimated=estimated)}
    )
    results = [
        ShardResult(
            manifest("a", A, seconds=a_seconds, junit=["junit.xml"],
                     outcomes={t: "failed" for t in failed or {}}),
            {"junit.xml": _junit(A, per_test, failed)},
        ),
        ShardResult(
            manifest("b", B, start=b_start, seconds=b_seconds, junit=["junit.xml"]),
            {"junit.xml": _junit(B, per_test)},
        ),
    ]  # fmt: skip
    return build(the_plan, results, history=History(), settings=settings).report


def test_serial_counts_set_up_and_start_up_once() -> None:
    timing = _run().timing
    # tests 10 x 5 s = 50 s; a spent 30 - 25 = 5 s outside its tests, b 20 - 25 < 0 -> 0;
    # serial = 5 s job set-up + 5 s start-up + 50 s; parallel = 5 s set-up + 30 s wall
    assert timing.test_seconds == 50 and timing.startup_seconds == 5
    assert timing.serial_estimate == 60
    assert timing.speedup == pytest.approx(60 / 35)
    summary = render_summary(TEMPLATES, _run()).text
    assert (
        f"**1.7{TIMES} faster than one serial job would be** (1 m 00 s: 5.0 s of job set-up "
        "and 5.0 s outside the tests once (start-up, finish, re-runs), plus 50 s of tests, "
        "against the same set-up plus this "
        "wall, 35 s)"  # both sides of the ratio, so the reader can check 1 m 00 s / 35 s
    ) in summary


def test_a_slower_run_reads_slower_in_every_view() -> None:
    # one process at a time: a 0-30 s (10 s in tests), b 30-50 s (10 s in tests); one job
    # would have spent 20 s starting once and 20 s in tests: 40 s against a 50 s wall
    report = _run(b_start=30, per_test=2.0, overhead=0)
    assert report.timing.serial_estimate == 40 and report.timing.wall_seconds == 50
    assert report.timing.speedup is not None and report.timing.speedup < 1
    summary = render_summary(TEMPLATES, report).text
    comment = render_comment(TEMPLATES, report).text
    for text in (summary, comment):
        assert "slower" in text
        assert not re.search(rf"0\.\d{TIMES} faster", text), text
    assert f"**1.2{TIMES} slower than one serial job would be**" in summary
    assert f"1.2{TIMES} slower than one serial job" in comment


def test_a_local_run_says_how_many_processes_ran_at_once() -> None:
    report = _run(settings=Settings(concurrency=2))
    assert report.timing.concurrency == 2
    assert "2 shard processes at a time on one machine" in render_summary(TEMPLATES, report).text
    assert "(2 processes at a time)" in render_comment(TEMPLATES, report).text
    ci = render_summary(TEMPLATES, _run()).text
    assert "at a time" not in ci


def test_a_prediction_from_estimated_timings_says_so() -> None:
    summary = render_summary(TEMPLATES, _run(estimated=4)).text
    assert "from estimated timings for 4 of the 10 planned tests" in summary
    assert "estimated timings" not in render_summary(TEMPLATES, _run()).text


def test_deltas_carry_their_sign() -> None:
    signs = [signed(x) for x in (2.44, -65, 0.01, None)]
    assert signs == ["+2.4 s", "-1 m 05 s", "±0.0 s", MISSING]
    summary = render_summary(TEMPLATES, _run()).text
    rows = [line for line in summary.splitlines() if line.startswith("| <code>")]
    assert "| +5.0 s |" in rows[0] and "| 0 s |" not in rows[0]  # a: 30 s against 25 s


MESSAGE = "AssertionError: assert 2 == 3\n  where 2 = f()\n```\nnot a fence end"


def test_a_failing_cell_holds_the_first_line_and_the_details_the_rest() -> None:
    report = _run(failed={A[0]: MESSAGE})
    for text in (render_summary(TEMPLATES, report).text, render_comment(TEMPLATES, report).text):
        row = next(line for line in text.splitlines() if "assert 2 == 3" in line)
        assert row.startswith("| <code>") and row.endswith("| AssertionError: assert 2 == 3 … |")
        result = row.split(" | ")[-3]  # Result, Attempts, Message
        assert result == "failed", row  # one word, not "failed (failed)"
        details = text[text.index("<summary>The full message</summary>") :]
        block = details[: details.index("</details>")]
        assert "````text\n" + MESSAGE + "\n````" in block  # a longer fence: ``` stays inside


def test_first_line_and_fenced() -> None:
    assert first_line("one\ntwo") == "one …"
    assert first_line("\n  x  \n") == "x"
    assert first_line("y" * 200, 10) == "y" * 9 + "…"
    assert first_line(None) == ""
    assert str(md_fenced("a" * 50, "text", 10)) == "```text\n" + "a" * 9 + "…\n```"


_COUNTS = st.fixed_dictionaries(
    {
        "planned": st.integers(0, 500),
        "tests": st.integers(0, 500),
        "passed": st.integers(0, 500),
        "failed": st.integers(0, 20),
        "broken": st.integers(0, 20),
        "flaky": st.integers(0, 20),
        "skipped": st.integers(0, 20),
        "known_flaky": st.just(0),
        "lost": st.integers(0, 20),
        "not_run": st.just(0),
        "run_twice": st.just(0),
        "unplanned": st.just(0),
    }
)


@given(counts=_COUNTS)
def test_the_title_names_every_count_the_table_shows(counts: dict[str, int]) -> None:
    text = title({"counts": counts, "complete": not counts["lost"], "problems": []})
    for word in ("broken", "failed", "flaky", "lost"):
        said = rf"\b{{}} (of [\d,]+ planned tests? |of them )?{word}\b"
        if counts[word]:
            assert re.search(said.format(f"{counts[word]:,}"), text), (word, text)
        else:
            assert not re.search(said.format(r"\d[\d,]*"), text), (word, text)
    bad = counts["failed"] + counts["broken"] + counts["lost"]
    assert ("passed" in text) == (not bad)
    assert "faster" not in text
