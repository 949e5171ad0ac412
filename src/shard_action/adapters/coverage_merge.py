"""Merge the shards' coverage data into one, as if the suite had run in one place.

Every shard job checks the repository out in a folder of its own (``/home/runner/work/…`` on
one runner, ``D:\\a\\…`` on another, ``/tmp/shard-3`` locally), and coverage.py records absolute
paths. Combined naively, the same source file appears once per shard and the total is wrong.
Each shard's manifest says which folder it ran in (``workdir``), so every path under it is
rewritten onto the report's own checkout before the data is combined: the merged data then
equals, line for line, what one serial run in the report's folder would have measured.

We use coverage.py's data API (``CoverageData.update`` with a ``map_path`` function, which is
what ``coverage combine`` does internally) rather than ``[paths]`` aliases: an alias is a glob, and
a folder name holding ``*`` or ``[`` would match the wrong files; a prefix match cannot.

Failure is local: a corrupt data file is named and skipped, the others are kept; no data at all
is "no coverage", not an error. Reports (``coverage.json``, ``coverage.xml``) need the source
files, so the report step must run in a checkout of the same commit (files it cannot find are
left out of the totals and named in the note).
"""

from __future__ import annotations

import json
import os
import sqlite3
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from coverage import Coverage, CoverageData
from coverage.exceptions import CoverageException, CoverageWarning, NoDataError

import shard_action
from shard_action.core.report import CoverageTotals
from shard_action.core.testids import slashes

DATA_FILE = ".coverage"
JSON_FILE = "coverage.json"
XML_FILE = "coverage.xml"


@dataclass(frozen=True, slots=True)
class CoverageSource:
    """One shard's data file and the folder that shard ran in."""

    path: Path
    workdir: str | None = None
    shard: str | None = None


@dataclass(frozen=True, slots=True)
class CoverageProblem:
    source: str
    message: str
    shard: str | None = None


@dataclass(frozen=True, slots=True)
class MergedCoverage:
    totals: CoverageTotals
    problems: tuple[CoverageProblem, ...] = ()
    data_file: Path | None = None
    json_path: Path | None = None
    xml_path: Path | None = None


@contextmanager
def _in_folder(folder: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def remapper(workdir: str | None, root: Path) -> Callable[[str], str]:
    """Paths under ``workdir`` (either slash style) rewritten onto ``root``; others unchanged."""
    if not workdir:
        return lambda path: path
    prefix = slashes(workdir).rstrip("/")
    target = str(root)

    def map_path(path: str) -> str:
        forward = slashes(path)
        if forward == prefix:
            return target
        if prefix and forward.startswith(prefix + "/"):
            rest = forward[len(prefix) + 1 :]
            return os.path.join(target, *rest.split("/"))
        return path

    return map_path


def own_package(root: Path) -> Path | None:
    """Our own package folder, when it lies outside the project (a development install).

    The shards measure our pytest plugin along with the user's code (it runs in their process);
    a plain ``coverage run -m pytest`` would not, so those files are left out. When the project
    *is* shard-action (its own suite run by itself), the folder is inside ``root`` and kept.
    """
    package = Path(shard_action.__file__).resolve().parent
    try:
        package.relative_to(root)
    except ValueError:
        return package
    return None


def _without(data: CoverageData, excluded: Path) -> CoverageData:
    """A copy of ``data`` without the files under ``excluded`` (None of them: ``data`` itself)."""
    prefix = slashes(str(excluded)).rstrip("/") + "/"
    files = data.measured_files()
    keep = [f for f in files if not slashes(f).startswith(prefix)]
    if len(keep) == len(files):
        return data
    copy = CoverageData(no_disk=True)
    if data.has_arcs():
        copy.add_arcs({f: list(data.arcs(f) or ()) for f in keep})
    else:
        copy.add_lines({f: list(data.lines(f) or ()) for f in keep})
    tracers = {f: tracer for f in keep if (tracer := data.file_tracer(f))}
    if tracers:
        copy.add_file_tracers(tracers)
    return copy


def _combine(
    sources: Sequence[CoverageSource], combined: CoverageData, root: Path
) -> tuple[int, list[CoverageProblem], tuple[str, ...]]:
    excluded = own_package(root)
    used = 0
    shards: list[str] = []
    problems: list[CoverageProblem] = []
    for source in sources:
        name = str(source.path)
        if not source.path.is_file():
            problems.append(CoverageProblem(name, "coverage data file is missing", source.shard))
            continue
        try:
            data = CoverageData(basename=name)
            data.read()
            if excluded is not None:
                data = _without(data, excluded)
            combined.update(data, map_path=remapper(source.workdir, root))
        except (CoverageException, sqlite3.Error, OSError) as exc:
            problems.append(
                CoverageProblem(name, f"unreadable coverage data, skipped: {exc}", source.shard)
            )
            continue
        used += 1
        if source.shard is not None:
            shards.append(source.shard)
    return used, problems, tuple(shards)


def _totals(
    json_path: Path, measured: int, used: int, shards: tuple[str, ...]
) -> tuple[CoverageTotals, bool]:
    """The totals of ``coverage.json``, and whether it reported any file at all."""
    summary = json.loads(json_path.read_text(encoding="utf-8"))
    reported = summary.get("files", {})
    totals_json = summary.get("totals", {})
    missing = measured - len(reported)
    if not reported:
        note = (
            f"none of the {missing} measured files has its source here; run the report in a "
            "checkout of the tested commit"
        )
        return CoverageTotals(None, data_files=used, note=note), False
    left_out: str | None = None
    if missing > 0:
        left_out = (
            f"{missing} measured files are not in the report (omitted by the coverage "
            "configuration, or their source is not in this checkout)"
        )
    totals = CoverageTotals(
        percent=float(totals_json.get("percent_covered", 0.0)),
        covered_lines=int(totals_json.get("covered_lines", 0)),
        statements=int(totals_json.get("num_statements", 0)),
        files=len(reported),
        data_files=used,
        note=left_out,
        branches=int(totals_json.get("num_branches", 0)),
        covered_branches=int(totals_json.get("covered_branches", 0)),
        shards=shards,
    )
    return totals, True


def merge_coverage(
    sources: Sequence[CoverageSource],
    out_dir: Path,
    *,
    root: Path | None = None,
    config_file: bool | str = True,
) -> MergedCoverage:
    """Combine ``sources`` into ``out_dir/.coverage`` and write ``coverage.json``/``.xml``.

    ``root`` is the checkout the paths are mapped onto (default: the current folder, which is
    also where coverage.py looks for the user's ``.coveragerc``/``pyproject.toml`` settings).
    """
    root = (root or Path.cwd()).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    data_path = out_dir / DATA_FILE
    data_path.unlink(missing_ok=True)
    if not sources:
        return MergedCoverage(CoverageTotals(None, note="no coverage data files"))
    combined = CoverageData(basename=str(data_path))
    used, problems, shards = _combine(sources, combined, root)
    if not combined.measured_files():
        note = "no readable coverage data" if used == 0 else "the coverage data measured no files"
        return MergedCoverage(CoverageTotals(None, data_files=used, note=note), tuple(problems))
    combined.write()
    json_path = out_dir / JSON_FILE
    xml_path = out_dir / XML_FILE
    try:
        # coverage.py reads its settings and resolves relative paths (``relative_files``) from
        # the current folder: report from the project's checkout, not from wherever we run.
        with warnings.catch_warnings(), _in_folder(root):
            warnings.simplefilter("ignore", CoverageWarning)
            cov = Coverage(data_file=str(data_path), config_file=config_file)
            cov.load()
            cov.json_report(outfile=str(json_path), ignore_errors=True)
            cov.xml_report(outfile=str(xml_path), ignore_errors=True)
    except NoDataError as exc:
        note = f"no source files to report on ({exc}); run the report in a checkout"
        totals = CoverageTotals(None, data_files=used, note=note)
        return MergedCoverage(totals, tuple(problems), data_path)
    except CoverageException as exc:
        problems.append(CoverageProblem(str(data_path), f"coverage report failed: {exc}"))
        totals = CoverageTotals(None, data_files=used, note=f"coverage report failed: {exc}")
        return MergedCoverage(totals, tuple(problems), data_path)
    totals, reported = _totals(json_path, len(combined.measured_files()), used, shards)
    if not reported:
        return MergedCoverage(totals, tuple(problems), data_path)
    return MergedCoverage(totals, tuple(problems), data_path, json_path, xml_path)
