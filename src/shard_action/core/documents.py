"""The base of every JSON document shard-action writes: a ``kind`` and a ``version``.

A reader checks both before validating, in one place (:func:`check_document`, then
:func:`current` for an older version a model still reads), so a file of another kind or release
gets one sentence naming what to do instead of a list of field errors. A version is a JSON whole
number: ``true`` or ``2.0`` is refused, though Python finds them equal to 1 and 2. Documents
refuse unknown keys. The list of them: docs/documents.md.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """A part of a document: frozen, no unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Document(BaseModel):
    """A whole file. Subclasses narrow ``kind`` and ``version`` to one literal each (and say
    ``frozen=True`` where nothing changes a document once made)."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    version: int
    title: ClassVar[str] = "document"
    """What a person calls it, in errors: ``plan``, ``history``…"""
    remedy: ClassVar[str] = "write it again with this release"
    """What to do when its version is not the one this release reads."""
    untrusted: ClassVar[bool] = False
    """Written by a run we do not trust (a fork's): errors never repeat its values."""
    older: ClassVar[frozenset[int]] = frozenset()
    """Older versions this release still reads, through :meth:`from_older`."""

    @classmethod
    def from_older(cls, raw: dict[str, Any]) -> dict[str, Any]:
        """A parsed document of one of the :attr:`older` versions as the current version."""
        return raw

    @classmethod
    def expected(cls) -> tuple[str, int]:
        """The kind and the version this release writes and reads."""
        kind = cls.model_fields["kind"].default
        version = cls.model_fields["version"].default
        assert isinstance(kind, str) and isinstance(version, int), cls  # every document has both
        return kind, version


D = TypeVar("D", bound=Document)


def _whole(value: Any) -> bool:
    """An integer as JSON spells one: ``true`` and ``1.0`` are not (Python's ``==`` says they
    are)."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_document(raw: Any, model: type[Document]) -> str | None:
    """Why ``raw`` (parsed JSON) cannot be read as ``model``, or None when kind and version fit
    (the version this release writes, or one of the model's :attr:`~Document.older`).

    A document with a ``version`` but no ``kind`` is taken for an older one of the expected
    kind (plans before version 2 had none), so its version decides the message.
    """
    kind, version = model.expected()
    if not isinstance(raw, dict):
        return f"not a {model.title} (expected a JSON object, got {type(raw).__name__})"
    found_kind = raw.get("kind")
    if found_kind != kind and (found_kind is not None or "version" not in raw):
        return f"not a {model.title} (kind {found_kind!r}, expected {kind!r})"
    found = raw.get("version")
    if found is not None and not _whole(found):
        return (
            f"{model.title} version {json.dumps(found)} is not a whole number (this "
            f"shard-action reads version {version})"
        )
    if found_kind == kind and (found == version or found in model.older):
        return None
    return (
        f"{model.title} version {found!r} is not supported (this shard-action reads version "
        f"{version}): {model.remedy}"
    )


def current(raw: dict[str, Any], model: type[D]) -> dict[str, Any]:
    """A document :func:`check_document` accepted, as the version ``model`` validates."""
    return raw if raw["version"] == model.expected()[1] else model.from_older(raw)
