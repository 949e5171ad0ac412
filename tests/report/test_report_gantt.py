"""Mermaid Gantt text: checked against Mermaid's own lexer rules (gantt.jison), not our output."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from shard_action.core.gantt import Bar, gantt, gantt_block, safe_text

# The lexer rules of mermaid's gantt.jison (packages/mermaid/src/diagrams/gantt/parser), in
# order; jison's default lexer takes the first rule that matches. Only what a chart of ours can
# meet is kept; "skip" rules produce no token.
_RULES = [
    (r"%%(?!\{)*[^\n]*", "skip"),
    (r"[^\}]%%*[^\n]*", "skip"),
    (r"%%*[^\n]*[\n]*", "skip"),
    (r"[\n]+", "NL"),
    (r"\s+", "skip"),
    (r"#[^\n]*", "skip"),
    (r'href[\s]+["]', "href"),
    (r"call[\s]+", "call"),
    (r"click[\s]+", "click"),
    (r"gantt", "gantt"),
    (r"dateFormat\s[^#\n;]+", "dateFormat"),
    (r"inclusiveEndDates", "inclusiveEndDates"),
    (r"topAxis", "topAxis"),
    (r"axisFormat\s[^#\n;]+", "axisFormat"),
    (r"tickInterval\s[^#\n;]+", "tickInterval"),
    (r"includes\s[^#\n;]+", "includes"),
    (r"excludes\s[^#\n;]+", "excludes"),
    (r"todayMarker\s[^\n;]+", "todayMarker"),
    (r"weekday\s[^#\n;]+", "weekday"),
    (r"\d\d\d\d-\d\d-\d\d", "date"),
    (r"title\s[^#\n;]+", "title"),
    (r"accDescription\s[^#\n;]+", "accDescription"),
    (r"section\s[^#:\n;]+", "section"),
    (r"[^#:\n;]+", "taskTxt"),
    (r":[^#\n;]+", "taskData"),
    (r":", ":"),
    (r".", "INVALID"),
]
_COMPILED = [(re.compile(p, re.IGNORECASE), kind) for p, kind in _RULES]


def lex(source: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(source):
        for pattern, kind in _COMPILED:
            match = pattern.match(source, position)
            if match and match.end() > position:
                if kind != "skip":
                    tokens.append((kind, match.group()))
                position = match.end()
                break
        else:  # pragma: no cover - "." always matches
            raise AssertionError(source[position:])
    return tokens


def statements(source: str) -> list[list[tuple[str, str]]]:
    lines: list[list[tuple[str, str]]] = [[]]
    for token in lex(source):
        if token[0] == "NL":
            lines.append([])
        else:
            lines[-1].append(token)
    return [line for line in lines if line]


def test_a_small_chart_exactly() -> None:
    text = gantt(
        [
            ("default", "default-1", 0.0, 12.5),
            Bar("default", "default-2", 0.25, 3.0),
            Bar("db", "db-1", 1.0, 60.0, "crit"),
        ],
        title="Shards",
    )
    assert text == (
        "gantt\n"
        "    title Shards\n"
        "    dateFormat x\n"
        "    axisFormat %M:%S\n"
        "    section default\n"
        "    default-1 :0, 12500\n"
        "    default-2 :250, 3250\n"
        "    section db\n"
        "    db-1 :crit, 1000, 61000\n"
    )
    kinds = [[kind for kind, _ in line] for line in statements(text)]
    assert kinds == [
        ["gantt"],
        ["title"],
        ["dateFormat"],
        ["axisFormat"],
        ["section"],
        ["taskTxt", "taskData"],
        ["taskTxt", "taskData"],
        ["section"],
        ["taskTxt", "taskData"],
    ]


def test_long_runs_switch_the_axis_to_hours_and_zero_bars_get_a_millisecond() -> None:
    text = gantt([("l", "a", 0, 4000), ("l", "b", 10, 0)])
    assert "axisFormat %H:%M" in text
    assert "    b :10000, 10001\n" in text


def test_block_is_fenced() -> None:
    block = gantt_block([("l", "a", 0, 1)])
    assert block.startswith("```mermaid\ngantt\n") and block.endswith("```\n")


def test_hostile_labels() -> None:
    hostile = "title evil: 50% #1; `x`\n<b>"
    assert safe_text(hostile).startswith("t\u200bitle")
    for bad in ":#;%`\n<>":
        assert bad not in safe_text(hostile)
    assert safe_text("2024-01-02 run")[4] != "-"
    assert safe_text("") != ""
    assert len(safe_text("x" * 500)) == 80


@given(st.text(max_size=60), st.text(max_size=60))
def test_any_text_stays_one_section_and_one_task(section: str, label: str) -> None:
    text = gantt([(section, label, 1.5, 2.0)], title="x" + label)
    parsed = statements(text)
    kinds = [[kind for kind, _ in line] for line in parsed]
    assert kinds == [
        ["gantt"],
        ["title"],
        ["dateFormat"],
        ["axisFormat"],
        ["section"],
        ["taskTxt", "taskData"],
    ]
    assert parsed[-1][1][1] == ":1500, 3500"
    assert "```" not in text
