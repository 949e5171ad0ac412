"""`shard-action plan` through its command line, on every bad input the issue names.

In-process (``cli.main``) for speed, but with real files, real environment variables and the
GitHub file protocol; pytest collection itself runs as a real subprocess where it is used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shard_action.cli import main
from tests.actions_runtime.test_gha_files import parse_output_file
from tests.plan_json import plan_tests, shard_tests

WEIRD_IDS = [
    "tests/test_a.py::test_x[with space]",
    "tests/test_a.py::test_x[quote'\"]",
    "tests/test_a.py::test_x[$(touch pwned)]",
    "tests/test_a.py::test_x[`touch pwned2`]",
    "tests/tëst_ünïcode.py::test_café[☕]",
    "tests/test_b.py::TestC::test_d[a::b]",
]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("SHARD_ACTION_", "GITHUB_")):
            monkeypatch.delenv(name)
    return tmp_path


def plan(workspace: Path, *args: str) -> tuple[int, dict[str, Any] | None]:
    code = main(["plan", "--out", str(workspace / "out"), *args])
    path = workspace / "out" / "plan.json"
    return code, json.loads(path.read_text("utf-8")) if path.exists() else None


def write_ids(path: Path, ids: list[str]) -> Path:
    path.write_text("".join(i + "\n" for i in ids), encoding="utf-8")
    return path


def planned_ids(document: dict[str, Any]) -> list[str]:
    return plan_tests(document)


def test_contract_plan_json_and_github_outputs(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [f"tests/test_{i % 7}.py::test_{i}" for i in range(40)]
    durations = {test: 0.5 + (i % 5) for i, test in enumerate(ids)}
    (workspace / "durations.json").write_text(json.dumps(durations))
    output = workspace / "github_output"
    summary = workspace / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, document = plan(
        workspace, "--tests-from", str(write_ids(workspace / "ids.txt", ids)),
        "--timings", "durations.json", "--shards", "4", "--shard-overhead", "0",
    )  # fmt: skip
    assert code == 0 and document is not None
    assert (document["kind"], document["version"]) == ("shard-action-plan", 2)
    assert sorted(planned_ids(document)) == sorted(ids)
    assert len(document["shards"]) == 4
    assert all(s["lane"] == "default" for s in document["shards"])
    assert document["timings"]["measured"] == 40
    assert document["makespan"] >= document["lower_bound"] > 0
    outputs = parse_output_file(output.read_text())
    matrix = json.loads(outputs["matrix"])
    assert [job["shard"] for job in matrix["include"]] == [s["id"] for s in document["shards"]]
    assert all(set(job) == {"shard", "lane", "name", "env"} for job in matrix["include"])
    assert "tests" not in outputs["matrix"]
    assert outputs["shard-count"] == "4"
    assert outputs["mode"] == "parallel"
    text = summary.read_text()
    assert "```mermaid" in text and "gantt" in text


def test_the_plan_carries_the_fan_in_thresholds_of_its_config(workspace: Path) -> None:
    ids = write_ids(workspace / "i.txt", ["t/test_a.py::a"])
    (workspace / "ci.toml").write_text(
        "flaky-threshold = 0.2\nrecover-after = 5\noutage-threshold = 0.5\n"
        "promote-after = 2\nmax-demoted = 3\n"
    )
    code, document = plan(workspace, "--tests-from", str(ids), "--config", "ci.toml")
    assert code == 0 and document is not None
    assert document["fan_in"] == {
        "flaky_threshold": 0.2,
        "recover_after": 5,
        "outage_threshold": 0.5,
        "promote_after": 2,
        "max_demoted": 3,
    }
    code, document = plan(workspace, "--tests-from", str(ids), "--recover-after", "7")
    assert code == 0 and document is not None
    assert document["fan_in"] == {
        "flaky_threshold": 0.05,
        "recover_after": 7,
        "outage_threshold": 0.8,
        "promote_after": 5,
        "max_demoted": 10,
    }


def test_an_empty_suite_fails_unless_allowed(workspace: Path, capsys: Any) -> None:
    ids = str(write_ids(workspace / "ids.txt", []))
    code, document = plan(workspace, "--tests-from", ids)
    assert code == 5 and document is None  # pytest's status for "no tests ran"
    error = capsys.readouterr().err
    assert "the test list" in error and "holds no test id" in error and "allow-no-tests" in error
    (workspace / "tests").mkdir()
    (workspace / "tests" / "test_a.py").write_text("def test_a():\n    pass\n")
    for args in (["--collect-args", '["-k", "nothing_matches"]'], ["--test-files", '["*.js"]']):
        code, document = plan(workspace, *args)
        assert code == 5 and document is None, args
        assert "allow-no-tests" in capsys.readouterr().err
    code, document = plan(workspace, "--collect-args", '["elsewhere"]')  # a wrong folder
    assert code != 0 and document is None


def test_an_allowed_empty_suite_still_gives_a_valid_matrix(
    workspace: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = str(write_ids(workspace / "ids.txt", []))
    code, document = plan(workspace, "--tests-from", ids, "--allow-no-tests", "true")
    assert code == 0 and document is not None
    monkeypatch.setenv("SHARD_ACTION_ALLOW_NO_TESTS", "true")
    code, document = plan(workspace, "--tests-from", ids)
    assert code == 0 and document is not None
    assert [s["id"] for s in document["shards"]] == ["none"]
    assert document["shards"][0]["slices"] == []
    matrix = json.loads((workspace / "out" / "matrix.json").read_text())
    assert len(matrix["include"]) == 1  # GitHub rejects an empty matrix
    assert "no tests" in capsys.readouterr().out.lower()


def test_duplicate_ids_are_planned_once_and_reported(workspace: Path, capsys: Any) -> None:
    ids = ["t/test_a.py::test_1", "t/test_a.py::test_2", "t/test_a.py::test_1"]
    code, document = plan(workspace, "--tests-from", str(write_ids(workspace / "i.txt", ids)))
    assert code == 0 and document is not None
    assert sorted(planned_ids(document)) == ["t/test_a.py::test_1", "t/test_a.py::test_2"]
    assert "duplicate" in capsys.readouterr().out


def test_ids_with_shell_metacharacters_and_unicode_survive(workspace: Path) -> None:
    code, document = plan(
        workspace, "--tests-from", str(write_ids(workspace / "i.txt", WEIRD_IDS)),
        "--shards", "3",
    )  # fmt: skip
    assert code == 0 and document is not None
    assert sorted(planned_ids(document)) == sorted(WEIRD_IDS)
    assert not (workspace / "pwned").exists()
    assert not (workspace / "pwned2").exists()
    raw = (workspace / "out" / "plan.json").read_text("utf-8")
    assert "tëst_ünïcode" in raw


def test_nan_negative_and_zero_times(workspace: Path, capsys: Any) -> None:
    ids = ["t/test_a.py::nan", "t/test_a.py::neg", "t/test_a.py::zero", "t/test_a.py::ok"]
    # Python's json writes NaN as a bare literal, as some tools do; negative times happen too.
    (workspace / "d.json").write_text(
        '{"t/test_a.py::nan": NaN, "t/test_a.py::neg": -3, "t/test_a.py::zero": 0, '
        '"t/test_a.py::ok": 2.5}'
    )
    code, document = plan(
        workspace, "--tests-from", str(write_ids(workspace / "i.txt", ids)), "--timings", "d.json",
    )  # fmt: skip
    assert code == 0 and document is not None
    # zero is a real measurement; NaN and negative are not, so those two are estimated
    assert document["timings"]["measured"] == 2
    assert document["timings"]["estimated"] == 2
    assert sorted(planned_ids(document)) == sorted(ids)
    warning = "d.json: 2 test times not a number, negative or over a week were ignored"
    assert any(w.startswith(warning) for w in document["warnings"])
    assert warning in " ".join(capsys.readouterr().out.split())  # the terminal wraps lines


@pytest.mark.parametrize("kind", ["json", "junit"])
def test_absurdly_large_times_are_ignored_not_a_crash(
    workspace: Path, capsys: Any, kind: str
) -> None:
    ids = ["t/test_a.py::a", "t/test_a.py::b", "t/test_a.py::c"]
    if kind == "json":
        (workspace / "t.json").write_text(
            '{"t/test_a.py::a": 1e308, "t/test_a.py::b": 1e308, "t/test_a.py::c": 2}'
        )
        source = "t.json"
    else:
        cases = "".join(
            f'<testcase classname="t.test_a" name="{n}" file="t/test_a.py" time="{t}"/>'
            for n, t in (("a", "1e308"), ("b", "1.7e308"), ("c", "2"))
        )
        (workspace / "t.xml").write_text(f"<testsuite>{cases}</testsuite>")
        source = "t.xml"
    code, document = plan(
        workspace, "--tests-from", str(write_ids(workspace / "i.txt", ids)),
        "--timings", source, "--shards", "2",
    )  # fmt: skip
    assert code == 0 and document is not None
    assert document["timings"]["measured"] == 1
    assert sorted(planned_ids(document)) == sorted(ids)
    assert f"{source}: 2 test times" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("timings", ["json", "junit"])
def test_file_granularity_keeps_the_timings_of_pytest_ids(workspace: Path, timings: str) -> None:
    # Three files; one is much longer than the others, so whole files must be weighed by time.
    ids = [f"tests/test_{f}.py::test_{i}" for f in "abc" for i in range(4)]
    seconds = {test: (3.0 if test.startswith("tests/test_a") else 1.5) for test in ids}
    if timings == "json":
        (workspace / "t.json").write_text(json.dumps(seconds))
        source = "t.json"
    else:  # xunit1, as pytest writes it: classname is the module, file is the path
        cases = "".join(
            f'<testcase classname="tests.{t.split("::")[0][6:-3]}" name="{t.split("::")[1]}" '
            f'file="{t.split("::")[0]}" time="{s}"/>'
            for t, s in seconds.items()
        )
        (workspace / "t.xml").write_text(f"<testsuites><testsuite>{cases}</testsuite></testsuites>")
        source = "t.xml"
    code, document = plan(
        workspace, "--tests-from", str(write_ids(workspace / "i.txt", ids)),
        "--timings", source, "--granularity", "file", "--shards", "2", "--shard-overhead", "0",
    )  # fmt: skip
    assert code == 0 and document is not None
    assert document["timings"]["measured"] == len(ids)
    assert document["timings"]["estimated"] == 0
    by_shard = sorted(
        sorted({t.split("::")[0] for t in shard_tests(s)}) for s in document["shards"]
    )
    # 12 s of test_a against 6 + 6 s: test_a alone, the two short files together (estimated
    # alike, the three files would be 4 s each and could not be paired this way).
    assert by_shard == [["tests/test_a.py"], ["tests/test_b.py", "tests/test_c.py"]]


def test_more_shards_than_tests_gives_no_empty_shard(workspace: Path) -> None:
    ids = ["t/test_a.py::a", "t/test_a.py::b", "t/test_b.py::c"]
    code, document = plan(
        workspace, "--tests-from", str(write_ids(workspace / "i.txt", ids)), "--shards", "50",
    )  # fmt: skip
    assert code == 0 and document is not None
    assert 1 <= len(document["shards"]) <= 3
    assert all(shard_tests(s) for s in document["shards"])


def test_missing_timing_file_is_named(workspace: Path, capsys: Any) -> None:
    ids = write_ids(workspace / "i.txt", ["t/test_a.py::a"])
    code, document = plan(workspace, "--tests-from", str(ids), "--timings", "nope/junit.xml")
    assert code == 2 and document is None
    err = capsys.readouterr().err
    assert err.startswith("shard-action plan: error:")
    assert "nope/junit.xml" in err


def test_unreadable_timing_paths_are_named(workspace: Path, capsys: Any) -> None:
    ids = write_ids(workspace / "i.txt", ["t/test_a.py::a"])
    (workspace / "dangling.xml").symlink_to(workspace / "gone.xml")
    os.mkfifo(workspace / "pipe.xml")  # would block a reader forever
    (workspace / "empty").mkdir()
    (workspace / "binary.bin").write_bytes(bytes(range(256)))
    for path in ("dangling.xml", "pipe.xml", "empty", "binary.bin"):
        code, document = plan(workspace, "--tests-from", str(ids), "--timings", path)
        assert code == 2 and document is None, path
        err = capsys.readouterr().err
        assert err.startswith("shard-action plan: error:") and path in err, err


def test_report_entries_that_match_no_test_are_named_in_a_warning(workspace: Path) -> None:
    ids = write_ids(workspace / "i.txt", ["tests/test_a.py::test_one"])
    (workspace / "mixed.xml").write_text(
        "<testsuite>"
        '<testcase classname="tests.test_a" name="test_one" time="2"/>'
        '<testcase classname="com.example.FooTest" name="testFoo" time="1"/>'
        "</testsuite>"
    )
    code, document = plan(workspace, "--tests-from", str(ids), "--timings", "mixed.xml")
    assert code == 0 and document is not None
    assert (document["timings"]["measured"], document["timings"]["unresolved"]) == (1, 1)
    assert any(
        w.startswith("report entries that matched no test of today were not used: 1 (e.g.")
        and "com.example.FooTest::testFoo" in w
        and "docs/timings.md" in w
        for w in document["warnings"]
    )


def test_out_that_is_a_file_is_named(workspace: Path, capsys: Any) -> None:
    ids = write_ids(workspace / "i.txt", ["t/test_a.py::a"])
    (workspace / "out").write_text("not a folder")
    code = main(["plan", "--tests-from", str(ids), "--out", str(workspace / "out")])
    assert code == 2
    err = capsys.readouterr().err
    assert f"{workspace / 'out'}: exists and is not a folder" in err


def test_corrupt_report_is_named_or_skipped_with_warn(workspace: Path, capsys: Any) -> None:
    ids = write_ids(workspace / "i.txt", ["t/test_a.py::a", "t/test_a.py::b"])
    (workspace / "bad.xml").write_text("<testsuite><testcase name='a' time='1'>", "utf-8")
    (workspace / "good.json").write_text('{"t/test_a.py::b": 3.0}')
    code, _ = plan(workspace, "--tests-from", str(ids), "--timings", "bad.xml", "good.json")
    assert code == 2
    assert "bad.xml" in capsys.readouterr().err
    code, document = plan(
        workspace, "--tests-from", str(ids), "--timings", "bad.xml", "good.json",
        "--on-bad-report", "warn",
    )  # fmt: skip
    assert code == 0 and document is not None
    assert document["timings"]["skipped_reports"] == ["bad.xml"]
    assert document["timings"]["measured"] == 1  # good.json kept
    assert "bad.xml" in capsys.readouterr().out


def test_hostile_xml_is_refused(workspace: Path, capsys: Any) -> None:
    secret = workspace / "secret.txt"
    secret.write_text("TOP-SECRET")
    (workspace / "xxe.xml").write_text(
        f'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<testsuite><testcase classname="c" name="&x;" time="1"/></testsuite>'
    )
    ids = write_ids(workspace / "i.txt", ["t/test_a.py::a"])
    code, _ = plan(workspace, "--tests-from", str(ids), "--timings", "xxe.xml")
    err = capsys.readouterr().err
    assert code == 2
    assert "xxe.xml" in err
    assert "TOP-SECRET" not in err


def test_bad_config_from_environment_names_the_variable(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("SHARD_ACTION_MAX_SHARDS", "999")
    ids = write_ids(workspace / "i.txt", ["t/test_a.py::a"])
    code, _ = plan(workspace, "--tests-from", str(ids))
    assert code == 2
    assert "SHARD_ACTION_MAX_SHARDS" in capsys.readouterr().err


def test_every_config_key_is_a_flag(workspace: Path) -> None:
    ids = write_ids(workspace / "i.txt", ["t/test_a.py::a", "t/test_b.py::b"])
    code, document = plan(
        workspace, "--tests-from", str(ids), "--reruns", "5", "--coverage", "false",
        "--pytest-args", '["-x", "--tb=short"]', "--default-duration", "7",
    )  # fmt: skip
    assert code == 0 and document is not None
    assert document["runner"]["reruns"] == 5
    assert document["runner"]["coverage"] is False
    assert document["runner"]["pytest_args"] == ["-x", "--tb=short"]
    assert document["totals"]["seconds"] == pytest.approx(14)


def test_mode_serial_by_hand(workspace: Path) -> None:
    ids = write_ids(workspace / "i.txt", [f"t/test_{i}.py::x" for i in range(10)])
    code, document = plan(workspace, "--tests-from", str(ids), "--mode", "serial")
    assert code == 0 and document is not None
    assert [s["id"] for s in document["shards"]] == ["serial"]
    assert "by hand" in document["mode_reason"]


def test_history_in_serial_mode_makes_a_serial_plan(workspace: Path) -> None:
    history = {
        "kind": "shard-action-history",
        "version": 1,
        "mode": "serial",
        "mode_reason": "flaky rate 9% over the 5% threshold",
        "tests": {"default": {"t/test_0.py::x": {"duration": 4.0, "outcomes": "pF"}}},
    }
    (workspace / "history.json").write_text(json.dumps(history))
    ids = write_ids(workspace / "i.txt", [f"t/test_{i}.py::x" for i in range(6)])
    code, document = plan(workspace, "--tests-from", str(ids), "--timings", "history.json")
    assert code == 0 and document is not None
    assert document["mode"] == "serial"
    assert "threshold" in document["mode_reason"]
    # the history's own timing is used for the one test it knows
    assert document["timings"]["measured"] == 1
    code, document = plan(
        workspace, "--tests-from", str(ids), "--timings", "history.json", "--mode", "parallel"
    )
    assert code == 0 and document is not None
    assert document["mode"] == "parallel"


@pytest.mark.slow
def test_interpreter_without_pytest_is_explained(
    workspace: Path, capsys: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    bare = tmp_path_factory.mktemp("bare-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    (workspace / "tests").mkdir()
    (workspace / "tests" / "test_ok.py").write_text("def test_ok():\n    pass\n")
    code, _ = plan(workspace, "--python", str(bare / "bin" / "python"))
    err = capsys.readouterr().err
    assert code == 2
    assert "pytest is not installed for" in err and "SHARD_ACTION_PYTHON" in err


@pytest.mark.slow
def test_collection_error_stops_the_plan_with_the_module_named(
    workspace: Path, capsys: Any
) -> None:
    (workspace / "tests").mkdir()
    (workspace / "tests" / "test_ok.py").write_text("def test_ok():\n    pass\n")
    (workspace / "tests" / "test_broken.py").write_text("import not_a_module_qq\n")
    code, document = plan(workspace)
    assert code == 2 and document is None
    err = capsys.readouterr().err
    assert "tests/test_broken.py" in err and "not_a_module_qq" in err


def test_relative_paths_are_relative_to_the_current_folder(workspace: Path) -> None:
    project = workspace / "project"
    project.mkdir()
    (workspace / "ci.toml").write_text("shards = 2\nshard-overhead = 0\n")
    ids = write_ids(workspace / "i.txt", [f"t/test_{i}.py::x" for i in range(6)])
    code, document = plan(
        workspace, "--root", "project", "--config", "ci.toml", "--tests-from", str(ids)
    )
    assert code == 0 and document is not None
    assert len(document["shards"]) == 2
