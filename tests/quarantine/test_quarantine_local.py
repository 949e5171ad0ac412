"""The quarantine file end to end: `local` on a real project with a test that always fails."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import shard_action

pytestmark = pytest.mark.slow

FAILING = "tests/test_suite.py::test_always_fails"


def _project(root: Path, quarantine: str | None) -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "q"\nversion = "0"\n\n[tool.shard-action]\ncoverage = false\n'
    )
    (root / "tests" / "test_suite.py").write_text(
        "".join(f"def test_ok_{n}():\n    assert True\n\n" for n in range(4))
        + "def test_always_fails():\n    assert 1 == 2, 'always'\n"
    )
    if quarantine is not None:
        (root / ".shard-action").mkdir()
        (root / ".shard-action" / "quarantine.toml").write_text(quarantine)
    return root


def _entry(expires: date) -> str:
    return (
        f'[[quarantine]]\ntest = "{FAILING}"\nowner = "@alice"\n'
        f'reason = "planted failure"\nexpires = {expires.isoformat()}\n'
    )


def test_a_quarantined_failing_test_runs_is_reported_and_does_not_fail_the_job(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path / "p", _entry(date.today() + timedelta(days=10)))
    proc = shard_action(["local", "--shards", "2", "--no-history"], cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "🧊 Quarantined tests" in proc.stdout and "Result: broken" in proc.stdout
    report = json.loads((project / "shard-action-out" / "report" / "report.json").read_text())
    assert report["counts"]["quarantined"] == 1 and report["counts"]["broken"] == 0
    assert report["quarantined"][0]["status"] == "broken"
    assert report["quarantined"][0]["test"] == FAILING
    # the shard that ran it did not fail either (its job stays green in a workflow)
    manifests = (project / "shard-action-out" / "shards").glob("*/manifest.json")
    assert [json.loads(m.read_text())["exit_code"] for m in manifests] == [0, 0]


def test_without_the_entry_the_same_run_fails(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", None)
    proc = shard_action(["local", "--shards", "2", "--no-history"], cwd=project)
    assert proc.returncode == 1, proc.stdout + proc.stderr


def test_an_expired_entry_fails_the_plan_naming_the_file_entry_and_owner(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", _entry(date.today() - timedelta(days=2)))
    proc = shard_action(["local", "--shards", "2", "--no-history"], cwd=project)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert ".shard-action/quarantine.toml: 1 quarantine entry expired" in proc.stderr
    assert f"'{FAILING}' (owner @alice) expired on" in proc.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[quarantine]\n", ".shard-action/quarantine.toml: not valid TOML"),
        (
            '[[quarantine]]\ntest = "t"\nreason = "r"\nexpires = 2030-01-01\n',
            "entry 1 ('t'): owner: Field required",
        ),
    ],
)
def test_a_malformed_file_is_a_clear_error(tmp_path: Path, text: str, expected: str) -> None:
    project = _project(tmp_path / "p", text)
    proc = shard_action(["plan", "--no-history", "--out", "plan"], cwd=project)
    assert proc.returncode == 2 and expected in proc.stderr, proc.stderr


def test_a_configured_file_must_exist(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", None)
    proc = shard_action(
        ["plan", "--no-history", "--out", "plan"],
        cwd=project,
        env={"SHARD_ACTION_QUARANTINE_FILE": "ci/quarantine.toml"},
    )
    assert proc.returncode == 2
    assert "ci/quarantine.toml: quarantine file not found (key quarantine-file)" in proc.stderr
