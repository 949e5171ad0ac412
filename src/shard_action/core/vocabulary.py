"""The words a person reads for a test's fate, in one place.

The run table, the headline, the failing-test lists, the annotations and the terminal all say
what happened to a test with these words and these sentences, so that they agree with each
other; the README's "What the words mean" table is checked against :data:`WORDS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from shard_action.core.units import count

WORDS: Final[dict[str, str]] = {
    "passed": "passed on its first attempt.",
    "failed": "failed on every attempt it had: either nothing re-ran it (re-runs off), or it is "
    "**known flaky**: its history shows it flaky (failed, then passed in one run) within the "
    "last runs, so it is reported with its flip rate and not called broken.",
    "flaky": "failed, then passed on a re-run in the same run. It does not fail the job "
    "(unless `fail-on-flaky`).",
    "broken": "failed on every attempt, re-runs included, and its history shows no flakiness: "
    "a real failure.",
    "quarantined": "listed in the quarantine file (`.shard-action/quarantine.toml`) and failed "
    "or was flaky: it ran and is reported with what happened, but it does not fail the job and "
    "does not count toward the flaky rate.",
    "lost": "planned, but no result came back (its shard died, or the runner never reported it). "
    "A lost test did not pass: the run is incomplete.",
    "skipped": "skipped by the test itself (a `skip` marker or condition).",
}
"""Status -> definition. ``failing`` means failed or broken: the tests that fail the job."""


def flip_note(flip_rate: float | None, window: int | None) -> str:
    """``flip rate 40% over the last 5 runs``."""
    if flip_rate is None:
        return "no history yet"
    runs = count(window or 1, "run")
    return f"flip rate {flip_rate:.0%} over the last {runs}"


def describe(entry: Mapping[str, Any] | Any) -> str:
    """One test's fate in words: ``broken``, ``failing, known flaky (flip rate 40% over the
    last 5 runs)``... Takes a report entry or its JSON form (what templates see)."""
    data = entry if isinstance(entry, Mapping) else entry.model_dump()
    status = str(data["status"])
    if data.get("known_flaky") and status == "failed":
        return f"failing, known flaky ({flip_note(data.get('flip_rate'), data.get('flip_window'))})"
    if status == "quarantined":
        return f"quarantined ({data.get('verdict') or 'failed'})"
    return status


UNIT_NOUNS: Final[dict[str, str]] = {"test": "test", "file": "test file"}
"""A report's ``unit`` -> what its counts count, in words: split by file, a planned test is a
file, and the report says "3 test files" (with their test cases beside), never "3 tests"."""


def tests(number: object, unit: str = "test") -> str:
    """``120 tests``, or at file granularity ``3 test files``."""
    return count(number, UNIT_NOUNS.get(unit, "test"))


def headline(counts: Mapping[str, Any] | Any, unit: str = "test") -> str:
    """The failing part of a title: ``3 of 120 tests failing: 1 broken, 2 failed (1 known
    flaky)``; empty when nothing fails. ``unit`` is the report's (``file``: test files)."""
    data = counts if isinstance(counts, Mapping) else counts.model_dump()
    failing = int(data["failed"]) + int(data["broken"])
    if not failing:
        return ""
    parts = []
    if data["broken"]:
        parts.append(f"{int(data['broken']):,} broken")
    if data["failed"]:
        known = int(data.get("known_flaky") or 0)
        parts.append(
            f"{int(data['failed']):,} failed" + (f" ({known:,} known flaky)" if known else "")
        )
    return f"{failing:,} of {tests(data['tests'], unit)} failing: {', '.join(parts)}"


def _data(value: Mapping[str, Any] | Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else value.model_dump()


def title(report: Mapping[str, Any] | Any) -> str:
    """The verdict in one line, in the run table's words: ``2 of 10 planned tests lost; 1 of 8
    tests failing: 1 broken; 2 flaky``, or ``120 tests passed, 2 of them flaky``. Takes a report
    or its JSON form."""
    data = _data(report)
    c = _data(data["counts"])
    unit = str(data.get("unit") or "test")
    flaky = int(c["flaky"])
    unreadable = sum(1 for p in data.get("problems", ()) if _data(p).get("kind") == "results")
    bad = [
        text
        for condition, text in (
            (c["lost"], f"{int(c['lost']):,} of {count(c['planned'], 'planned test')} lost"),
            (int(c["failed"]) + int(c["broken"]), headline(c, unit)),
            (flaky, f"{flaky:,} flaky"),
            (c.get("not_run"), f"{int(c.get('not_run') or 0):,} not run (first tier failed)"),
            (c.get("run_twice"), f"{count(c.get('run_twice') or 0, 'test')} ran twice"),
            (c.get("unplanned"), f"{count(c.get('unplanned') or 0, 'test')} ran unplanned"),
            (data.get("unknown_shards"), "results from shards not in the plan"),
            (unreadable, f"{count(unreadable, 'results file')} unreadable"),
        )
        if condition
    ]
    only_flaky = [f"{flaky:,} flaky"] if flaky else []
    if bad != only_flaky or not data.get("complete", True):
        return "; ".join(bad) or "the run is incomplete"
    passed, held = int(c["passed"]) + flaky, int(c.get("quarantined") or 0)
    if held:
        text = f"{passed:,} of {tests(c['tests'], unit)} passed, {held:,} quarantined"
        text += f"; {flaky:,} flaky" if flaky else ""
    else:
        text = f"{tests(passed, unit)} passed" + (f", {flaky:,} of them flaky" if flaky else "")
    if unit == "file":
        text += f" ({count(c.get('cases') or 0, 'test case')})"
    return text + (f"; {int(c['skipped']):,} skipped" if c.get("skipped") else "")
