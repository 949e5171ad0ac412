"""Writing files so a reader never sees half of one.

A killed job, or a reader in another process (the fan-in, a user's editor), must find either
the old file or the new one: write to a temporary file in the same folder, then rename.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from shard_action.errors import InputError


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; these files are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def make_folder(path: Path) -> Path:
    """Create an output folder (and its parents), or say which path is in the way and why.

    ``--out`` and ``--results`` name folders a user typed; a file of that name or a read-only
    parent must be an error naming the path, not a traceback.
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError("exists and is not a folder", source=str(path)) from None
    except OSError as exc:
        raise InputError(
            f"cannot create the folder: {exc.strerror or exc}", source=str(path)
        ) from None
    return path
