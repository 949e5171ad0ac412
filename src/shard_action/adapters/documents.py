"""Reading our JSON documents (plan, manifest, history, report…) from files, one way.

Every problem is an :class:`InputError` naming the file: unreadable, too large, not UTF-8, not
JSON, another kind or version (``core.documents.check_document``; an older version the model
still reads is brought up to date by ``core.documents.current``), or a value the model refuses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from shard_action.core.documents import D, check_document, current
from shard_action.errors import InputError, first_problem

MAX_BYTES = 512 * 1024 * 1024
"""Larger is not one of ours: a history of 100k tests and 50 runs is well under 100 MiB."""


def read_json(path: Path, title: str = "document") -> Any:
    """The parsed JSON of ``path`` (a BOM is allowed); ``FileNotFoundError`` passes through."""
    source = str(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InputError(f"larger than {MAX_BYTES >> 20} MiB: not a {title}", source=source)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise InputError(f"is a folder, not a {title}", source=source) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=source) from exc
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8: {exc.reason}", source=source) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON at column {exc.colno}: {exc.msg}", source=source, line=exc.lineno
        ) from None
    except RecursionError:
        raise InputError("JSON nested too deeply", source=source) from None


def document_from(raw: Any, model: type[D], source: str) -> D:
    """A parsed JSON value as ``model``, or an InputError naming ``source``."""
    problem = check_document(raw, model)
    if problem is not None:
        raise InputError(problem, source=source)
    try:
        return model.model_validate(current(raw, model))
    except ValidationError as exc:
        detail = first_problem(exc, show_input=not model.untrusted)
        problem = f"not a valid {model.title}: {detail}"
        raise InputError(problem, source=source) from None


def read_document(path: Path, model: type[D]) -> D:
    """The document in ``path`` as ``model``; a missing file is an InputError too."""
    try:
        raw = read_json(path, model.title)
    except FileNotFoundError:
        raise InputError(f"{model.title} file not found", source=str(path)) from None
    return document_from(raw, model, str(path))
