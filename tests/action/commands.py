"""Run a ``shard-action`` command in-process the way a workflow step does: env in, files out."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shard_action.cli import main
from tests.action.harness import read_file_commands

_STEP_PREFIXES = ("GITHUB_", "RUNNER_", "SHARD_ACTION_", "INPUT_", "GH_")


@dataclass
class Step:
    code: int
    outputs: dict[str, str]
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


class StepRunner:
    """A fresh ``GITHUB_OUTPUT`` per call; the machine's GitHub variables are cleared first."""

    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp: Path
    ) -> None:
        self.monkeypatch = monkeypatch
        self.capsys = capsys
        self.tmp = tmp
        self.calls = 0
        monkeypatch.chdir(tmp)
        for name in list(os.environ):
            if name.startswith(_STEP_PREFIXES):
                monkeypatch.delenv(name)

    def event(self, name: str, payload: Mapping[str, Any]) -> None:
        path = self.tmp / f"event-{name}-{self.calls}.json"
        path.write_text(json.dumps(payload), "utf-8")
        self.monkeypatch.setenv("GITHUB_EVENT_NAME", name)
        self.monkeypatch.setenv("GITHUB_EVENT_PATH", str(path))

    def env(self, **values: str) -> None:
        for key, value in values.items():
            self.monkeypatch.setenv(key, value)

    def __call__(self, *argv: str | Path) -> Step:
        self.calls += 1
        output = self.tmp / f"github-output-{self.calls}"
        output.touch()
        self.monkeypatch.setenv("GITHUB_OUTPUT", str(output))
        self.monkeypatch.setenv("GITHUB_ACTIONS", "true")
        self.capsys.readouterr()
        code = main([str(a) for a in argv])
        captured = self.capsys.readouterr()
        return Step(code, read_file_commands(output), captured.out, captured.err)


def fork_pull_event(
    pr: int, *, head_repo: str = "forker/app", ref: str = "feature"
) -> dict[str, Any]:
    return {
        "number": pr,
        "pull_request": {
            "number": pr,
            "head": {"ref": ref, "sha": "b" * 40, "repo": {"full_name": head_repo}},
            "base": {"ref": "main", "repo": {"full_name": "octo/app"}},
        },
    }


def workflow_run_event(
    run_id: int,
    *,
    head_repo: str = "forker/app",
    head_branch: str = "feature",
    pulls: Sequence[int] = (),
    name: str = "CI",
    head_sha: str = "b" * 40,
) -> dict[str, Any]:
    return {
        "workflow_run": {
            "id": run_id,
            "name": name,
            "event": "pull_request",
            "head_branch": head_branch,
            "head_sha": head_sha,
            "head_repository": {"full_name": head_repo},
            "pull_requests": [{"number": n} for n in pulls],
        }
    }
