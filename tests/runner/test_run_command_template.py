"""Runners other than pytest: a Jinja2 command template, rendered with quoted values, no shell."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from shard_action.adapters.runner import render_command
from tests.runner.helpers import manifest, only_slice, run_shard, save_plan, write_suite
from tests.runner.plans import LaneSlice, plan, shard

# A tiny test runner: each argument is a "test file" that passes unless it contains FAIL;
# it writes a JUnit report with one case per file when --junit is given.
TINY_RUNNER = """\
import json, os, pathlib, sys
from xml.sax.saxutils import quoteattr

args = sys.argv[1:]
junit = None
if args[:1] == ["--junit"]:
    junit, args = args[1], args[2:]
pathlib.Path(os.environ["ARGV_LOG"]).write_text(json.dumps({
    "argv": args, "lane_value": os.environ.get("LANE_VALUE"),
}))
cases, failed = [], 0
for name in args:
    text = pathlib.Path(name).read_text()
    bad = "FAIL" in text
    failed += bad
    body = '<failure message="boom"/>' if bad else ""
    cases.append(f'<testcase classname="tiny" name={quoteattr(name)} file={quoteattr(name)} '
                 f'time="0.01">{body}</testcase>')
if junit:
    pathlib.Path(junit).write_text(
        f'<testsuite name="tiny" tests="{len(cases)}">' + "".join(cases) + "</testsuite>")
sys.exit(1 if failed else 0)
"""

FILES = {
    "runner.py": TINY_RUNNER,
    "specs/plain.spec": "ok\n",
    "specs/with space.spec": "ok\n",
    "specs/$(touch pwned).spec": "ok\n",
    'specs/quote\'s "both".spec': "ok\n",
    "specs/café.spec": "ok\n",
    "specs/broken.spec": "FAIL\n",
}
SPECS = [name for name in FILES if name.startswith("specs/")]


def test_render_quotes_every_value_once() -> None:
    argv = render_command(
        "{{ python }} run.py --junit {{ junit_path }} --shard {{ shard }} {{ files }}"
        " -- {{ tests }}",
        files=["a b.js", "$(x).js"],
        tests=["t'1", 't"2'],
        junit_path=Path("/tmp/out dir/j.xml"),
        shard="s-1",
        lane="l",
        python="/usr/bin/python3",
    )
    assert argv == [
        "/usr/bin/python3", "run.py", "--junit", "/tmp/out dir/j.xml", "--shard", "s-1",
        "a b.js", "$(x).js", "--", "t'1", 't"2',
    ]  # fmt: skip


@pytest.mark.parametrize(
    "template, message",
    [
        ("{{ nope }}", "'nope' is undefined"),
        ("{% if %}", "command template"),
        ("", "empty command"),
        ("echo 'unclosed", "No closing quotation"),
    ],
)
def test_render_errors(template: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_command(
            template, files=[], tests=[], junit_path=Path("j"), shard="s", lane="l", python="p"
        )


@pytest.mark.slow
def test_command_runner_runs_the_shards_files_and_reads_its_junit(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "repo", FILES, pyproject="")
    template = "{{ python }} runner.py --junit {{ junit_path }} {{ files }}"
    built = plan(
        shard("spec-1", LaneSlice("spec", SPECS, env={"LANE_VALUE": "spec"})),
        command=template,
        coverage=True,  # ignored: coverage is pytest-only
        reruns=2,  # ignored: no re-runs by test for other runners
    )
    log = tmp_path / "argv.json"
    proc, results = run_shard(root, save_plan(root, built), "spec-1", env={"ARGV_LOG": str(log)})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    seen = json.loads(log.read_text())
    assert seen == {"argv": SPECS, "lane_value": "spec"}
    assert not (root / "pwned").exists()
    got = manifest(results)
    ran = only_slice(got)
    assert ran.outcomes == {**dict.fromkeys(SPECS, "passed"), "specs/broken.spec": "failed"}
    assert ran.junit == ["junit-1.xml"] and got.coverage == [] and ran.reruns == []
    assert ran.exit_codes == [1]
    assert got.failure is None, "a failing test is a broken test, not a runner failure"


@pytest.mark.slow
def test_command_runner_without_junit_falls_back_to_the_exit_code(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "repo", FILES, pyproject="")
    ok = [s for s in SPECS if "broken" not in s]
    python = shlex.quote(sys.executable)
    built = plan(
        shard("a-1", LaneSlice("a", ok)),
        shard("b-1", LaneSlice("b", ["specs/broken.spec"])),
        command=f"{python} runner.py {{{{ files }}}}",
    )
    plan_path = save_plan(root, built)
    env = {"ARGV_LOG": str(tmp_path / "argv.json")}
    proc, results = run_shard(root, plan_path, "a-1", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert only_slice(manifest(results)).outcomes == dict.fromkeys(ok, "passed")
    assert manifest(results).junit == []
    proc, results = run_shard(root, plan_path, "b-1", env=env)
    assert proc.returncode == 1
    assert only_slice(manifest(results)).outcomes == {"specs/broken.spec": "failed"}


@pytest.mark.slow
def test_extra_arguments_after_double_dash_reach_the_runner(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "repo", FILES, pyproject="")
    built = plan(
        shard("a-1", LaneSlice("a", ["specs/plain.spec"])), command="{{ python }} runner.py"
    )
    log = tmp_path / "argv.json"
    proc, _ = run_shard(
        root, save_plan(root, built), "a-1", "specs/café.spec", env={"ARGV_LOG": str(log)}
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(log.read_text())["argv"] == ["specs/café.spec"]


PYTEST_BY_FILE = (
    "{{ python }} -m pytest -p no:cacheprovider -o junit_family=xunit2 "
    "--junitxml={{ junit_path }} {{ files }}"
)
"""pytest run as "any runner", split by file, with its default JUnit dialect: no ``file``."""
PYPROJECT_DESELECTING = """\
[tool.pytest.ini_options]
markers = ["slowish: a marker"]
addopts = "-m 'not slowish'"
"""


@pytest.mark.slow
def test_a_planned_file_the_junit_does_not_mention_is_lost_not_passed(tmp_path: Path) -> None:
    # The project's addopts deselect every test of one planned file: pytest exits 0.
    root = write_suite(
        tmp_path / "repo",
        {
            "tests/test_kept.py": "def test_kept():\n    pass\n",
            "tests/test_gone.py": (
                "import pytest\n\n@pytest.mark.slowish\ndef test_gone():\n    pass\n"
            ),
        },
        pyproject=PYPROJECT_DESELECTING,
    )
    files = ["tests/test_kept.py", "tests/test_gone.py"]
    built = plan(shard("a-1", LaneSlice("a", files)), command=PYTEST_BY_FILE)
    proc, results = run_shard(root, save_plan(root, built), "a-1")
    got = manifest(results)
    assert only_slice(got).outcomes == {"tests/test_kept.py": "passed"}
    assert only_slice(got).exit_codes == [0]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert got.failure is not None and "tests/test_gone.py" in got.failure
    assert "no result for 1 planned test: not run" in got.failure


@pytest.mark.slow
def test_pytests_default_junit_without_file_matches_each_file(tmp_path: Path) -> None:
    # xunit2 names a case by classname "tests.test_ok" only: a passing file stays passed
    # even though the process exits 1 for the other file.
    root = write_suite(
        tmp_path / "repo",
        {
            "tests/test_ok.py": "class TestOk:\n    def test_a(self):\n        pass\n",
            "tests/test_bad.py": "def test_b():\n    assert False\n",
        },
    )
    files = ["tests/test_ok.py", "tests/test_bad.py"]
    built = plan(shard("a-1", LaneSlice("a", files)), command=PYTEST_BY_FILE)
    proc, results = run_shard(root, save_plan(root, built), "a-1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    ran = only_slice(manifest(results))
    assert ran.outcomes == {"tests/test_ok.py": "passed", "tests/test_bad.py": "failed"}
    assert manifest(results).failure is None


@pytest.mark.slow
def test_a_runner_that_writes_no_junit_it_was_asked_for_loses_its_tests(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "repo", FILES, pyproject="")
    built = plan(
        shard("a-1", LaneSlice("a", ["specs/plain.spec"])),
        command="env UNUSED={{ junit_path }} {{ python }} runner.py {{ files }}",
    )
    proc, results = run_shard(
        root, save_plan(root, built), "a-1", env={"ARGV_LOG": str(tmp_path / "argv.json")}
    )
    assert proc.returncode == 1
    got = manifest(results)
    assert only_slice(got).outcomes == {}
    assert got.failure is not None and "wrote no JUnit report to junit-1.xml" in got.failure
