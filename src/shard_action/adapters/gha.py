"""The GitHub Actions runtime: step outputs, the job summary and annotations.

GitHub reads these through files named by environment variables (``GITHUB_OUTPUT``,
``GITHUB_STEP_SUMMARY``) and workflow commands on stdout. Outside Actions the variables are unset
and every function here quietly does nothing, so the same command works on a laptop. Everything
else we print goes through :class:`CommandSafeStream`: no value can start a workflow command.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, TextIO

from shard_action.core.markdown import fit

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
            delimiter = f"shard_action_{os.urandom(8).hex()}"
            while delimiter in value:  # pragma: no cover - 64 random bits
                delimiter = f"shard_action_{os.urandom(8).hex()}"
            out.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return True


def fit_summary(markdown: str, limit: int = SUMMARY_LIMIT, pointer: str = "") -> str:
    """Cut ``markdown`` to ``limit`` bytes (UTF-8) at a line end, adding ``pointer`` when cut.

    When not even the note fits, the answer is empty: nothing is better than a cut note.
    """
    note = f"> **Truncated**: this summary was longer than GitHub allows. {pointer}\n"
    return fit(markdown, limit, note, measure=lambda text: len(text.encode("utf-8")))


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


_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")
"""How the runner splits a step's output into lines (.NET ``ReadLine``)."""


class CommandSafeStream:
    """A text stream that lets no text written to it become a workflow command.

    The runner reads a line whose text, after leading spaces, starts with ``::`` as a command
    (``::add-mask::``, ``::stop-commands::``), and ``##[`` anywhere in a line as a legacy one. A
    test id or a message from an artifact can hold a newline followed by either: here the colon
    that completes a leading ``::`` becomes ``%3A`` and ``##[`` becomes ``##%5B``, across writes
    too. Our own commands go through :meth:`command` (only :func:`annotate` does).
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._head: str | None = ""
        """The current line so far while it may still start a command; None once it cannot."""

    def write(self, text: str) -> int:
        out: list[str] = []
        for piece in _LINE_BREAK.split(text):
            if piece in ("\r\n", "\r", "\n"):
                self._head = ""
                out.append(piece)
            elif piece:
                out.append(self._guard(piece))
        self.stream.write("".join(out))
        return len(text)

    def _guard(self, piece: str) -> str:
        if self._head is not None:
            line = self._head + piece
            stripped = line.lstrip()
            if stripped.startswith("::"):
                at = len(line) - len(stripped) + 1 - len(self._head)  # the completing colon
                piece = piece[:at] + "%3A" + piece[at + 1 :]
                self._head = None
            elif stripped in ("", ":"):
                self._head = line
            else:
                self._head = None
        return piece.replace("##[", "##%5B")

    def command(self, line: str) -> None:
        """Write one workflow command of ours, unchanged, on a line of its own."""
        prefix = "" if self._head == "" else "\n"
        self.stream.write(f"{prefix}{line}\n")
        self._head = ""

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding… for rich and print
        return getattr(self.stream, name)


@contextlib.contextmanager
def command_safe_output() -> Iterator[None]:
    """``sys.stdout`` and ``sys.stderr`` as :class:`CommandSafeStream` for the block."""
    saved = sys.stdout, sys.stderr
    sys.stdout = CommandSafeStream(saved[0])
    sys.stderr = CommandSafeStream(saved[1])
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        sys.stdout, sys.stderr = saved


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
    text = f"{head}::{_escape_data(message)}"
    target = stream or sys.stdout
    if isinstance(target, CommandSafeStream):
        target.command(text)
    else:
        print(text, file=target)


def tell(
    level: Literal["error", "warning", "notice"],
    message: str,
    *,
    title: str,
    prefix: str | None = None,
) -> None:
    """A message for a person: an annotation in Actions (the run's page shows it), else a line
    ``prefix: level: message`` on stderr (``prefix`` defaults to ``title``)."""
    if in_actions():
        annotate(level, message, title=title)
    else:
        print(f"{prefix or title}: {level}: {message}", file=sys.stderr)
