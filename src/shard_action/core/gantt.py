"""Mermaid Gantt charts of shards: when each one ran, lane by lane.

Generic on purpose: the report draws the shards as they really ran, the plan summary draws them
as predicted; both hand over bars of ``(section, label, start_seconds, duration_seconds)``.

Mermaid's Gantt grammar is line based and unforgiving: ``:`` ends a task's label, ``#`` and
``%`` start comments, ``;`` ends a statement, and a label that *starts* like a keyword
(``gantt``, ``section …``, ``click …``, a ``YYYY-MM-DD`` date) is read as one. Labels come from
lane and shard names, which users choose, so every label is made safe: those characters become
look-alikes, and a keyword-like start gets a zero-width space after its first character (not
whitespace to Mermaid's lexer, invisible to a reader). Backticks are replaced too, so a label can
never close the Markdown fence around the chart.

Times are milliseconds since the Unix epoch (``dateFormat x``), starting at 0. Mermaid formats
the axis with d3 in the *viewer's* time zone, so ``%H:%M`` read 02:00 at the start in UTC+2 and
``%M:%S`` read 30:00 in UTC+5:30. The axis therefore uses only what no zone shifts: ``%s`` (seconds
since the epoch, i.e. since the stage started) and ``%L`` (milliseconds), with an explicit
``tickInterval`` in milliseconds (d3 counts those from the epoch, not from a local hour), a round
step chosen so that no two ticks read the same.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Final, NamedTuple

_LOOKALIKES: Final = str.maketrans(
    {
        ":": "\ua789",  # MODIFIER LETTER COLON
        "#": "\uff03",  # FULLWIDTH NUMBER SIGN
        ";": "\uff1b",  # FULLWIDTH SEMICOLON
        "%": "\uff05",  # FULLWIDTH PERCENT SIGN
        "`": "\u02cb",  # MODIFIER LETTER GRAVE ACCENT
        "<": "\u2039",
        ">": "\u203a",
        '"': "\u201d",
        "{": "\uff5b",
        "}": "\uff5d",
        "\n": " ",
        "\r": " ",
        "\t": " ",
        "\x0b": " ",
        "\x0c": " ",
        "\u2028": " ",
        "\u2029": " ",
    }
)
_KEYWORD_START: Final = re.compile(
    r"^(gantt|inclusiveenddates|topaxis|"
    r"(title|section|dateformat|axisformat|tickinterval|includes|excludes|todaymarker|weekday"
    r"|accdescription|acctitle|accdescr|click|href|call)(\s|$)|\d{4}-\d\d-\d\d)",
    re.IGNORECASE,
)
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
MAX_LABEL: Final = 80
MAX_SECTION: Final = 36
"""A section name is drawn left of the bars, in a column as wide as Mermaid's ``leftPadding``."""
DEFAULT_PADDING: Final = 75
"""Mermaid's default ``leftPadding``: room for about 8 characters of a section name."""
SECTION_CHAR_PX: Final = 6.5
"""Width of a character of a section name (Mermaid's 11 px sans-serif), a little generous."""


def left_padding(sections: Iterable[str]) -> int:
    """The ``leftPadding`` that fits the longest section name, so none runs under the bars."""
    longest = max((len(name) for name in sections), default=0)
    return max(DEFAULT_PADDING, math.ceil(longest * SECTION_CHAR_PX) + 20)


class Bar(NamedTuple):
    """One bar: ``start`` and ``duration`` in seconds, ``tag`` one of Mermaid's task tags."""

    section: str
    label: str
    start: float
    duration: float
    tag: str = ""
    """``""``, ``done``, ``active`` or ``crit`` (drawn red: a shard that failed)."""


def safe_text(text: str, limit: int = MAX_LABEL) -> str:
    """``text`` as a Mermaid Gantt label or section name that cannot break the chart."""
    cleaned = _CONTROL.sub(" ", text.translate(_LOOKALIKES))
    cleaned = " ".join(cleaned.split())
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1] + "\u2026"
    if _KEYWORD_START.match(cleaned):
        cleaned = cleaned[0] + "\u200b" + cleaned[1:]
    return cleaned or "\u200b-"


def _millis(seconds: float) -> int:
    if not math.isfinite(seconds) or seconds < 0:
        return 0
    return round(seconds * 1000)


#: Round tick steps in milliseconds, smallest first; one is picked so a chart has at most
#: ``MAX_TICKS`` ticks.
_STEPS_MS: Final = (
    100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000,
    600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000,
    86_400_000,
)  # fmt: skip
MAX_TICKS: Final = 8


def tick_step_ms(span_seconds: float) -> int:
    """The tick step for a chart ``span_seconds`` wide: at most ``MAX_TICKS`` steps."""
    span_ms = _millis(span_seconds)
    for step in _STEPS_MS:
        if span_ms <= step * MAX_TICKS:
            return step
    return math.ceil(span_ms / MAX_TICKS / _STEPS_MS[-1]) * _STEPS_MS[-1]


def axis_format(span_seconds: float) -> str:
    """Seconds since the start (``%s``), with milliseconds when a step is under a second."""
    return "%s.%L s" if tick_step_ms(span_seconds) < 1000 else "%s s"


def gantt(bars: Iterable[Bar | tuple[str, str, float, float]], *, title: str | None = None) -> str:
    """The chart's Mermaid source (without the Markdown fence); sections in first-seen order."""
    by_section: dict[str, list[Bar]] = {}
    span = 0.0
    for raw in bars:
        bar = raw if isinstance(raw, Bar) else Bar(*raw)
        by_section.setdefault(safe_text(bar.section, MAX_SECTION), []).append(bar)
        if math.isfinite(bar.start) and math.isfinite(bar.duration):
            span = max(span, bar.start + max(bar.duration, 0.0))
    lines = ["gantt"]
    padding = left_padding(by_section)
    if padding > DEFAULT_PADDING:  # a directive Mermaid reads anywhere; to its parser, a comment
        lines.append(f'    %%{{init: {{"gantt": {{"leftPadding": {padding}}}}}}}%%')
    if title:
        lines.append(f"    title {safe_text(title, 200)}")
    lines.append("    dateFormat x")
    lines.append(f"    axisFormat {axis_format(span)}")
    lines.append(f"    tickInterval {tick_step_ms(span)}millisecond")
    for section, items in by_section.items():
        lines.append(f"    section {section}")
        for bar in items:
            start = _millis(bar.start)
            end = max(start + 1, start + _millis(bar.duration))
            tag = f"{bar.tag}, " if bar.tag in ("done", "active", "crit") else ""
            lines.append(f"    {safe_text(bar.label)} :{tag}{start}, {end}")
    return "\n".join(lines) + "\n"


def gantt_block(
    bars: Iterable[Bar | tuple[str, str, float, float]], *, title: str | None = None
) -> str:
    """The chart in a fenced ```` ```mermaid ```` block, ready for GitHub Markdown."""
    return f"```mermaid\n{gantt(bars, title=title)}```\n"
