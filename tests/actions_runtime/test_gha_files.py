"""The GitHub Actions file protocol, read back the way the runner parses it."""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shard_action.adapters.gha import (
    CommandSafeStream,
    annotate,
    fit_summary,
    set_outputs,
    write_summary,
)
from tests.actions_runtime.test_no_command_injection import RUNNER_LINE_BREAK, workflow_commands


def parse_output_file(text: str) -> dict[str, str]:
    """The runner's reading of GITHUB_OUTPUT: `name=value` or `name<<DELIM` … `DELIM`."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            i += 1
            while lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        i += 1
    return values


def test_outputs_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "output"
    env = {"GITHUB_OUTPUT": str(out)}
    assert set_outputs({"matrix": '{"include": []}', "mode": "serial"}, env)
    assert parse_output_file(out.read_text()) == {"matrix": '{"include": []}', "mode": "serial"}


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r")))
def test_output_value_cannot_inject_another_output(value: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp, "output")
        env = {"GITHUB_OUTPUT": str(out)}
        set_outputs({"a": value + "\nmode=serial\nEOF", "b": "kept"}, env)
        parsed = parse_output_file(out.read_text(encoding="utf-8"))
    assert parsed["a"] == value + "\nmode=serial\nEOF"
    assert parsed["b"] == "kept"
    assert set(parsed) == {"a", "b"}


def test_outside_actions_nothing_is_written() -> None:
    assert not set_outputs({"a": "b"}, {})
    assert not write_summary("# hi", {})


def test_summary_is_appended_and_bounded(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    big = "\n".join(f"| row {i} | {'x' * 100} |" for i in range(20000))
    assert write_summary(big, env, pointer="See report.json.")
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n")
    assert len(text.encode()) <= 1024 * 1024
    assert "Truncated" in text
    assert "See report.json." in text


@pytest.mark.parametrize(
    ("before", "body"),
    [
        (0, "y" * (1024 * 1024)),  # exactly the limit, with no closing newline of its own
        (1024 * 1024 - 300, "z" * 5000),  # room only for the truncation note
        (1024 * 1024 - 10, "q" * 5000),  # not even that: nothing is added
    ],
    ids=["limit-without-newline", "room-for-the-note", "no-room"],
)
def test_summary_file_never_exceeds_one_mib(tmp_path: Path, before: int, body: str) -> None:
    summary = tmp_path / "summary.md"
    summary.write_bytes(b"e" * before)
    written = write_summary(body, {"GITHUB_STEP_SUMMARY": str(summary)}, pointer="See x.")
    size = summary.stat().st_size
    assert size <= 1024 * 1024
    assert written is (size > before)
    if before == 0:
        assert written and "Truncated" in summary.read_text()


def test_fit_summary_cuts_at_a_line_and_keeps_utf8() -> None:
    text = "ä" * 10 + "\n" + "ö" * 1000
    cut = fit_summary(text, limit=200, pointer="p")
    assert cut.startswith("ä" * 10 + "\n")
    assert "ö" not in cut
    assert len(cut.encode()) <= 200
    assert fit_summary("short", limit=200) == "short"


def test_annotation_escapes_data_and_properties() -> None:
    stream = io.StringIO()
    annotate(
        "error", "50% failed\nsecond line", title="a:b,c", file="t/x.py", line=3, stream=stream
    )
    line = stream.getvalue().strip()
    assert line == "::error file=t/x.py,line=3,title=a%3Ab%2Cc::50%25 failed%0Asecond line"
    assert re.fullmatch(r"::error [^:]*::.*", line)


HOSTILE = st.lists(
    st.sampled_from(["::", ":", " ", "\n", "\r", "\r\n", "##[", "#", "add-mask::x", "ok", "%"]),
    max_size=12,
).map("".join)


@given(chunks=st.lists(HOSTILE, max_size=6))
def test_no_text_written_to_the_safe_stream_starts_a_command(chunks: list[str]) -> None:
    raw = io.StringIO()
    stream = CommandSafeStream(raw)
    for chunk in chunks:
        stream.write(chunk)
    assert workflow_commands(raw.getvalue()) == []
    # nothing else changes: the same line breaks, and text that could not start a command
    written = "".join(chunks)
    assert len(RUNNER_LINE_BREAK.split(raw.getvalue())) == len(RUNNER_LINE_BREAK.split(written))


def test_the_safe_stream_leaves_plain_text_and_our_commands_alone() -> None:
    raw = io.StringIO()
    stream = CommandSafeStream(raw)
    stream.write("shard a-1 ok: tests/t.py::test[50%]\n  ")
    stream.write(":")
    stream.write(":add-mask::x\nnext ##[warning]y\n")
    annotate("warning", "a\n::add-mask::b", stream=stream)  # type: ignore[arg-type]
    assert raw.getvalue() == (
        "shard a-1 ok: tests/t.py::test[50%]\n  :%3Aadd-mask::x\nnext ##%5Bwarning]y\n"
        "::warning::a%0A::add-mask::b\n"
    )
    assert workflow_commands(raw.getvalue()) == ["::warning::a%0A::add-mask::b"]
