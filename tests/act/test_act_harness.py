"""The act harness itself, without running act (fast; not marked ``act``)."""

from __future__ import annotations

import dataclasses
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.act import conftest as act_conftest
from tests.act.conftest import shared_toolkit
from tests.act.world import (
    ACTIONS_VARIABLE,
    ROOT,
    STAND_INS,
    MissingActions,
    Toolkit,
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


class _Collected:
    """A plugin that keeps the items a nested collection found, with their xdist groups."""

    def __init__(self) -> None:
        self.groups: dict[str, list[str]] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.groups = {
            item.nodeid: [str(m.args[0]) for m in item.iter_markers("xdist_group")]
            for item in session.items
        }


def test_every_act_scenario_joins_the_one_act_group() -> None:
    """``--dist loadgroup`` puts a group on one worker: an act test outside it would run on the
    other worker, beside the story, and make that worker build its own act world."""
    collected = _Collected()
    code = pytest.main(
        [
            "--collect-only",
            "-q",
            "-m",
            "act",
            "-p",
            "no:cacheprovider",
            str(ROOT / "tests" / "act"),
        ],
        plugins=[collected],
    )
    assert code == 0
    assert len(collected.groups) >= 8
    assert {
        node: groups for node, groups in collected.groups.items() if set(groups) != {"act"}
    } == {}


def test_the_toolkit_is_built_once_however_many_workers_ask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[Path] = []

    def build(folder: Path) -> Toolkit:
        builds.append(folder)
        time.sleep(0.3)  # long enough for the other worker to arrive while this one builds
        return Toolkit(Path("/bin/act"), ("actions/cache@1=/x",), folder / "wheels", folder / "c")

    monkeypatch.setattr(act_conftest, "build_toolkit", build)
    caches = [tmp_path / "cache-gw0", tmp_path / "cache-gw1", tmp_path / "cache-gw1-later"]
    with ThreadPoolExecutor(2) as pool:
        got = list(pool.map(lambda cache: shared_toolkit(tmp_path, cache), caches[:2]))
    got.append(shared_toolkit(tmp_path, caches[2]))
    assert builds == [tmp_path / "act-toolkit"]
    assert [t.cache for t in got] == caches  # each worker keeps its own act cache
    assert {dataclasses.replace(t, cache=Path()) for t in got} == {
        Toolkit(Path("/bin/act"), ("actions/cache@1=/x",), builds[0] / "wheels", Path())
    }
