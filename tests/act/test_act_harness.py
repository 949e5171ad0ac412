"""The act harness itself, without running act (fast; not marked ``act``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.act.world import (
    ACTIONS_VARIABLE,
    ROOT,
    STAND_INS,
    MissingActions,
    official_actions_folder,
    parse_log,
    pinned_actions,
)


def test_missing_official_actions_fail_with_a_message_that_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ACTIONS_VARIABLE, str(tmp_path))
    with pytest.raises(MissingActions, match="official actions") as raised:
        official_actions_folder()
    assert str(tmp_path) in str(raised.value) and ACTIONS_VARIABLE in str(raised.value)


def test_every_pinned_action_runs_as_built_or_through_a_stand_in() -> None:
    pins = pinned_actions()
    assert set(pins) == {
        "actions/checkout",
        "actions/setup-python",
        "actions/upload-artifact",
        "actions/download-artifact",
        "actions/cache",
    }
    assert sorted(p.name for p in STAND_INS.iterdir()) == ["setup-python"]


def test_the_act_scenarios_run_in_one_group_in_ci_and_in_the_readme() -> None:
    """``--dist loadgroup`` keeps the act tests on one worker, in order; the README's command
    and ``.ci/run`` must say the same."""
    readme = (ROOT / "README.md").read_text("utf-8")
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert "python -m pytest -n 2 --dist loadgroup" in readme
    assert "python -m pytest -n 2 --dist loadgroup" in ci


def test_the_log_reader_keeps_what_the_actions_page_shows() -> None:
    lines = [
        {"job": "tests/test (serial)-3     ", "jobID": "test", "matrix": {"shard": "serial-1"},
         "msg": "⭐ Run Main Install the project"},
        {"job": "tests/test (serial)-3", "jobID": "test", "matrix": {"shard": "serial-1"},
         "command": "set-output", "name": "mode", "arg": "serial", "msg": ""},
        {"job": "tests/test (serial)-3", "jobID": "test", "matrix": {"shard": "serial-1"},
         "command": "summary", "content": "## hello\n", "msg": ""},
        {"job": "tests/test (serial)-3", "jobID": "test", "matrix": {"shard": "serial-1"},
         "command": "warning", "arg": "careful", "msg": ""},
        {"job": "tests/test (serial)-3", "jobID": "test", "matrix": {"shard": "serial-1"},
         "jobResult": "failure", "msg": "🏁  Job failed"},
    ]  # fmt: skip
    (job,) = parse_log([json.dumps(line) for line in lines] + ["not json"])
    assert (job.name, job.job_id, job.result) == ("tests/test (serial)", "test", "failure")
    assert job.outputs == {"mode": "serial"}
    assert job.summary == "## hello\n"
    assert job.annotations == [("warning", "careful")]
