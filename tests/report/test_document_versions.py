"""Every document's version is checked by one rule (``core.documents.check_document``): a JSON
whole number, this release's or one the model still reads; ``true`` and ``2.0`` are refused
although Python finds them equal to 1 and 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shard_action.adapters.documents import read_document
from shard_action.commands import schema  # imports every document model
from shard_action.core.documents import Document, check_document
from shard_action.core.history import History
from shard_action.errors import InputError


def _documents(base: type[Document]) -> list[type[Document]]:
    found = []
    for sub in base.__subclasses__():
        found.extend([sub, *_documents(sub)])
    return found


DOCUMENTS = sorted(set(_documents(Document)), key=lambda model: model.__name__)
assert schema.MODELS


def test_every_document_model_is_found() -> None:
    assert len(DOCUMENTS) >= 8, DOCUMENTS


@pytest.mark.parametrize("model", DOCUMENTS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("spelled", ["float", "bool", "string"])
def test_a_version_that_is_not_a_whole_number_is_refused(
    model: type[Document], spelled: str
) -> None:
    kind, version = model.expected()
    found: Any = {"float": float(version), "bool": True, "string": str(version)}[spelled]
    problem = check_document({"kind": kind, "version": found}, model)
    assert problem is not None
    assert f"version {json.dumps(found)} is not a whole number" in problem
    assert check_document({"kind": kind, "version": version}, model) is None


def test_the_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_text('{"kind": "shard-action-history", "version": true}', "utf-8")
    with pytest.raises(InputError, match="version true is not a whole number") as caught:
        read_document(path, History)
    assert str(path) in str(caught.value)


def test_an_older_version_is_read_only_where_the_model_says_so(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_text('{"kind": "shard-action-history", "version": 1, "mode": "serial"}', "utf-8")
    history = read_document(path, History)
    assert (history.version, history.mode.mode) == (2, "serial")
    others = [model for model in DOCUMENTS if not model.older]
    assert History not in others and others
    for model in others:
        kind, version = model.expected()
        problem = check_document({"kind": kind, "version": version - 1}, model)
        assert problem is not None and "is not supported" in problem
