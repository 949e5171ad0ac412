"""SQLite through the standard library: a real database with no server to start."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from inventory.backends.base import Store
from inventory.models import Item

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    sku TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity >= 0),
    unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0)
)
"""


class SqliteStore(Store):
    name = "sqlite"

    def __init__(self, path: Path | str) -> None:
        self._db = sqlite3.connect(str(path))
        # WAL + NORMAL: durable across crashes of the process, no fsync per commit
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute(SCHEMA)

    def put(self, item: Item) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?)",
                (item.sku, item.name, item.quantity, item.unit_price_cents),
            )

    def get(self, sku: str) -> Item | None:
        row = self._db.execute("SELECT * FROM items WHERE sku = ?", (sku,)).fetchone()
        return None if row is None else Item(*row)

    def all(self) -> list[Item]:
        return [Item(*row) for row in self._db.execute("SELECT * FROM items ORDER BY sku")]

    def delete(self, sku: str) -> bool:
        with self._db:
            return self._db.execute("DELETE FROM items WHERE sku = ?", (sku,)).rowcount > 0

    def close(self) -> None:
        self._db.close()
