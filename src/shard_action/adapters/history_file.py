"""Reading and writing the history file.

A missing file is the first run of a project: an empty :class:`History`. A file that is there but
unusable (not JSON, not a history, a version we do not know) is an :class:`InputError` naming it:
silently starting over would throw away every timing and, worse, reset a serial fallback to
parallel. Writes are atomic (temporary file, then rename), so a killed job never leaves half a
history for the next plan to choke on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from shard_action.adapters.files import write_text_atomic
from shard_action.core.history import HISTORY_KIND, HISTORY_VERSION, History
from shard_action.errors import InputError, first_problem

MAX_BYTES = 512 * 1024 * 1024


def read_history(path: Path) -> History:
    """The history in ``path``; an empty one when the file does not exist."""
    source = str(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InputError(f"larger than {MAX_BYTES >> 20} MiB: not a history", source=source)
        raw = path.read_bytes()
    except FileNotFoundError:
        return History()
    except IsADirectoryError:
        raise InputError("is a folder, not a history file", source=source) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=source) from exc
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8: {exc.reason}", source=source) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON at column {exc.colno}: {exc.msg}", source=source, line=exc.lineno
        ) from None
    except RecursionError:
        raise InputError("JSON nested too deeply", source=source) from None
    return history_from_document(document, source)


def history_from_document(document: Any, source: str) -> History:
    """A parsed JSON document as a :class:`History`, or an InputError naming ``source``.

    Shared by the report (which reads the previous history) and the plan's timing sources
    (which detect a history by content), so both refuse the same files with the same words.
    """
    if not isinstance(document, dict) or document.get("kind") != HISTORY_KIND:
        found = document.get("kind") if isinstance(document, dict) else type(document).__name__
        raise InputError(
            f"not a shard-action history (kind {found!r}, expected {HISTORY_KIND!r})",
            source=source,
        )
    if document.get("version") != HISTORY_VERSION:
        raise InputError(
            f"history version {document.get('version')!r} is not one this shard-action reads "
            f"({HISTORY_VERSION}); upgrade shard-action, or start a new history",
            source=source,
        )
    try:
        return History.model_validate(document)
    except ValidationError as exc:
        raise InputError(f"bad history at {first_problem(exc)}", source=source) from None


def write_history(path: Path, history: History) -> None:
    """Write atomically, compact: a history of 100k tests is read by every plan job.

    Unknown values (``null``) are left out: every optional field reads back as None when it is
    missing, and at 100k tests two nulls per record are a fifth of the file
    (``benchmarks/history_size.py``).
    """
    write_text_atomic(path, history.model_dump_json(exclude_none=True) + "\n")
