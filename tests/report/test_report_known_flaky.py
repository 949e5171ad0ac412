"""A test that failed every attempt but is flaky in its history is "failing, known flaky", not
broken; the run table, the headline, the failing list, the annotations and the terminal say so
in the same words, and those words are the README's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shard_action.commands import report as command
from shard_action.commands.report import annotations_for, default_templates
from shard_action.core.history import History, TestRecord
from shard_action.core.render import render_comment, render_summary, template_set
from shard_action.core.report import EXIT_FAILED, Report, ShardResult, build
from shard_action.core.vocabulary import WORDS

from .factories import manifest, plan, shard
from .test_report_build import broken_rerun

README = Path(__file__).resolve().parents[2] / "README.md"
TESTS = [f"tests/test_a.py::test_{n}" for n in range(10)]
RANDOM, REGRESSED = TESTS[0], TESTS[1]


def _history(outcomes: dict[str, str]) -> History:
    records = {
        t: TestRecord(duration=1.0, outcomes=outcomes.get(t, "ppppp"), last_seen=5) for t in TESTS
    }
    return History(tests={"default": records})


def _shown(markdown: str) -> str:
    return re.sub(r"\\([^\w\s])", r"\1", markdown)


def _run(history: History) -> Report:
    the_plan = plan([shard("s1", TESTS)])
    failing = {RANDOM: "failed", REGRESSED: "failed"}
    result = ShardResult(
        manifest(
            "s1",
            TESTS,
            outcomes=failing,  # type: ignore[arg-type]
            reruns=[broken_rerun(RANDOM), broken_rerun(REGRESSED)],
            exit_code=1,
        )
    )
    return build(the_plan, [result], history=history).report


def test_failed_every_attempt_but_flaky_in_the_history_is_known_flaky_not_broken() -> None:
    # RANDOM: flaky twice in five runs ("pFpFp"); REGRESSED: passed five runs, fails now.
    report = _run(_history({RANDOM: "pFpFp"}))
    by_test = {e.test: e for e in report.failures}
    random, regressed = by_test[RANDOM], by_test[REGRESSED]
    assert (random.status, random.known_flaky, random.attempts) == ("failed", True, 3)
    # "pFpFp" + "f": a flip at each F (flaky in the run) and at p->f: 3 of 6 runs.
    assert random.flip_rate == pytest.approx(3 / 6) and random.flip_window == 6
    assert (regressed.status, regressed.known_flaky) == ("broken", False)
    c = report.counts
    assert (c.failed, c.broken, c.known_flaky, c.failing) == (1, 1, 1, 2)
    assert report.exit_code == EXIT_FAILED  # known flaky still fails the job (quarantine won't)
    # It flipped in this run too: counted in the flaky rate with the flaky ones.
    assert (report.mode.rate_flaky, report.mode.rate_tests) == (1, 10)
    assert report.mode.flaky_rate == pytest.approx(0.1)


def test_every_view_uses_the_same_words() -> None:
    report = _run(_history({RANDOM: "pFpFp"}))
    words = "failing, known flaky (flip rate 50% over the last 6 runs)"
    headline = "2 of 10 tests failing: 1 broken, 1 failed (1 known flaky)"
    templates = template_set(default_templates())
    # What a reader sees: GitHub drops the escaper's backslashes before punctuation.
    summary = _shown(render_summary(templates, report).text)
    comment = _shown(render_comment(templates, report).text)
    assert summary.startswith(f"## ❌ shard-action: {headline}\n")
    assert comment.startswith(f"### ❌ shard-action: {headline}\n")
    for text in (summary, comment):
        rows = [line for line in text.splitlines() if "test&#95;0</code>" in line]
        assert rows and all(words in row for row in rows), rows
        regressed = [line for line in text.splitlines() if "test&#95;1</code>" in line]
        assert regressed and all("| broken" in row for row in regressed)
        # the run table: Failed 1, Broken 1
        assert "| 10 | 8 | 1 | 1 | 0 | 0 | 0 |" in text
    messages = [a.message for a in annotations_for(report, {})]
    assert f"{RANDOM} {words} after 3 attempts" in messages[0] + messages[1]
    assert any(m.startswith(f"{REGRESSED} broken after 3 attempts") for m in messages)


def test_the_terminal_says_it_too(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    report = _run(_history({RANDOM: "pFpFp"}))
    files = command.ReportFiles(report, tmp_path, "", "", False, {})
    command._print(files)
    out = capsys.readouterr().out
    assert "10 tests: 8 passed, 1 failed (1 known flaky), 1 broken, 0 flaky" in out
    assert "2 of 10 tests failing: 1 broken, 1 failed (1 known flaky)" in out
    assert f"failing, known flaky (flip rate 50% over the last 6 runs): {RANDOM}" in out
    assert f"broken: {REGRESSED}" in out


def test_a_test_that_only_flipped_between_runs_is_not_known_flaky() -> None:
    # Failed two runs, then fixed: it flipped, but was never failing and passing the same code.
    report = _run(_history({RANDOM: "ffppp"}))
    entry = next(e for e in report.failures if e.test == RANDOM)
    assert (entry.status, entry.known_flaky) == ("broken", False)
    assert entry.flip_rate is not None and entry.flip_rate > 0  # shown, but no excuse


def test_the_readme_defines_every_word_once_as_the_code_does() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("### What the words mean", 1)[1].split("\n#", 1)[0]
    rows = dict(re.findall(r"^\| \*\*(\w+)\*\* \| (.+) \|$", section, re.M))
    assert rows == {word: definition for word, definition in WORDS.items()}
    assert text.count("### What the words mean") == 1
