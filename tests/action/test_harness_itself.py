"""The harness must behave like GitHub where action.yml relies on it, or its verdicts mean
nothing: expression semantics, the file protocol, and what upload-artifact leaves out."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.action.expressions import ExpressionError, condition, evaluate, interpolate
from tests.action.harness import ActionRunner, HarnessError, Job, Runs, read_file_commands

CONTEXT = {
    "inputs": {"command": "report", "plan": "", "comment": "true", "max-shards": "3"},
    "steps": {"run": {"outputs": {"exit-code": "0"}}, "report": {"outputs": {}}},
    "env": {"SET": "x"},
    "github": {"event": {"pull_request": {"number": 7}}, "event_name": "pull_request"},
}
OK = {"success": True, "failure": False, "always": True, "cancelled": False}
FAILED = {"success": False, "failure": True, "always": True, "cancelled": False}


@pytest.mark.parametrize(
    "expression, value",
    [
        ("inputs.command == 'report'", True),
        ("inputs.command == 'REPORT'", True),  # GitHub compares strings case-insensitively
        ("inputs.max-shards", "3"),  # names may hold dashes
        ("inputs.plan == ''", True),
        ("inputs.missing", None),
        ("env.UNSET == ''", True),  # null equals '' (both 0 as numbers)
        ("!env.UNSET", True),
        ("!env.SET", False),
        ("steps.run.outputs.exit-code || steps.report.outputs.exit-code", "0"),  # '0' is truthy
        ("steps.report.outputs.exit-code || 'none'", "none"),
        ("github.event.pull_request && 'pr'", "pr"),
        ("github.event.push.number", None),
        ("(inputs.command == 'run' || inputs.command == 'report') && inputs.plan == ''", True),
        ("format('{0}-{1}', 'a', 1)", "a-1"),
        ("contains(fromJSON('[\"a\", \"b\"]'), 'B')", True),
        ("startsWith(github.event_name, 'pull')", True),
        ("1 < 2 && '10' > 9", True),
    ],
)
def test_expressions_follow_github(expression: str, value: object) -> None:
    assert evaluate(expression, CONTEXT) == value


def test_conditions_imply_success_unless_a_status_function_is_used() -> None:
    assert condition("inputs.comment == 'true'", CONTEXT, OK)
    assert not condition("inputs.comment == 'true'", CONTEXT, FAILED)
    assert condition("${{ !cancelled() && inputs.comment == 'true' }}", CONTEXT, FAILED)
    assert condition(None, CONTEXT, OK) and not condition(None, CONTEXT, FAILED)
    with pytest.raises(ExpressionError):
        condition("${{ inputs.plan }} == ''", CONTEXT, OK)  # always true on GitHub: a bug


def test_unknown_names_and_functions_are_errors() -> None:
    with pytest.raises(ExpressionError):
        evaluate("matrix.shard", CONTEXT)  # no matrix context inside a composite action
    with pytest.raises(ExpressionError):
        evaluate("hashFiles('x')", CONTEXT)


def test_interpolation_renders_like_github() -> None:
    assert interpolate("${{ inputs.command }}-${{ env.UNSET }}-${{ true }}", CONTEXT) == (
        "report--true"
    )


@given(st.text(), st.text(min_size=1).filter(lambda d: "\n" not in d and "\r" not in d))
def test_heredoc_outputs_round_trip(value: str, delimiter: str) -> None:
    value = value.replace("\r", "")
    if delimiter in value.split("\n") or "\x85" in value or "\u2028" in value:
        return  # a delimiter line inside the value is what random delimiters prevent
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "output"
        path.write_text(f"name<<{delimiter}\n{value}\n{delimiter}\nplain=a=b\n", "utf-8")
        assert read_file_commands(path) == {"name": value, "plain": "a=b"}


def test_upload_leaves_hidden_files_out_unless_asked(tmp_path: Path) -> None:
    runs = Runs(tmp_path / "runs")
    run = runs.new()
    job = Job(run, runs, tmp_path / "ws", tmp_path / "temp", "push", {}, "refs/heads/main")
    results = tmp_path / "results" / "shard-1"
    results.mkdir(parents=True)
    (results / "manifest.json").write_text("{}")
    (results / ".coverage.shard-1").write_text("data")
    runner = ActionRunner()
    runner._upload({"name": "plain", "path": str(tmp_path / "results")}, job)
    runner._upload(
        {"name": "hidden", "path": str(tmp_path / "results"), "include-hidden-files": "true"}, job
    )
    assert sorted(p.name for p in run.artifact("plain").rglob("*") if p.is_file()) == [
        "manifest.json"
    ]
    assert (run.artifact("hidden") / "shard-1" / ".coverage.shard-1").is_file()
    with pytest.raises(HarnessError, match="already exists"):
        runner._upload({"name": "plain", "path": str(tmp_path / "results")}, job)
    # download-artifact v8: a pattern that matches nothing downloads nothing and succeeds
    message, _ = runner._download({"pattern": "nothing-*", "merge-multiple": "true"}, job)
    assert message.startswith("downloaded 0 artifacts")
