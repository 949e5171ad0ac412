"""An append-only journal of stock movements in one file shared by the whole checkout.

The file is the point: two processes that use it at the same time corrupt each other's view,
which is why its tests live in a sequential lane.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_JOURNAL = "var/journal.log"


def journal_path() -> Path:
    """``$INVENTORY_JOURNAL`` (relative to the project) or ``var/journal.log``."""
    path = Path(os.environ.get("INVENTORY_JOURNAL", DEFAULT_JOURNAL))
    return path if path.is_absolute() else PROJECT_ROOT / path


def reset(path: Path | None = None) -> Path:
    path = path or journal_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("", encoding="utf-8")
    return path


def record(sku: str, delta: int, note: str = "", path: Path | None = None) -> None:
    path = path or journal_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    if "\t" in note or "\n" in note:
        raise ValueError("a note is one line without tabs")
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"{sku}\t{delta}\t{note}\n")


def entries(path: Path | None = None) -> list[tuple[str, int, str]]:
    path = path or journal_path()
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        sku, delta, note = line.split("\t")
        rows.append((sku, int(delta), note))
    return rows


def balance(sku: str, path: Path | None = None) -> int:
    return sum(delta for s, delta, _ in entries(path) if s == sku)
