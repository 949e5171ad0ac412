"""pytest plugin for ``shard-action run``: keep exactly the shard's tests and say what happened.

Loaded with ``-p shard_action.pytest_select``; active only when ``SHARD_ACTION_SELECT`` names a
JSON spec written by the runner. The runner passes only the shard's *files* as arguments (so
collection is proportional to the shard); this plugin then deselects every collected item that
is not the shard's, following :func:`shard_action.core.selection.decide` (planned ids, plus the
drifted ids of files this process owns).

Why a plugin and not ``pytest <node ids>``: ids travel through a JSON file, never through argv or
a shell, so ids with spaces, quotes, ``$()``, unicode or ``::`` inside a parameter need no
escaping; ids that do not exist any more are recorded as drift instead of aborting the run with
"not found"; and we learn the exact node id and outcome of every test (JUnit's classname/name
pair cannot always be mapped back).

What it writes (paths come from the spec):

* ``collection``: JSON, right after collection: selected ids in order, drift, collection errors.
* ``events``: JSON lines, appended and flushed as tests run (``start`` and ``result``), so that
  a process killed by a timeout still leaves what it finished and the test it was running; at
  the end a ``clock`` event (wall-clock times of configure, first test start, last test end and
  session end) from which the runner splits the process into start-up, tests and finish.

The collection file also carries each test file's collection seconds (importing the module and
building its items): the planner charges a shard for the files it collects. Each result also
says its set-up and teardown seconds apart: pytest runs a module or class fixture in the set-up
of the scope's first test (and its teardown in the last one's), which ``core.fixtures`` finds;
and the seconds of that set-up that session and package fixtures took (timed one by one), which
are the process's start-up, not the scope's.

Under pytest-xdist the controller writes the events and every worker writes its own collection
file (suffix ``.<worker id>``). The plugin needs nothing but pytest and the standard library,
because it runs in the project's interpreter.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from shard_action.core.selection import (
    COLLECTION_KIND,
    PLUGIN_VERSION,
    SELECT_VAR,
    Selection,
    decide,
)
from shard_action.core.testids import file_of

PLUGIN_NAME = "shard_action_select"


class ShardSelect:
    def __init__(self, config: pytest.Config, spec: dict[str, Any]) -> None:
        self.config = config
        self.selection = Selection.from_json(spec)
        worker = getattr(config, "workerinput", None)
        self.worker: str | None = None if worker is None else str(worker.get("workerid", "w"))
        suffix = "" if self.worker is None else f".{self.worker}"
        self.collection_path = Path(str(spec["collection"]) + suffix)
        self.events_path = Path(str(spec["events"]) + suffix)
        self.memory_mb: int | None = spec.get("memory_mb")
        worker_data = spec.get("worker_coverage")
        self._coverage = (
            _start_coverage(str(worker_data)) if worker_data and self.worker is not None else None
        )
        self.broken: list[dict[str, str]] = []
        self.pending: dict[str, list[Any]] = {}
        self._events: IO[str] | None = None
        self.configured = time.time()
        self.first: float | None = None
        self.last: float | None = None
        self._shared = 0.0  # this test's session and package fixture set-up so far
        self._shared_depth = 0  # one inside another (getfixturevalue) is timed once
        self._collecting: dict[str, float] = {}
        self.files: dict[str, float] = {}

    # -- collection ------------------------------------------------------------------------
    def pytest_collectstart(self, collector: pytest.Collector) -> None:
        if isinstance(collector, pytest.Module):
            self._collecting[collector.nodeid] = time.perf_counter()

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        began = self._collecting.pop(report.nodeid, None)
        if began is not None:
            name = file_of(report.nodeid)
            self.files[name] = self.files.get(name, 0.0) + time.perf_counter() - began
        if report.failed:
            self.broken.append({"node": report.nodeid, "message": report.longreprtext[-4000:]})

    @pytest.hookimpl(trylast=True)  # after -k/-m and other filters: what is left is "collected"
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        broken_files = {file_of(b["node"]) for b in self.broken if b["node"]}
        decision = decide(self.selection, [item.nodeid for item in items], broken_files)
        chosen = set(decision.selected)
        kept = [item for item in items if item.nodeid in chosen]
        if self.selection.ordered:  # workers: longest first, as planned, so xdist's tail is short
            rank = self.selection.rank()
            kept.sort(key=lambda item: rank(item.nodeid))
        dropped = [item for item in items if item.nodeid not in chosen]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = kept
        payload = {
            "kind": COLLECTION_KIND,
            "version": PLUGIN_VERSION,
            "collected": len(chosen) + len(dropped),
            "selected": [item.nodeid for item in kept],
            "unplanned": list(decision.unplanned),
            "missing": list(decision.missing),
            "ignored": list(decision.ignored),
            "errors": self.broken,
            "coverage_core": _coverage_core(),
            "clock": {"configured": self.configured, "collected": time.time()},
            "files": {name: round(seconds, 6) for name, seconds in self.files.items()},
        }
        self.collection_path.write_text(json.dumps(payload, ensure_ascii=False), "utf-8")

    # -- execution -------------------------------------------------------------------------
    def _emit(self, event: dict[str, Any]) -> None:
        if self._events is None:
            self._events = self.events_path.open("a", encoding="utf-8")
        self._events.write(json.dumps(event, ensure_ascii=False) + "\n")
        self._events.flush()

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        if self.worker is None:
            if self.first is None:
                self.first = time.time()
            self._shared = 0.0
            self._emit({"event": "start", "id": nodeid})

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef: pytest.FixtureDef[Any]) -> Iterator[None]:
        """Time the session and package fixtures: a shard pays them once per process."""
        shared = fixturedef.scope in ("session", "package")
        began = time.perf_counter()
        self._shared_depth += shared
        yield
        self._shared_depth -= shared
        if shared and not self._shared_depth:
            self._shared += time.perf_counter() - began

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.worker is not None or report.outcome not in ("passed", "failed", "skipped"):
            return  # workers: the controller reports; other outcomes: e.g. "rerun" of plugins
        state = self.pending.setdefault(report.nodeid, ["passed", 0.0, 0.0, 0.0, 0.0])
        seconds = float(report.duration or 0.0)
        state[1] += seconds
        if report.when in ("setup", "teardown"):  # a scope's fixtures fall here (core.fixtures)
            state[2 if report.when == "setup" else 3] = seconds
        if report.when == "setup":
            state[0] = "error" if report.failed else "skipped" if report.skipped else "passed"
            state[4] = min(self._shared, seconds)
        elif report.when == "call":
            state[0] = "failed" if report.failed else "skipped" if report.skipped else "passed"
        elif report.when == "teardown":
            if report.failed and state[0] in ("passed", "skipped"):
                state[0] = "error"
            del self.pending[report.nodeid]
            self.last = time.time()
            self._emit(
                {
                    "event": "result",
                    "id": report.nodeid,
                    "outcome": state[0],
                    "seconds": state[1],
                    "setup": state[2],
                    "teardown": state[3],
                    "shared": state[4],
                }
            )

    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> None:
        """Under a memory cap, a MemoryError means the cap was hit: stop the process now."""
        if self.memory_mb is None or call.excinfo is None:
            return
        if call.excinfo.errisinstance(MemoryError):
            self._emit({"event": "memory_error", "id": item.nodeid})
            item.session.shouldstop = (
                f"{item.nodeid} exceeded the memory cap of {self.memory_mb} MiB (MemoryError)"
            )

    def pytest_unconfigure(self) -> None:
        if self.worker is None and self.first is not None:
            self._emit(
                {
                    "event": "clock",
                    "configured": self.configured,
                    "first": self.first,
                    "last": self.last if self.last is not None else self.first,
                    "end": time.time(),
                }
            )
        if self._events is not None:
            self._events.close()
            self._events = None
        if self._coverage is not None:
            self._coverage.stop()
            self._coverage.save()
            self._coverage = None


def _start_coverage(data_file: str) -> Any:
    """Measure this xdist worker (``coverage run`` measures only the controller), unless
    something already does (pytest-cov, coverage's own ``patch = subprocess``)."""
    import coverage  # noqa: PLC0415 - only workers of a shard with coverage get here

    if coverage.Coverage.current() is not None:
        return None
    measured = coverage.Coverage(data_file=data_file, data_suffix=True, config_file=True)
    measured.start()
    return measured


def _coverage_core() -> str | None:
    """The core of the coverage.py measuring this process (its ``sys_info``), if one does."""
    if "coverage" not in sys.modules:
        return None
    try:
        import coverage  # noqa: PLC0415 - only a process under coverage gets here

        current = coverage.Coverage.current()
        if current is None:
            return None
        info = dict(current.sys_info())
        core = info.get("core") or info.get("tracer")
    except Exception:  # any coverage.py version: the core is a detail, never a failure
        return None
    return str(core) if core else None


def pytest_configure(config: pytest.Config) -> None:
    spec_path = os.environ.get(SELECT_VAR)
    if not spec_path:
        return
    spec = json.loads(Path(spec_path).read_text("utf-8"))
    config.pluginmanager.register(ShardSelect(config, spec), PLUGIN_NAME)
