"""The jobs of workflows/pytest-lanes.yml, played with the harness: plan -> matrix -> report.

Each job gets a fresh checkout (a copy of ``examples/`` under ``examples/`` in its own workspace,
as ``working-directory: examples`` expects) and a fresh ``RUNNER_TEMP``, so nothing passes from
one job to the next except through outputs and artifacts, as on GitHub. shard-action is not
installed again for every job: ``SHARD_ACTION_VENV`` (documented in the README) points the
action at the environment these tests run in.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.action.expressions import interpolate
from tests.action.harness import REPO_ROOT, ActionResult, ActionRunner, Job, Runs, WorkflowRun

EXAMPLES = REPO_ROOT / "examples"
REPO = "octo/app"
FORK = "forker/app"
PR = 7
BRANCH = "feature"
WORKFLOW = "tests"
_IGNORE = shutil.ignore_patterns(
    ".pytest_cache", "__pycache__", "var", ".coverage", ".coverage.*", "shard-results", ".shard-*"
)


def repository_json() -> dict[str, Any]:
    return {"full_name": REPO, "default_branch": "main", "fork": False}


def push_event() -> tuple[str, dict[str, Any], str]:
    return "push", {"ref": "refs/heads/main", "repository": repository_json()}, "refs/heads/main"


def dispatch_event(mode: str) -> tuple[str, dict[str, Any], str]:
    event = {"ref": "refs/heads/main", "inputs": {"mode": mode}, "repository": repository_json()}
    return "workflow_dispatch", event, "refs/heads/main"


def schedule_event() -> tuple[str, dict[str, Any], str]:
    """A scheduled run as older GitHub versions send it: the payload names only the cron line."""
    return "schedule", {"schedule": "17 3 * * *"}, "refs/heads/main"


def branch_push_event() -> tuple[str, dict[str, Any], str]:
    ref = f"refs/heads/{BRANCH}"
    return "push", {"ref": ref, "repository": repository_json()}, ref


def tag_push_event(tag: str = "main") -> tuple[str, dict[str, Any], str]:
    """A pushed tag named like the default branch: its ref is refs/tags/main, not a branch."""
    ref = f"refs/tags/{tag}"
    return "push", {"ref": ref, "repository": repository_json()}, ref


def fork_pr_event(head_repo: str = FORK) -> tuple[str, dict[str, Any], str]:
    """A pull request from a fork, or with ``head_repo=REPO`` from a branch of the repository."""
    head = {"full_name": head_repo, "fork": head_repo != REPO}
    pull = {
        "number": PR,
        "head": {"ref": BRANCH, "sha": "b" * 40, "repo": head},
        "base": {"ref": "main", "sha": "c" * 40, "repo": {"full_name": REPO}},
    }
    return (
        "pull_request",
        {"number": PR, "pull_request": pull, "repository": repository_json()},
        f"refs/pull/{PR}/merge",
    )


def workflow_run_event(run_id: int) -> tuple[str, dict[str, Any], str]:
    triggering = {
        "id": run_id,
        "name": WORKFLOW,
        "event": "pull_request",
        "head_branch": BRANCH,
        "head_sha": "b" * 40,
        "head_repository": {"full_name": FORK},
        "pull_requests": [],  # empty for forks, as GitHub sends it
    }
    event = {"workflow_run": triggering, "repository": repository_json()}
    return "workflow_run", event, "refs/heads/main"


@dataclass
class Scenario:
    """Everything one simulated workflow run shares: the event, the API, the runs registry."""

    root: Path
    runs: Runs
    api_url: str
    token: str
    event: tuple[str, dict[str, Any], str]
    env: dict[str, str] = field(default_factory=dict)
    run: WorkflowRun = field(init=False)
    jobs: int = 0

    def __post_init__(self) -> None:
        self.run = self.runs.new()

    def job(self, label: str, *, workflow: str = WORKFLOW) -> Job:
        self.jobs += 1
        base = self.root / f"run-{self.run.id}" / f"{self.jobs:02d}-{label}"
        workspace = base / "workspace"
        shutil.copytree(EXAMPLES, workspace / "examples", ignore=_IGNORE)
        event_name, event, ref = self.event
        return Job(
            run=self.run,
            runs=self.runs,
            workspace=workspace,
            temp=base / "temp",
            event_name=event_name,
            event=event,
            ref=ref,
            repository=REPO,
            workflow=workflow,
            token=self.token,
            api_url=self.api_url,
            env={"SHARD_ACTION_VENV": sys.prefix, **self.env},
        )


def run_action(scenario: Scenario, label: str, inputs: Mapping[str, str]) -> ActionResult:
    return ActionRunner().run(dict(inputs), scenario.job(label))


def template_plan_mode(event: tuple[str, dict[str, Any], str]) -> str:
    """The ``mode`` input the template workflow's plan step gets for this event.

    Evaluated from ``workflows/pytest-lanes.yml`` itself, so a template that stopped wiring its
    ``workflow_dispatch`` input through would be caught here, not only by reading the YAML.
    """
    template = yaml.safe_load((REPO_ROOT / "workflows" / "pytest-lanes.yml").read_text("utf-8"))
    step = next(s for s in template["jobs"]["plan"]["steps"] if s.get("id") == "plan")
    event_name, payload, _ = event
    inputs = payload.get("inputs", {}) if event_name == "workflow_dispatch" else {}
    return interpolate(str(step["with"]["mode"]), {"inputs": inputs, "github": {"event": payload}})


def plan_job(scenario: Scenario, **inputs: str) -> ActionResult:
    return run_action(
        scenario,
        "plan",
        {"command": "plan", "working-directory": "examples", "python": sys.executable, **inputs},
    )


def matrix_jobs(scenario: Scenario, matrix: str, **inputs: str) -> dict[str, ActionResult]:
    """One run job per matrix entry, two at a time (the machine has two cores)."""
    include = json.loads(matrix)["include"]

    def one(entry: Mapping[str, Any]) -> tuple[str, ActionResult]:
        shard = str(entry["shard"])
        result = run_action(
            scenario,
            f"test-{shard}",
            {"command": "run", "working-directory": "examples", "shard": shard, **inputs},
        )
        return shard, result

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(one, include))


def report_job(scenario: Scenario, **inputs: str) -> ActionResult:
    return run_action(
        scenario, "report", {"command": "report", "working-directory": "examples", **inputs}
    )
