"""The changed files ``plan --changed-files`` names, whose tests get early-flake runs.

One path a line, or NUL-separated as ``git diff --name-only -z`` writes them (a NUL never occurs
in a path, a newline may); relative to the project folder. What counts as a path is
``core.early_flakes.changed_paths``' rule.
"""

from __future__ import annotations

from pathlib import Path

from shard_action.adapters.collect import read_list_file
from shard_action.core.early_flakes import changed_paths


def read_changed_files(path: Path) -> frozenset[str]:
    text = read_list_file(path, "changed-files list")
    separator = "\0" if "\0" in text else "\n"
    return changed_paths(text.split(separator))
