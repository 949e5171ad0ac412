"""The GitHub Actions runtime: step outputs, the job summary and annotations.

GitHub reads these through files named by environment variables (``GITHUB_OUTPUT``,
``GITHUB_STEP_SUMMARY``) and workflow commands on stdout. Outside Actions the variables are unset
and every function here quietly does nothing, so the same command works on a laptop.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, TextIO

SUMMARY_LIMIT = 1024 * 1024
"""GitHub rejects a step summary over 1 MiB; we stay under it ourselves."""


def in_actions(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return env.get("GITHUB_ACTIONS") == "true"


def set_outputs(values: Mapping[str, str], env: Mapping[str, str] | None = None) -> bool:
    """Append ``name=value`` pairs to ``$GITHUB_OUTPUT``; returns False when not in Actions.

    Every value is written with a random heredoc delimiter, so a value holding newlines or a
    delimiter-looking line (a test id can hold anything) cannot inject another output.
    """
    env = os.environ if env is None else env
    path = env.get("GITHUB_OUTPUT")
    if not path:
        return False
    with open(path, "a", encoding="utf-8") as out:
        for name, value in values.items():
            delimiter = f"shard_action_{secrets.token_hex(8)}"
            while delimiter in value:  # pragma: no cover - 64 random bits
                delimiter = f"shard_action_{secrets.token_hex(8)}"
            out.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return True


def fit_summary(markdown: str, limit: int = SUMMARY_LIMIT, pointer: str = "") -> str:
    """Cut ``markdown`` to ``limit`` bytes (UTF-8) at a line end, adding ``pointer`` when cut.

    When not even the note fits, the answer is empty: nothing is better than a cut note.
    """
    data = markdown.encode("utf-8")
    if len(data) <= limit:
        return markdown
    note = f"\n\n> **Truncated**: this summary was longer than GitHub allows. {pointer}\n"
    budget = limit - len(note.encode("utf-8"))
    if budget < 0:
        return ""
    cut = data[:budget].decode("utf-8", errors="ignore")
    if "\n" in cut:
        cut = cut[: cut.rindex("\n")]
    return cut + note


def write_summary(markdown: str, env: Mapping[str, str] | None = None, pointer: str = "") -> bool:
    """Append to ``$GITHUB_STEP_SUMMARY`` so the step's file stays within GitHub's 1 MiB.

    False when not in Actions, or when what is already there leaves no room for even the
    truncation note (GitHub would drop the whole summary, not just our part).
    """
    env = os.environ if env is None else env
    path = env.get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    existing = Path(path).stat().st_size if Path(path).exists() else 0
    room = SUMMARY_LIMIT - existing - 1  # one byte for the closing newline
    text = fit_summary(markdown, room, pointer)
    if not text:
        return False
    with open(path, "a", encoding="utf-8") as out:
        out.write(text if text.endswith("\n") else text + "\n")
    return True


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def annotate(
    level: Literal["error", "warning", "notice"],
    message: str,
    *,
    title: str | None = None,
    file: str | None = None,
    line: int | None = None,
    stream: TextIO | None = None,
) -> None:
    """Emit a workflow-command annotation (``::error file=…::message``), escaped as GitHub wants."""
    props = []
    if file:
        props.append(f"file={_escape_property(file)}")
    if line:
        props.append(f"line={line}")
    if title:
        props.append(f"title={_escape_property(title)}")
    head = f"::{level}" + (" " + ",".join(props) if props else "")
    print(f"{head}::{_escape_data(message)}", file=stream or sys.stdout)
