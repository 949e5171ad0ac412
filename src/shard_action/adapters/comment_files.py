"""The comment's files: the event payload GitHub wrote, and a body saved for later with its
metadata (``comment.md`` and ``comment.json``, uploaded as an artifact by the report job).

Everything read here may come from an untrusted run: sizes are capped and the metadata is
validated (``core.pull_request.SavedComment``); what it may be trusted for is decided there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shard_action.adapters.documents import read_document
from shard_action.adapters.files import write_text_atomic
from shard_action.core.pull_request import META_FILE, SavedComment, Target
from shard_action.errors import InputError

BODY_FILE = "comment.md"
MAX_BODY_BYTES = 4 * 1024 * 1024
"""A saved body may come from an untrusted run: read only this much (GitHub takes 65,536 chars)."""
MAX_EVENT_BYTES = 64 * 1024 * 1024


def read_event(env: Mapping[str, str]) -> dict[str, Any]:
    """The event payload GitHub wrote to ``GITHUB_EVENT_PATH`` (empty outside Actions)."""
    path = env.get("GITHUB_EVENT_PATH", "").strip()
    if not path:
        return {}
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_EVENT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read the event payload: {exc}", source=path) from exc
    if len(raw) > MAX_EVENT_BYTES:
        raise InputError("the event payload is too large", source=path)
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise InputError(f"the event payload is not JSON: {exc}", source=path) from exc
    return data if isinstance(data, dict) else {}


def read_saved(folder: Path) -> SavedComment | None:
    """The metadata saved beside a body, or ``None`` when there is none."""
    path = folder / META_FILE
    if not path.is_file():
        return None
    if path.stat().st_size > MAX_BODY_BYTES:
        raise InputError(
            f"larger than {MAX_BODY_BYTES >> 20} MiB: not a saved comment", source=str(path)
        )
    return read_document(path, SavedComment)


def read_body(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BODY_BYTES)
    except FileNotFoundError:
        raise InputError("comment body not found", source=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=str(path)) from exc
    return raw.decode("utf-8", errors="replace")


def save_comment(
    folder: Path, body: str, target: Target, reason: str, env: Mapping[str, str]
) -> None:
    run_id = env.get("GITHUB_RUN_ID", "")
    meta = SavedComment(
        repo=target.repo,
        pr=target.pr,
        workflow=target.workflow,
        head_sha=target.head_sha,
        head_repo=target.head_repo,
        head_ref=target.head_ref,
        run_id=int(run_id) if run_id.isdigit() else None,
        reason=reason,
    )
    write_text_atomic(folder / BODY_FILE, body)
    write_text_atomic(folder / META_FILE, meta.model_dump_json(indent=1) + "\n")
