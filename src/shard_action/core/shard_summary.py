"""The lines ``shard-action run`` prints when its shard is done: a person's view of the manifest.

Counts are per (lane, id): under fan-out in serial mode one id runs once per backend, so a test
is named with its lane when it is fanned out (``core.testids.label``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from shard_action.core.manifest import MANIFEST_FILE, ShardManifest
from shard_action.core.outcomes import Outcome, is_failing
from shard_action.core.testids import label
from shard_action.core.units import count, duration

LISTED = 20
"""Flaky and broken tests named one by one; the rest are counted."""


def _headline(
    manifest: ShardManifest, counts: Counter[Outcome], flaky: int, broken: int
) -> list[str]:
    drifted = sum(len(d.planned) + len(d.collected) for s in manifest.slices for d in s.drift)
    seconds = (manifest.finished - manifest.started).total_seconds()
    status = "ok" if manifest.exit_code == 0 else "FAILED"
    tally = "  ".join(
        f"{outcome} {counts.get(outcome, 0)}"
        for outcome in ("passed", "failed", "error", "skipped")
    )
    lines = [
        f"shard-action run: shard {manifest.shard} (lane {manifest.lane}) {status} "
        f"in {duration(seconds)}: {manifest.executed} of "
        f"{count(manifest.planned, 'planned test')} ran"
        + (f", {count(drifted, 'drifted id')}" if drifted else ""),
        f"  {tally}  flaky {flaky}  broken {broken}",
    ]
    if len(manifest.slices) > 1:
        lines += [f"  lane {s.lane}: {len(s.tests)} of {s.planned} ran" for s in manifest.slices]
    return lines


def _early_lines(manifest: ShardManifest, name: Callable[[str, str], str]) -> list[str]:
    """The new tests run again in the shard's spare time, and those that failed there."""
    if not manifest.early:
        return []
    tests = sum(len(e.tests) for e in manifest.early)
    rounds = max(len(e.exit_codes) for e in manifest.early)
    failed = [
        (t, e.lane)
        for e in manifest.early
        for t, outcomes in e.outcomes.items()
        if any(is_failing(o) for o in outcomes)
    ]
    lines = [
        f"  early-flake runs: {count(tests, 'new test')} run {count(rounds, 'more time')}, "
        f"{len(failed)} failed in one (flaky)"
    ]
    return lines + [f"  early flaky: {name(t, lane)}" for t, lane in failed[:LISTED]]


def summary_lines(
    manifest: ShardManifest,
    results: str,
    notes: Sequence[str],
    counts: Counter[Outcome],
    lost: Sequence[str] = (),
    *,
    fanned: frozenset[str] = frozenset(),
) -> list[str]:
    """What the shard did, ending with where its files are."""

    def name(test: str, lane: str) -> str:
        return label(test, lane, test in fanned)

    flaky = [(r.test, s.lane) for s in manifest.slices for r in s.reruns if r.verdict == "flaky"]
    broken = [
        (t, o, s.lane) for s in manifest.slices for t, o in s.outcomes.items() if is_failing(o)
    ]
    lines = _headline(manifest, counts, len(flaky), len(broken))
    lines += [f"  flaky:  {name(t, lane)}" for t, lane in flaky[:LISTED]]
    lines += [f"  broken: {name(t, lane)} ({o})" for t, o, lane in broken[:LISTED]]
    if len(broken) > LISTED:
        lines.append(f"  … and {len(broken) - LISTED} more broken")
    lines += _early_lines(manifest, name)
    drift = [(d, s.lane) for s in manifest.slices for d in s.drift]
    for record, lane in drift[:10]:
        lines.append(
            f"  drift in {name(record.file, lane)}: {count(len(record.planned), 'planned id')} not "
            f"collected, {count(len(record.collected), 'unplanned id')} run here"
        )
    cores = sorted({s.coverage_core for s in manifest.slices if s.coverage_core})
    if cores:
        lines.append(f"  coverage measured with the {', '.join(cores)} core")
    lines += [f"  note: {note}" for note in notes]
    if manifest.failure:
        lines.append(f"  failure: {manifest.failure}")
    if lost:
        shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
        lines.append(f"  did not run: {shown}")
    files = [MANIFEST_FILE, *manifest.junit, *manifest.coverage]
    lines.append(f"  results: {results} ({', '.join(files)})")
    return lines
