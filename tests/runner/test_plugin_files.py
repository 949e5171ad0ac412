"""The files between the runner and its pytest plugin fit their models, written by a real
pytest process (the plugin writes plain JSON: it cannot import pydantic)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from shard_action.adapters.documents import read_document
from shard_action.adapters.runner import run_pytest
from shard_action.core.plugin_files import (
    EVENT,
    CollectionFile,
    MemoryErrorEvent,
    ResultEvent,
    SelectFile,
    StartEvent,
)
from shard_action.core.selection import Selection
from shard_action.errors import InputError
from tests.runner.helpers import QUIET_ENV, write_suite

pytestmark = pytest.mark.slow

SUITE = {
    "tests/test_a.py": """
        def test_ok():
            pass

        def test_bad():
            assert False

        def test_other():
            pass
    """,
    "tests/test_broken.py": "import no_such_module\n",
}


def test_select_collection_and_events_of_a_real_process_fit_their_models(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "suite", SUITE)
    keep = ("tests/test_a.py::test_ok", "tests/test_a.py::test_bad", "tests/test_broken.py::t")
    selection = Selection(keep, frozenset([*keep, "tests/test_a.py::test_other"]), frozenset())
    work = tmp_path / "work"
    report = run_pytest(
        python=sys.executable,
        selection=selection,
        files=["tests/test_a.py", "tests/test_broken.py"],
        cwd=root,
        env={**os.environ, **QUIET_ENV},
        junit=tmp_path / "junit.xml",
        workdir=work,
        coverage_file=None,
        sequential=False,
        args=["--continue-on-collection-errors"],
        memory_mb=4096,
    )
    spec = read_document(work / "select.json", SelectFile)
    assert (spec.keep, spec.memory_mb, spec.ordered) == (list(keep), 4096, False)
    assert Path(spec.collection) == work / "collection.json"
    collection = read_document(work / "collection.json", CollectionFile)
    assert collection.selected == ["tests/test_a.py::test_ok", "tests/test_a.py::test_bad"]
    assert collection.collected == 3  # test_other collected, planned elsewhere: deselected
    assert [e.node for e in collection.errors] == ["tests/test_broken.py"]
    assert "no_such_module" in collection.errors[0].message
    assert collection.missing == []  # the id in a file that failed to collect is not "missing"
    lines = (work / "events.jsonl").read_text("utf-8").splitlines()
    events = [EVENT.validate_json(line) for line in lines]
    assert not any(isinstance(e, MemoryErrorEvent) for e in events)
    assert [e.id for e in events if isinstance(e, StartEvent)] == list(collection.selected)
    outcomes = {e.id: e.outcome for e in events if isinstance(e, ResultEvent)}
    assert outcomes == {"tests/test_a.py::test_ok": "passed", "tests/test_a.py::test_bad": "failed"}
    assert [r.id for r in report.results] == list(outcomes)


def test_a_collection_file_of_another_kind_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "collection.json"
    path.write_text('{"kind": "shard-action-select", "version": 1}', "utf-8")
    with pytest.raises(InputError, match=r"collection\.json: not a collection report"):
        read_document(path, CollectionFile)
