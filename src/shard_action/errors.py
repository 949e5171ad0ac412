"""Errors a user can act on.

Every problem with user input is an :class:`InputError` whose message names the file (and line or
key where known). The CLI prints the message and exits with status 2, never a traceback: a
traceback means a bug in shard-action, a message means a problem in the input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class InputError(Exception):
    """Bad input from the user: a config file, a timing report, a test list, a flag."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None) -> None:
        self.source = source
        self.line = line
        where = ""
        if source is not None:
            where = f"{source}:{line}: " if line is not None else f"{source}: "
        super().__init__(f"{where}{message}")


class NoTestsError(Exception):
    """Nothing to test: not bad input (exit 2) but no test run (exit 5, pytest's status)."""

    exit_code = 5


def first_problem(exc: ValidationError, *, show_input: bool = True) -> str:
    """The first thing pydantic refused, as ``key 'a.b': message (and N more problems)``.

    A user fixes one key at a time; a wall of pydantic output hides which one, so every reader of
    our own JSON documents (history, manifest) says the same short thing.
    """
    first = exc.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    value = first.get("input")
    got = f" (got {value[:80]!r})" if isinstance(value, str) and show_input else ""
    count = exc.error_count()
    more = f" (and {count - 1} more problems)" if count > 1 else ""
    return f"key {key!r}: {first['msg']}{got}{more}"
