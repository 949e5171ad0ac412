"""What a person sees on the terminal: tables drawn by rich, plain text when not a TTY.

Kept apart from the commands so the same table serves ``plan`` and ``local``, and so logs in CI
(not a TTY) get plain columns without colour codes. No cell is ever wrapped or cut: a table too
wide for the terminal becomes one line per row, so ``storage-sqlite-1`` never reads
``storage-sqlite…`` next to ``storage-memory…``.
"""

from __future__ import annotations

from typing import TextIO

from rich.console import Console, Group, RenderableType
from rich.markdown import Markdown
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from shard_action.core.plan import Plan
from shard_action.core.prediction import Parts
from shard_action.core.render import for_terminal
from shard_action.core.tiers import describe
from shard_action.core.units import count, speedup
from shard_action.core.units import duration as seconds


def console(stream: TextIO) -> Console:
    return Console(file=stream, highlight=False, soft_wrap=False, width=None)


def table(title: str, columns: list[tuple[str, bool]]) -> Table:
    """A table of whole cells: ``columns`` are (header, right-aligned)."""
    drawn = Table(title=title, title_justify="left")
    for header, right in columns:
        drawn.add_column(header, justify="right" if right else "left", no_wrap=True)
    return drawn


def fitted(out: Console, drawn: Table) -> RenderableType:
    """``drawn`` when it fits the terminal whole; else one ``header: value`` line per row."""
    needed = Measurement.get(out, out.options.update_width(1_000_000), drawn).minimum
    if needed <= out.width:
        return drawn
    headers = [str(column.header) for column in drawn.columns]
    lines: list[RenderableType] = [Text(str(drawn.title or ""), style="bold")]
    for cells in zip(*(list(column.cells) for column in drawn.columns), strict=True):
        parts = [
            Text.from_markup(cell) if isinstance(cell, str) else Text(str(cell)) for cell in cells
        ]
        named = [Text(f"{h} ") + p for h, p in zip(headers, parts, strict=True) if p.plain]
        lines.append(Text(" \u00b7 ").join([parts[0], *named[1:]]))
    return Group(*lines)


def print_markdown(out: Console, markdown: str, *, chart_note: str) -> None:
    """A job summary drawn by rich, made to fit this terminal (:func:`for_terminal`)."""
    out.print(Markdown(for_terminal(markdown, chart_note=chart_note, width=out.width)))


def plan_table(plan: Plan) -> Table:
    title = f"{count(len(plan.shards), 'shard')}, {plan.mode} mode"
    drawn = table(
        title,
        [("shard", False), ("lane", False), ("tests", True), ("predicted", True),
         ("set-up + start-up + tests + finish", True), ("estimated", True)],
    )  # fmt: skip
    for shard in plan.shards:
        drawn.add_row(
            escape(shard.id),
            escape(shard.lane),
            str(len(shard.tests)),
            seconds(shard.predicted_seconds),
            _parts(shard.prediction),
            str(shard.estimated_tests) if shard.estimated_tests else "",
        )
    return drawn


def _parts(parts: Parts | None) -> str:
    """The prediction's parts, as the plan summary's Shards table shows them."""
    if parts is None:
        return "\u2013"
    return " + ".join(seconds(x) for x in (parts.setup, parts.startup, parts.tests, parts.finish))


def print_plan(plan: Plan, stream: TextIO) -> None:
    out = console(stream)
    out.print(fitted(out, plan_table(plan)))
    out.print(escape(f"mode: {plan.mode} ({plan.mode_reason})"))
    tiers = describe(plan)
    if tiers is not None:
        out.print(tiers, markup=False)
    ratio = plan.serial_seconds / plan.makespan if plan.makespan > 0 else 1.0
    out.print(
        f"predicted wall time {seconds(plan.makespan)} (lower bound {seconds(plan.lower_bound)}, "
        f"one job {seconds(plan.serial_seconds)}, {speedup(ratio)}); a shard's prediction is "
        "its job's set-up, start-up, tests and finish\n"
        f"timings: {plan.timings.measured} measured, {plan.timings.estimated} estimated, "
        f"{plan.timings.stale} stale ignored"
        + (f"\nestimates: {plan.timings.estimate.reliability}" if plan.timings.estimated else ""),
        markup=False,
    )
    for warning in plan.warnings:
        out.print(f"[yellow]warning:[/yellow] {escape(warning)}", markup=True)
