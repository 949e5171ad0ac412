"""Running test processes: pytest with our selection plugin, or any runner from a template.

Every process gets a session (process group) of its own, so a timeout kills the runner *and*
whatever it started (servers, browsers, workers). The memory cap is an ``RLIMIT_AS`` set in the
child just before it becomes the runner: a tiny ``python -S -c`` trampoline sets the limit and
``exec``s, because ``preexec_fn`` is unsafe when the caller has threads (``shard-action local``).

Nothing here goes through a shell: argv lists only, test ids travel in a JSON file.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path

from shard_action.adapters.coverage_facts import coverage_config_texts
from shard_action.adapters.documents import read_document
from shard_action.adapters.plugin_path import env_for
from shard_action.core.coverage_core import core_name
from shard_action.core.outcomes import Outcome, worse
from shard_action.core.plugin_files import (
    EVENT,
    ClockEvent,
    CollectionFile,
    ResultEvent,
    SelectFile,
    StartEvent,
)
from shard_action.core.process_report import (
    Clock,
    Collection,
    ProcessResult,
    PytestReport,
    TestResult,
)
from shard_action.core.resolver import Resolver
from shard_action.core.results import JUnitReport
from shard_action.core.selection import SELECT_VAR, Selection
from shard_action.core.workers import runs_xdist

PLUGIN = "shard_action.pytest_select"
GRACE_SECONDS = 5.0
"""After a timeout: SIGINT first (pytest then writes its JUnit and coverage saves its data),
SIGKILL to the whole group if it is still alive this many seconds later."""

_LIMIT_TRAMPOLINE = (
    "import os, resource, sys\n"
    "limit = int(sys.argv[1]) * 1024 * 1024\n"
    "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


TAIL_LINES = 5
"""How many of the last stderr lines a process result keeps: enough for a traceback's verdict."""


def lane_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment of a lane's test process: ours with the lane's ``env`` over it (a
    fan-out lane's backend variable is in it). A shard adds who it is (``adapters.slices``);
    the first-run probe runs the lanes whose ``env`` is the same in one process."""
    return {**os.environ, **env}


def usable_cpus() -> int | None:
    """The CPUs this process may run on (its affinity mask: a container's or ``taskset``'s
    limit), as Python 3.13's ``os.process_cpu_count``; ``None`` when unknown. ``auto`` workers
    and ``local``'s shards at once read this, not every CPU of the host."""
    try:
        return len(os.sched_getaffinity(0)) or None
    except (AttributeError, OSError):  # no affinity on this platform (macOS)
        return os.cpu_count()


def kill_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float | None = None,
    memory_mb: int | None = None,
    grace: float = GRACE_SECONDS,
) -> ProcessResult:
    """Run one process in its own group, within the time and memory limits given.

    Whatever happens (normal exit, timeout, our own interruption), nothing of the group is left
    running afterwards.
    """
    command = list(argv)
    if memory_mb is not None:
        command = [sys.executable, "-S", "-c", _LIMIT_TRAMPOLINE, str(memory_mb), *command]
    began = time.time()
    started = time.monotonic()
    proc = subprocess.Popen(
        command, cwd=cwd, env=dict(env), start_new_session=True, stderr=subprocess.PIPE
    )
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    relay = threading.Thread(target=_relay_stderr, args=(proc, tail), daemon=True)
    relay.start()
    timed_out = False
    try:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_group(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                kill_group(proc.pid, signal.SIGKILL)
                proc.wait()
    except BaseException:
        kill_group(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    finally:
        kill_group(proc.pid, signal.SIGKILL)  # stray children of a finished runner
        relay.join(timeout=grace)
    return ProcessResult(proc.returncode, time.monotonic() - started, timed_out, tuple(tail), began)


def _relay_stderr(proc: subprocess.Popen[bytes], tail: deque[str]) -> None:
    """Pass the child's stderr on to ours unchanged, line by line, keeping the last lines.

    The log still shows everything as it comes; the tail lets a shard that stops before its
    tests say why in one line (the cause), instead of pointing at "its output above", which a
    report read elsewhere does not have.
    """
    assert proc.stderr is not None
    with proc.stderr:
        for line in iter(proc.stderr.readline, b""):
            with contextlib.suppress(OSError):
                os.write(2, line)
            text = line.decode("utf-8", "replace").strip()
            if text:
                tail.append(text)


# -- pytest ------------------------------------------------------------------------------------


def pytest_command(
    python: str,
    files: Sequence[str],
    *,
    junit: Path,
    coverage: bool,
    sequential: bool,
    args: Sequence[str] = (),
    workers: int | None = None,
    load_xdist: bool = False,
) -> list[str]:
    """The argv of one pytest process. Files come last, after ``--``, as pytest arguments.

    ``workers`` (never for a sequential run): pytest-xdist's ``-n``, handing tests out in the
    order the plugin leaves them (``--dist load``); ``load_xdist`` names the plugin for a run
    with plugin autoloading off (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``).
    """
    command = [python, "-m"]
    if coverage:
        command += ["coverage", "run", "--parallel-mode", "-m"]
    command += ["pytest", "-p", PLUGIN, f"--junitxml={junit}", "-o", "junit_family=xunit1"]
    if sequential:  # one process, in collection order
        command += ["-p", "no:xdist", "-p", "no:randomly"]
    elif workers is not None and workers > 1:
        command += [*(["-p", "xdist.plugin"] if load_xdist else []), "-n", str(workers)]
        command += ["--dist", "load"]
    command += [*args, "--", *files]
    return command


def _read_collection(path: Path) -> Collection | None:
    parts = sorted(path.parent.glob(path.name + "*"))
    if not parts:
        return None
    selected: dict[str, None] = {}
    unplanned: dict[str, None] = {}
    missing: dict[str, None] = {}
    ignored: dict[str, None] = {}
    errors: dict[tuple[str, str], None] = {}
    core: str | None = None
    files: dict[str, float] = {}
    for part in parts:  # several only under xdist: one per worker, normally identical
        data = read_document(part, CollectionFile)
        selected.update(dict.fromkeys(data.selected))
        unplanned.update(dict.fromkeys(data.unplanned))
        missing.update(dict.fromkeys(data.missing))
        ignored.update(dict.fromkeys(data.ignored))
        errors.update(dict.fromkeys((e.node, e.message) for e in data.errors))
        core = core or data.coverage_core
        for name, seconds in data.files.items():  # workers: the first one's
            files.setdefault(name, seconds)
    return Collection(
        tuple(selected),
        tuple(unplanned),
        tuple(missing),
        tuple(ignored),
        tuple(errors),
        core_name(core),
        tuple(files.items()),
    )


def _read_events(path: Path) -> tuple[list[TestResult], str | None, list[str], Clock | None]:
    results: list[TestResult] = []
    started: dict[str, None] = {}
    memory: list[str] = []
    clock: Clock | None = None
    for part in sorted(path.parent.glob(path.name + "*")):
        for line in part.read_text("utf-8").splitlines():
            try:
                event = EVENT.validate_json(line)
            except ValueError:
                continue  # the last line of a killed process may be cut short
            if isinstance(event, StartEvent):
                started[event.id] = None
            elif isinstance(event, ResultEvent):
                started.pop(event.id, None)
                results.append(
                    TestResult(
                        event.id,
                        event.outcome,
                        event.seconds,
                        event.setup,
                        event.teardown,
                        event.shared,
                    )
                )
            elif isinstance(event, ClockEvent):
                clock = Clock(event.configured, event.first, event.last, event.end)
            else:
                memory.append(event.id)
    running = next(iter(started), None)
    return results, running, memory, clock


def run_pytest(
    *,
    python: str,
    selection: Selection,
    files: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    junit: Path,
    workdir: Path,
    coverage_file: Path | None,
    sequential: bool,
    args: Sequence[str] = (),
    timeout: float | None = None,
    memory_mb: int | None = None,
    workers: int | None = None,
) -> PytestReport:
    """One pytest process over ``files`` that keeps only ``selection``; ``workdir`` is ours.

    With ``workers`` and coverage, ``coverage run`` measures the controller and the plugin
    measures each xdist worker into the same parts folder (``worker_coverage``).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    spec_path = workdir / "select.json"
    collection_path = workdir / "collection.json"
    events_path = workdir / "events.jsonl"
    parallel = runs_xdist(workers, sequential=sequential)
    spec = SelectFile.of(
        selection,
        collection=str(collection_path),
        events=str(events_path),
        memory_mb=memory_mb,
        worker_coverage=str(coverage_file) if coverage_file is not None and parallel else None,
    )
    spec_path.write_text(spec.model_dump_json(), "utf-8")
    run_env = env_for(python, env, workdir)
    run_env[SELECT_VAR] = str(spec_path)
    if coverage_file is not None:
        coverage_file.parent.mkdir(parents=True, exist_ok=True)
        run_env["COVERAGE_FILE"] = str(coverage_file)
    command = pytest_command(
        python,
        files,
        junit=junit,
        coverage=coverage_file is not None,
        sequential=sequential,
        args=args,
        workers=workers if parallel else None,
        load_xdist=bool(run_env.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")),
    )
    process = run_process(command, cwd=cwd, env=run_env, timeout=timeout, memory_mb=memory_mb)
    results, running, memory, clock = _read_events(events_path)
    return PytestReport(
        process=process,
        collection=_read_collection(collection_path),
        results=tuple(results),
        running=running,
        memory_errors=tuple(memory),
        clock=clock,
        xdist=parallel,
    )


def remaps_paths(cwd: Path, env: Mapping[str, str]) -> bool:
    """Whether the project's coverage configuration may hold ``[paths]`` aliases.

    Only ``coverage combine`` applies them, so a shard with such a section combines even a single
    data file. A textual look, erring towards "yes": any coverage config that mentions paths.
    """
    for name, text in coverage_config_texts(cwd, env):
        if ("paths" in text) if name == "pyproject.toml" else ("paths]" in text):
            return True
    return False


def save_coverage(
    python: str, parts: Path, out: Path, *, cwd: Path, env: Mapping[str, str]
) -> str | None:
    """The shard's data in ``out``: one process's file moved there, several combined.

    Moving saves a ``coverage combine`` process per shard (0.15-0.3 s; the report combines the
    shards anyway); a ``[paths]`` section still goes through :func:`combine_coverage`.
    """
    files = sorted(p for p in parts.glob(".coverage*") if p.is_file())
    if len(files) == 1 and not remaps_paths(cwd, env):
        out.unlink(missing_ok=True)
        shutil.move(str(files[0]), str(out))
        return None
    return combine_coverage(python, parts, out, cwd=cwd)


def combine_coverage(python: str, parts: Path, out: Path, *, cwd: Path) -> str | None:
    """Combine a shard's parallel data files into ``out``; an error message, or ``None``.

    Run with the project's interpreter and in the project's folder, so its coverage.py version
    writes the data and its configuration (``[paths]``, ``relative_files``) applies.
    """
    files = sorted(str(p) for p in parts.glob(".coverage*") if p.is_file())
    if not files:
        return "no coverage data was written"
    proc = subprocess.run(
        [python, "-m", "coverage", "combine", "--quiet", f"--data-file={out}", *files],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or not out.is_file():
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-5:]
        return f"coverage combine failed (exit {proc.returncode}): {' '.join(tail)}"
    return None


# -- other runners -----------------------------------------------------------------------------


def render_command(
    template: str,
    *,
    files: Sequence[str],
    tests: Sequence[str],
    junit_path: Path,
    shard: str,
    lane: str,
    python: str,
) -> list[str]:
    """Render a command template into argv; every value arrives shell-quoted, once.

    The template is then split like a shell would, but never run by one: ``$()``, ``;`` and
    backticks inside a test id stay characters of an argument. A sandboxed Jinja2 environment
    keeps a template from reaching Python internals. Raises ``ValueError`` with the reason.
    """
    import jinja2  # noqa: PLC0415 - only command-template runners pay for the import
    import jinja2.sandbox  # noqa: PLC0415

    environment = jinja2.sandbox.SandboxedEnvironment(
        undefined=jinja2.StrictUndefined, autoescape=False
    )
    try:
        text = environment.from_string(template).render(
            files=shlex.join(files),
            tests=shlex.join(tests),
            junit_path=shlex.quote(str(junit_path)),
            shard=shlex.quote(shard),
            lane=shlex.quote(lane),
            python=shlex.quote(python),
        )
    except jinja2.TemplateError as exc:
        raise ValueError(f"command template: {exc}") from exc
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise ValueError(f"command template renders to {text!r}: {exc}") from exc
    if not argv:
        raise ValueError("command template renders to an empty command")
    return argv


def outcomes_from_junit(
    report: JUnitReport, ids: Sequence[str], *, root: Path
) -> dict[str, Outcome]:
    """Outcome per planned id that the report's cases name (:class:`Resolver`).

    An id's outcome is the worst of its cases (skipped only when all were); an id no case names
    is absent: the caller counts it as not run, never as passed.
    """
    index = Resolver(ids, str(root.resolve()))
    found: dict[str, Outcome] = {}
    for test_id, cases in index.matched(report.cases).items():
        outcome = cases[0].outcome
        for case in cases[1:]:
            outcome = worse(outcome, case.outcome)
        found[test_id] = outcome
    return found
