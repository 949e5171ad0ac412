"""Mermaid Gantt text: checked against Mermaid's own lexer rules (gantt.jison), not our output."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from shard_action.core.gantt import MAX_TICKS, Bar, gantt, gantt_block, safe_text

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
        "    axisFormat %s s\n"
        "    tickInterval 10000millisecond\n"
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
        ["tickInterval"],
        ["section"],
        ["taskTxt", "taskData"],
        ["taskTxt", "taskData"],
        ["section"],
        ["taskTxt", "taskData"],
    ]


def test_long_runs_get_ten_minute_ticks_and_zero_bars_get_a_millisecond() -> None:
    text = gantt([("l", "a", 0, 4000), ("l", "b", 10, 0)])
    assert "    axisFormat %s s\n    tickInterval 600000millisecond\n" in text
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
        ["tickInterval"],
        ["section"],
        ["taskTxt", "taskData"],
    ]
    assert parsed[-1][1][1] == ":1500, 3500"
    assert "```" not in text


# d3-time-format directives whose output does not depend on the viewer's time zone: %s is
# seconds since the epoch, %L the milliseconds of the second, %% a percent sign. Every other
# directive (%H, %M, %S for zones like UTC+5:45, %d, …) is formatted in local time.
_ZONE_FREE = {"%s", "%L", "%%"}


def _d3_label(fmt: str, millis: int) -> str:
    """How d3's timeFormat prints ``millis`` with ``fmt`` (only the zone-free directives)."""
    return fmt.replace("%s", str(millis // 1000)).replace("%L", f"{millis % 1000:03d}")


@given(st.floats(min_value=0.001, max_value=3 * 86_400, allow_nan=False))
def test_axis_ticks_never_repeat_and_read_the_same_in_every_time_zone(span: float) -> None:
    text = gantt([("lane", "shard", 0.0, span)])
    axis = re.search(r"^    axisFormat (.+)$", text, re.MULTILINE)
    interval = re.search(r"^    tickInterval ([1-9][0-9]*)millisecond$", text, re.MULTILINE)
    assert axis and interval, text
    fmt, step = axis.group(1), int(interval.group(1))
    assert set(re.findall(r"%.", fmt)) <= _ZONE_FREE, fmt
    # d3's millisecond interval with a step counts from the epoch (floor(t / step) * step), so
    # the ticks are 0, step, 2·step … whatever the viewer's zone.
    end = round(span * 1000)
    ticks = list(range(0, end + 1, step))
    labels = [_d3_label(fmt, t) for t in ticks]
    assert len(set(labels)) == len(labels), labels
    assert 1 <= len(ticks) <= MAX_TICKS + 1
    if span >= 1:
        assert len(ticks) >= 2  # an axis with one tick says nothing about the length


def test_long_section_names_get_room_left_of_the_bars() -> None:
    """Mermaid's default leftPadding (75 px) fits about 8 characters: ``storage-memory`` ran
    under its bars."""
    text = gantt([("storage-memory", "storage-memory-1", 0.0, 3.0)])
    padding = re.search(r'^    %%\{init: \{"gantt": \{"leftPadding": (\d+)\}\}\}%%$', text, re.M)
    assert padding is not None and int(padding.group(1)) >= 14 * 6 + 10, text
    assert [kind for line in statements(text) for kind, _ in line][:2] == ["gantt", "dateFormat"]
    assert "leftPadding" not in gantt([("default", "default-1", 0.0, 3.0)])
    hostile = gantt([("}}%%{init: x}%%" * 4, "a", 0.0, 1.0)])
    assert hostile.count("%%{") == 1 and hostile.count("}%%") == 1
