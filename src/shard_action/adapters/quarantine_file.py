"""Reading the quarantine file (``core.quarantine``) at the plan step.

The plan job runs in the repository, so it reads the file and the plan carries the entries to
the shards and the fan-in, which may not have the checkout. A default file that does not exist
means no quarantine; a file named in the config must exist. Every problem (not TOML, a bad
entry, an expired entry) is an :class:`InputError` naming the file.
"""

from __future__ import annotations

import sys
from datetime import date, datetime, timezone
from pathlib import Path

from shard_action.core.quarantine import (
    DEFAULT_FILE,
    Quarantine,
    QuarantineError,
    expiry_error,
    parse,
)
from shard_action.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


def today_utc() -> date:
    return datetime.now(timezone.utc).date()


def read_quarantine(root: Path, configured: str | None, today: date | None = None) -> Quarantine:
    """The quarantine of the project at ``root`` (``configured``: the ``quarantine-file`` key)."""
    path = Path(configured or DEFAULT_FILE)
    path = path if path.is_absolute() else root / path
    shown = configured or DEFAULT_FILE
    if not path.is_file():
        if configured:
            raise InputError("quarantine file not found (key quarantine-file)", source=shown)
        return Quarantine()
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", source=shown) from exc
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=shown) from exc
    try:
        entries = parse(data)
    except QuarantineError as exc:
        raise InputError(f"invalid quarantine file:\n  {exc}", source=shown) from None
    problem = expiry_error(entries, today or today_utc())
    if problem is not None:
        raise InputError(problem, source=shown)
    return Quarantine(source=shown, entries=entries)
