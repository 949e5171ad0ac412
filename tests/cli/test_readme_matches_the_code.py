"""What the README says of the program is what the code does: the command table says what
``--help`` says (each synopsis names only options the command has, required where the parser
requires them, and every option that is not a config key: those are all options too, as the
table says), the versions a release reads are the models', and the report fields it names for
templates exist."""

from __future__ import annotations

import argparse
import re
import typing
from pathlib import Path

import pytest

from shard_action.cli import build_parser
from shard_action.commands.schema import MODELS
from shard_action.core.config import Config
from shard_action.core.documents import Document
from shard_action.core.manifest import ShardManifest
from shard_action.core.mode import ModeState

README = Path(__file__).resolve().parents[2] / "README.md"
CONFIG_KEYS = {f"--{name.replace('_', '-')}" for name in Config.model_fields}


def _synopses() -> dict[str, str]:
    """``plan`` (``history show``...) -> the first code span of its row in the command table."""
    section = README.read_text("utf-8").split("## The command line\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `shard-action ((?:[^`\\]|\\.)+)`", section, re.MULTILINE)
    out = {}
    for row in rows:
        name = re.match(r"[a-z-]+(?: [a-z]+)?", row)  # the words before the first option
        assert name is not None
        out[name.group(0)] = row.replace("\\|", "|")
    return out


def _parser(command: str) -> argparse.ArgumentParser:
    words = command.split()
    parser: argparse.ArgumentParser = build_parser(words[0].replace("-", "_"))
    for name in words:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


def _options(synopsis: str) -> dict[str, bool]:
    """Each ``--option`` of a synopsis -> whether it is required (outside every ``[...]``)."""
    found: dict[str, bool] = {}
    depth = 0
    for token in re.finditer(r"\[|\]|--[a-z][a-z-]*", synopsis):
        text = token.group(0)
        if text == "[":
            depth += 1
        elif text == "]":
            depth -= 1
        else:
            found[text] = depth == 0
    return found


def test_the_table_has_every_command() -> None:
    assert set(_synopses()) == {
        "plan", "run", "report", "local", "fetch-history", "comment", "history show", "schema",
    }  # fmt: skip


@pytest.mark.parametrize("command", sorted(_synopses()))
def test_each_synopsis_matches_the_commands_help(command: str) -> None:
    synopsis = _synopses()[command]
    parser = _parser(command)
    options = {
        option: action.required
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }
    written = _options(synopsis)
    assert set(written) <= set(options), f"{command}: no such option"
    for option, required in written.items():
        assert required == options[option], f"{command} {option}: required is {options[option]}"
    missing = set(options) - set(written) - CONFIG_KEYS
    assert not missing, f"{command}: the README's synopsis lacks {sorted(missing)}"


def test_the_older_versions_the_readme_says_a_release_reads_are_the_models() -> None:
    text = " ".join(README.read_text("utf-8").split())
    older = {
        model.expected()[0]: (sorted(model.older), model.expected()[1])
        for adapter, _ in MODELS.values()
        if isinstance(model := adapter.core_schema.get("cls"), type)
        and issubclass(model, Document)
        and model.older
    }
    assert older == {"shard-action-history": ([1], 2)}
    assert "`history.json` version 1 reads as version 2" in text
    assert "reads only its own version" not in text


def test_the_report_fields_the_templates_entry_names_exist() -> None:
    text = README.read_text("utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| `templates` |"))
    named = set(re.findall(r"`mode\.next\.([a-z_]+)`", row))
    assert named == set(ModeState.model_fields)
    # and the version-1 names it says were moved
    assert {"`mode.next_mode`", "`mode.next_reason`", "`mode.clean_serial_runs`"} <= set(
        re.findall(r"`mode\.[a-z_]+`", row)
    )


def _field(model: type[object], path: str) -> bool:
    """``slices[].coverage_core`` names a field of each item of ``model``'s ``slices`` list."""
    for name in path.replace("[]", "").split("."):
        fields = getattr(model, "model_fields", {})
        if name not in fields:
            return False
        kind = fields[name].annotation
        inner = [a for a in typing.get_args(kind) if isinstance(a, type)]
        model = inner[0] if inner else kind
    return True


def test_the_manifest_keys_the_readme_names_exist() -> None:
    """The README named ``runs[].coverage_core`` after manifest version 3 renamed it."""
    text = " ".join(README.read_text("utf-8").split())
    named = re.findall(r"`manifest\.json`[^()]{0,60}\(`([a-z_.\[\]]+)`\)", text)
    assert "slices[].coverage_core" in named, named
    assert [key for key in named if not _field(ShardManifest, key)] == []
