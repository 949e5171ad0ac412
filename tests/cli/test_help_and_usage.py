"""Every option says what it does, and a mistake gets the usage of the command it was made in.

Walks the real parser (every argparse action of every sub-command), and runs the real program as
a subprocess for what a user sees on the terminal.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from shard_action.cli import COMMANDS, build_parser


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no sub-commands")


def test_every_option_of_every_command_has_a_help_text() -> None:
    commands = _commands()
    assert sorted(commands) == sorted(c.replace("_", "-") for c in COMMANDS)
    missing = [
        f"{name} {' / '.join(action.option_strings) or action.dest}"
        for name, command in commands.items()
        for action in command._actions
        if not action.help or action.help == argparse.SUPPRESS or not action.help.strip()
    ]
    assert missing == []


def shard_action(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shard_action", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("command", "required"),
    [
        ("plan", ()),
        ("local", ()),
        ("schema", ()),
        ("report", ("--plan", "p.json", "--results", "r")),
        ("fetch-history", ("--artifact", "a", "--out", "o")),
    ],
)
def test_an_unknown_option_shows_the_usage_of_its_command(
    command: str, required: tuple[str, ...]
) -> None:
    proc = shard_action(command, *required, "--bogus")
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"usage: shard-action {command} "), proc.stderr
    assert f"shard-action {command}: error: unrecognized arguments: --bogus" in proc.stderr
    assert "did you mean" not in proc.stderr  # nothing is close to "bogus"


def test_a_mistyped_option_gets_the_closest_one() -> None:
    proc = shard_action("plan", "--max-shars=3", "--granulrity", "file")
    assert proc.returncode == 2
    assert "--max-shars: did you mean --max-shards?" in proc.stderr
    assert "--granulrity: did you mean --granularity?" in proc.stderr


def test_help_shows_the_granularity_and_bad_report_options() -> None:
    proc = shard_action("plan", "--help")
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    assert "Split by test id, or keep files whole" in text
    assert "A corrupt timing report: stop with an error, or warn and skip it." in text


@pytest.mark.parametrize("command", sorted(_commands()))
def test_every_commands_help_prints_and_a_percent_sign_stays_one(command: str) -> None:
    # argparse formats help with %: a config key's "1 %" crashed every --help that listed it
    text = " ".join(_commands()[command].format_help().split())
    assert "%%" not in text
    if command in ("plan", "local"):
        assert "within 1 % or 0.5 s of the fastest wall" in text


@pytest.mark.parametrize("command", ["comment", "fetch-history"])
def test_help_names_every_token_variable_read(command: str) -> None:
    proc = shard_action(command, "--help")
    assert proc.returncode == 0
    for name in ("SHARD_ACTION_TOKEN", "GITHUB_TOKEN", "GH_TOKEN"):
        assert name in proc.stdout, (command, proc.stdout)
