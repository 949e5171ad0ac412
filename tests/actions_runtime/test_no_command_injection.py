"""Values from plans, manifests and fork artifacts cannot become workflow commands in the log.

Real ``shard-action`` subprocesses in a GitHub-like environment; their whole stdout and stderr
are read the way the runner reads a step's output.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.report.factories import manifest, plan, shard
from tests.runner.helpers import save_plan, write_suite
from tests.runner.plans import LaneSlice
from tests.runner.plans import plan as runner_plan
from tests.runner.plans import shard as runner_shard

pytestmark = pytest.mark.slow

RUNNER_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def workflow_commands(text: str) -> list[str]:
    """The lines the runner would take as workflow commands (`::` after leading spaces; `##[`
    anywhere, the legacy syntax), split the way it splits a step's output."""
    return [
        line
        for line in RUNNER_LINE_BREAK.split(text)
        if line.lstrip().startswith("::") or "##[" in line
    ]


PAYLOADS = ["\n::add-mask::x", "\r::stop-commands::tok", "\n  ::warning::forged", " ##[error]old"]
HOSTILE_IDS = [f"tests/test_x.py::test_{n}{p}" for n, p in enumerate(PAYLOADS)]
OUR_COMMANDS = ("::error ", "::warning ", "::notice ", "::error::", "::warning::", "::notice::")


def _cli(args: list[str], cwd: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "SHARD_ACTION_"))}
    env.update(
        GITHUB_ACTIONS="true",
        GITHUB_OUTPUT=str(tmp / "output"),
        GITHUB_STEP_SUMMARY=str(tmp / "summary"),
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "shard_action", *args],
        cwd=cwd,
        env=env,
        capture_output=True,  # bytes: text mode would turn a \r into \n
        timeout=240,
        check=False,
    )
    return subprocess.CompletedProcess(
        proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode()
    )


def _only_ours(proc: subprocess.CompletedProcess[str]) -> None:
    for stream in (proc.stdout, proc.stderr):
        forged = [c for c in workflow_commands(stream) if not c.startswith(OUR_COMMANDS)]
        assert forged == [], stream[-3000:]
        assert all("add-mask" not in c.split("::", 2)[1] for c in workflow_commands(stream))


def test_hostile_ids_in_a_plan_reach_the_run_log_neutralised(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "repo", {})
    # a runner that reports nothing: every planned id is lost, and named in the log
    command = "env OUT={{ junit_path }} {{ python }} -c pass"
    built = runner_plan(runner_shard("a-1", LaneSlice("a", HOSTILE_IDS)), command=command)
    proc = _cli(
        ["run", "--plan", str(save_plan(root, built)), "--shard", "a-1", "--results", "r"],
        root,
        tmp_path,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the ids do not exist: lost
    assert "did not run" in proc.stdout and "add-mask::x" in proc.stdout
    _only_ours(proc)


def test_hostile_ids_in_fork_manifests_reach_the_report_log_neutralised(tmp_path: Path) -> None:
    outcomes = {t: "failed" for t in HOSTILE_IDS[:2]} | {t: "passed" for t in HOSTILE_IDS[2:]}
    results = tmp_path / "results" / "s1"
    results.mkdir(parents=True)
    (results / "manifest.json").write_text(
        manifest(
            "s1",
            HOSTILE_IDS,
            outcomes=outcomes,  # type: ignore[arg-type]
            failure="boom\n::add-mask::from-failure",
            exit_code=1,
        ).model_dump_json()
    )
    planned = [*HOSTILE_IDS, "tests/test_y.py::lost\n::stop-commands::tok2"]
    (tmp_path / "plan.json").write_text(plan([shard("s1", planned)]).model_dump_json())
    proc = _cli(
        ["report", "--plan", "plan.json", "--results", "results", "--out", "out"],
        tmp_path,
        tmp_path,
    )
    assert proc.returncode in (1, 3), proc.stdout + proc.stderr
    assert "::error " in proc.stdout  # the broken tests are still annotated, escaped
    assert "from-failure" in proc.stdout + proc.stderr
    _only_ours(proc)
