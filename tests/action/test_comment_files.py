"""comment.json is read as the document it is: its kind, version and keys are checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shard_action.adapters.comment_files import read_saved
from shard_action.errors import InputError

META = {"kind": "shard-action-comment", "version": 1, "repo": "octo/app", "pr": 7, "workflow": "CI"}


def _saved(tmp_path: Path, meta: dict[str, object]) -> Path:
    (tmp_path / "comment.json").write_text(json.dumps(meta), "utf-8")
    return tmp_path


def test_no_saved_comment_is_none() -> None:
    assert read_saved(Path("/nonexistent-folder")) is None


def test_the_saved_comment_reads_as_its_fields(tmp_path: Path) -> None:
    saved = read_saved(_saved(tmp_path, META))
    assert saved is not None and (saved.repo, saved.pr, saved.workflow) == ("octo/app", 7, "CI")


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({**META, "kind": "shard-action-plan"}, "not a saved comment (kind 'shard-action-plan'"),
        ({**META, "version": 2}, "saved comment version 2 is not supported"),
        ({**META, "pull": 8}, "key 'pull': Extra inputs are not permitted"),
    ],
)
def test_another_kind_version_or_an_unknown_key_is_refused_naming_the_file(
    tmp_path: Path, meta: dict[str, object], expected: str
) -> None:
    with pytest.raises(InputError) as caught:
        read_saved(_saved(tmp_path, meta))
    assert expected in str(caught.value) and caught.value.source == str(tmp_path / "comment.json")
