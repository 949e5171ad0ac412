"""``shard-action report``: the fan-in. Every shard's results in, one verdict out.

Wiring only: adapters read the plan, the manifests, the JUnit files, the coverage data and the
history; ``core.report.build`` decides; adapters write the files, ``$GITHUB_OUTPUT``, the job
summary and the annotations. Nothing a shard left behind can stop the others from being counted:
an unreadable manifest, JUnit file or coverage file is named in the report and skipped.

Files written in ``--out``: ``junit.xml``, ``coverage.json`` and ``coverage.xml`` (when there was
coverage data), ``summary.md``, ``comment.md``, ``report.json`` and ``history.json`` (not with
``--fork``, nor when the given history could not be read: a run from an untrusted fork must not
change the default branch's timings or mode, so there is simply no history file to upload).

Exit status: 0 all planned tests ran once and passed; 1 tests failed (or were flaky, with
``fail-on-flaky``); 2 bad input that stopped the command (unreadable plan), or a history file
that could not be read (then every other file is still written); 3 the run is incomplete (tests
or shards lost, tests run twice or unplanned, a shard's results unreadable). See
``core.report.exit_code``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Final

from pydantic import ValidationError

from shard_action.adapters import gha
from shard_action.adapters.config_file import load_config
from shard_action.adapters.coverage_merge import CoverageSource, merge_coverage
from shard_action.adapters.documents import read_document
from shard_action.adapters.files import make_folder, write_text_atomic
from shard_action.adapters.history_file import read_history, write_history
from shard_action.adapters.junit import read_junit
from shard_action.adapters.junit_write import write_junit
from shard_action.adapters.quarantine_file import today_utc
from shard_action.commands.api_options import token_from_env
from shard_action.commands.run import load_plan
from shard_action.core.annotations import PER_STEP, Annotation, Level, within_limits
from shard_action.core.config import FLAKY_THRESHOLD, RECOVER_AFTER, Config
from shard_action.core.history import History
from shard_action.core.jobs import Job, setups_of
from shard_action.core.manifest import MANIFEST_FILE, ShardManifest
from shard_action.core.plan import Plan, plan_digest
from shard_action.core.quarantine import DEFAULT_FILE as DEFAULT_QUARANTINE
from shard_action.core.quarantine import fit_block
from shard_action.core.render import (
    TEMPLATE_NAMES,
    Rendered,
    TemplateProblem,
    coverage_counts,
    render_comment,
    render_summary,
    template_set,
)
from shard_action.core.report import (
    Problem,
    ProblemKind,
    Report,
    Settings,
    ShardResult,
    TestEntry,
    build,
)
from shard_action.core.results import JUnitReport
from shard_action.core.testids import is_whole_file, label, normalise_path
from shard_action.core.units import count, percent
from shard_action.core.vocabulary import describe, tests, title
from shard_action.errors import InputError

DEFAULT_OUT = Path("shard-report")


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """What ``report`` produced, for callers such as ``local``."""

    report: Report
    out: Path
    summary: str
    comment: str
    history_written: bool
    workdirs: dict[str, str]
    """Shard id -> the folder it ran in (to make JUnit file paths relative)."""
    notes: tuple[str, ...] = ()
    """Which shard results were left out or replaced (re-run attempts, another plan)."""


def _message(exc: InputError) -> str:
    """An InputError's text without the file name, which the problem names separately."""
    text = str(exc)
    if exc.source is not None and text.startswith(f"{exc.source}:"):
        text = text[len(exc.source) + 1 :].lstrip()
        if exc.line is not None:
            text = f"line {text}"
    return text


def _inside(folder: Path, name: str) -> Path | None:
    """``folder/name`` if it stays inside ``folder`` (manifests come from untrusted jobs)."""
    candidate = (folder / name).resolve()
    try:
        candidate.relative_to(folder.resolve())
    except ValueError:
        return None
    return candidate


def _outside(kind: ProblemKind, path: Path, shard: str) -> Problem:
    """A manifest naming a file outside its own folder: refused, and said so."""
    return Problem(
        kind=kind,
        source=str(path),
        message="outside the shard's results folder: refused",
        shard=shard,
    )


def find_manifests(folders: Sequence[Path]) -> list[Path]:
    """Every ``manifest.json`` under the given folders (or the files themselves), sorted."""
    found: dict[Path, None] = {}
    for folder in folders:
        if folder.is_file() and folder.name == MANIFEST_FILE:
            found.setdefault(folder.resolve(), None)
        elif folder.is_dir():
            for path in sorted(folder.rglob(MANIFEST_FILE)):
                if path.is_file():
                    found.setdefault(path.resolve(), None)
    return list(found)


def _junit_files(folder: Path, manifest: ShardManifest) -> list[str]:
    """The files the manifest's runs list; a manifest that lists none gets what is there."""
    if manifest.junit:
        return list(dict.fromkeys(manifest.junit))
    return sorted(p.name for p in folder.glob("junit*.xml") if p.is_file())


def _coverage_files(folder: Path, manifest: ShardManifest) -> list[str]:
    if manifest.coverage:
        return list(manifest.coverage)
    return sorted(p.name for p in folder.glob(".coverage.*") if p.is_file())


@dataclass
class _Collected:
    shards: list[ShardResult]
    coverage: list[CoverageSource]
    problems: list[Problem]
    notes: list[str] = field(default_factory=list)


def _newest_attempts(
    found: list[tuple[Path, ShardManifest]], digest: str | None, notes: list[str]
) -> list[tuple[Path, ShardManifest]]:
    """Each shard's results of the newest attempt of this plan (after "Re-run failed jobs").

    Results of another plan (an earlier attempt planned differently, another suite) are left
    out; of one shard's results from several attempts the newest counts. Two of one attempt
    stay, for the caller to name as a problem.
    """
    mine = [(p, m) for p, m in found if digest is None or m.plan_digest in (None, digest)]
    if len(mine) < len(found):
        notes.append(
            f"{count(len(found) - len(mine), 'shard result')} of another plan left out "
            "(an earlier attempt's or another suite's)"
        )
    newest: dict[str, int] = {}
    for _, manifest in mine:
        newest[manifest.shard] = max(newest.get(manifest.shard, 0), manifest.attempt or 0)
    kept = []
    for path, manifest in mine:
        if (manifest.attempt or 0) < newest[manifest.shard]:
            notes.append(
                f"shard {manifest.shard}: the results of attempt {manifest.attempt or 1} were "
                f"replaced by attempt {newest[manifest.shard]}'s"
            )
            continue
        kept.append((path, manifest))
    return kept


def collect_results(folders: Sequence[Path], plan: Plan | None = None) -> _Collected:
    """Read every shard's manifest and JUnit files; a bad file is a problem, not a stop."""
    collected = _Collected([], [], [])
    seen: dict[str, Path] = {}
    found: list[tuple[Path, ShardManifest]] = []
    for path in find_manifests(folders):
        try:
            found.append((path, read_document(path, ShardManifest)))
        except InputError as exc:
            collected.problems.append(
                Problem(kind="results", source=str(path), message=_message(exc))
            )
    digest = plan_digest(plan) if plan is not None else None
    for path, manifest in _newest_attempts(found, digest, collected.notes):
        if manifest.shard in seen:
            collected.problems.append(
                Problem(
                    kind="results",
                    source=str(path),
                    message=f"a second result for shard {manifest.shard!r}, ignored "
                    f"(the first is {seen[manifest.shard]})",
                    shard=manifest.shard,
                )
            )
            continue
        seen[manifest.shard] = path
        folder = path.parent
        reports: dict[str, JUnitReport] = {}
        for name in _junit_files(folder, manifest):
            junit = _inside(folder, name)
            if junit is None:
                collected.problems.append(_outside("results", folder / name, manifest.shard))
                continue
            try:
                reports[name] = read_junit(junit)
            except InputError as exc:
                collected.problems.append(
                    Problem(
                        kind="results",
                        source=str(junit),
                        message=_message(exc),
                        shard=manifest.shard,
                    )
                )
        for name in _coverage_files(folder, manifest):
            data = _inside(folder, name)
            if data is None:
                collected.problems.append(_outside("coverage", folder / name, manifest.shard))
                continue
            collected.coverage.append(CoverageSource(data, manifest.workdir, manifest.shard))
        collected.shards.append(ShardResult(manifest=manifest, reports=reports))
    return collected


def default_templates() -> dict[str, str]:
    folder = resources.files("shard_action") / "templates"
    return {name: (folder / name).read_text(encoding="utf-8") for name in TEMPLATE_NAMES}


def user_templates(folder: Path | None) -> tuple[dict[str, str], list[Problem]]:
    """The user's replacements (``summary.md.j2``, ``comment.md.j2``) found in ``folder``."""
    if folder is None:
        return {}, []
    if not folder.is_dir():
        return {}, [
            Problem(kind="template", source=str(folder), message="not a folder; defaults used")
        ]
    found: dict[str, str] = {}
    problems: list[Problem] = []
    for name in TEMPLATE_NAMES:
        path = folder / name
        if not path.is_file():
            continue
        try:
            found[name] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(
                Problem(
                    kind="template", source=str(path), message=f"cannot read ({exc}); default used"
                )
            )
    if not found and not problems:
        problems.append(
            Problem(
                kind="template",
                source=str(folder),
                message=f"holds neither {' nor '.join(TEMPLATE_NAMES)}; defaults used",
            )
        )
    return found, problems


def _render(
    report: Report,
    defaults: Mapping[str, str],
    overrides: Mapping[str, str],
    folder: Path | None,
    summary_url: str | None,
) -> tuple[Rendered, Rendered]:
    """Render with the user's templates, falling back to ours for one that fails."""
    results: list[Rendered] = []
    for name, render in (
        ("summary.md.j2", render_summary),
        ("comment.md.j2", render_comment),
    ):
        if name in overrides:
            try:
                results.append(
                    render(template_set(defaults, overrides), report, summary_url=summary_url)
                )
                continue
            except TemplateProblem as exc:
                source = str(folder / name) if folder is not None else name
                report.problems.append(
                    Problem(kind="template", source=source, message=f"{exc}; default used")
                )
        results.append(render(template_set(defaults), report, summary_url=summary_url))
    return results[0], results[1]


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


def annotate(report: Report, workdirs: Mapping[str, str]) -> None:
    """Annotations on the run: failing, lost and flaky tests, at their file and line."""
    for item in annotations_for(report, workdirs):
        gha.annotate(item.level, item.message, title=item.title, file=item.file, line=item.line)


def outputs(report: Report) -> dict[str, str]:
    """The step outputs: plain strings a workflow can compare."""
    coverage = report.coverage.percent
    return {
        "flaky-rate": f"{report.mode.flaky_rate:.4f}",
        "mode": report.mode.next_mode,
        "coverage": f"{coverage:.2f}" if coverage is not None else "",
        "tests": str(report.counts.tests),
        "test-cases": str(report.counts.cases),
        "failed": str(report.counts.failing),
        "lost": str(report.counts.lost),
    }


#: The only settings the fan-in reads; other ``SHARD_ACTION_*`` variables are the plan's business.
FAN_IN_VARIABLES: Final = (
    "SHARD_ACTION_FLAKY_THRESHOLD",
    "SHARD_ACTION_RECOVER_AFTER",
    "SHARD_ACTION_OUTAGE_THRESHOLD",
    "SHARD_ACTION_PROMOTE_AFTER",
    "SHARD_ACTION_MAX_DEMOTED",
)


def settings_from(
    plan: Plan,
    env: Mapping[str, str],
    flaky_threshold: float | None,
    recover_after: int | None,
) -> tuple[Config, list[Problem]]:
    """The thresholds: flags over ``SHARD_ACTION_*`` variables over what the plan recorded.

    The plan job read the project's config (``--config``, ``pyproject.toml``, its variables),
    so the plan's values are that config, even when this job runs elsewhere or with other files.
    """
    flags = {"flaky-threshold": flaky_threshold, "recover-after": recover_after}
    recorded = {
        "flaky-threshold": plan.fan_in.flaky_threshold,
        "recover-after": plan.fan_in.recover_after,
        "outage-threshold": plan.fan_in.outage_threshold,
        "promote-after": plan.fan_in.promote_after,
        "max-demoted": plan.fan_in.max_demoted,
    }
    variables = {name: env[name] for name in FAN_IN_VARIABLES if name in env}
    try:
        config = load_config(
            cwd=Path.cwd(), env=variables, flags=flags, recorded=(recorded, "plan.json")
        )
        return config, []
    except InputError as exc:
        problem = Problem(
            kind="config",
            source=exc.source or "configuration",
            message=f"{exc}; the plan's thresholds used",
        )
        values = {**recorded, **{k: v for k, v in flags.items() if v is not None}}
        try:
            return Config.model_validate(values), [problem]
        except ValidationError as bad:
            raise InputError(f"invalid option: {bad.errors()[0]['msg']}") from None


def make_report(
    *,
    plan: Plan,
    results: Sequence[Path],
    out: Path,
    history_path: Path | None = None,
    templates: Path | None = None,
    fork: bool = False,
    flaky_threshold: float | None = None,
    recover_after: int | None = None,
    root: Path | None = None,
    env: Mapping[str, str] | None = None,
    concurrency: int | None = None,
    jobs: Sequence[Job] = (),
) -> ReportFiles:
    """Everything ``report`` does except printing and the exit status (``local`` calls it,
    with the number of shard processes it ran at once as ``concurrency``); ``jobs``: this run's
    jobs from the REST API, for each shard job's set-up."""
    env = os.environ if env is None else env
    root = (root or Path.cwd()).resolve()
    out = out.resolve()
    make_folder(out)
    config, problems = settings_from(plan, env, flaky_threshold, recover_after)
    collected = collect_results(results, plan)
    problems += collected.problems
    merged = merge_coverage(collected.coverage, out, root=root)
    problems += [
        Problem(kind="coverage", source=p.source, message=p.message, shard=p.shard)
        for p in merged.problems
    ]
    history: History | None = History()
    if history_path is not None:
        try:
            history = read_history(history_path)
        except InputError as exc:
            history = None
            problems.append(
                Problem(
                    kind="history",
                    source=str(history_path),
                    message=f"{_message(exc)}; the history was not updated",
                )
            )
    overrides, template_problems = user_templates(templates)
    problems += template_problems
    fanin = build(
        plan,
        collected.shards,
        history=history,
        coverage=merged.totals,
        settings=Settings(
            flaky_threshold=config.flaky_threshold,
            recover_after=config.recover_after,
            outage_threshold=config.outage_threshold,
            promote_after=config.promote_after,
            max_demoted=config.max_demoted,
            fork=fork,
            sha=env.get("GITHUB_SHA"),
            today=today_utc(),
            concurrency=concurrency,
        ),
        problems=problems,
        setups=setups_of(
            plan, jobs, {s.manifest.shard: s.manifest.started for s in collected.shards}
        ),
    )
    report = fanin.report
    write_junit(out / "junit.xml", fanin.tests, report.lost)
    url = summary_url(env)
    summary, comment = _render(report, default_templates(), overrides, templates, url)
    write_text_atomic(out / "summary.md", summary.text)
    write_text_atomic(out / "comment.md", comment.text)
    history_file = out / "history.json"
    if fanin.history is not None:
        write_history(history_file, fanin.history)
    else:
        history_file.unlink(missing_ok=True)
    write_text_atomic(out / "report.json", report.model_dump_json(indent=1) + "\n")
    workdirs = {s.manifest.shard: s.manifest.workdir for s in collected.shards}
    return ReportFiles(
        report,
        out,
        summary.text,
        comment.text,
        fanin.history is not None,
        workdirs,
        tuple(collected.notes),
    )


def _print(files: ReportFiles) -> None:
    report = files.report
    c = report.counts
    lines = [
        f"shard-action report: {tests(c.tests, report.unit)}"
        + (f" ({count(c.cases, 'test case')})" if report.unit == "file" else "")
        + f": {c.passed} passed, {c.failed} failed"
        + (f" ({c.known_flaky} known flaky)" if c.known_flaky else "")
        + f", {c.broken} broken, {c.flaky} flaky, {c.skipped} skipped; "
        f"{c.lost} of {c.planned} planned tests lost",
    ]
    lines.append(f"  {'ok' if report.ok else 'FAILED'}: {title(report)}")
    # The cause once per shard, then the ids alone: never the same paragraph per lost test.
    for group in report.lost_by_shard[:20]:
        lines.append(
            f"  LOST {count(group.tests, 'test')} of shard {group.shard} (lane {group.lane}): "
            f"{group.cause or group.reason}"
        )
    if len(report.lost_by_shard) > 20:
        lines.append(f"  … and {len(report.lost_by_shard) - 20} more shards with lost tests")
    lines += [
        f"    lost: {label(t.test, t.lane, t.fanned_out)} (shard {t.shard})"
        for t in report.lost[:20]
    ]
    if len(report.lost) > 20:
        lines.append(f"    … and {len(report.lost) - 20} more lost")
    lines += [
        f"  RAN TWICE {label(t.test, t.lane, t.fanned_out)}: {', '.join(t.shards)}"
        for t in report.run_twice[:20]
    ]
    lines += [
        f"  UNPLANNED {label(t.test, t.lane, t.fanned_out)} (shard {t.shard})"
        for t in report.unplanned[:20]
    ]
    lines += [f"  {describe(t)}: {_name(t)}" for t in report.failures[:20]]
    lines += [f"  flaky: {_name(t)}" for t in report.flaky[:20]]
    lines += [
        f"  quarantined ({q.status}, owner {q.owner}, until {q.expires}): "
        f"{label(q.test, q.lane, q.fanned_out)}"
        for q in report.quarantined[:20]
        if q.status != "passed"
    ]
    if report.suggested:
        lines.append(
            f"  {count(len(report.suggested), 'test')} flaky on their own, worth quarantining "
            f"(paste into {report.quarantine_file or DEFAULT_QUARANTINE}, set the owner):"
        )
        shown, more = fit_block(report.suggested_toml, 60)
        lines += [f"    {line}" for line in shown.splitlines()]
        if more:
            lines.append(f"    … and {count(more, 'more entry', 'more entries')} in report.json")
    lines += [f"  problem: {p.source}: {p.message}" for p in report.problems]
    coverage = report.coverage
    lines.append(
        f"  coverage {percent(coverage.percent / 100, 2)} of {coverage_counts(coverage)}"
        + (
            f" (partial: {coverage.shards} of {coverage.planned_shards})"
            if coverage.partial
            else ""
        )
        if coverage.percent is not None
        else f"  no coverage: {coverage.note}"
    )
    if report.mode.outage:
        lines.append(
            f"  outage, not counted toward the flaky rate or the mode: {report.mode.outage}"
        )
    lines += [f"  note: {note}" for note in files.notes]
    lines.append(f"  next mode: {report.mode.next_mode} ({report.mode.next_reason})")
    lines.append(f"  wrote {files.out} (exit status {report.exit_code})")
    print("\n".join(lines), flush=True)


def check_results_given(folders: Sequence[Path]) -> None:
    """A ``--results`` that names nothing is a typo, not a run whose shards all died.

    Without this check a mistyped folder reads as "every shard lost" (exit 3), which sends the
    user looking for dead shards instead of at the path.
    """
    for folder in folders:
        if folder.is_dir() or (folder.is_file() and folder.name == MANIFEST_FILE):
            continue
        what = "not a folder (nor a manifest.json)" if folder.exists() else "no such folder"
        raise InputError(f"--results: {what}", source=str(folder))


def _run(args: argparse.Namespace) -> int:
    check_results_given(args.results)
    plan = load_plan(args.plan)
    # requests is imported by the commands that call the API only (see api_options)
    from shard_action.adapters.run_jobs import read_run_jobs  # noqa: PLC0415

    found = read_run_jobs(os.environ, token_from_env())
    if found.notice:
        gha.annotate("notice", found.notice, title="shard-action")
    files = make_report(
        plan=plan,
        results=args.results,
        out=args.out,
        history_path=args.history,
        templates=args.templates,
        fork=args.fork,
        flaky_threshold=args.flaky_threshold,
        recover_after=args.recover_after,
        jobs=found.jobs,
    )
    report = files.report
    gha.set_outputs(outputs(report))
    gha.write_summary(files.summary, pointer=f"The full report is in {files.out / 'report.json'}.")
    if gha.in_actions():
        annotate(report, files.workdirs)
    _print(files)
    return report.exit_code


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "report",
        help="fan-in: merge the shards' results, prove nothing was lost, update the history",
        description="Merge every shard's JUnit and coverage, check the run against the plan "
        "(lost, twice, unplanned), classify flaky tests, update the history and decide the next "
        "mode, and write the job summary and the PR comment. Exit status: 0 ok, 1 failing tests, "
        "2 bad input (or an unreadable history), 3 incomplete run.",
    )
    parser.add_argument("--plan", type=Path, required=True, help="plan.json from `plan`")
    parser.add_argument(
        "--results",
        type=Path,
        nargs="+",
        action="extend",
        required=True,
        metavar="DIR",
        help="shard results: folders searched for manifest.json (e.g. shard-results/)",
    )
    parser.add_argument(
        "--history", type=Path, metavar="FILE", help="the previous history (missing: a new one)"
    )
    parser.add_argument(
        "--templates",
        type=Path,
        metavar="DIR",
        help="folder with summary.md.j2 and/or comment.md.j2 replacing ours",
    )
    parser.add_argument(
        "--fork",
        action="store_true",
        help="results of an untrusted fork: the history is neither changed nor written",
    )
    parser.add_argument(
        "--flaky-threshold",
        type=float,
        metavar="RATE",
        help="flaky rate (0-1) above which the next run is serial "
        f"(default: config, {FLAKY_THRESHOLD})",
    )
    parser.add_argument(
        "--recover-after",
        type=int,
        metavar="N",
        help=f"clean serial runs before parallel again (default: config, {RECOVER_AFTER})",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, metavar="DIR", help="output folder"
    )
    parser.set_defaults(func=_run)
