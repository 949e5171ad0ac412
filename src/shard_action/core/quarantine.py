"""Quarantine: tests the repository has agreed not to let fail the job, for a while.

A flaky-on-its-own test (flaky in serial runs too) is not fixed by serial mode; what helps is an
owner who fixes it and, meanwhile, a build that stays green. The quarantine file
(``.shard-action/quarantine.toml``, key ``quarantine-file``) lists such tests, each with an
owner, a reason and an expiry date: they still run and are reported ("quarantined"), they do
not fail the job and do not count toward the flaky rate. An expired entry is an error, so a
quarantine cannot quietly become permanent. This module holds the rules; reading the file is
the plan command's job, and the plan carries the entries to the shards and the fan-in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from shard_action.core.lanes import home_lane

DEFAULT_FILE: Final = ".shard-action/quarantine.toml"
SUGGESTED_DAYS: Final = 30
"""Days of quarantine a suggested entry proposes: long enough to fix, short enough to notice."""

Text = Annotated[str, Field(min_length=1, max_length=2000)]


class QuarantineEntry(BaseModel):
    """One quarantined test, as written in the file (``[[quarantine]]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    test: Text = Field(description="The test id (pytest node id, or the file at file granularity).")
    owner: Text = Field(description="Who fixes it (a person or team, e.g. `@alice`).")
    reason: Text = Field(description="Why it is quarantined.")
    expires: date = Field(description="Last day the entry holds (`YYYY-MM-DD`); after it: error.")
    lane: Text | None = Field(
        None, description="Only in this lane (or fan-out instance); default: every lane."
    )

    @field_validator("test", "owner", "reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class QuarantineFile(BaseModel):
    """The whole file: a list of ``[[quarantine]]`` tables."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    quarantine: list[QuarantineEntry] = Field(default_factory=list)


class Quarantine(BaseModel):
    """What the plan carries: the entries and the file they came from (to name it in errors)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str | None = Field(None, description="The quarantine file read, if any.")
    entries: list[QuarantineEntry] = Field(default_factory=list)
    _by_test: dict[str, list[QuarantineEntry]] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        for entry in self.entries:
            self._by_test.setdefault(entry.test, []).append(entry)

    def covers(self, test: str, lane: str, base: str | None = None) -> QuarantineEntry | None:
        """The entry that quarantines ``test`` in lane instance ``lane`` (of lane ``base``); a
        demoted lane (``db-sqlite.demoted``) is its home lane's, so the entry follows the test."""
        home, _ = home_lane(lane)
        for entry in self._by_test.get(test, ()):
            if entry.lane in (None, lane, home, base):
                return entry
        return None


class QuarantineError(ValueError):
    """A quarantine file that cannot be used: the message names the entry."""


def _where(entry: Any, position: int) -> str:
    test = entry.get("test") if isinstance(entry, dict) else None
    return f"entry {position + 1}" + (f" ({test!r})" if isinstance(test, str) else "")


def parse(data: Any) -> list[QuarantineEntry]:
    """The entries of a parsed file; every problem is named by entry and key, and a test may
    be listed once per lane (two entries for one test would disagree on owner and expiry)."""
    try:
        entries = QuarantineFile.model_validate(data).quarantine
    except ValidationError as exc:
        items = data.get("quarantine") if isinstance(data, dict) else None
        lines = []
        for error in exc.errors():
            loc = list(error.get("loc", ()))
            if len(loc) >= 2 and loc[0] == "quarantine" and isinstance(loc[1], int):
                raw = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
                key = ".".join(str(p) for p in loc[2:]) or "(the entry)"
                lines.append(f"{_where(raw, loc[1])}: {key}: {error['msg']}")
            else:
                key = ".".join(str(p) for p in loc) or "(top level)"
                message = "unknown key (expected [[quarantine]] tables)"
                lines.append(
                    f"{key}: {message if error['type'] == 'extra_forbidden' else error['msg']}"
                )
        raise QuarantineError("\n  ".join(lines)) from None
    _check_each_listed_once(entries)
    return entries


def _check_each_listed_once(entries: Sequence[QuarantineEntry]) -> None:
    """A test may be listed once per lane, or once for every lane, not both: an entry for
    every lane beside one for a lane leaves unclear whose owner and expiry hold there."""
    first: dict[str, list[tuple[int, QuarantineEntry]]] = {}
    for position, entry in enumerate(entries, start=1):
        for earlier, other in first.get(entry.test, ()):
            if other.lane == entry.lane:
                raise QuarantineError(
                    f"entry {position} ({entry.test!r}): the test is listed twice"
                    + (f" for lane {entry.lane!r}" if entry.lane else "")
                    + f" (first in entry {earlier})"
                )
            if other.lane is None or entry.lane is None:
                lane = other.lane or entry.lane
                raise QuarantineError(
                    f"entries {earlier} and {position} ({entry.test!r}): one is for every lane, "
                    f"the other for lane {lane!r}: ambiguous, keep one (or give each a lane)"
                )
        first.setdefault(entry.test, []).append((position, entry))


def expired(entries: Iterable[QuarantineEntry], today: date) -> list[QuarantineEntry]:
    """Entries whose last day is before ``today``."""
    return [entry for entry in entries if entry.expires < today]


def expiry_error(entries: Sequence[QuarantineEntry], today: date) -> str | None:
    """What to tell the user about expired entries, or None when none expired."""
    gone = expired(entries, today)
    if not gone:
        return None
    lines = [f"{e.test!r} (owner {e.owner}) expired on {e.expires.isoformat()}" for e in gone]
    return (
        f"{len(gone)} quarantine {'entry' if len(gone) == 1 else 'entries'} expired "
        f"(today is {today.isoformat()}): fix the test and remove the entry, or move its "
        "`expires` date on:\n  " + "\n  ".join(lines)
    )


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string.

    TOML's escapes are a short fixed list (the spec's "basic strings"); every other control
    character, DEL included, is written as ``\\uXXXX``. Checked by round-trip through tomllib.
    """
    out = ['"']
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A test worth quarantining: flaky on its own, with its flip rate."""

    test: str
    lane: str
    reason: str


def suggestion_block(suggestions: Sequence[Suggestion], today: date, *, lanes: bool) -> str:
    """Ready-to-paste ``[[quarantine]]`` tables for ``suggestions`` (empty when there are none).

    ``lanes``: write each entry's lane (the suite has several lanes, so the id alone may name
    a test in more than one).
    """
    expires = (today + timedelta(days=SUGGESTED_DAYS)).isoformat()
    blocks = []
    for item in suggestions:
        lines = [
            "[[quarantine]]",
            f"test = {toml_string(item.test)}",
            'owner = "@who-fixes-it"',
            f"reason = {toml_string(item.reason)}",
            f"expires = {expires}",
        ]
        if lanes:
            lines.append(f"lane = {toml_string(item.lane)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def fit_block(block: str, max_lines: int) -> tuple[str, int]:
    """The first whole ``[[quarantine]]`` tables of ``block`` that fit in ``max_lines``, and
    how many were left out (a table cut in the middle would not parse when pasted)."""
    tables = [t for t in block.strip("\n").split("\n\n") if t]
    shown: list[str] = []
    used = 0
    for table in tables:
        lines = table.count("\n") + 1 + (1 if shown else 0)
        if used + lines > max_lines:
            break
        shown.append(table)
        used += lines
    return "\n\n".join(shown), len(tables) - len(shown)
