"""Real suites (``tests/data/timings``): JUnit resolved onto ``--collect-only`` ids, checked
against pytest-split's own per-id durations from the same runs (an independent recorder: a
different plugin, keyed by node id, so no name mapping is involved)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from shard_action.adapters.timing_files import read_timings
from shard_action.core.models import TestItem
from shard_action.core.timings import resolve
from shard_action.errors import InputError

DATA = Path(__file__).resolve().parent.parent / "data" / "timings"
PROJECTS = sorted(p.name for p in DATA.iterdir() if p.is_dir())
SUMMARY = re.compile(r"^(\d+)(?:/\d+)? tests? collected")
JUNIT_ROUNDING = 0.0005 + 1e-9  # pytest writes time="%.3f"


def _collected(project: str) -> list[str]:
    """Node ids from ``pytest --collect-only -q``; the summary line says how many to expect."""
    lines = gzip.decompress((DATA / project / "collect.txt.gz").read_bytes()).decode().splitlines()
    summary = [m for line in lines if (m := SUMMARY.match(line))]
    assert len(summary) == 1
    ids = [line for line in lines if line.strip() and not SUMMARY.match(line)]
    assert len(ids) == int(summary[0].group(1))
    return ids


def _split(project: str, name: str) -> dict[str, float]:
    data: dict[str, float] = json.loads(gzip.decompress((DATA / project / name).read_bytes()))
    return data


def _items(ids: list[str]) -> list[TestItem]:
    return [TestItem(id=i, file=i.partition("::")[0]) for i in ids]


def test_corpus_has_the_four_projects() -> None:
    assert PROJECTS == ["click", "dateutil", "jinja2", "marshmallow"]


@pytest.mark.parametrize("project", PROJECTS)
def test_junit_resolves_and_agrees_with_pytest_split(project: str) -> None:
    ids = _collected(project)
    split = _split(project, "test_durations.json.gz")
    read = read_timings([str(DATA / project / "junit.xml.gz")])
    assert read.invalid_times == 0
    timings = resolve(read.observations, _items(ids), granularity="test")

    today = set(ids)
    same_run = today & split.keys()
    assert same_run <= timings.durations.keys()  # every id both runs know resolves
    assert timings.unresolved == 0
    assert timings.stale == len(split.keys() - today)  # e.g. marshmallow's clock-time ids
    for node_id, seconds in timings.durations.items():
        assert abs(seconds - split[node_id]) <= JUNIT_ROUNDING, node_id


@pytest.mark.parametrize("project", PROJECTS)
def test_two_runs_give_the_mean_of_both_within_rounding(project: str) -> None:
    ids = _collected(project)
    run1, run2 = (
        _split(project, "test_durations.json.gz"),
        _split(project, "test_durations2.json.gz"),
    )
    read = read_timings(
        [str(DATA / project / "junit.xml.gz"), str(DATA / project / "junit2.xml.gz")]
    )
    timings = resolve(read.observations, _items(ids), granularity="test")
    both = set(ids) & run1.keys() & run2.keys()
    assert both <= timings.durations.keys()
    for node_id in both:
        expected = (run1[node_id] + run2[node_id]) / 2
        assert abs(timings.durations[node_id] - expected) <= JUNIT_ROUNDING, node_id


@pytest.mark.parametrize("project", PROJECTS)
def test_file_granularity_sums_agree_with_pytest_split(project: str) -> None:
    ids = _collected(project)
    split = _split(project, "test_durations.json.gz")
    files = list(dict.fromkeys(i.partition("::")[0] for i in ids))
    read = read_timings([str(DATA / project / "junit.xml.gz")])
    file_items = [TestItem(id=f, file=f) for f in files]
    timings = resolve(read.observations, file_items, granularity="file")
    assert list(timings.durations) == files
    today = set(ids)
    for file in files:
        known = [i for i in ids if i.startswith(file + "::") and i in split]
        expected = sum(split[i] for i in known)
        assert abs(timings.durations[file] - expected) <= JUNIT_ROUNDING * len(known) + 1e-6
    stale = {i for i in split if i not in today and i.partition("::")[0] not in files}
    assert timings.stale == len(stale)


@pytest.mark.parametrize("project", PROJECTS)
def test_pytest_split_files_read_directly_match_themselves(project: str) -> None:
    ids = _collected(project)
    split = _split(project, "test_durations.json.gz")
    read = read_timings([str(DATA / project / "test_durations.json.gz")])
    timings = resolve(read.observations, _items(ids), granularity="test")
    assert timings.durations == {i: split[i] for i in ids if i in split}


def test_a_results_folder_with_a_foreign_json_is_an_error_or_a_warning() -> None:
    folder = str(DATA / "click")
    with pytest.raises(InputError, match=r"wall\.json\.gz"):
        read_timings([folder])
    read = read_timings([folder], on_bad_report="warn")
    assert sorted(Path(p).name for p in read.skipped_reports) == ["wall.json.gz", "wall2.json.gz"]
    assert sorted(Path(p).name for p in read.sources) == [
        "junit.xml.gz",
        "junit2.xml.gz",
        "test_durations.json.gz",
        "test_durations2.json.gz",
    ]
