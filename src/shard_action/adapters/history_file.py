"""Reading and writing the history file.

A missing file is the first run of a project: an empty :class:`History`. A file that is there but
unusable (not JSON, not a history, a version we do not know) is an :class:`InputError` naming it:
silently starting over would throw away every timing and, worse, reset a serial fallback to
parallel. Writes are atomic (temporary file, then rename), so a killed job never leaves half a
history for the next plan to choke on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shard_action.adapters.documents import document_from, read_json
from shard_action.adapters.files import write_text_atomic
from shard_action.core.history import History


def read_history(path: Path) -> History:
    """The history in ``path``; an empty one when the file does not exist."""
    try:
        raw = read_json(path, History.title)
    except FileNotFoundError:
        return History()
    return history_from_document(raw, str(path))


def history_from_document(document: Any, source: str) -> History:
    """A parsed JSON document as a :class:`History`, or an InputError naming ``source``.

    Shared by the report (which reads the previous history) and the plan's timing sources
    (which detect a history by content), so both refuse the same files with the same words.
    A version-1 history reads as version 2 (``History.from_older``).
    """
    return document_from(document, History, source)


def write_history(path: Path, history: History) -> None:
    """Write atomically, compact: a history of 100k tests is read by every plan job.

    Unknown values (``null``) are left out: every optional field reads back as None when it is
    missing, and at 100k tests two nulls per record are a fifth of the file
    (``benchmarks/history_size.py``).
    """
    write_text_atomic(path, history.model_dump_json(exclude_none=True) + "\n")
