"""Errors a user can act on.

Every problem with user input is an :class:`InputError` whose message names the file (and line or
key where known). The CLI prints the message and exits with status 2, never a traceback: a
traceback means a bug in shard-action, a message means a problem in the input.
"""

from __future__ import annotations


class InputError(Exception):
    """Bad input from the user: a config file, a timing report, a test list, a flag."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None) -> None:
        self.source = source
        self.line = line
        where = ""
        if source is not None:
            where = f"{source}:{line}: " if line is not None else f"{source}: "
        super().__init__(f"{where}{message}")
