"""pytest plugin for the plan step: write today's tests, their files and markers, as JSON.

Loaded with ``-p shard_action.pytest_collect`` and active only when ``SHARD_ACTION_COLLECT_OUT``
names the output file. ``--collect-only -q`` prints ids but not markers, and its output escapes
non-printable characters; reading ``item.nodeid`` here gives the exact ids the runner will see.
Collection errors are written too, so the plan step can name them instead of planning a suite
with a module silently missing. So are the clock at configure and each file's collection seconds:
on a first run without history they are the plan's estimate of a shard's start-up.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest

from shard_action.core.testids import file_of

OUT_VAR = "SHARD_ACTION_COLLECT_OUT"

_errors: list[dict[str, str]] = []
_clock: dict[str, float] = {}
_began: dict[str, float] = {}
_files: dict[str, float] = {}


def pytest_configure(config: pytest.Config) -> None:
    _clock["configured"] = time.time()


def pytest_collectstart(collector: pytest.Collector) -> None:
    if isinstance(collector, pytest.Module):
        _began[collector.nodeid] = time.perf_counter()


def pytest_collectreport(report: pytest.CollectReport) -> None:
    began = _began.pop(report.nodeid, None)
    if began is not None:
        name = file_of(report.nodeid)
        _files[name] = _files.get(name, 0.0) + time.perf_counter() - began
    if report.failed and os.environ.get(OUT_VAR):
        _errors.append({"node": report.nodeid, "error": str(report.longreprtext)})


def pytest_collection_finish(session: pytest.Session) -> None:
    out = os.environ.get(OUT_VAR)
    if not out:
        return
    items: list[dict[str, Any]] = [
        {
            "id": item.nodeid,
            "file": file_of(item.nodeid),
            "markers": sorted({mark.name for mark in item.iter_markers()}),
        }
        for item in session.items
    ]
    payload = {
        "rootdir": str(session.config.rootpath),
        "items": items,
        "errors": _errors,
        "clock": {**_clock, "collected": time.time()},
        "files": {name: round(seconds, 6) for name, seconds in _files.items()},
    }
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, ensure_ascii=False)
