"""The job summary, the PR comment and the plan summary, rendered with Jinja2 templates.

Users can replace any template, so templates run in Jinja's immutable sandbox and see only plain
JSON data; every ``{{ value }}`` is escaped for Markdown (:mod:`shard_action.core.markdown`)
unless a filter already made it safe. A document over GitHub's limit is rendered again with
shorter lists, then cut at a line with a pointer to the rest. Pure: texts in, Markdown out.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from jinja2 import (
    DictLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from shard_action.core.gantt import Bar, gantt_block
from shard_action.core.markdown import (
    first_line,
    fit,
    md_code,
    md_escape,
    md_fenced,
    md_header,
    plain_header,
    tidy,
)
from shard_action.core.plan import Plan
from shard_action.core.report import CoverageEntry, Report
from shard_action.core.testids import label
from shard_action.core.tiers import describe as describe_tiers
from shard_action.core.trends import Trends
from shard_action.core.units import (
    MISSING,
    change,
    count,
    duration,
    number,
    percent,
    points,
    ratio,
    signed,
    speedup,
)
from shard_action.core.vocabulary import describe, flip_note, headline, tests, title

SUMMARY: Final = "summary.md.j2"
COMMENT: Final = "comment.md.j2"
PLAN: Final = "plan.md.j2"
TEMPLATE_NAMES: Final = (SUMMARY, COMMENT, PLAN)
DEFAULT_PREFIX: Final = "default/"
"""User templates can ``{% extends "default/summary.md.j2" %}`` and override blocks."""

COMMENT_LIMIT: Final = 65_536
COMMENT_RESERVE: Final = 1_024
"""Characters left for the marker line (and a little slack) the comment adapter adds."""
SUMMARY_LIMIT: Final = 1024 * 1024
"""Bytes GitHub accepts in one step summary."""

LIMITS: Final = (None, 1000, 200, 50, 20, 5, 0)
"""Row caps tried in turn until a document fits."""


class TemplateProblem(ValueError):
    """A template that cannot be compiled or rendered, with its name and line."""

    def __init__(self, name: str, message: str, line: int | None = None) -> None:
        self.name = name
        self.line = line
        where = f"{name}:{line}" if line else name
        super().__init__(f"{where}: {message}")


def test_label(entry: Mapping[str, Any], limit: int | None = None) -> Markup:
    """A report entry's test as inline code, with its lane when fanned out (:func:`label`)."""
    test, lane = md_code(entry["test"], limit), md_code(entry["lane"])
    return Markup(label(test, lane, bool(entry.get("fanned_out"))))


def coverage_counts(entry: CoverageEntry | Mapping[str, Any]) -> str:
    """What a coverage percent is of: ``3,334 statements``, or ``3,334 statements and 812
    branches`` when branch coverage is on (coverage.py's total then counts both)."""
    data = entry.model_dump() if isinstance(entry, CoverageEntry) else entry
    text = count(data["statements"], "statement")
    branches = data.get("branches") or 0
    return text + (f" and {count(branches, 'branch', 'branches')}" if branches else "")


def names_lanes(rows: Sequence[Mapping[str, Any]], key: str = "shard") -> bool:
    """Every row's shard id already says its lane (``db-2`` of lane ``db``): a table then needs
    no Lane column, and a column less keeps it within the comment column, where a squeezed cell
    wrapped ``storage-sqlite-1`` at its hyphens."""
    return all(str(row[key] or "").startswith(f"{row['lane']}-") for row in rows)


def _finalize(value: object) -> object:
    """Runs on every ``{{ }}`` value before Jinja's own (HTML) escaping, which leaves Markup be."""
    if value is None:
        return Markup("")
    return md_escape(value)


def _join(items: Sequence[object], separator: str = "") -> Markup:
    """``join`` that escapes for Markdown (Jinja's escapes only for HTML under autoescape)."""
    return Markup(md_escape(separator).join(md_escape(item) for item in items))


def _replace(value: object, old: str, new: str, count: int | None = None) -> str:
    """``replace`` on the plain text, escaped afterwards like any other value."""
    text = str(value)
    return text.replace(old, new) if count is None else text.replace(old, new, count)


def _environment(templates: Mapping[str, str]) -> ImmutableSandboxedEnvironment:
    """Autoescape stays on so macros and ``{% set %}`` blocks return Markup (template text, not
    data); ``join`` and ``replace`` escape for Markdown. One gap: ``a ~ b`` with one side Markup
    escapes the other for HTML only, so templates concatenate plain values or pipe them through
    ``md`` first."""
    env = ImmutableSandboxedEnvironment(
        loader=DictLoader(dict(templates)),
        autoescape=True,
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        join=_join,
        replace=_replace,
        md=md_escape,
        code=md_code,
        header=md_header,
        names_lanes=names_lanes,
        label=test_label,
        fenced=md_fenced,
        first_line=first_line,
        duration=duration,
        signed=signed,
        change=change,
        ratio=ratio,
        speedup=speedup,
        percent=percent,
        points=points,
        num=number,
        count=count,
        coverage_counts=coverage_counts,
        verdict=describe,
        headline=headline,
        tests=tests,
        title=title,
        flip_note=flip_note,
    )
    return env


def template_set(
    defaults: Mapping[str, str], overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The loader's templates: the user's wherever given, the defaults also under ``default/``."""
    templates = {DEFAULT_PREFIX + name: text for name, text in defaults.items()}
    templates.update(defaults)
    templates.update(overrides or {})
    return templates


def shard_bars(report: Report) -> list[Bar]:
    """Each shard twice: as predicted (grey) and as it ran (red when it failed), both from the
    moment its job started (its step's start less its measured set-up), so the chart shows the
    same model as the Predicted column.

    A shard that left no results still gets a red bar, from the start and as long as predicted,
    labelled so: a chart without it would look like a complete run.
    """
    began = {
        shard.shard: shard.start_offset - (shard.measured.setup if shard.measured else 0.0)
        for shard in report.shards
        if shard.start_offset is not None
    }
    origin = min(began.values(), default=0.0)  # a set-up longer than the first step's lead
    bars: list[Bar] = []
    for shard in report.shards:
        predicted = shard.predicted_seconds
        if shard.status == "missing":
            label = f"{shard.shard} no results ({duration(predicted or 0.0)} predicted)"
            bars.append(Bar(shard.lane, label, 0.0, predicted or 0.0, "crit"))
            continue
        if shard.shard not in began or shard.actual_seconds is None:
            continue
        start = began[shard.shard] - origin
        if predicted is not None:
            label = f"{shard.shard} predicted {duration(predicted)}"
            bars.append(Bar(shard.lane, label, start, predicted, "done"))
        tag = "crit" if shard.status in ("failed", "stopped") else ""
        label = f"{shard.shard} ran {duration(shard.actual_seconds)}"
        bars.append(Bar(shard.lane, label, start, shard.actual_seconds, tag))
    return bars


def predicted_bars(plan: Plan) -> list[Bar]:
    """The shards as planned: one bar each, as long as ``predicted_seconds`` (already the sum
    of its parts: set-up, start-up, tests, finish); the rest tier's after the first tier's."""
    first = max((s.predicted_seconds for s in plan.shards if s.first), default=0.0)
    return [
        Bar(shard.lane, f"{shard.id} ({duration(shard.predicted_seconds)})",
            0.0 if shard.first else first, shard.predicted_seconds)
        for shard in plan.shards
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    limit: int | None
    """Row cap the text was rendered with (None: everything)."""
    truncated: bool
    """Cut at a line because even the shortest rendering did not fit."""


def _context(report: Report, summary_url: str | None, limit: int | None) -> dict[str, Any]:
    return {
        "report": report.model_dump(mode="json"),
        "gantt": Markup(
            gantt_block(shard_bars(report), title="Shards as predicted (grey) and as they ran")
        ),
        "summary_url": summary_url,
        "limit": limit,
    }


def _problem(name: str, exc: TemplateError) -> TemplateProblem:
    line = exc.lineno if isinstance(exc, TemplateSyntaxError) else None
    return TemplateProblem(name, f"{type(exc).__name__}: {exc.message or exc}", line)


def _render(templates: Mapping[str, str], name: str, context: Mapping[str, Any]) -> str:
    try:
        return tidy(_environment(templates).get_template(name).render(context))
    except TemplateError as exc:
        raise _problem(name, exc) from exc


def render_once(
    templates: Mapping[str, str],
    name: str,
    report: Report,
    *,
    summary_url: str | None = None,
    limit: int | None = None,
) -> str:
    """One rendering; raises :class:`TemplateProblem` naming the template."""
    return _render(templates, name, _context(report, summary_url, limit))


def render_plan(templates: Mapping[str, str], plan: Plan) -> str:
    """The plan command's job summary (``plan.md.j2``)."""
    context = {
        "plan": plan.model_dump(mode="json"),
        "gantt": Markup(gantt_block(predicted_bars(plan), title="Predicted shards")),
        "tiers": describe_tiers(plan),
        "speedup": plan.serial_seconds / plan.makespan if plan.makespan > 0 else 1.0,
    }
    return _render(templates, PLAN, context)


def render_fitting(
    templates: Mapping[str, str],
    name: str,
    report: Report,
    *,
    budget: int,
    summary_url: str | None = None,
    measure: Callable[[str], int] = len,
    limits: Sequence[int | None] = LIMITS,
) -> Rendered:
    """The longest rendering of ``name`` that fits ``budget``, shortening lists first."""
    text = ""
    for limit in limits:
        text = render_once(templates, name, report, summary_url=summary_url, limit=limit)
        if measure(text) <= budget:
            return Rendered(text, limit, truncated=False)
    where = f"the [job summary]({summary_url})" if summary_url else "the job summary"
    pointer = f"> **Truncated**: this is too long for GitHub; the full report is in {where}.\n"
    return Rendered(fit(text, budget, pointer, measure), limits[-1], truncated=True)


def render_trends(templates: Mapping[str, str], trends: Trends) -> str:
    """Only the summary's ``trends`` block: what ``history show`` prints, so a terminal reads
    the same words as the job summary."""
    env = _environment(templates)
    try:
        template = env.get_template(SUMMARY)
        block = template.blocks.get("trends")
        if block is None:
            return ""
        values = {"report": {"trends": trends.model_dump(mode="json")}, "limit": None}
        return tidy("".join(block(template.new_context(values))))
    except TemplateError as exc:
        raise _problem(SUMMARY, exc) from exc


def render_summary(
    templates: Mapping[str, str], report: Report, *, summary_url: str | None = None
) -> Rendered:
    """The job summary, within GitHub's 1 MiB (UTF-8 bytes)."""
    return render_fitting(
        templates,
        SUMMARY,
        report,
        budget=SUMMARY_LIMIT - 4096,
        summary_url=summary_url,
        measure=lambda text: len(text.encode("utf-8")),
    )


def render_comment(
    templates: Mapping[str, str], report: Report, *, summary_url: str | None = None
) -> Rendered:
    """The PR comment, under 65,536 characters with room for the comment adapter's marker."""
    return render_fitting(
        templates,
        COMMENT,
        report,
        budget=COMMENT_LIMIT - COMMENT_RESERVE,
        summary_url=summary_url,
    )


_ID_COLUMNS: Final = frozenset({"Test", "Lost test", "File"})
_FENCE: Final = re.compile(r"^```mermaid\n.*?^```\n?", re.M | re.S)
_TAG: Final = re.compile(r"<[^>]*>")
_ESCAPED: Final = re.compile(r"\\(.)")


def _cells(row: str) -> list[str]:
    """A GFM table row's cells; ``\\|`` (and ``\\\\``) inside a cell are not separators."""
    cells: list[str] = []
    current: list[str] = []
    chars = iter(row.strip().removeprefix("|").removesuffix("|") if row.strip() else "")
    for ch in chars:
        if ch == "\\":
            current.append(ch + next(chars, ""))
        elif ch == "|":
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    cells.append("".join(current).strip())
    return cells


def _shown_width(cell: str) -> int:
    """Terminal columns a cell takes once drawn: tags dropped, entities and escapes read, a
    wide character (an emoji) two columns."""
    text = html.unescape(_TAG.sub("", _ESCAPED.sub(r"\1", cell)))
    return sum(
        0 if unicodedata.combining(ch) or ch == "\ufe0f" else 2 if ord(ch) > 0x2000 else 1
        for ch in text
    )


def _table_width(header: list[str], rows: list[list[str]]) -> int:
    """The table's width as rich draws it whole: each column its widest cell plus padding."""
    columns = [header, *rows]
    widths = [max(_shown_width(row[n]) if n < len(row) else 0 for row in columns)
              for n in range(len(header))]  # fmt: skip
    return sum(width + 3 for width in widths) + 1


def _table_as_list(header: list[str], rows: list[list[str]]) -> list[str]:
    """One bullet per row, the first cell (an id) first and whole, the other columns after it."""
    lines = []
    for row in rows:
        first, *rest = row
        details = " · ".join(
            f"{name}: {value}"
            for name, value in zip(header[1:], rest, strict=False)
            if value and value != MISSING
        )
        lines.append(f"- {first}" + (f" — {details}" if details else ""))
    return lines


def for_terminal(markdown: str, *, chart_note: str, width: int | None = None) -> str:
    """The job summary made fit for a terminal ``width`` columns wide, where rich draws it.

    A Mermaid chart is only source code outside a browser, so it becomes ``chart_note``. A
    terminal table cuts a cell it cannot fit (``storage-sqlite…`` beside ``storage-memory…``,
    ``tests/test_long_na…`` twice, for two different tests) where a list item wraps it whole:
    a table of test ids always becomes a list, any other table when it is wider than ``width``.
    """
    text = _FENCE.sub(chart_note.rstrip("\n") + "\n", markdown)
    out: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        is_table = (
            line.startswith("|")
            and i + 1 < len(lines)
            and re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", lines[i + 1].strip()) is not None
        )
        if not is_table:
            out.append(line)
            i += 1
            continue
        header, rows, end = [plain_header(cell) for cell in _cells(line)], [], i + 2
        while end < len(lines) and lines[end].startswith("|"):
            rows.append(_cells(lines[end]))
            end += 1
        too_wide = width is not None and _table_width(header, rows) > width
        if header[0] in _ID_COLUMNS or too_wide:
            out.extend(_table_as_list(header, rows))
        else:
            out.extend(["| " + " | ".join(header) + " |", *lines[i + 1 : end]])
        i = end
    return "\n".join(out)
