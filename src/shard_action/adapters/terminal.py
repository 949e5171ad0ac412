"""What a person sees on the terminal: tables drawn by rich, plain text when not a TTY.

Kept apart from the commands so the same table serves ``plan`` and ``local``, and so logs in CI
(not a TTY) get plain columns without colour codes.
"""

from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from shard_action.core.plan import Plan
from shard_action.core.tiers import describe
from shard_action.core.units import count, speedup
from shard_action.core.units import duration as seconds


def console(stream: TextIO) -> Console:
    return Console(file=stream, highlight=False, soft_wrap=False, width=None)


def plan_table(plan: Plan) -> Table:
    title = f"{count(len(plan.shards), 'shard')}, {plan.mode} mode"
    table = Table(title=title, title_justify="left")
    table.add_column("shard")
    table.add_column("lane")
    table.add_column("tests", justify="right")
    table.add_column("predicted", justify="right")
    table.add_column("estimated", justify="right")
    for shard in plan.shards:
        table.add_row(
            shard.id,
            shard.lane,
            str(len(shard.tests)),
            seconds(shard.predicted_seconds),
            str(shard.estimated_tests) if shard.estimated_tests else "",
        )
    return table


def print_plan(plan: Plan, stream: TextIO) -> None:
    out = console(stream)
    out.print(plan_table(plan))
    out.print(escape(f"mode: {plan.mode} ({plan.mode_reason})"))
    tiers = describe(plan)
    if tiers is not None:
        out.print(tiers, markup=False)
    ratio = plan.serial_seconds / plan.makespan if plan.makespan > 0 else 1.0
    out.print(
        f"predicted wall time {seconds(plan.makespan)} (lower bound {seconds(plan.lower_bound)}, "
        f"one job {seconds(plan.serial_seconds)}, {speedup(ratio)}); overhead "
        f"{seconds(plan.shard_overhead)} per shard\n"
        f"timings: {plan.timings.measured} measured, {plan.timings.estimated} estimated, "
        f"{plan.timings.stale} stale ignored"
        + (f"\nestimates: {plan.timings.estimate.reliability}" if plan.timings.estimated else ""),
        markup=False,
    )
    for warning in plan.warnings:
        out.print(f"[yellow]warning:[/yellow] {escape(warning)}", markup=True)
