"""Each shard job's set-up, from the run's jobs endpoint over real HTTP against the fake GitHub.

The report job reads ``/actions/runs/{id}/jobs`` (paged) with the real ``requests`` session; a
shard's set-up is its job's start to the shard's own start. Without a token, without
``actions: read`` or with the API down there are no set-ups and one notice, never a failed report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from shard_action.adapters.run_jobs import list_jobs, read_run_jobs
from shard_action.core.jobs import Job, Step, setups_of
from tests.fakegithub import READ_TOKEN, FakeGitHub, Fault
from tests.github.helpers import FAST, REPO, session
from tests.report.factories import plan, shard
from tests.runner.helpers import QUIET_ENV, manifest, run_shard, save_plan, write_suite
from tests.runner.plans import LaneSlice
from tests.runner.plans import plan as runner_plan
from tests.runner.plans import shard as runner_shard

T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)


def _env(fake: FakeGitHub, run_id: int) -> dict[str, str]:
    return {
        "GITHUB_RUN_ID": str(run_id),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": fake.api_url,
    }


def test_every_page_of_the_jobs_is_read_through_faults(fake_github: FakeGitHub) -> None:
    run = fake_github.add_repo(REPO).add_run()
    for n in range(130):
        run.add_job(f"test (lane {n + 1}/130)", T0, T0 + timedelta(seconds=60))
    run.add_job("test (lane 1/130)", T0, T0 + timedelta(seconds=90), run_attempt=2)
    fake_github.script([Fault.error(502), None, Fault.reset()], path=r"/jobs$")
    jobs = list_jobs(session(READ_TOKEN), fake_github.api_url, REPO, str(run.id))
    assert len(jobs) == 130  # two pages; the re-run's attempt replaces the first
    assert [j.completed_at for j in jobs if j.name == "test (lane 1/130)"] == [
        T0 + timedelta(seconds=90)
    ]
    pages = [r for r in fake_github.requests_to("GET", r"/jobs$") if r.status == 200]
    assert len(pages) == 2
    assert pages[0].query["filter"] == ["latest"]


def test_without_token_permission_or_api_there_is_a_notice_and_no_jobs(
    fake_github: FakeGitHub,
) -> None:
    run = fake_github.add_repo(REPO).add_run()
    run.add_job("test (a)", T0, T0)
    env = _env(fake_github, run.id)
    assert read_run_jobs(env, READ_TOKEN, FAST).jobs
    assert read_run_jobs({}, READ_TOKEN, FAST).notice is None  # not in a workflow run
    no_token = read_run_jobs(env, None, FAST)
    assert (no_token.jobs, no_token.notice) == ([], "no token: " + _LOST)
    fake_github.add_token("ghs_noactions", "bot", actions_read=False)
    refused = read_run_jobs(env, "ghs_noactions", FAST)
    assert refused.jobs == [] and "403" in (refused.notice or "")
    assert "actions: read" in (refused.notice or "")
    fake_github.fault_rate(1.0, seed=1, kinds=[Fault.error(503)], path=r"/jobs$")
    down = read_run_jobs(env, READ_TOKEN, FAST)
    assert down.jobs == [] and "503" in (down.notice or "")
    fake_github.clear_faults()
    missing = read_run_jobs({**env, "GITHUB_RUN_ID": "999999"}, READ_TOKEN, FAST)
    assert missing.jobs == [] and "404" in (missing.notice or "")


_LOST = "the shards' set-up times are not measured"


def _job(name: str, start: int, end: int, *steps: tuple[str, int]) -> Job:
    return Job(
        name=name,
        started_at=T0 + timedelta(seconds=start),
        completed_at=T0 + timedelta(seconds=end),
        steps=tuple(Step(name=s, started_at=T0 + timedelta(seconds=at)) for s, at in steps),
    )


def test_a_shard_gets_the_set_up_of_the_one_job_named_after_it() -> None:
    shards = [shard("a-1", ["t::a"], "a"), shard("b-1", ["t::b"], "b"), shard("c-1", ["t::c"])]
    planned = plan([*shards, shard("plan", ["t::p"], "x")])
    names = {s.id: s.name for s in planned.shards}  # "a a-1", as the factory names them
    jobs = [
        _job("plan", 0, 20),
        _job(f"test ({names['a-1']})", 30, 100),
        _job("test (b-1, b, b 1/1, {})", 31, 100),  # GitHub's default matrix job name
        _job(f"test ({names['c-1']})", 32, 100),
        _job(f"smoke ({names['c-1']})", 33, 100),  # two jobs claim c-1: no figure
        _job(f"test ({names['plan']})", 40, 100, ("Run org/shard-action@v1", 47)),
    ]
    starts = {
        "a-1": T0 + timedelta(seconds=42.5),
        "b-1": T0 + timedelta(seconds=36),
        "c-1": T0 + timedelta(seconds=40),
        "plan": T0 + timedelta(seconds=300),  # the runner's clock is off: our step's start
    }
    assert setups_of(planned, jobs, starts) == {"a-1": 12.5, "b-1": 5.0, "plan": 7.0}
    assert setups_of(planned, jobs, {}) == {}


SUITE = {"tests/test_one.py": "def test_a(): pass\ndef test_b(): pass\n"}


@pytest.mark.slow
def test_the_report_adds_each_jobs_set_up_and_the_history_learns_it(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    root = write_suite(tmp_path / "suite", SUITE)
    ids = ["tests/test_one.py::test_a", "tests/test_one.py::test_b"]
    path = save_plan(root, runner_plan(runner_shard("default-1", LaneSlice("default", ids))))
    proc, results = run_shard(root, path, "default-1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    started = manifest(results).started
    run = fake_github.add_repo(REPO).add_run()
    run.add_job("plan", started - timedelta(seconds=80), started - timedelta(seconds=60))
    run.add_job(
        "test (default-1)", started - timedelta(seconds=25), started + timedelta(seconds=60)
    )
    env = {
        **os.environ,
        **QUIET_ENV,
        **_env(fake_github, run.id),
        "GITHUB_TOKEN": READ_TOKEN,
    }
    out = tmp_path / "report"
    command = [sys.executable, "-m", "shard_action", "report", "--plan", str(path)]
    done = subprocess.run(
        [*command, "--results", str(results), "--out", str(out)],
        cwd=root, env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((out / "report.json").read_text("utf-8"))
    (entry,) = report["shards"]
    setup = entry["measured"]["setup"]
    assert setup == pytest.approx(25.0, abs=1.0)  # the API's times are whole seconds
    wall = (manifest(results).finished - started).total_seconds()
    assert entry["actual_seconds"] == pytest.approx(wall + setup, abs=0.01)
    history = json.loads((out / "history.json").read_text("utf-8"))
    assert history["costs"]["default"]["setup"] == [pytest.approx(setup, abs=0.001)]
