"""The history file on disk: missing is empty, anything unusable is named, writes are atomic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shard_action.adapters.history_file import read_history, write_history
from shard_action.core.history import History, RunRecord, TestRecord
from shard_action.errors import InputError


def test_a_missing_file_is_an_empty_history(tmp_path: Path) -> None:
    history = read_history(tmp_path / "nope.json")
    assert history == History() and history.mode == "parallel"


def test_round_trip(tmp_path: Path) -> None:
    history = History(
        mode="serial",
        mode_reason="flaky",
        clean_serial_runs=1,
        mode_since=3,
        mode_cause="c",
        runs=[RunRecord(index=3, mode="parallel", tests=2, flaky=1, flaky_rate=0.5, coverage=80.0)],
        tests={"l": {"t[|\n]": TestRecord(duration=1.5, outcomes="pF", last_seen=3, recent=[1.5])}},
    )
    path = tmp_path / "deep" / "history.json"
    write_history(path, history)
    assert read_history(path) == history
    assert [p.name for p in path.parent.iterdir()] == ["history.json"]  # no temporary left


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "not a shard-action history"),
        (json.dumps({"kind": "shard-action-plan"}).encode(), "not a shard-action history"),
        (
            json.dumps({"kind": "shard-action-history", "version": 2}).encode(),
            "history version 2 is not one this shard-action reads",
        ),
        (
            json.dumps({"kind": "shard-action-history", "version": 1, "mode": "fast"}).encode(),
            "bad history at key 'mode'",
        ),
    ],
)
def test_an_unusable_file_is_named(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "history.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as caught:
        read_history(path)
    assert str(path) in str(caught.value)


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder"):
        read_history(tmp_path)
