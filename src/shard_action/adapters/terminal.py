"""What a person sees on the terminal: tables drawn by rich, plain text when not a TTY.

Kept apart from the commands so the same table serves ``plan`` and ``local``, and so logs in CI
(not a TTY) get plain columns without colour codes. No cell is ever wrapped or cut (a CI log is
no terminal: rich draws it 80 columns wide). A table too wide first leaves out the columns its
caller marks as details found elsewhere, then becomes one line per row, so ``storage-sqlite-1``
never reads ``storage-sqlite…`` next to ``storage-memory…``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final, TextIO

from rich.console import Console, Group, RenderableType
from rich.markdown import Markdown
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from shard_action.core.plan import Plan, PlannedShard
from shard_action.core.prediction import Parts
from shard_action.core.render import for_terminal, names_lanes
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


def _needs(out: Console, drawn: Table) -> int:
    """The width ``drawn`` needs with every cell whole: rich's ``maximum`` (its ``minimum`` is
    what it can be squeezed into by cutting cells with "…")."""
    return Measurement.get(out, out.options.update_width(1_000_000), drawn).maximum


def _without(drawn: Table, headers: Collection[str]) -> Table:
    kept = [column for column in drawn.columns if str(column.header) not in headers]
    smaller = Table(title=drawn.title, title_justify=drawn.title_justify)
    for column in kept:
        smaller.add_column(column.header, justify=column.justify, no_wrap=column.no_wrap)
    for cells in zip(*(list(column.cells) for column in kept), strict=True):
        smaller.add_row(*cells)
    return smaller


def fitted(
    out: Console, drawn: Table, *, optional: Collection[str] = (), elsewhere: str = ""
) -> RenderableType:
    """The first layout of ``drawn`` that fits the console with every cell whole.

    The table; else the table without the first, then the first two… of the ``optional``
    columns (by header, least needed first: details ``elsewhere`` says where to find), with a
    line naming them; else one ``header value`` line per row, every cell kept.
    """
    if _needs(out, drawn) <= out.width:
        return drawn
    present = {str(column.header) for column in drawn.columns}
    droppable = [header for header in optional if header in present]
    for n in range(1, len(droppable) + 1):
        smaller = _without(drawn, droppable[:n])
        if _needs(out, smaller) <= out.width:
            left_out = ", ".join(droppable[:n])
            note = f"(left out to fit {out.width} columns{elsewhere}: {left_out})"
            return Group(smaller, Text(note, style="dim"))
    headers = [str(column.header) for column in drawn.columns]
    lines: list[RenderableType] = [Text(str(drawn.title or ""), style="bold")]
    for cells in zip(*(list(column.cells) for column in drawn.columns), strict=True):
        parts = [
            Text.from_markup(cell) if isinstance(cell, str) else Text(str(cell)) for cell in cells
        ]
        named = [Text(f"{h} ") + p for h, p in zip(headers, parts, strict=True) if p.plain]
        lines.append(Text(" \u00b7 ").join([parts[0], *named[1:]]))
    return Group(*lines)


def shows_lanes(shards: Collection[PlannedShard]) -> bool:
    """A Lane column only when a shard id does not already say its lane (``db-2``), as in the
    summaries (``core.render.names_lanes``)."""
    return not names_lanes([{"shard": s.id, "lane": s.lane} for s in shards])


def felt_locally(shard: PlannedShard) -> float:
    """What a local run waits for a shard: the plan's parts without the job's set-up
    (checkout, install), which only a CI job has; the report's Predicted column for a shard
    whose set-up nobody measured (``core.fan_in_shards``)."""
    if shard.prediction is None:
        return shard.predicted_seconds
    return shard.prediction.total - shard.prediction.setup


def print_markdown(out: Console, markdown: str, *, chart_note: str) -> None:
    """A job summary drawn by rich, made to fit this terminal (:func:`for_terminal`)."""
    out.print(Markdown(for_terminal(markdown, chart_note=chart_note, width=out.width)))


PARTS: dict[bool, str] = {
    False: "set-up + start-up + tests + finish",
    True: "start-up + tests + finish",
}
"""The parts column's header, in a CI job (False) and locally (True: no job set-up)."""
ESTIMATED: Final = "estimated"


def plan_table(plan: Plan, *, local: bool = False) -> Table:
    """The plan's shards; ``local``: as ``local`` runs them, without the job's set-up."""
    title = f"{count(len(plan.shards), 'shard')}, {plan.mode} mode"
    lanes = shows_lanes(plan.shards)
    drawn = table(
        title,
        [("shard", False), *([("lane", False)] if lanes else []), ("tests", True),
         ("predicted", True), (PARTS[local], True), (ESTIMATED, True)],
    )  # fmt: skip
    for shard in plan.shards:
        drawn.add_row(
            escape(shard.id),
            *([escape(shard.lane)] if lanes else []),
            str(len(shard.tests)),
            seconds(felt_locally(shard) if local else shard.predicted_seconds),
            _parts(shard.prediction, local=local),
            str(shard.estimated_tests) if shard.estimated_tests else "",
        )
    return drawn


def _parts(parts: Parts | None, *, local: bool = False) -> str:
    """The prediction's parts, as the plan summary's Shards table shows them (``local``: without
    the set-up)."""
    if parts is None:
        return "\u2013"
    shown = (parts.startup, parts.tests, parts.finish)
    return " + ".join(seconds(x) for x in (shown if local else (parts.setup, *shown)))


def print_plan(plan: Plan, stream: TextIO, *, local: bool = False) -> None:
    """The plan as ``plan`` prints it; ``local``: each shard as a local run waits for it (no job
    set-up), the figure the report's Predicted column shows after ``local``."""
    out = console(stream)
    out.print(
        fitted(
            out,
            plan_table(plan, local=local),
            optional=(ESTIMATED, PARTS[local]),
            elsewhere=", shown in the plan summary",
        )
    )
    out.print(escape(f"mode: {plan.mode} ({plan.mode_reason})"))
    tiers = describe(plan)
    if tiers is not None:
        out.print(tiers, markup=False)
    ratio = plan.serial_seconds / plan.makespan if plan.makespan > 0 else 1.0
    parts = (
        "in CI, set-up included; here a shard's prediction is its start-up, tests and finish "
        "(a local run has no job set-up)"
        if local
        else "a shard's prediction is its job's set-up, start-up, tests and finish"
    )
    out.print(
        f"predicted wall time {seconds(plan.makespan)} (lower bound {seconds(plan.lower_bound)}, "
        f"one job {seconds(plan.serial_seconds)}, {speedup(ratio)}); {parts}\n"
        f"timings: {plan.timings.measured} measured, {plan.timings.estimated} estimated, "
        f"{plan.timings.stale} stale ignored"
        + (f"\nestimates: {plan.timings.estimate.reliability}" if plan.timings.estimated else ""),
        markup=False,
    )
    for warning in plan.warnings:
        out.print(f"[yellow]warning:[/yellow] {escape(warning)}", markup=True)
