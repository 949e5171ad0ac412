"""Reading the shards' results folders: every manifest, its JUnit files and coverage data.

Nothing a shard left behind stops the others from being counted: an unreadable manifest or JUnit
file, or a file named outside its shard's folder (manifests come from untrusted jobs), is a
:class:`Problem` in the report, and the rest is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shard_action.adapters.coverage_merge import CoverageSource
from shard_action.adapters.documents import read_document
from shard_action.adapters.junit import read_junit
from shard_action.core.attempts import newest_attempts
from shard_action.core.manifest import MANIFEST_FILE, ShardManifest
from shard_action.core.plan import Plan, plan_digest
from shard_action.core.report import Problem, ProblemKind, ShardResult
from shard_action.core.results import JUnitReport
from shard_action.errors import InputError


def message_of(exc: InputError) -> str:
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
class Collected:
    """Every shard's results read, the coverage data found, and what could not be read."""

    shards: list[ShardResult]
    coverage: list[CoverageSource]
    problems: list[Problem]
    notes: list[str] = field(default_factory=list)


def collect_results(folders: Sequence[Path], plan: Plan | None = None) -> Collected:
    """Read every shard's manifest and JUnit files; a bad file is a problem, not a stop."""
    collected = Collected([], [], [])
    seen: dict[str, Path] = {}
    found: list[tuple[Path, ShardManifest]] = []
    for path in find_manifests(folders):
        try:
            found.append((path, read_document(path, ShardManifest)))
        except InputError as exc:
            collected.problems.append(
                Problem(kind="results", source=str(path), message=message_of(exc))
            )
    digest = plan_digest(plan) if plan is not None else None
    kept, notes = newest_attempts(found, digest)
    collected.notes.extend(notes)
    for path, manifest in kept:
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
                        message=message_of(exc),
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
