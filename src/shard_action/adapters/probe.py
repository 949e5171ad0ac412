"""The first run's probe: run the sample of ``core.probe`` once, bounded by a time budget.

A plan with no timing for any of today's tests (a project's first run) runs a few of its own
tests in one pytest process, as a shard would run them (our selection plugin keeps exactly the
sample and streams each test's time as it ends, so a process stopped at the budget still leaves
what it finished), and keeps what it measured in ``first-run.json`` beside the plan together with
the collection's clock. The plan reads both from that document, never from the clock directly.
With the collection cache on, an unchanged tree reuses the document too, so planning it again
gives the same plan.

It is skipped when it cannot change the plan or cannot run as a shard would: some test has a
timing, ``default-duration`` is set, no test was collected, the plan is one shard anyway
(``core.probe.one_shard_anyway``: no split to weigh), the tests were not collected by pytest
(a list, test files, a ``command`` runner), or ``probe = 0``. Quarantined tests (the plan's
quarantine, read once by ``commands.plan``) are left out of the sample (they are known to
misbehave). A probe any of whose processes failed (named by lane, ``core.probe.merged``) is
written to ``first-run.json`` and said in its line, but not cached, so the next plan tries again.

Each lane's tests run with the lane's ``env`` over the plan job's, as its shards run them
(``adapters.runner.lane_env``; a fan-out lane's first backend value): one process per distinct
``env``, one after the other, sharing the budget. Known limit: no memory cap, no coverage.
"""

from __future__ import annotations

import hashlib
import json
import math
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from shard_action.adapters.collect import Collected
from shard_action.adapters.files import write_text_atomic
from shard_action.adapters.plugin_path import env_for
from shard_action.adapters.runner import TAIL_LINES, kill_group, lane_env, pytest_command
from shard_action.core import probe as core
from shard_action.core.config import Config
from shard_action.core.estimate import Calibration, first_costs
from shard_action.core.lanes import assign_lanes, lane_instances
from shard_action.core.mode import Mode
from shard_action.core.models import Timings
from shard_action.core.prediction import Costs
from shard_action.core.quarantine import Quarantine
from shard_action.core.selection import SELECT_VAR
from shard_action.core.units import count

FILE: Final = "first-run.json"
START_LIMIT: Final = 60.0
"""Seconds the probe's process may take to reach its first test (imports of the sample's
files) before it is stopped with nothing measured."""
POLL: Final = 0.02
"""Seconds between looks at the events file (the cut test's time is this coarse)."""


@dataclass(frozen=True)
class FirstRun:
    """What a plan without history takes from the first-run document (both ``None`` when the
    plan has timings or nothing was measured)."""

    costs: Costs | None = None
    calibration: Calibration | None = None


def first_run(
    config: Config,
    root: Path,
    collected: Collected,
    timings: Timings,
    file_bytes: dict[str, int],
    *,
    mode: Mode,
    quarantine: Quarantine,
    cache: Path | None = None,
    out: Path | None = None,
) -> FirstRun:
    """The first-run document (probing when it is worth it) and what the plan takes from it.

    ``mode``: the plan's (``core.mode.plan_mode``); ``quarantine``: the plan's, whose tests are
    not probed; ``cache``: the collection cache folder (relative to ``root``), where the
    document of an unchanged collection is reused; ``out``: the plan's folder, where it is
    written as ``first-run.json``.
    """
    if collected.times is None:
        return FirstRun()
    clock = core.clock_of(collected.times)
    tests = collected.tests
    probing = (
        config.probe > 0
        and config.command is None
        and config.default_duration is None
        and not config.test_files
        and tests
        and not core.one_shard_anyway(config, mode)
        and not timings.durations
        and not any(timings.by_lane.values())
    )
    probe = None
    if probing:
        lanes: dict[str, list[str]] = {}
        for test, lane in zip(tests, assign_lanes(config, tests), strict=True):
            if quarantine.covers(test.id, lane) is None:
                lanes.setdefault(lane, []).append(test.id)
        envs: dict[str, dict[str, str]] = {}
        for instance in lane_instances(config):  # a fan-out lane: as its first value runs
            envs.setdefault(instance.base, instance.env)
        ids = core.sample(lanes)
        runs = core.runs(lanes, ids, envs)
        key = _key(config, clock, ids, [env for env, _ in runs])
        stored = None if cache is None else root / cache / f"probe-{key[:32]}.json"
        probe = None if stored is None else _cached(stored)
        if probe is None:
            probe = probe_runs(config, root, runs, config.probe, lanes)
            if stored is not None and probe.problem is None:  # a lane's failure is not a result
                write_text_atomic(stored, probe.model_dump_json())
    document = core.FirstRunFile(collection=clock, probe=probe)
    if out is not None:
        write_text_atomic(out / FILE, document.model_dump_json(indent=1) + "\n")
    calibration = core.calibration(document, tests, file_bytes)
    if probe is not None:
        print(_told(probe, calibration))
    return FirstRun(
        costs=first_costs(core.collection_of(document), coverage=config.coverage),
        calibration=calibration,
    )


def _told(probe: core.ProbeTimes, calibration: Calibration | None) -> str:
    if calibration is None:
        why = probe.problem or "no test took measurable time"
        return f"first-run probe: nothing measured ({why}); estimates from source size alone"
    failed = "" if probe.problem is None else f"; failed: {probe.problem}; not cached"
    if calibration.unused is not None:
        return (
            f"first-run probe: not used ({calibration.unused}{failed}); "
            "estimates from source size alone"
        )
    return (
        f"first-run probe (no history): timed {count(calibration.tests, 'test')} in "
        f"{calibration.measured:.2g} s, estimates scaled x{calibration.factor:.3g} "
        f"(probe = 0 turns it off){failed}"
    )


def _key(
    config: Config,
    clock: core.CollectionClock | None,
    ids: list[str],
    envs: list[dict[str, str]],
) -> str:
    """What a stored probe must match: the sample, the collection's clock (the same only for
    the same cached collection), the budget and how the tests run (the lanes' ``env`` too)."""
    parts = {
        "sample": ids,
        "envs": envs,
        "clock": None if clock is None else clock.model_dump(),
        "budget": config.probe,
        "python": config.python,
        "pytest_args": config.pytest_args,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def _cached(stored: Path) -> core.ProbeTimes | None:
    """A stored probe; a damaged one, or one with a problem (none is stored), is just a miss."""
    try:
        text = stored.read_text("utf-8")
        probe = core.ProbeTimes.model_validate_json(text)
    except (OSError, ValueError):
        return None
    return None if probe.problem else probe


def probe_runs(
    config: Config,
    root: Path,
    runs: list[tuple[dict[str, str], list[str]]],
    budget: float,
    lanes: Mapping[str, list[str]],
) -> core.ProbeTimes:
    """Each of ``runs`` (a lane ``env`` and its tests, ``core.probe.runs`` of ``lanes``) in its
    own process, in turn, sharing ``budget``: what one measured is gone from the next one's.

    A failing process is not bounded by what is left of the budget: the budget counts test
    time, and the imports before a first test (``START_LIMIT``) can take longer than all of it
    on a heavy suite; a process that exits costs its start-up, one that hangs ``START_LIMIT``."""
    parts: list[core.ProbeTimes] = []
    left = budget
    for env, ids in runs:
        if left <= 0:
            break
        part = run_probe(config, root, ids, left, env=env)
        parts.append(part)
        left -= math.fsum(part.seconds.values()) + math.fsum(part.cut.values())
    return core.merged(budget, [t for _, ids in runs for t in ids], parts, lanes)


def run_probe(
    config: Config,
    root: Path,
    ids: list[str],
    budget: float,
    *,
    env: Mapping[str, str] | None = None,
) -> core.ProbeTimes:
    """Run ``ids`` in one pytest process in ``root`` for at most ``budget`` seconds of tests,
    with the lane ``env`` (``lane_env``) over ours."""
    empty = core.ProbeTimes(budget=budget, sample=ids)
    if not ids:
        return empty
    python = config.python or sys.executable  # as the collection runs it
    files = list(dict.fromkeys(i.split("::", 1)[0] for i in ids))
    with tempfile.TemporaryDirectory(prefix="shard-action-probe-") as tmp:
        scratch = Path(tmp)
        events = scratch / "events.jsonl"
        spec = {
            "keep": ids,
            "known": [],
            "owned_files": [],
            "collection": str(scratch / "collection.json"),
            "events": str(events),
        }
        (scratch / "select.json").write_text(json.dumps(spec), "utf-8")
        run_env = env_for(python, lane_env(env or {}), scratch)
        run_env[SELECT_VAR] = str(scratch / "select.json")
        args = [*config.pytest_args, "-q", "-p", "no:cacheprovider"]
        command = pytest_command(
            python, files, junit=scratch / "junit.xml", coverage=False, sequential=True, args=args
        )
        stderr = scratch / "stderr.txt"
        try:
            with stderr.open("wb") as err:
                proc = subprocess.Popen(
                    command, cwd=root, env=run_env, stdout=subprocess.DEVNULL, stderr=err,
                    start_new_session=True,
                )  # fmt: skip
        except OSError as exc:
            return empty.model_copy(update={"problem": f"cannot start pytest: {exc}"})
        try:
            seconds, cut, problem = _watch(proc, events, budget)
        except BaseException:  # Ctrl-C or SIGTERM of the plan (cli): nothing may outlive it
            _stop(proc)
            raise
        finally:
            kill_group(proc.pid, signal.SIGKILL)  # stray children of a finished pytest
        if problem is not None and (tail := _tail(stderr)):
            problem = f"{problem}: {' | '.join(tail)}"
    return core.ProbeTimes(
        budget=budget,
        sample=ids,
        seconds={k: core.quantised(v) for k, v in seconds.items()},
        cut={k: core.quantised(v) for k, v in cut.items()},
        problem=problem,
    )


def _watch(
    proc: subprocess.Popen[bytes], events: Path, budget: float
) -> tuple[dict[str, float], dict[str, float], str | None]:
    """Follow the events file until the process ends or the budget is spent; then stop it.

    Returns (finished tests' seconds, the running test's seconds so far, a problem)."""
    started = time.monotonic()
    seconds: dict[str, float] = {}
    running: dict[str, float] = {}
    first: float | None = None
    offset = 0
    problem = None
    while True:
        done = proc.poll() is not None
        try:
            with events.open("rb") as handle:
                handle.seek(offset)
                chunk = handle.read()
        except FileNotFoundError:
            chunk = b""
        complete = chunk[: chunk.rfind(b"\n") + 1]
        offset += len(complete)
        now = time.monotonic()
        for line in complete.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            kind, test_id = event.get("event"), str(event.get("id"))
            if kind == "start":
                running[test_id] = now
                first = now if first is None else first
            elif kind == "result":
                running.pop(test_id, None)
                value = event.get("seconds")
                if isinstance(value, int | float) and value >= 0:
                    seconds[test_id] = float(value)
        if done:
            break
        over = (first is not None and now - first > budget) or (
            first is None and now - started > START_LIMIT
        )
        if over:
            _stop(proc)
            if first is None:
                problem = f"no test started within {START_LIMIT:.0f} s"
            break
        time.sleep(POLL)
    now = time.monotonic()
    cut = {test_id: now - began for test_id, began in running.items()}
    if first is None and problem is None:
        problem = f"pytest ended (exit {proc.returncode}) before any test ran"
    return seconds, cut, problem


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End the probe's process group (pytest and anything its tests started)."""
    kill_group(proc.pid, signal.SIGKILL)
    proc.wait()


def _tail(stderr: Path) -> list[str]:
    """pytest's last non-blank stderr lines: the cause of a probe that ran nothing (printed
    through the command-safe stream of ``cli``, so a line cannot become a workflow command)."""
    try:
        text = stderr.read_bytes()[-8192:].decode("utf-8", "replace")
    except OSError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip()][-TAIL_LINES:]
