"""The quarantine file in one run: which executed tests it covers, what became of them, and the
tests flaky on their own that are worth adding to it (``core.quarantine`` owns the file)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from shard_action.core.history import TestRecord, record_of
from shard_action.core.outcomes import FAILED_FIRST
from shard_action.core.plan import Plan
from shard_action.core.quarantine import QuarantineEntry, Suggestion, suggestion_block
from shard_action.core.report_document import QuarantinedEntry, SuggestedEntry, TestEntry
from shard_action.core.vocabulary import flip_note


def covered_by_quarantine(plan: Plan, entries: Sequence[TestEntry]) -> dict[int, QuarantineEntry]:
    """Position of each executed test the quarantine file lists -> its entry."""
    if not plan.quarantine.entries:
        return {}
    bases = {lane.name: lane.base for lane in plan.lanes}
    found = {}
    for n, e in enumerate(entries):
        entry = plan.quarantine.covers(e.test, e.lane, bases.get(e.lane))
        if entry is not None:
            found[n] = entry
    return found


def with_quarantine(
    entries: Sequence[TestEntry], covered: Mapping[int, QuarantineEntry]
) -> tuple[list[TestEntry], list[QuarantinedEntry]]:
    """The entries with each quarantined test that failed or flaked as ``quarantined`` (its
    verdict kept, so it no longer fails the job), and the quarantine table."""
    judged = list(entries)
    rows = []
    for n, entry in sorted(covered.items()):
        test = entries[n]
        status = test.status
        if status != "quarantined" and status in FAILED_FIRST:
            test = test.model_copy(update={"verdict": status, "status": "quarantined"})
            judged[n] = test
        done = test.verdict or ("passed" if status == "quarantined" else status)
        rows.append(QuarantinedEntry.of(test, entry, done))
    return judged, rows


def suggestions(
    entries: Sequence[TestEntry],
    covered: Mapping[int, QuarantineEntry],
    records: Mapping[str, Mapping[str, TestRecord]],
) -> list[SuggestedEntry]:
    """Tests flaky on their own that no entry covers: flaky in a serial run (now, or failing
    now and flaky in an earlier serial run)."""
    rows = []
    for n, test in enumerate(entries):
        if n in covered:
            continue
        record = record_of(records, test.lane, test.test)
        own = test.flaky_on_its_own or (
            test.known_flaky and record is not None and record.last_serial_flake is not None
        )
        if not own:
            continue
        note = flip_note(test.flip_rate, test.flip_window)
        rows.append(SuggestedEntry.of(test, f"flaky on its own: {note}"))
    return rows


def suggested_toml(plan: Plan, suggested: Sequence[SuggestedEntry], today: date | None) -> str:
    if today is None:
        return ""
    items = [Suggestion(x.test, x.lane, x.reason) for x in suggested]
    return suggestion_block(items, today, lanes=len(plan.lanes) > 1)
