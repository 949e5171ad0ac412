"""Summary and comment rendering: golden files (checked by eye), structure parsed back with a
Markdown parser, hostile test ids, the 65,536-character comment limit and user templates."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from shard_action.commands.report import default_templates
from shard_action.core.history import History
from shard_action.core.manifest import Attempt, Drift, Rerun
from shard_action.core.markdown import FIGURE_SPACE, fit, md_code, md_escape
from shard_action.core.render import (
    COMMENT_LIMIT,
    COMMENT_RESERVE,
    TemplateProblem,
    render_comment,
    render_fitting,
    render_summary,
    template_set,
)
from shard_action.core.report import CoverageTotals, Problem, Report, Settings, ShardResult, build
from shard_action.core.results import CaseResult, JUnitReport
from shard_action.core.units import duration, percent, points

from .factories import manifest, plan, shard, slice_result

GOLDEN = Path(__file__).resolve().parent / "data" / "golden"
URL = "https://github.com/o/r/actions/runs/42"

HOSTILE = [
    "tests/test_x.py::test_pipe[a|b]",
    "tests/test_x.py::test_tick[`rm -rf`]",
    "tests/test_x.py::test_html[<script>alert(1)</script>]",
    "tests/test_x.py::test_nl[a\nb]",
    "tests/test_x.py::test_md[*bold*_x_ [l](http://e) $x$ @octocat #12 &amp;]",
]
PLAIN = [f"tests/test_y.py::test_{n}" for n in range(4)]


def flaky(test: str) -> Rerun:
    return Rerun(
        test=test,
        attempts=[Attempt(attempt=1, outcome="failed"), Attempt(attempt=2, outcome="passed")],
        verdict="flaky",
    )


def sample_report(lost: bool = True) -> Report:
    """Lost shard (an outage), broken and flaky tests, drift, a bad file: everything; without
    the lost shard, a serial fallback."""
    drifted = "tests/test_t.py::test_clock[12:00]"
    the_plan = plan(
        [
            shard("default-1", [*HOSTILE[:3], PLAIN[0]], predicted=30),
            shard("default-2", [*HOSTILE[3:], PLAIN[1], drifted], predicted=28),
            shard("db-1", PLAIN[2:], "db", predicted=12),
        ],
        overhead=20,
    )
    junit = JUnitReport(
        source="junit-1.xml",
        cases=(
            CaseResult(
                "test_pipe[a|b]",
                "tests.test_x",
                "tests/test_x.py",
                1.5,
                "failed",
                message="assert 'a|b' == '<b>' @octocat\nsecond line",
                line=7,
            ),
        ),
    )
    results = [
        ShardResult(
            manifest(
                "default-1",
                [*HOSTILE[:3], PLAIN[0]],
                outcomes={HOSTILE[0]: "failed"},
                reruns=[
                    Rerun(
                        test=HOSTILE[0],
                        attempts=[Attempt(attempt=n, outcome="failed") for n in (1, 2, 3)],
                        verdict="broken",
                    )
                ],
                start=0,
                seconds=95,
                exit_code=1,
                junit=["junit-1.xml"],
            ),
            {"junit-1.xml": junit},
        ),
        ShardResult(
            manifest(
                "default-2",
                [*HOSTILE[3:], PLAIN[1], "tests/test_t.py::test_clock[12:07]"],
                reruns=[flaky(HOSTILE[4]), flaky(PLAIN[1])],
                drift=[
                    Drift(
                        file="tests/test_t.py",
                        planned=[drifted],
                        collected=["tests/test_t.py::test_clock[12:07]"],
                    )
                ],
                start=3,
                seconds=80.5,
            )
        ),
    ]
    if not lost:
        results.append(ShardResult(manifest("db-1", PLAIN[2:], lane="db", start=1, seconds=40)))
    history = History.model_validate(
        {
            "runs": [
                {
                    "index": 6,
                    "mode": "parallel",
                    "tests": 9,
                    "flaky": 0,
                    "flaky_rate": 0,
                    "coverage": 84.5,
                }
            ],
            "tests": {"default": {PLAIN[1]: {"duration": 2, "outcomes": "pppfp", "last_seen": 6}}},
        }
    )
    problems = [
        Problem(
            kind="results",
            source="shard-results/db-1/junit-1.xml",
            message="line 3: malformed XML at column 5: mismatched tag",
            shard="db-1",
        )
    ]
    return build(
        the_plan,
        results,
        history=history,
        coverage=CoverageTotals(85.125, 681, 800, 12, 2),
        settings=Settings(flaky_threshold=0.05, recover_after=3, max_demoted=0),
        problems=problems,
    ).report


def _md() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable("table")


def _tables(markdown: str) -> list[list[list[str]]]:
    """Every table as rows of cell texts (inline HTML tags dropped, entities decoded)."""
    tables: list[list[list[str]]] = []
    row: list[str] | None = None
    for token in _md().parse(markdown):
        if token.type == "table_open":
            tables.append([])
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            tables[-1].append(row)
            row = None
        elif token.type == "inline" and row is not None:
            row.append(_text(token))
    return tables


def _text(token: Token) -> str:
    """A cell's text; a header's padding (figure spaces, md_header) is not part of its name."""
    text = "".join(c.content for c in token.children or [] if c.type in ("text", "code_inline"))
    return text.replace(FIGURE_SPACE, "")


def _list_items(markdown: str) -> list[str]:
    """The text of every list item (inline HTML tags dropped, entities decoded)."""
    items: list[str] = []
    inside = False
    for token in _md().parse(markdown):
        if token.type == "list_item_open":
            inside = True
        elif token.type == "inline" and inside:
            items.append(_text(token))
            inside = False
    return items


def _table_with(markdown: str, header: str) -> list[list[str]]:
    for table in _tables(markdown):
        if table[0][0] == header:
            return table
    raise AssertionError(f"no table headed {header!r}")


@pytest.fixture(scope="module")
def templates() -> dict[str, str]:
    return template_set(default_templates())


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("SHARD_ACTION_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_summary_golden(templates: dict[str, str]) -> None:
    rendered = render_summary(templates, sample_report(), summary_url=URL)
    assert rendered.limit is None and not rendered.truncated
    _golden("summary.md", rendered.text)


def test_comment_golden(templates: dict[str, str]) -> None:
    rendered = render_comment(templates, sample_report(), summary_url=URL)
    _golden("comment.md", rendered.text)


def test_clean_summary_golden(templates: dict[str, str]) -> None:
    report = sample_report(lost=False)
    report.problems.clear()
    _golden("summary-no-lost.md", render_summary(templates, report).text)


def test_lost_tests_come_first_and_name_every_test(templates: dict[str, str]) -> None:
    text = render_summary(templates, sample_report(), summary_url=URL).text
    assert text.splitlines()[0] == (
        "## ❌ shard-action: 2 of 10 planned tests lost; 1 of 8 tests failing: 1 broken; "
        "2 flaky; 1 results file unreadable"
    )
    caution = text.index("[!CAUTION]")
    assert caution < text.index("| Tests |") and caution < text.index("### ❌ Failing tests")
    groups = _table_with(text, "Lost from shard")
    assert groups[1][0] == "db-1" and groups[1][1] == "2" and "left no results" in groups[1][2]
    folded = text[text.index("<details><summary>The 2 lost tests, by shard") :]
    assert text.index("| Lost from shard") < len(text) - len(folded)
    assert [item for item in _list_items(folded) if item in PLAIN] == PLAIN[2:]


def test_hostile_ids_stay_in_their_cells(templates: dict[str, str]) -> None:
    text = render_summary(templates, sample_report(), summary_url=URL).text
    failing = _table_with(text, "Test")
    assert failing[0] == ["Test", "Shard", "Result", "Attempts", "Message"]  # ids name lanes
    assert all(len(row) == 5 for row in failing)
    assert failing[1][0] == HOSTILE[0]
    shown = {row[0] for table in _tables(text) for row in table[1:]}
    assert {HOSTILE[0], HOSTILE[4]} <= shown  # failing and flaky: verbatim, no markup applied
    html = _md().render(text)
    assert "<script>" not in html
    assert "<strong>bold</strong>" not in html  # (cells equal to the raw ids prove the rest)
    assert 'href="http://e"' not in html
    message = failing[1][4]
    assert "'a|b' == '<b>'" in message and "@\u200boctocat" in message


def test_flaky_table_flip_rates_and_mode_notice(templates: dict[str, str]) -> None:
    text = render_summary(templates, sample_report(), summary_url=URL).text
    flaky_rows = _table_with(text, "Test")  # first "Test" table is failing; find the flaky one
    tables = [t for t in _tables(text) if t[0][:3] == ["Test", "Shard", "Flip rate"]]
    (table,) = tables
    rates = {row[0]: row[2] for row in table[1:]}
    # "pppfp" + F: 3 of 6 runs flipped; a test new to the history has 1 run
    assert rates == {HOSTILE[4]: "100% of 1 run", PLAIN[1]: "50% of 6 runs"}
    assert flaky_rows
    # a shard died: an outage, so the flaky rate over the threshold does not send it serial
    assert "This run looks like an outage" in text and "The next run will be serial" not in text
    whole = render_summary(templates, sample_report(lost=False), summary_url=URL).text
    assert "The next run will be serial" in whole
    assert "`mode: parallel`" in whole and "workflow_dispatch" in whole


def test_times_coverage_and_gantt(templates: dict[str, str]) -> None:
    text = render_summary(templates, sample_report(), summary_url=URL).text
    shards = _table_with(text, "Shard")
    assert shards[0][:2] == ["Shard", "Tests"]  # each id names its lane: no Lane column
    assert shards[1] == [
        "default-1",
        "4 / 4",
        "30 s",
        "1 m 35 s",
        "+1 m 05 s",
        "❌ failed",
    ]
    assert shards[3][-1] == "🕳️ no results"
    assert "**85.12%** of 800 statements" in text and "+0.62 pp" in text
    assert "```mermaid\ngantt\n" in text
    # each shard as predicted (grey, "done") and as it ran, from the moment it started
    assert "    default-1 predicted 30 s :done, 0, 30000\n" in text
    assert "    default-1 ran 1 m 35 s :crit, 0, 95000\n" in text
    lost = shards[3][0]
    assert re.search(rf"^    {re.escape(lost)} no results \(.* predicted\) :crit, 0, ", text, re.M)


def test_fanned_out_tests_are_shown_with_their_lane_in_the_comment(
    templates: dict[str, str],
) -> None:
    """The same id under two backends in one serial shard: the comment says which one."""
    db = ["tests/test_db.py::test_q", "tests/test_db.py::test_r"]
    solo = "tests/test_y.py::test_solo"
    the_plan = plan(
        [
            shard(
                "serial",
                [*db, *db, solo],
                "serial",
                slices=[("db-a", 2), ("db-b", 2), ("default", 1)],
            )
        ],
        mode="serial",
    )
    runs = [
        slice_result("db-a", db, reruns=[flaky(db[1])]),
        slice_result("db-b", db[:1], planned=2),
        slice_result("default", [solo], reruns=[flaky(solo)]),
    ]
    report = build(
        the_plan, [ShardResult(manifest("serial", slices=runs, mode="serial"))], history=History()
    ).report
    text = render_comment(templates, report).text
    groups = _table_with(text, "Lost from shard")
    assert groups[1][:2] == ["serial", "1"]
    assert f"{db[1]} (lane db-b) (serial)" in _list_items(text)
    flaky_rows = [row[0] for row in _table_with(text, "Test")[1:]]
    assert flaky_rows == [f"{db[1]} (lane db-a)", solo], "only a fanned-out id carries its lane"


def test_comment_stays_under_the_limit_with_a_pointer(templates: dict[str, str]) -> None:
    many = [f"tests/test_many.py::test_{n}[{'x' * 150}]" for n in range(3000)]
    the_plan = plan([shard("s1", many[:10]), shard("s2", many[10:])])
    report = build(the_plan, [ShardResult(manifest("s1", many[:10]))], history=History()).report
    comment = render_comment(templates, report, summary_url=URL)
    assert len(comment.text) <= COMMENT_LIMIT - COMMENT_RESERVE
    assert "2,990 of 3,000 planned tests never ran" in comment.text
    assert f"[job summary]({URL})" in comment.text
    summary = render_summary(templates, report, summary_url=URL)
    assert len(summary.text.encode()) < 1024 * 1024
    listed = [item for item in _list_items(summary.text) if item.startswith("tests/test_many")]
    assert len(listed) == 2990  # the summary lists them all (folded)
    assert _table_with(summary.text, "Lost from shard")[1][:2] == ["s2", "2,990"]


def test_a_template_that_ignores_limits_is_cut_at_a_line_with_the_pointer() -> None:
    huge = "<details><summary>x</summary>\n\n```\n" + "a line of text\n" * 20_000
    rendered = render_fitting(
        {"t.j2": huge + "{{ report.counts.tests }}"},
        "t.j2",
        sample_report(),
        budget=COMMENT_LIMIT - COMMENT_RESERVE,
        summary_url=URL,
    )
    assert rendered.truncated
    assert len(rendered.text) <= COMMENT_LIMIT - COMMENT_RESERVE
    assert rendered.text.rstrip().endswith(f"the full report is in the [job summary]({URL}).")
    assert rendered.text.count("```") % 2 == 0 and "</details>" in rendered.text


def test_cut_measures_bytes_when_told() -> None:
    text = "é" * 100 + "\n" + "é" * 100 + "\n"
    out = fit(text, 250, "> cut\n", measure=lambda s: len(s.encode()))
    assert len(out.encode()) <= 250 and out.endswith("> cut\n")


def test_user_templates_replace_and_extend_the_defaults() -> None:
    defaults = default_templates()
    overrides = {
        "comment.md.j2": '{% extends "default/comment.md.j2" %}'
        "{% block title %}### Our CI: {{ report.counts.tests }} tests{% endblock %}",
        "summary.md.j2": (
            "Only {{ report.counts.lost }} lost; first: {{ report.lost[0].test | code }}\n"
        ),
    }
    templates = template_set(defaults, overrides)
    report = sample_report()
    comment = render_comment(templates, report).text
    assert comment.startswith("### Our CI: 8 tests\n")
    assert "| Tests | ✅ Passed |" in comment  # the rest of the default is kept
    summary = render_summary(templates, report).text
    assert summary == (
        "Only 2 lost; first: <code>tests/<wbr>test&#95;y.py&#58;&#58;<wbr>test&#95;2</code>\n"
    )


def test_a_broken_user_template_is_named_with_its_line() -> None:
    with pytest.raises(TemplateProblem, match=r"summary\.md\.j2:3: TemplateSyntaxError"):
        render_summary({"summary.md.j2": "a\nb\n{% if %}\n"}, sample_report())
    with pytest.raises(TemplateProblem, match="UndefinedError"):
        render_summary({"summary.md.j2": "{{ report.nope.deeper }}"}, sample_report())


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ report.update({'x': 1}) }}",
        "{{ cycler.__init__.__globals__ }}",
    ],
)
def test_the_sandbox_refuses_internals_and_mutation(source: str) -> None:
    with pytest.raises(TemplateProblem):
        render_summary({"summary.md.j2": source}, sample_report())


def test_values_are_escaped_even_through_join_and_replace() -> None:
    templates = {
        "summary.md.j2": "{{ ['a|b', '*c*'] | join(', ') }} {{ 'x' | replace('x', '<y>') }}"
    }
    text = render_summary(templates, sample_report()).text
    assert text == "a\\|b, \\*c\\* &lt;y&gt;\n"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "plain"),
        ("a|b", "a\\|b"),
        ("<b>&", "&lt;b&gt;&amp;"),
        ("line\nnext\r\n", "line next "),
        ("@someone", "@\u200bsomeone"),
        (
            "`x` *y* _z_ [a](b) $m$ #1 ~s~ !",
            "\\`x\\` \\*y\\* \\_z\\_ \\[a\\]\\(b\\) \\$m\\$ \\#1 \\~s\\~ \\!",
        ),
        ("bell\x07", "bell\\\\x07"),
    ],
)
def test_md_escape(value: str, expected: str) -> None:
    assert str(md_escape(value)) == expected


def test_md_code_round_trips_through_a_markdown_parser() -> None:
    for value in [*HOSTILE, "a\\|b", "&#124;", "   spaced  ", "emoji 🎉 ünï"]:
        cell = f"| h |\n| --- |\n| {md_code(value)} |\n"
        table = _tables(cell)[0]
        assert table[1] == [value.replace("\n", "\u21b5")], value
    assert str(md_code("x" * 50, limit=10)) == "<code>" + "x" * 9 + "\u2026</code>"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "\u2013"),
        (0.44, "0.4 s"),
        (12.4, "12 s"),
        (95, "1 m 35 s"),
        (3725, "1 h 02 m"),
        (-4.0, "-4.0 s"),
    ],
)
def test_duration(seconds: float | None, text: str) -> None:
    assert duration(seconds) == text


def test_percent_and_points() -> None:
    assert percent(0.05) == "5.0%" and percent(1 / 3, 0) == "33%" and percent(None) == "\u2013"
    assert (
        points(0.4) == "+0.40 pp" and points(-1.234) == "-1.23 pp" and points(0.001) == "±0.00 pp"
    )


def test_golden_files_have_no_runaway_blank_lines() -> None:
    for path in GOLDEN.glob("*.md"):
        assert not re.search(r"\n\n\n", path.read_text(encoding="utf-8")), path


def test_the_shard_table_names_the_lane_when_an_id_does_not(templates: dict[str, str]) -> None:
    tests = ["tests/test_q.py::test_a"]
    report = build(
        plan([shard("nightly", tests, "db")]),
        [ShardResult(manifest("nightly", tests, lane="db"), {})],
        history=History(),
    ).report
    table = _table_with(render_summary(templates, report).text, "Shard")
    assert table[0][:3] == ["Shard", "Lane", "Tests"] and table[1][:2] == ["nightly", "db"]
