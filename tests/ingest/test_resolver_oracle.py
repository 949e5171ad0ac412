"""The one resolver answers as the three it replaced did, on every case of the real corpora.

``tests/golden/resolver/old_resolvers.json.gz`` was recorded once with the code of commit
c5fdba3, before the resolvers became one: ``testids.CaseIndex`` (the runner's and the fan-in's)
for every case, id set (``resolver_inputs.id_sets``) and workdir, and ``timings.resolve`` (its
own mappers) at both granularities. It is data written by other code, not by the code under test.

Two differences are deliberate (bugs fixed), both for whole-file ids. When a case's ``file`` and
its classname name two different known files, the classname wins now, as it did for timings:
pytest's xunit1 writes the *defining* file of an inherited test, so ``CaseIndex`` charged
``test_b.py``'s inherited tests to ``test_a.py``. And when the classname could stand for several
files (``t.py`` with class ``C`` and a file ``t/C.py``), the one ``file`` names wins, where the
timings took the longest module.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from shard_action.core.models import Observation, TestItem
from shard_action.core.resolver import Resolver
from shard_action.core.testids import file_of, normalise_path
from shard_action.core.timings import Granularity, resolve
from tests.ingest.resolver_inputs import (
    WORKDIRS,
    Case,
    corpus_reports,
    id_sets,
    timing_reports,
)

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "resolver" / "old_resolvers.json.gz"


@pytest.fixture(scope="module")
def old() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(gzip.decompress(GOLDEN.read_bytes()))
    return document


def _inputs() -> list[tuple[str, list[Case], dict[str, list[str]]]]:
    found = [(source, cases, id_sets(cases)) for source, cases in corpus_reports()]
    for project, cases, ids in timing_reports():
        files = list(dict.fromkeys(file_of(i) for i in ids))
        found.append((project, cases, {"collected": ids, "files": files}))
    return found


INPUTS = _inputs()


def _classname_names_it(case: Case, test: str) -> bool:
    """``test`` is a whole file whose dotted module starts the case's classname."""
    classname = case[0] or ""
    module = test.removesuffix(".py").replace("/", ".")
    return "::" not in test and (classname == module or classname.startswith(module + "."))


def test_every_case_of_the_corpora_resolves_as_before(old: dict[str, Any]) -> None:
    same = changed = 0
    for source, cases, sets in INPUTS:
        for kind, ids in sets.items():
            for workdir in WORKDIRS:
                before = old["index"][f"{source}|{kind}|{workdir}"]
                resolver = Resolver(ids, workdir)
                for case, was in zip(cases, before, strict=True):
                    now = resolver.match(*case).test
                    if now == was:
                        same += 1
                        continue
                    changed += 1
                    where = f"{source} ({kind}, {workdir}): {case}: was {was!r}, now {now!r}"
                    assert now is not None and was is not None, where
                    assert _classname_names_it(case, now), where
                    by_file = normalise_path(case[2] or "", workdir)  # what the old code read
                    assert by_file == was or by_file.endswith("/" + was), where
    assert same > 60_000
    assert changed < same / 100  # the inherited-test rule, where the corpus makes it bite


def _moved_to_the_file_the_case_names(
    source: str, cases: list[Case], was: dict[str, float], now: dict[str, float]
) -> None:
    """Seconds moved between files, none lost, and only onto files the cases' ``file`` names."""
    assert sum(now.values()) >= sum(was.values()), source
    named = {normalise_path(f) for _, _, f in cases if f}
    gained = {k for k, v in now.items() if v > was.get(k, 0.0)}
    assert gained and gained <= named, (source, gained)


@pytest.mark.parametrize("granularity", ["test", "file"])
def test_timings_resolve_every_corpus_as_before(
    old: dict[str, Any], granularity: Granularity
) -> None:
    compared = moved = 0
    for source, cases, sets in INPUTS:
        kind = ("nodes" if "nodes" in sets else "collected") if granularity == "test" else "files"
        ids = sets[kind]
        observations = [
            Observation(name=n, seconds=float(k % 7) + 0.5, source="r", classname=c, file=f)
            for k, (c, n, f) in enumerate(cases)
        ]
        got = resolve(
            observations, [TestItem(id=i, file=file_of(i)) for i in ids], granularity=granularity
        )
        was = old["timings"][f"{source}|{kind}|{granularity}"]
        if got.durations != was["durations"]:
            _moved_to_the_file_the_case_names(source, cases, was["durations"], got.durations)
            moved += 1
            continue
        assert (got.stale, got.unresolved) == (was["stale"], was["unresolved"]), source
        compared += len(got.durations)
    assert moved <= 1
    assert compared > (5_000 if granularity == "test" else 500)  # durations: per id, per file
