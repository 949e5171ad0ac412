"""The bundled example's lane rules are real: break one and the example's own tests fail.

`examples/pyproject.toml` puts `tests/serial` in a sequential lane (one process, collection
order, never two at once) and runs `tests/storage` once per backend in isolated lanes (one
backend per process). The rest of the suite checks that the planner *keeps* these rules; nothing
else shows that the example would *notice* if they were broken, so a planner bug could pass every
e2e run while the example quietly stopped demonstrating anything. Each test here runs plain
pytest on a copy of the example twice: once with the rule broken (it must fail, and fail for the
reason the rule exists) and once with it kept (it must pass).
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.e2e.conftest import clean_env, copy_examples

pytestmark = pytest.mark.slow

SERIAL = "tests/serial"
STORAGE = "tests/storage"
REPLAY_TEST = "tests/serial/test_journal.py::test_journal_replays_the_receipt_of_the_test_before"
RECEIPT_TEST = "tests/serial/test_journal.py::test_journal_records_a_receipt"
SERIAL_LANE_ENV = {"INVENTORY_JOURNAL": "var/journal.log"}  # the lane's `env` in pyproject.toml
TIMEOUT = 60


def pytest_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]


def example_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    # The example needs nothing but pytest. Not autoloading this venv's other plugins (hypothesis
    # alone costs ~1.5 s of start-up per process) keeps the runs short; plugins these tests need
    # are passed explicitly with `-p`.
    return clean_env({"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **(extra or {})})


def run_pytest(
    project: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        pytest_command(*args),
        cwd=project,
        env=example_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def free_port() -> int:
    """A port nobody listens on now, for `INVENTORY_STATUS_PORT`.

    The example derives its port from the project's path (20000-39999), which overlaps the
    kernel's ephemeral range; a port the kernel just handed out is a safer choice for a test.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def outcome_counts(output: str) -> dict[str, int]:
    """`{"passed": 1, "errors": 15, ...}` from pytest's final summary line."""
    last = output.strip().splitlines()[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", last)}


def test_order_dependent_test_passes_only_in_its_sequential_lane(tmp_path: Path) -> None:
    project = copy_examples(tmp_path / "project")
    env = {**SERIAL_LANE_ENV, "INVENTORY_STATUS_PORT": str(free_port())}

    # Lane rule kept: the whole sequential lane in one process, in collection order.
    lane = run_pytest(project, SERIAL, env=env)
    assert lane.returncode == 0, lane.stdout[-3000:]
    assert outcome_counts(lane.stdout) == {"passed": 7}, lane.stdout[-3000:]

    # Lane rule broken: the test on its own, in a process of its own. The journal file still holds
    # the receipt the run above wrote, in order, just before: the test needs it from *its own*
    # process, so even splitting the lane over processes that keep the order breaks it.
    assert "receipt" in (project / "var" / "journal.log").read_text(encoding="utf-8")
    alone = run_pytest(project, REPLAY_TEST, env=env)
    assert alone.returncode == 1, alone.stdout[-3000:]
    assert outcome_counts(alone.stdout) == {"failed": 1}, alone.stdout[-3000:]
    assert f"FAILED {REPLAY_TEST}" in alone.stdout
    assert "needs test_journal_records_a_receipt to run before it" in alone.stdout


# Started "at the same time", two processes of tests/serial only conflict if their tests overlap:
# the journal test holds its file for 0.3 s between writing and checking it, and the port tests
# hold the port for 0.3-0.5 s. Those pauses are how the example makes the conflict likely, but
# plain start-up (pytest import and collection, ~0.5-1.5 s on a busy CI machine) can drift by more
# than that, and the faster process then also drifts ahead after each failure. So both processes
# load this tiny plugin, which makes every test wait until the twin process has reached the same
# test: each test then starts within milliseconds of its twin, well inside the example's 0.3 s
# windows, and the conflict no longer depends on luck. The plugin changes no test and no state the
# tests see; with one party (the control run) it never waits.
LOCKSTEP_PLUGIN = '''
"""Start each test together with the same test of the other processes (a file barrier)."""

import os
import time
from pathlib import Path

import pytest

FOLDER = Path(os.environ["LOCKSTEP_DIR"])
PARTIES = int(os.environ["LOCKSTEP_PARTIES"])
WAIT = 20.0  # never hang: a missing twin (crashed, different tests) just releases the barrier
_step = 0


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    global _step
    _step += 1
    (FOLDER / f"{_step}.{os.getpid()}").touch()
    deadline = time.monotonic() + WAIT
    while len(list(FOLDER.glob(f"{_step}.*"))) < PARTIES and time.monotonic() < deadline:
        time.sleep(0.002)
'''


def lockstep_env(tmp_path: Path, name: str, parties: int, port: int) -> dict[str, str]:
    plugin_dir = tmp_path / "plugins"
    plugin_dir.mkdir(exist_ok=True)
    (plugin_dir / "lockstep.py").write_text(textwrap.dedent(LOCKSTEP_PLUGIN), encoding="utf-8")
    barrier = tmp_path / f"barrier-{name}"
    barrier.mkdir()
    return {
        **SERIAL_LANE_ENV,
        "PYTHONPATH": str(plugin_dir),
        "LOCKSTEP_DIR": str(barrier),
        "LOCKSTEP_PARTIES": str(parties),
        "INVENTORY_STATUS_PORT": str(port),  # both processes of one checkout: one port
    }


def test_serial_tests_conflict_when_two_processes_run_them_at_once(tmp_path: Path) -> None:
    project = copy_examples(tmp_path / "project")
    port = free_port()

    # Lane rule broken: two processes of the sequential lane at the same time, on one checkout.
    env = example_env(lockstep_env(tmp_path, "twins", 2, port))
    twins = [
        subprocess.Popen(
            pytest_command("-p", "lockstep", SERIAL),
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=TIMEOUT)[0] for proc in twins]
    both = "\n".join(outputs)
    assert any(proc.returncode != 0 for proc in twins), both[-6000:]
    # ... and they fail because of each other, on both shared resources:
    # the port: exactly one of the twins gets each bind, the other is refused;
    assert re.search(r"OSError: \[Errno \d+\] Address already in use", both), both[-6000:]
    # the journal file: a twin's check finds the other twin's receipt in "its" file.
    assert f"FAILED {RECEIPT_TEST}" in both, both[-6000:]
    tokens = set(re.findall(r"'receipt (\d+-\w+)'", both))
    assert len(tokens) == 2, f"expected both twins' receipts in the failure, saw {tokens}"
    # Nothing else failed: every failure is one of the shared-resource tests.
    failed = set(re.findall(r"^(?:FAILED|ERROR) (\S+)", both, re.MULTILINE))
    assert failed, both[-6000:]
    assert all(f.startswith(SERIAL) and "missing_file" not in f for f in failed), failed

    # Lane rule kept: one process alone, same plugin, same port, same journal file: it passes.
    alone = run_pytest(
        project, "-p", "lockstep", SERIAL, env=lockstep_env(tmp_path, "one", 1, port)
    )
    assert alone.returncode == 0, alone.stdout[-3000:]
    assert outcome_counts(alone.stdout) == {"passed": 7}, alone.stdout[-3000:]


# Flips INVENTORY_BACKEND to the other backend right after the first test's body, as a runner that
# mixed two backends' lanes in one process would. Flipping it before that test's teardown hits both
# layers of the example's guard: the library's pin (`BackendSwitched`, raised in the first test's
# teardown) and the storage conftest's check of the variable (every later test, at setup).
SWITCH_PLUGIN = '''
"""Switch the storage backend of this process once, after the first test's call."""

import os

import pytest

OTHER = {"sqlite": "memory", "memory": "sqlite"}
_switched = False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    global _switched
    yield
    if not _switched:
        _switched = True
        os.environ["INVENTORY_BACKEND"] = OTHER[os.environ["INVENTORY_BACKEND"]]
'''


@pytest.mark.parametrize("backend", ["sqlite", "memory"])
def test_storage_tests_fail_when_their_process_switches_backend(
    tmp_path: Path, backend: str
) -> None:
    project = copy_examples(tmp_path / "project")

    # Lane rule kept: one backend for the whole process.
    kept = run_pytest(project, STORAGE, env={"INVENTORY_BACKEND": backend})
    assert kept.returncode == 0, kept.stdout[-3000:]
    assert outcome_counts(kept.stdout) == {"passed": 15}, kept.stdout[-3000:]

    # Lane rule broken: the same tests, the backend switched after the first one.
    plugin_dir = tmp_path / "plugins"
    plugin_dir.mkdir()
    (plugin_dir / "switch_backend.py").write_text(textwrap.dedent(SWITCH_PLUGIN), "utf-8")
    env = {"INVENTORY_BACKEND": backend, "PYTHONPATH": str(plugin_dir)}
    switched = run_pytest(project, "-p", "switch_backend", STORAGE, env=env)
    out = switched.stdout
    assert switched.returncode == 1, out[-3000:]
    other = {"sqlite": "memory", "memory": "sqlite"}[backend]
    assert (
        f"BackendSwitched: this process started with INVENTORY_BACKEND={backend} "
        f"and now sees {other}"
    ) in out, out[-3000:]
    assert f"INVENTORY_BACKEND changed inside this process: {backend!r} at start" in out
    # The first test ran before the switch (and errors at teardown); none of the 14 after it ran.
    assert outcome_counts(out) == {"passed": 1, "errors": 15}, out[-3000:]
