"""pytest plugin for ``shard_overhead.py``: when each pytest process reached each phase.

Loaded with ``-p _shard_probe`` into every pytest process of the benchmark, ours and
pytest-split's alike, so both are timed by the same code. It does nothing unless
``SHARD_BENCH_PROBE`` names a file; then it appends one JSON line per process with
``time.monotonic()`` stamps. On Linux that clock is one clock for the whole machine, so the
benchmark can subtract the stamp it took just before it started the tool's process: start-up is
measured from the moment the CI job would start the tool, not from when pytest was imported.

With ``SHARD_BENCH_PROBE_STOP=1`` the process writes its line when the first test starts and
ends at once (``os._exit``): a start-up run needs nothing after that moment, and ending there
keeps the repeats cheap. The plugin uses only pytest and the standard library.
"""

from __future__ import annotations

import gc
import json
import os
import random
import sys
import time
import zlib
from typing import Any

import pytest

LOADED = time.monotonic()
"""When pytest imported this plugin: the interpreter and pytest are up, nothing is collected."""

PROBE_VAR = "SHARD_BENCH_PROBE"
STOP_VAR = "SHARD_BENCH_PROBE_STOP"
MODULE_VAR = "SHARD_BENCH_MODULE"
SEED_VAR = "SHARD_BENCH_SEED"


def seed_for(nodeid: str) -> None:
    """Seed the global random states from the test's id, before its set-up.

    Some tests draw from the global state (networkx's ``test_kcomponents::test_configuration``
    builds a random graph: 1.1 s in one process, 53 s in another), so without this a test's
    work depends on which tests ran before it in the same process, and two tools that run
    the same test after different neighbours measure luck. pytest-randomly does the same
    (without reordering here). Done in both tools alike.
    """
    random.seed(nodeid)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(zlib.crc32(nodeid.encode("utf-8")))


class Probe:
    def __init__(self, path: str, stop: bool, module: str | None) -> None:
        self.path = path
        self.stop = stop
        self.module = module
        self.collected_items = 0
        self.selected = 0
        self.collected_at: float | None = None
        self.first: float | None = None
        self.last: float | None = None
        self.ids: list[str] = []
        self.outcomes: dict[str, str] = {}
        self.written = False
        self.gc_seconds = 0.0
        self.gc_runs = 0
        self._gc_began: float | None = None
        gc.callbacks.append(self._gc)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        """Time spent in the garbage collector: it walks every tracked object, so a process
        that imported the whole suite pays more per collection than one that imported a shard."""
        if phase == "start":
            self._gc_began = time.perf_counter()
        elif self._gc_began is not None:
            self.gc_seconds += time.perf_counter() - self._gc_began
            self.gc_runs += 1
            self._gc_began = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.collected_items = len(items)  # before any plugin deselects

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collected_at = time.monotonic()
        self.selected = len(session.items)

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        now = time.monotonic()
        if self.first is None:
            self.first = now
            if self.stop:
                self.write()
                os._exit(0)
        self.ids.append(nodeid)

    def pytest_runtest_logfinish(self) -> None:
        self.last = time.monotonic()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.outcomes[report.nodeid] = "failed"
        elif report.skipped and self.outcomes.get(report.nodeid) != "failed":
            self.outcomes[report.nodeid] = "skipped"
        elif report.when == "call" and report.nodeid not in self.outcomes:
            self.outcomes[report.nodeid] = "passed"

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self) -> None:
        self.write()

    def write(self) -> None:
        if self.written:
            return
        self.written = True
        module = sys.modules.get(self.module) if self.module else None
        record: dict[str, Any] = {
            "pid": os.getpid(),
            "loaded": LOADED,
            "collected_at": self.collected_at,
            "collected_items": self.collected_items,
            "selected": self.selected,
            "first": self.first,
            "last": self.last,
            "ids": self.ids,
            "outcomes": self.outcomes,
            "module_file": getattr(module, "__file__", None),
            "finished": time.monotonic(),
            "gc_seconds": round(self.gc_seconds, 6),
            "gc_runs": self.gc_runs,
        }
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """In every process that runs tests (xdist workers too), before any fixture of the test."""
    if os.environ.get(SEED_VAR) == "1":
        seed_for(item.nodeid)


def pytest_configure(config: pytest.Config) -> None:
    path = os.environ.get(PROBE_VAR)
    if path and not hasattr(config, "workerinput"):  # xdist: the controller sees every test
        stop = os.environ.get(STOP_VAR) == "1"
        probe = Probe(path, stop, os.environ.get(MODULE_VAR))
        config.pluginmanager.register(probe, "shard_bench_probe")
