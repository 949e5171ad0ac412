"""Static checks of action.yml and every workflow: injection, pinning, permissions, shape.

actionlint reads workflows, not action metadata, so action.yml's shape is checked here: what
GitHub's runner needs to load it, and what our steps rely on (ids defined before they are read).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.action.harness import REPO_ROOT, load_action
from tests.action.workflow import dispatch_event, push_event, template_plan_mode

WORKFLOWS = sorted([*REPO_ROOT.glob("workflows/*.yml"), *REPO_ROOT.glob(".github/workflows/*.yml")])
ACTION = REPO_ROOT / "action.yml"
#: The official actions and their pinned commits (the shared pinned-actions.md table).
PINNED = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
    "actions/cache": ("27d5ce7f107fe9357f9df03efb73ab90386fccae", "v5.0.5"),
}
#: This action, as the ready-to-copy templates name it (a release tag; the README says to pin).
OWN_ACTION = "org/shard-action@v1"
BRANDING_COLORS = {
    *("white", "black", "yellow", "blue", "green", "orange", "red", "purple", "gray-dark")
}
STEP_REFERENCE = re.compile(r"\bsteps\.([A-Za-z0-9_-]+)\.")


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text("utf-8"))
    assert isinstance(data, dict), path
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def _steps(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if "runs" in document:
        yield from document["runs"]["steps"]
    for job in (document.get("jobs") or {}).values():
        yield from job.get("steps") or []


def test_the_files_exist() -> None:
    names = {p.name for p in WORKFLOWS}
    assert {"pytest-lanes.yml", "split-by-file.yml", "fork-comment.yml", "ci.yml"} <= names


@pytest.mark.parametrize("path", [ACTION, *WORKFLOWS], ids=lambda p: p.name)
def test_no_expression_inside_a_run_script(path: Path) -> None:
    """``${{ }}`` in ``run:`` is pasted into the script before bash sees it: an injection."""
    for step in _steps(_load(path)):
        if "run" in step:
            assert "${{" not in step["run"], f"{path.name}: step {step.get('name')!r}"


@pytest.mark.parametrize("path", [ACTION, *WORKFLOWS], ids=lambda p: p.name)
def test_every_uses_is_pinned_to_the_known_commit_with_its_tag(path: Path) -> None:
    lines = path.read_text("utf-8").splitlines()
    seen = 0
    for line in lines:
        match = re.match(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", line)
        if match is None:
            continue
        seen += 1
        ref, rest = match.group(1), match.group(2)
        if ref.startswith("./"):
            assert path.parent.name == "workflows" and path.parent.parent.name == ".github", (
                "only this repository's own CI runs the action from its checkout"
            )
            continue
        if ref == OWN_ACTION:
            assert path.parent == REPO_ROOT / "workflows", "our own tag only in the templates"
            continue
        action, _, sha = ref.partition("@")
        assert action in PINNED, f"{path.name}: unexpected action {ref}"
        want_sha, want_tag = PINNED[action]
        assert sha == want_sha, f"{path.name}: {action} must be pinned to {want_sha}"
        assert re.fullmatch(r"\s+#\s+" + re.escape(want_tag) + r"\s*", rest), (
            f"{path.name}: {ref} needs the comment '# {want_tag}'"
        )
    assert seen, f"{path.name} uses no action?"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_least_privilege_and_declared_per_job(path: Path) -> None:
    workflow = _load(path)
    assert workflow.get("permissions") == {}, "nothing by default"
    for name, job in workflow["jobs"].items():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict) and permissions, f"{path.name}: job {name}"
        assert set(permissions.values()) <= {"read", "write"}
        writes = {scope for scope, level in permissions.items() if level == "write"}
        assert writes <= {"pull-requests"}, f"{path.name}: job {name} writes {writes}"
        for step in job.get("steps") or []:
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False


def test_the_template_jobs_have_what_the_action_needs() -> None:
    workflow = _load(REPO_ROOT / "workflows" / "pytest-lanes.yml")
    jobs = workflow["jobs"]
    assert jobs["plan"]["permissions"] == {"contents": "read", "actions": "read"}
    # a re-run attempt downloads the first attempt's plan and results through the REST API
    assert jobs["test"]["permissions"] == {"contents": "read", "actions": "read"}
    assert jobs["report"]["permissions"]["pull-requests"] == "write"
    assert jobs["report"]["permissions"]["actions"] == "read"
    assert jobs["test"]["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert jobs["test"]["strategy"]["fail-fast"] is False
    assert "!cancelled()" in jobs["report"]["if"]
    dispatch = workflow["on"]["workflow_dispatch"]["inputs"]["mode"]
    assert dispatch["options"] == ["auto", "parallel", "serial"]
    plan_step = next(s for s in jobs["plan"]["steps"] if s.get("id") == "plan")
    assert plan_step["with"]["mode"] == "${{ inputs.mode }}"
    for mode in dispatch["options"]:
        assert template_plan_mode(dispatch_event(mode)) == mode
    assert template_plan_mode(push_event()) == ""  # the action's default: auto
    companion = _load(REPO_ROOT / "workflows" / "fork-comment.yml")
    assert companion["on"]["workflow_run"]["workflows"] == [workflow["name"]]
    assert companion["jobs"]["comment"]["permissions"] == {
        "actions": "read",
        "pull-requests": "write",
    }


def test_action_metadata_is_what_the_runner_loads() -> None:
    action = load_action()
    assert action["name"] and action["description"] and action["author"]
    assert action["branding"]["color"] in BRANDING_COLORS
    assert re.fullmatch(r"[a-z0-9-]+", action["branding"]["icon"])
    assert action["runs"]["using"] == "composite"
    for name, spec in action["inputs"].items():
        assert re.fullmatch(r"[a-z][a-z0-9-]*", name)
        assert spec.get("description"), name
        assert "default" in spec or spec.get("required") is True, f"{name}: no default"
    for name, spec in action["outputs"].items():
        assert spec.get("description") and spec.get("value"), name
    required = {"matrix", "shard-count", "mode", "flaky-rate", "coverage", "tests", "failed"}
    required.add("lost")
    assert required <= set(action["outputs"])


def test_steps_read_only_ids_defined_before_them() -> None:
    action = load_action()
    defined: set[str] = set()
    for step in action["runs"]["steps"]:
        assert step.get("name"), step
        text = yaml.safe_dump({k: v for k, v in step.items() if k != "run"})
        for used in STEP_REFERENCE.findall(text):
            assert used in defined, f"step {step['name']!r} reads steps.{used} before it exists"
        if "run" in step:
            assert step.get("shell") == "bash", step["name"]
            assert step["run"].startswith("set -euo pipefail"), step["name"]
        if step.get("id"):
            assert step["id"] not in defined, f"id {step['id']} twice"
            defined.add(step["id"])
    for spec in action["outputs"].values():
        for used in STEP_REFERENCE.findall(spec["value"]):
            assert used in defined


def test_inputs_reach_scripts_only_through_env_and_are_all_used() -> None:
    action = load_action()
    text = ACTION.read_text("utf-8")
    for name in action["inputs"]:
        assert f"inputs.{name}" in text, f"input {name} is never used"
    for step in action["runs"]["steps"]:
        for value in (step.get("env") or {}).values():
            assert isinstance(value, str)
        if "run" in step:
            assert re.search(r"\bINPUT_", step["run"]) is None, "inputs come as SA_* variables"


def test_results_upload_keeps_the_hidden_coverage_files() -> None:
    steps = {s["name"]: s for s in load_action()["runs"]["steps"]}
    upload = steps["Upload the shard's results"]
    assert upload["with"]["include-hidden-files"] is True
    download = steps["Download every shard's results"]
    # each artifact in a folder of its own: a re-run leaves two attempts of one shard
    assert "merge-multiple" not in download["with"]
    assert download["with"]["pattern"] == "${{ steps.setup.outputs.results-pattern }}"
