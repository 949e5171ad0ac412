"""Stage 1 of the fan-in, check: the shards' results against the plan (``core.completeness``)
and each executed test as its placement and its verdict (``core.flakiness``), judged from its own
slice's outcomes, re-runs and JUnit cases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from shard_action.core.completeness import Completeness, Executed
from shard_action.core.completeness import check as completeness_of
from shard_action.core.early_flakes import early_failures
from shard_action.core.fan_in_given import ShardResult
from shard_action.core.flakiness import Verdict, classify, group_cases, merge_worst
from shard_action.core.manifest import Rerun
from shard_action.core.outcomes import STATUS_RANK
from shard_action.core.plan import Plan
from shard_action.core.report_document import TestEntry
from shard_action.core.resolver import Resolver
from shard_action.core.results import CaseResult, JUnitReport
from shard_action.core.testids import is_whole_file


@dataclass(frozen=True, slots=True)
class Checked:
    """Stage 1, check: the shards' results against the plan, each executed test as its
    placement and its verdict."""

    plan: Plan
    by_shard: Mapping[str, ShardResult]
    """The first result of each shard (the caller names a second one as a problem)."""
    not_run: frozenset[str]
    ran: Plan
    """The plan without the shards held back (not run on purpose)."""
    completeness: Completeness
    entries: tuple[TestEntry, ...]
    unmatched: Mapping[str, int]


def check(plan: Plan, shards: Sequence[ShardResult]) -> Checked:
    """Stage 1: what ran against the plan, each executed test as one entry in plan order."""
    by_shard: dict[str, ShardResult] = {}
    for result in shards:
        by_shard.setdefault(result.manifest.shard, result)
    not_run = held_back(plan, by_shard)
    ran = plan.model_copy(update={"shards": [s for s in plan.shards if s.id not in not_run]})
    completeness = completeness_of(ran, [Executed.of(r.manifest) for r in by_shard.values()])
    verdicts, unmatched = _verdicts(completeness, by_shard)
    fanned_out = completeness.fanned_out
    entries = tuple(
        TestEntry.of(i, verdicts[n], i.test in fanned_out)
        for n, i in enumerate(completeness.executed)
    )
    early = early_failures(r.manifest for r in by_shard.values())
    entries = tuple(_early_flaky(e, early) for e in entries) if early else entries
    return Checked(plan, by_shard, not_run, ran, completeness, entries, unmatched)


def held_back(plan: Plan, shards: Mapping[str, ShardResult]) -> frozenset[str]:
    """Shards that did not run because the first tier did not pass: the workflow held them back
    on purpose, so they are "not run", not lost (a shard that ran anyway is counted as usual).

    The first tier passed when every first shard left results, did not stop and exited 0.
    """
    first = [shard for shard in plan.shards if shard.first]
    passed = all(
        (result := shards.get(shard.id)) is not None
        and not result.manifest.failure
        and result.manifest.exit_code == 0
        for shard in first
    )
    if not first or passed:
        return frozenset()
    return frozenset(s.id for s in plan.shards if not s.first and s.id not in shards)


def _run_reports(result: ShardResult) -> tuple[list[list[JUnitReport]], list[JUnitReport]]:
    """Each run's JUnit reports, by the names its manifest entry lists, and the unnamed rest.

    A report that no run names (a manifest that lists no files: the command then found them in
    the folder) is given to every run; each run matches only its own ids in it.
    """
    runs = result.manifest.slices
    named = {name for run in runs for name in run.junit}
    unnamed = [report for name, report in result.reports.items() if name not in named]
    per_run = [
        [result.reports[name] for name in run.junit if name in result.reports] + unnamed
        for run in runs
    ]
    return per_run, unnamed


_Key = tuple[str, int]
"""(shard, slice index): one slice of one shard, judged from its own files."""
_Cases = dict[_Key, Mapping[str, Sequence[Sequence[CaseResult]]]]
"""Each slice's JUnit cases, grouped by test (attempts, then cases)."""


def _slice_cases(
    shards: Mapping[str, ShardResult],
) -> tuple[
    dict[_Key, Mapping[str, Sequence[Sequence[CaseResult]]]],
    dict[_Key, dict[str, Rerun]],
    dict[str, int],
]:
    """Each slice's JUnit cases and re-runs by test, and the unmatched JUnit cases per shard."""
    grouped: _Cases = {}
    reruns: dict[_Key, dict[str, Rerun]] = {}
    unmatched: dict[str, int] = {}
    for shard_id, result in shards.items():
        manifest = result.manifest
        per_run, unnamed = _run_reports(result)
        missed = 0
        for index, (run, reports) in enumerate(zip(manifest.slices, per_run, strict=True)):
            found = group_cases(run.tests, reports, manifest.workdir)
            grouped[(shard_id, index)] = found.by_test
            reruns[(shard_id, index)] = {r.test: r for r in run.reruns}
            missed += found.unmatched
        if unnamed:  # given to every run: a case is unmatched when no run of the shard has it
            every = Resolver([t for run in manifest.slices for t in run.tests], manifest.workdir)
            missed = sum(
                every.lookup(case) is None
                for report in result.reports.values()
                for case in report.cases
            )
        unmatched[shard_id] = missed
    return grouped, reruns, unmatched


def _verdicts(
    completeness: Completeness, shards: Mapping[str, ShardResult]
) -> tuple[dict[int, Verdict], dict[str, int]]:
    """Verdict per executed instance (by position), and unmatched JUnit cases per shard.

    An instance is judged from its own run: that run's outcome, re-run and JUnit cases.
    """
    grouped, reruns, unmatched = _slice_cases(shards)
    verdicts: dict[int, Verdict] = {}
    for position, instance in enumerate(completeness.executed):
        key = (instance.shard, instance.run)
        found_result = shards.get(instance.shard)
        runs = found_result.manifest.slices if found_result is not None else []
        ran = runs[instance.run] if instance.run < len(runs) else None
        cases = grouped.get(key, {})
        parts = [
            classify(
                outcome=ran.outcomes.get(member) if ran is not None else None,
                rerun=reruns.get(key, {}).get(member),
                cases=cases.get(member, ()),
                retries=not is_whole_file(member),
            )
            for member in instance.members
        ]
        count = sum(
            len({(group[0].classname, group[0].name) for group in cases.get(member, ()) if group})
            for member in instance.members
        )
        verdicts[position] = replace(_merge_members(parts), cases=count)
    return verdicts, unmatched


def _merge_members(parts: Sequence[Verdict]) -> Verdict:
    """A whole-file test from the node ids that ran in it: the worst decides."""
    if len(parts) == 1:
        return parts[0]
    worst = max(parts, key=lambda v: STATUS_RANK[v.status])
    if worst.status == "skipped" and any(p.status != "skipped" for p in parts):
        worst = next(p for p in parts if p.status != "skipped")
    return merge_worst(parts, worst)


def _early_flaky(entry: TestEntry, early: Mapping[tuple[str, str], str]) -> TestEntry:
    """A passed new test that failed in an early-flake run is flaky (``core.early_flakes``)."""
    seen = early.get((entry.lane, entry.test))
    if seen is None or entry.status != "passed":
        return entry
    return entry.model_copy(update={"status": "flaky", "evidence": [*entry.evidence, seen]})
