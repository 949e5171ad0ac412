"""What the fan-in tells the world besides its files: step outputs, annotations, console text.

Pure: each takes the :class:`Report` (and where the shards ran) and returns text; the command
writes it to ``$GITHUB_OUTPUT``, the workflow log and stdout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from shard_action.core.annotations import PER_STEP, Annotation, Level, within_limits
from shard_action.core.quarantine import DEFAULT_FILE as DEFAULT_QUARANTINE
from shard_action.core.quarantine import fit_block
from shard_action.core.render import coverage_counts
from shard_action.core.report import Report, TestEntry
from shard_action.core.testids import is_whole_file, label, normalise_path
from shard_action.core.units import count, percent
from shard_action.core.vocabulary import describe, tests, title

SHOWN: Final = 20
"""Of each kind (lost, failing, flaky…), the console names this many."""
TOML_LINES: Final = 60
"""The suggested quarantine block printed is at most this long (whole entries)."""


def summary_url(env: Mapping[str, str]) -> str | None:
    server = env.get("GITHUB_SERVER_URL", "https://github.com")
    repository = env.get("GITHUB_REPOSITORY")
    run_id = env.get("GITHUB_RUN_ID")
    if not repository or not run_id:
        return None
    return f"{server}/{repository}/actions/runs/{run_id}"


def _relative_file(entry: TestEntry, workdirs: Mapping[str, str]) -> str | None:
    if not entry.file:
        return None
    return normalise_path(entry.file, workdirs.get(entry.shard))


def _line(entry: TestEntry) -> int | None:
    """The 1-based line GitHub wants: pytest's JUnit ``line`` is 0-based (its item location)."""
    if entry.line is None:
        return None
    return entry.line if is_whole_file(entry.test) else entry.line + 1


def _name(entry: TestEntry) -> str:
    return label(entry.test, entry.lane, entry.fanned_out)


def annotations_for(report: Report, workdirs: Mapping[str, str]) -> list[Annotation]:
    """Broken and failing tests, then lost ones, then flaky ones, within GitHub's limits.

    A failing test is annotated at its file and line, where a reader can act on it; lost
    tests (a shard that died) come after them, and whatever does not fit is counted in a last
    annotation that points to the job summary.
    """
    wanted: list[Annotation] = []
    for entry in report.failures:
        detail = f": {entry.message}" if entry.message else ""
        wanted.append(
            Annotation(
                "error",
                f"{_name(entry)} {describe(entry)} after {count(entry.attempts, 'attempt')}"
                f"{detail}",
                title=f"shard-action: {entry.status} test"
                + (" (known flaky)" if entry.known_flaky else ""),
                file=_relative_file(entry, workdirs),
                line=_line(entry),
            )
        )
    for group in report.lost_by_shard:  # one per shard and cause, not one per lost test
        ids = [t for t in report.lost if t.shard == group.shard and t.reason == group.reason]
        shown = ", ".join(label(t.test, t.lane, t.fanned_out) for t in ids[:3])
        more = f" and {len(ids) - 3} more" if len(ids) > 3 else ""
        wanted.append(
            Annotation(
                "error",
                f"{count(group.tests, 'test')} of shard {group.shard} lost: "
                f"{group.cause or group.reason} ({shown}{more})",
                title="shard-action: tests lost",
            )
        )
    for entry in report.flaky:
        own = (
            " It was flaky in serial mode too: flaky on its own." if entry.flaky_on_its_own else ""
        )
        rate = f", flip rate {entry.flip_rate:.0%}" if entry.flip_rate is not None else ""
        wanted.append(
            Annotation(
                "warning",
                f"{_name(entry)} failed, then passed on a re-run{rate}.{own}",
                title="shard-action: flaky test",
                file=_relative_file(entry, workdirs),
                line=_line(entry),
            )
        )

    def pointer(level: Level, hidden: int) -> Annotation:
        what = "failing tests or shards with lost tests" if level == "error" else "flaky tests"
        return Annotation(
            level,
            f"{hidden} more {what} are not annotated here (GitHub shows {PER_STEP} "
            f"{level}s per step): the job summary lists every one.",
            title="shard-action: more in the summary",
        )

    return within_limits(wanted, pointer)


def outputs(report: Report) -> dict[str, str]:
    """The step outputs: plain strings a workflow can compare."""
    coverage = report.coverage.percent
    return {
        "flaky-rate": f"{report.mode.flaky_rate:.4f}",
        "mode": report.mode.next.mode,
        "coverage": f"{coverage:.2f}" if coverage is not None else "",
        "tests": str(report.counts.tests),
        "test-cases": str(report.counts.cases),
        "failed": str(report.counts.failing),
        "lost": str(report.counts.lost),
    }


def _counts_line(report: Report) -> str:
    c = report.counts
    return (
        f"shard-action report: {tests(c.tests, report.unit)}"
        + (f" ({count(c.cases, 'test case')})" if report.unit == "file" else "")
        + f": {c.passed} passed, {c.failed} failed"
        + (f" ({c.known_flaky} known flaky)" if c.known_flaky else "")
        + f", {c.broken} broken, {c.flaky} flaky, {c.skipped} skipped; "
        f"{c.lost} of {c.planned} planned tests lost"
    )


def _incomplete_lines(report: Report) -> list[str]:
    """The cause once per shard, then the ids alone: never the same paragraph per lost test."""
    lines = [
        f"  LOST {count(group.tests, 'test')} of shard {group.shard} (lane {group.lane}): "
        f"{group.cause or group.reason}"
        for group in report.lost_by_shard[:SHOWN]
    ]
    if len(report.lost_by_shard) > SHOWN:
        lines.append(f"  … and {len(report.lost_by_shard) - SHOWN} more shards with lost tests")
    lines += [
        f"    lost: {label(t.test, t.lane, t.fanned_out)} (shard {t.shard})"
        for t in report.lost[:SHOWN]
    ]
    if len(report.lost) > SHOWN:
        lines.append(f"    … and {len(report.lost) - SHOWN} more lost")
    lines += [
        f"  RAN TWICE {label(t.test, t.lane, t.fanned_out)}: {', '.join(t.shards)}"
        for t in report.run_twice[:SHOWN]
    ]
    lines += [
        f"  UNPLANNED {label(t.test, t.lane, t.fanned_out)} (shard {t.shard})"
        for t in report.unplanned[:SHOWN]
    ]
    return lines


def _test_lines(report: Report) -> list[str]:
    lines = [f"  {describe(t)}: {_name(t)}" for t in report.failures[:SHOWN]]
    lines += [f"  flaky: {_name(t)}" for t in report.flaky[:SHOWN]]
    lines += [
        f"  quarantined ({q.status}, owner {q.owner}, until {q.expires}): "
        f"{label(q.test, q.lane, q.fanned_out)}"
        for q in report.quarantined[:SHOWN]
        if q.status != "passed"
    ]
    if report.suggested:
        lines.append(
            f"  {count(len(report.suggested), 'test')} flaky on their own, worth quarantining "
            f"(paste into {report.quarantine_file or DEFAULT_QUARANTINE}, set the owner):"
        )
        shown, more = fit_block(report.suggested_toml, TOML_LINES)
        lines += [f"    {line}" for line in shown.splitlines()]
        if more:
            lines.append(f"    … and {count(more, 'more entry', 'more entries')} in report.json")
    return lines


def _coverage_line(report: Report) -> str:
    coverage = report.coverage
    if coverage.percent is None:
        return f"  no coverage: {coverage.note}"
    partial = f" (partial: {coverage.shards} of {coverage.planned_shards})"
    return f"  coverage {percent(coverage.percent / 100, 2)} of {coverage_counts(coverage)}" + (
        partial if coverage.partial else ""
    )


def console_text(report: Report, out: Path, notes: Sequence[str]) -> str:
    """What ``report`` prints: the counts, what went wrong (a few of each), and what is next."""
    lines = [_counts_line(report), f"  {'ok' if report.ok else 'FAILED'}: {title(report)}"]
    lines += _incomplete_lines(report) + _test_lines(report)
    lines += [f"  problem: {p.source}: {p.message}" for p in report.problems]
    lines.append(_coverage_line(report))
    if report.mode.outage:
        lines.append(
            f"  outage, not counted toward the flaky rate or the mode: {report.mode.outage}"
        )
    lines += [f"  note: {note}" for note in notes]
    lines.append(f"  next mode: {report.mode.next.mode} ({report.mode.next.reason})")
    lines.append(f"  wrote {out} (exit status {report.exit_code})")
    return "\n".join(lines)
