"""SIGTERM to the CLI (a cancelled GitHub job's second signal, ``timeout``, ``kill``): it stops
like Ctrl-C, ends every process it started, says so in one line and exits 143.

Real processes: ``plan`` and ``local`` on tiny projects whose collection, or test, sleeps and
writes its pid; the signal goes to the CLI's process alone, as a job runner sends it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import alive, clean_env

SLOW_COLLECTION = """\
import os, pathlib, sys, time

if "--collect-only" in sys.argv:  # the plan's collection, not a shard's run
    pathlib.Path(os.environ["PID_FILE"]).write_text(f"{os.getpid()} {os.getppid()}")
    time.sleep(600)
"""

SLOW_TEST = """\
import os, pathlib, time


def test_sleeps():
    pathlib.Path(os.environ["PID_FILE"]).write_text(f"{os.getpid()} {os.getppid()}")
    time.sleep(600)
"""


@contextlib.contextmanager
def _running(
    argv: list[str], project: Path, pid_file: Path
) -> Iterator[tuple[subprocess.Popen[bytes], list[int]]]:
    """The CLI started in a session of its own, once the sleeping pytest wrote its pid and its
    parent's (the CLI itself, or the shard that ran it); whatever is left is killed after."""
    cli = subprocess.Popen(
        argv, cwd=project, env=clean_env({"PID_FILE": str(pid_file)}),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    started: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while not started and time.monotonic() < deadline and cli.poll() is None:
            text = pid_file.read_text() if pid_file.exists() else ""
            started = [int(p) for p in text.split()] if len(text.split()) == 2 else []
            time.sleep(0.1)
        assert started, cli.communicate(timeout=30)[0].decode()[-3000:]
        yield cli, started
    finally:
        for pid in started:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if cli.poll() is None:
            cli.kill()
            cli.wait()


def _project(root: Path, slow: str) -> Path:
    project = root / "project"
    (project / "tests").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n'
    )
    if slow == "collection":
        (project / "tests" / "conftest.py").write_text(SLOW_COLLECTION)
        (project / "tests" / "test_quick.py").write_text("def test_quick():\n    pass\n")
    else:
        (project / "tests" / "test_slow.py").write_text(SLOW_TEST)
    return project


@pytest.mark.parametrize(
    ("command", "slow", "cancel"),
    [
        ("plan", "collection", False),
        ("local", "collection", False),
        ("local", "test", False),
        ("local", "test", True),
    ],
    ids=["plan-collecting", "local-collecting", "local-running-a-shard", "local-cancelled"],
)
def test_sigterm_ends_the_command_and_every_process_it_started(
    tmp_path: Path, command: str, slow: str, cancel: bool
) -> None:
    """``cancel``: as GitHub cancels a job, SIGINT and then SIGTERM while the first one's
    clean-up runs; the second must not cut it short."""
    argv = [sys.executable, "-m", "shard_action", command, "--no-history", "--probe", "0"]
    argv += ["--coverage", "false", "--out", str(tmp_path / "out")]
    with _running(argv, _project(tmp_path, slow), tmp_path / "pid") as (cli, started):
        if cancel:
            cli.send_signal(signal.SIGINT)
            time.sleep(0.3)
        cli.send_signal(signal.SIGTERM)
        output = cli.communicate(timeout=60)[0].decode()
        said = "interrupted" if cancel else "terminated (SIGTERM)"
        assert cli.returncode == (130 if cancel else 143), output[-3000:]
        assert f"shard-action {command}: {said}" in output.splitlines()
        deadline = time.monotonic() + 10
        while any(map(alive, started)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [p for p in started if alive(p)] == [], "a process outlived the CLI"


IGNORING_SIGINT = (  # as a shell's `cmd &`: SIGINT ignored, kept across exec
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "os.execv(sys.executable, [sys.executable, '-m', 'shard_action', *sys.argv[1:]])"
)


def test_a_sigint_the_parent_ignored_stays_ignored(tmp_path: Path) -> None:
    """A shell starts ``shard-action plan &`` with SIGINT ignored: the script's Ctrl-C is not
    for it (Python leaves an ignored SIGINT alone; our handler must too). SIGTERM still ends it."""
    argv = [sys.executable, "-c", IGNORING_SIGINT, "plan", "--no-history", "--probe", "0"]
    argv += ["--out", str(tmp_path / "out")]
    with _running(argv, _project(tmp_path, "collection"), tmp_path / "pid") as (cli, _):
        cli.send_signal(signal.SIGINT)
        time.sleep(2.0)
        assert cli.poll() is None, "an ignored SIGINT ended the command"
        cli.send_signal(signal.SIGTERM)
        output = cli.communicate(timeout=60)[0].decode()
        assert cli.returncode == 143, output[-3000:]
        assert "shard-action plan: interrupted" not in output
