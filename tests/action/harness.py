"""Run ``action.yml`` the way a GitHub runner does, on this machine.

Every ``run:`` step is executed for real with ``bash --noprofile --norc -eo pipefail``, in its
``working-directory``, with the environment GitHub gives it and the file protocol for
``GITHUB_OUTPUT``, ``GITHUB_ENV``, ``GITHUB_PATH`` and ``GITHUB_STEP_SUMMARY`` (a fresh file per
step, read back afterwards). ``${{ }}`` in ``env:``, ``with:``, ``working-directory:``, ``if:`` and
the outputs is evaluated by :mod:`tests.action.expressions`; a ``run:`` script is handed to bash
exactly as written.

Only the ``uses:`` steps are stood in for, by what they do to files: upload-artifact copies
into the run's artifact store (skipping hidden files unless ``include-hidden-files``, finding the
root the way the real action does), download-artifact copies back (one by name, or by
``pattern`` with ``merge-multiple``, or from another run with ``run-id``), and actions/cache is a
miss. An unknown action is an error, so a new ``uses:`` cannot slip past the harness.

Attempts ("Re-run failed jobs") are modelled as download-artifact v8 and GitHub behave: without
``github-token`` a download sees only the artifacts of the job's own attempt (the runtime
service is attempt-scoped); with it (the REST API) it sees every attempt's, and of two artifacts
with one name it gets one of them, not necessarily the newer (artifact ids are not ordered by
attempt): the harness hands out the older, the worst case. A pattern that matches nothing
downloads nothing and succeeds; a single match without ``merge-multiple`` lands in ``path``
itself, several each in a folder named after the artifact.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.action.expressions import condition, interpolate

REPO_ROOT = Path(__file__).resolve().parents[2]
ACTION_FILE = REPO_ROOT / "action.yml"
_ARTIFACT_NAME_BAD = re.compile(r'["\:<>|*?\r\n\\/]')
#: Variables of the machine running the tests that must not leak into a simulated job.
_DROP_PREFIXES = ("GITHUB_", "RUNNER_", "INPUT_", "SHARD_ACTION_", "PYTEST_", "ACTIONS_", "COV_")


class HarnessError(Exception):
    """The action did something the real runner would refuse (or the harness cannot follow)."""


def load_action(path: Path = ACTION_FILE) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text("utf-8"))
    if not isinstance(data, dict):
        raise HarnessError(f"{path} is not a mapping")
    return data


@dataclass(frozen=True)
class Upload:
    """One artifact as GitHub keeps it: a name within one attempt of the run."""

    name: str
    attempt: int
    path: Path


@dataclass
class WorkflowRun:
    """One workflow run: its id, its current attempt and the artifacts its jobs uploaded.

    ``artifacts`` maps a name to the folder of its newest upload (what a test inspects);
    ``uploads`` keeps every attempt's, which is what downloads choose from.
    """

    id: int
    store: Path
    artifacts: dict[str, Path] = field(default_factory=dict)
    uploads: list[Upload] = field(default_factory=list)
    attempt: int = 1
    lock: threading.Lock = field(default_factory=threading.Lock)

    def artifact(self, name: str) -> Path:
        return self.artifacts[name]

    def rerun(self) -> None:
        """ "Re-run failed jobs": jobs started from now on belong to the next attempt."""
        self.attempt += 1


@dataclass
class Runs:
    """Every run the simulated GitHub knows, so ``run-id`` downloads can find another run's."""

    root: Path
    runs: dict[int, WorkflowRun] = field(default_factory=dict)
    next_id: int = 9000

    def new(self) -> WorkflowRun:
        self.next_id += 1
        run = WorkflowRun(self.next_id, self.root / f"run-{self.next_id}")
        run.store.mkdir(parents=True)
        self.runs[run.id] = run
        return run


@dataclass
class Job:
    """What one job of a workflow run looks like from inside the action."""

    run: WorkflowRun
    runs: Runs
    workspace: Path
    temp: Path
    event_name: str
    event: dict[str, Any]
    ref: str
    repository: str = "octo/app"
    workflow: str = "tests"
    workflow_path: str = ".github/workflows/tests.yml"
    """The workflow file, as in ``GITHUB_WORKFLOW_REF``; the fake GitHub's runs default to it."""
    sha: str = "a" * 40
    token: str = "ghs_harness_token"
    api_url: str = "http://127.0.0.1:9/api"
    env: dict[str, str] = field(default_factory=dict)
    """The job's ``env:`` (and whatever the workflow's earlier steps exported)."""
    attempt: int = 0
    """The run attempt this job belongs to (``github.run_attempt``); 0: the run's current one."""

    def __post_init__(self) -> None:
        if self.attempt == 0:
            self.attempt = self.run.attempt


@dataclass
class StepRecord:
    name: str
    id: str | None
    kind: str
    outcome: str
    conclusion: str
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    exported: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class ActionResult:
    outputs: dict[str, str]
    steps: list[StepRecord]
    summary: str
    failed: bool

    def step(self, name: str) -> StepRecord:
        for record in self.steps:
            if record.name == name or record.id == name:
                return record
        raise KeyError(f"no step {name!r}: {[s.name for s in self.steps]}")

    @property
    def log(self) -> str:
        parts = []
        for record in self.steps:
            parts.append(
                f"== {record.name} [{record.kind}: {record.outcome}, {record.seconds:.1f}s]"
            )
            parts += [record.stdout, record.stderr]
        return "\n".join(p for p in parts if p)


def read_file_commands(path: Path) -> dict[str, str]:
    """``name=value`` and ``name<<DELIM`` blocks, as GitHub reads GITHUB_OUTPUT/GITHUB_ENV."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    lines = path.read_text("utf-8").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            continue
        heredoc = re.match(r"^([^=<]+)<<(.+)$", line)
        if heredoc:
            name, delimiter = heredoc.group(1), heredoc.group(2)
            body: list[str] = []
            while i < len(lines) and lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise HarnessError(f"{path}: no closing {delimiter!r} for {name!r}")
            i += 1
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        else:
            raise HarnessError(f"{path}: cannot read the line {line!r}")
    return values


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _copy_tree(source: Path, dest: Path) -> int:
    copied = 0
    for path in sorted(source.rglob("*")):
        if path.is_file():
            target = dest / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            copied += 1
    return copied


class ActionRunner:
    """Runs one invocation of the composite action (one ``uses:`` step of a job)."""

    def __init__(self, action_dir: Path = REPO_ROOT, *, timeout: float = 600) -> None:
        self.action_dir = action_dir
        self.action = load_action(action_dir / "action.yml")
        self.timeout = timeout

    # -- contexts ---------------------------------------------------------------------------
    def _github(self, job: Job) -> dict[str, Any]:
        return {
            "event_name": job.event_name,
            "event": job.event,
            "ref": job.ref,
            "ref_name": job.ref.rsplit("/", 1)[-1],
            "sha": job.sha,
            "repository": job.repository,
            "workflow": job.workflow,
            "workflow_ref": self._workflow_ref(job),
            "run_id": str(job.run.id),
            "run_attempt": str(job.attempt),
            "token": job.token,
            "workspace": str(job.workspace),
            "action_path": str(self.action_dir),
            "api_url": job.api_url,
            "server_url": "https://github.example",
        }

    @staticmethod
    def _workflow_ref(job: Job) -> str:
        return f"{job.repository}/{job.workflow_path}@{job.ref}"

    def _base_env(self, job: Job, event_path: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP_PREFIXES)}
        env.pop("VIRTUAL_ENV", None)
        env.update(
            {
                "CI": "true",
                "GITHUB_ACTIONS": "true",
                "GITHUB_WORKSPACE": str(job.workspace),
                "GITHUB_ACTION_PATH": str(self.action_dir),
                "GITHUB_EVENT_NAME": job.event_name,
                "GITHUB_EVENT_PATH": str(event_path),
                "GITHUB_REPOSITORY": job.repository,
                "GITHUB_REF": job.ref,
                "GITHUB_SHA": job.sha,
                "GITHUB_RUN_ID": str(job.run.id),
                "GITHUB_RUN_ATTEMPT": str(job.attempt),
                "GITHUB_WORKFLOW": job.workflow,
                "GITHUB_WORKFLOW_REF": self._workflow_ref(job),
                "GITHUB_API_URL": job.api_url,
                "GITHUB_SERVER_URL": "https://github.example",
                "RUNNER_TEMP": str(job.temp),
                "RUNNER_OS": "Linux",
                "RUNNER_ARCH": "X64",
            }
        )
        env.update(job.env)
        return env

    # -- running ------------------------------------------------------------------------------
    def run(self, inputs: Mapping[str, str], job: Job) -> ActionResult:
        declared: dict[str, Any] = self.action.get("inputs", {})
        unknown = set(inputs) - set(declared)
        if unknown:
            raise HarnessError(f"inputs the action does not declare: {sorted(unknown)}")
        job.temp.mkdir(parents=True, exist_ok=True)
        job.workspace.mkdir(parents=True, exist_ok=True)
        event_path = job.temp / "_event.json"
        event_path.write_text(json.dumps(job.event), "utf-8")
        github = self._github(job)
        values: dict[str, str] = {}
        for name, spec in declared.items():
            if name in inputs:
                values[name] = inputs[name]
            else:
                default = str((spec or {}).get("default", ""))
                values[name] = interpolate(default, {"github": github})
        job_env = self._base_env(job, event_path)
        # The env context holds what the workflow set (and GITHUB_ENV), not the machine's.
        env_ctx = dict(job.env)
        steps_ctx: dict[str, dict[str, Any]] = {}
        records: list[StepRecord] = []
        summary: list[str] = []
        failed = False
        for index, step in enumerate(self.action["runs"]["steps"]):
            name = step.get("name") or step.get("uses") or f"step {index}"
            status = {
                "success": not failed,
                "failure": failed,
                "always": True,
                "cancelled": False,
            }
            context = {
                "inputs": values,
                "github": github,
                "env": dict(env_ctx),
                "steps": steps_ctx,
                "runner": {"temp": str(job.temp), "os": "Linux", "arch": "X64"},
            }
            if not condition(step.get("if"), context, status):
                record = StepRecord(name, step.get("id"), "skipped", "skipped", "skipped")
                records.append(record)
                if step.get("id"):
                    steps_ctx[step["id"]] = {"outputs": {}, "outcome": "skipped",
                                             "conclusion": "skipped"}  # fmt: skip
                continue
            started = time.monotonic()
            if "run" in step:
                record = self._run_step(step, name, context, job_env, job, summary)
                env_ctx.update(record.exported)
            else:
                record = self._uses_step(step, name, context, job)
            record.seconds = time.monotonic() - started
            if os.environ.get("SHARD_ACTION_HARNESS_LOG"):  # timing each step, when debugging
                print(f"[harness] {job.temp.parent.name}: {name}: {record.outcome}, "
                      f"{record.seconds:.1f}s", file=sys.stderr)  # fmt: skip
            if record.outcome == "failure" and step.get("continue-on-error") in (True, "true"):
                record.conclusion = "success"
            if record.conclusion == "failure":
                failed = True
            records.append(record)
            if step.get("id"):
                steps_ctx[step["id"]] = {
                    "outputs": record.outputs,
                    "outcome": record.outcome,
                    "conclusion": record.conclusion,
                }
        final = {
            "inputs": values,
            "github": github,
            "env": env_ctx,
            "steps": steps_ctx,
            "runner": {"temp": str(job.temp)},
        }
        outputs = {
            name: interpolate(str(spec.get("value", "")), final)
            for name, spec in self.action.get("outputs", {}).items()
        }
        return ActionResult(outputs, records, "".join(summary), failed)

    def _run_step(
        self,
        step: dict[str, Any],
        name: str,
        context: dict[str, Any],
        job_env: dict[str, str],
        job: Job,
        summary: list[str],
    ) -> StepRecord:
        if step.get("shell") != "bash":
            raise HarnessError(f"step {name!r}: composite run steps need shell: bash")
        script = step["run"]
        if "${{" in script:
            raise HarnessError(f"step {name!r}: ${{{{ }}}} inside run: (use env:)")
        env = dict(job_env)
        for key, value in (step.get("env") or {}).items():
            env[key] = interpolate(str(value), context)
        workdir = job.workspace
        if step.get("working-directory"):
            workdir = job.workspace / interpolate(str(step["working-directory"]), context)
        files_dir = Path(tempfile.mkdtemp(prefix="step-", dir=job.temp))
        files = {
            "GITHUB_OUTPUT": files_dir / "output",
            "GITHUB_ENV": files_dir / "env",
            "GITHUB_PATH": files_dir / "path",
            "GITHUB_STEP_SUMMARY": files_dir / "summary",
        }
        for var, path in files.items():
            path.touch()
            env[var] = str(path)
        script_path = files_dir / "script.sh"
        script_path.write_text(script, "utf-8")
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_path)],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=self.timeout,
            check=False,
        )
        outputs = read_file_commands(files["GITHUB_OUTPUT"])
        exported = read_file_commands(files["GITHUB_ENV"])
        job_env.update(exported)
        for line in files["GITHUB_PATH"].read_text("utf-8").splitlines():
            if line.strip():
                job_env["PATH"] = f"{line.strip()}{os.pathsep}{job_env.get('PATH', '')}"
        summary.append(files["GITHUB_STEP_SUMMARY"].read_text("utf-8"))
        outcome = "success" if proc.returncode == 0 else "failure"
        return StepRecord(
            name,
            step.get("id"),
            "run",
            outcome,
            outcome,
            proc.returncode,
            proc.stdout,
            proc.stderr,
            outputs,
            exported,
        )

    # -- stand-ins for uses: ---------------------------------------------------------------------
    def _uses_step(
        self, step: dict[str, Any], name: str, context: dict[str, Any], job: Job
    ) -> StepRecord:
        action = str(step["uses"]).split("@", 1)[0]
        with_ = {k: interpolate(str(v), context) for k, v in (step.get("with") or {}).items()}
        handler = {
            "actions/upload-artifact": self._upload,
            "actions/download-artifact": self._download,
            "actions/cache": self._cache,
        }.get(action)
        if handler is None:
            raise HarnessError(f"step {name!r}: no stand-in for {step['uses']!r}")
        try:
            message, outputs = handler(with_, job)
        except HarnessError as exc:
            return StepRecord(name, step.get("id"), "uses", "failure", "failure", 1, "", str(exc))
        return StepRecord(
            name, step.get("id"), "uses", "success", "success", 0, message, "", outputs
        )

    def _path(self, text: str, job: Job) -> Path:
        path = Path(os.path.expanduser(text.strip()))
        return path if path.is_absolute() else job.workspace / path

    def _upload(self, with_: dict[str, str], job: Job) -> tuple[str, dict[str, str]]:
        name = with_.get("name") or "artifact"
        if _ARTIFACT_NAME_BAD.search(name):
            raise HarnessError(f"invalid artifact name {name!r}")
        hidden_ok = with_.get("include-hidden-files", "false").lower() == "true"
        paths = [self._path(p, job) for p in with_.get("path", "").splitlines() if p.strip()]
        if not paths:
            raise HarnessError("upload-artifact: no path")
        files: list[tuple[Path, Path]] = []
        existing = [p for p in paths if p.exists()]
        if len(existing) == 1 and existing[0].is_dir():
            root = existing[0]
        elif existing:
            root = Path(os.path.commonpath([p if p.is_dir() else p.parent for p in existing]))
        else:
            root = paths[0]
        for path in existing:
            candidates = sorted(path.rglob("*")) if path.is_dir() else [path]
            for candidate in candidates:
                if not candidate.is_file():
                    continue
                relative = candidate.relative_to(root)
                if _hidden(relative) and not hidden_ok:
                    continue
                files.append((candidate, relative))
        if not files:
            mode = with_.get("if-no-files-found", "warn")
            if mode == "error":
                raise HarnessError(f"upload-artifact {name!r}: no files found at {paths}")
            return f"upload-artifact {name!r}: no files ({mode})", {}
        with job.run.lock:
            run = job.run
            # The runtime service sees (and so conflicts with, or overwrites) this attempt only.
            same = [u for u in run.uploads if u.name == name and u.attempt == job.attempt]
            if same and with_.get("overwrite", "false") != "true":
                raise HarnessError(f"an artifact named {name!r} already exists in this run")
            run.uploads = [u for u in run.uploads if u not in same]
            target = run.store / f"{name}@{job.attempt}"
            if target.exists():
                shutil.rmtree(target)
            for source, relative in files:
                (target / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / relative)
            run.uploads.append(Upload(name, job.attempt, target))
            run.artifacts[name] = target
        return f"uploaded {len(files)} file(s) as {name!r}", {"artifact-id": str(len(files))}

    def _download(self, with_: dict[str, str], job: Job) -> tuple[str, dict[str, str]]:
        run = job.run
        if with_.get("run-id") and not with_.get("github-token"):
            raise HarnessError("download-artifact: run-id needs github-token")
        if with_.get("github-token") and with_.get("run-id"):
            run_id = int(with_["run-id"])
            if run_id not in job.runs.runs:
                raise HarnessError(f"download-artifact: no run {run_id}")
            run = job.runs.runs[run_id]
        with run.lock:
            uploads = list(run.uploads)
        if not with_.get("github-token"):  # the runtime service: this job's attempt only
            uploads = [u for u in uploads if u.attempt == job.attempt]
        visible: dict[str, Upload] = {}
        for upload in sorted(uploads, key=lambda u: u.attempt, reverse=True):
            visible[upload.name] = upload  # one per name: the oldest attempt's (the worst case)
        dest = self._path(with_.get("path") or ".", job)
        name, pattern = with_.get("name", ""), with_.get("pattern", "")
        if name:
            if name not in visible:
                raise HarnessError(f"Unable to download artifact(s): Artifact not found: {name}")
            count = _copy_tree(visible[name].path, dest)
            return f"downloaded {name!r} ({count} files)", {"download-path": str(dest)}
        merge = with_.get("merge-multiple", "false") == "true"
        chosen = sorted(n for n in visible if not pattern or fnmatch.fnmatch(n, pattern))
        count = 0
        for artifact in chosen:
            inside = merge or len(chosen) == 1
            count += _copy_tree(visible[artifact].path, dest if inside else dest / artifact)
        return f"downloaded {len(chosen)} artifacts ({count} files)", {"download-path": str(dest)}

    def _cache(self, with_: dict[str, str], job: Job) -> tuple[str, dict[str, str]]:
        if not with_.get("path", "").strip() or not with_.get("key", "").strip():
            raise HarnessError("actions/cache: path and key are required")
        return f"cache miss for {with_['key']!r}", {"cache-hit": "false"}
