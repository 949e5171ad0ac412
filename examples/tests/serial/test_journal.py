"""The journal is one file per checkout (sequential `serial` lane).

These tests rewrite that file and then check its exact content, so a second process using it at
the same time would break them. The second test is *order-dependent*: it replays the entry that
the first test wrote in this same process. That is fine in a sequential lane, which runs its
tests in one process, in collection order; it fails if the test runs alone or first.
"""

from __future__ import annotations

import os
import time
import uuid

import pytest

from inventory import journal

pytestmark = pytest.mark.serial

PROCESS_TOKEN = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
"""Unique to this process: a journal left by an earlier run never satisfies the replay test."""


def test_journal_records_a_receipt() -> None:
    path = journal.reset()
    journal.record("BOL-0001", 50, f"receipt {PROCESS_TOKEN}")
    time.sleep(0.3)  # a concurrent writer would append here
    assert journal.entries(path) == [("BOL-0001", 50, f"receipt {PROCESS_TOKEN}")]


def test_journal_replays_the_receipt_of_the_test_before() -> None:
    assert ("BOL-0001", 50, f"receipt {PROCESS_TOKEN}") in journal.entries(), (
        "needs test_journal_records_a_receipt to run before it, in the same process: "
        "this lane must be sequential"
    )
    journal.record("BOL-0001", -20, f"sale {PROCESS_TOKEN}")
    time.sleep(0.2)
    assert journal.balance("BOL-0001") == 30


def test_journal_refuses_multi_line_notes() -> None:
    with pytest.raises(ValueError, match="one line"):
        journal.record("BOL-0001", 1, "two\nlines")


def test_journal_of_a_missing_file_is_empty(tmp_path: object) -> None:
    from pathlib import Path

    assert journal.entries(Path(str(tmp_path)) / "none.log") == []
