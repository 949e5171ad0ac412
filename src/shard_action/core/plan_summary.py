"""The plan as Markdown for the job summary: what will run where, and how long it should take.

A reader wants three answers at a glance: how much faster than one job, which lane decides the
wall time, and whether the timings were real or guessed. The Gantt chart shows the predicted
shards side by side, overhead first, so an unbalanced lane is visible without reading numbers.
"""

from __future__ import annotations

from shard_action.core.gantt import Bar, gantt_block
from shard_action.core.plan import Plan
from shard_action.core.tiers import describe
from shard_action.core.units import count, duration, speedup

MAX_ROWS = 256


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell (pipes, newlines, HTML)."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("|", "\\|")
        .replace("\n", " ")
        .replace("\r", " ")
    )


def predicted_bars(plan: Plan) -> list[Bar]:
    """Each shard's predicted parts one after another: set-up, start-up, tests, finish."""
    bars: list[Bar] = []
    for shard in plan.shards:
        parts = shard.prediction
        if parts is None:  # a plan written without parts: the overhead, then the rest
            fixed = min(plan.shard_overhead, shard.predicted_seconds)
            steps = [("set-up", fixed), ("", shard.predicted_seconds - fixed), ("finish", 0.0)]
        else:
            steps = [("set-up", parts.setup), ("start-up", parts.startup), ("", parts.tests),
                     ("finish", parts.finish)]  # fmt: skip
        at = 0.0
        for name, length in steps:
            if name and length <= 0:
                continue
            label = f"{shard.id} {name}" if name else f"{shard.id} ({len(shard.tests)})"
            bars.append(Bar(shard.lane, label, at, length, "done" if name else ""))
            at += length
    return bars


def _fixed_costs(plan: Plan) -> str:
    """The fixed costs the prediction counts per shard (learned from the history, or not)."""
    parts = [s.prediction for s in plan.shards if s.prediction is not None]
    if not parts or all(p.startup == 0 and p.finish == 0 for p in parts):
        return f"job set-up {duration(plan.shard_overhead)} per shard (shard-overhead)"
    low, high = min(p.startup for p in parts), max(p.startup for p in parts)
    startup = duration(low) if high - low < 0.05 else f"{duration(low)}-{duration(high)}"
    return (
        f"learned per shard: job set-up {duration(max(p.setup for p in parts))}, start-up "
        f"{startup} (its files' collection), finish {duration(max(p.finish for p in parts))}"
    )


def plan_markdown(plan: Plan) -> str:
    ratio = plan.serial_seconds / plan.makespan if plan.makespan > 0 else 1.0
    lines = [
        "## shard-action plan",
        "",
        f"**{count(plan.totals.tests, 'test')}** in **{count(len(plan.shards), 'shard')}**, "
        f"{plan.mode} mode "
        f"({cell(plan.mode_reason)}).",
        "",
        *([f"{cell(tiers)}.", ""] if (tiers := describe(plan)) else []),
        f"Predicted wall time **{duration(plan.makespan)}** against "
        f"{duration(plan.serial_seconds)} in one job (**{speedup(ratio)}**); lower bound "
        f"{duration(plan.lower_bound)}; {_fixed_costs(plan)}.",
        "",
        f"Timings: {plan.timings.measured} measured, {plan.timings.estimated} estimated, "
        f"{plan.timings.stale} stale ignored"
        + (f", {plan.timings.unresolved} unresolved" if plan.timings.unresolved else "")
        + "."
        + (f" Estimates: {cell(plan.timings.estimate.reliability)}." if plan.timings.estimated
           else ""),
        "",
    ]  # fmt: skip
    if plan.warnings:
        lines += [f"> [!WARNING]\n> {cell(w)}\n" for w in plan.warnings]
    lines += [
        "| lane | mode | tests | shards | total | makespan | bound | |",
        "|---|---|--:|--:|--:|--:|--:|---|",
    ]
    for lane in plan.lanes:
        flag = "critical path" if lane.critical else ""
        if lane.capped_by:
            flag = f"{flag}; {cell(lane.capped_by)}" if flag else cell(lane.capped_by)
        lines.append(
            f"| {cell(lane.name)} | {lane.mode} | {lane.tests} | {lane.shards} | "
            f"{duration(lane.seconds)} | {duration(lane.makespan)} | "
            f"{duration(lane.lower_bound)} | {flag} |"
        )
    if plan.counts:
        lines += [
            "",
            "| shards | predicted wall | billed minutes | speed-up | |",
            "|--:|--:|--:|--:|---|",
        ]
        lines += [
            f"| {o.shards} | {duration(o.wall)} | {o.billed_minutes} | {speedup(o.speedup)} | "
            f"{'chosen' if o.chosen else ''} |"
            for o in plan.counts
        ]
    lines += ["", gantt_block(predicted_bars(plan), title="Predicted shards")]
    lines += [
        "<details><summary>Shards</summary>",
        "",
        "| shard | lane | tests | predicted | estimated |",
        "|---|---|--:|--:|--:|",
    ]
    for shard in plan.shards[:MAX_ROWS]:
        lines.append(
            f"| {cell(shard.id)} | {cell(shard.lane)} | {len(shard.tests)} | "
            f"{duration(shard.predicted_seconds)} | "
            f"{shard.estimated_tests} |"
        )
    lines += ["", "</details>", ""]
    return "\n".join(lines)
