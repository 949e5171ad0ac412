"""What the planted tests share: the state folder and the driver's control words."""

from __future__ import annotations

import os
import time
from pathlib import Path

WAIT = 5.0
"""Seconds the two halves of the shared-file test wait for each other."""


def state() -> Path:
    folder = Path(os.environ.get("PLANTED_STATE", ".planted-state"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def control(word: str) -> bool:
    path = state() / "control"
    return path.is_file() and word in path.read_text().split()


def wait_for(path: Path, seconds: float = WAIT) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if path.exists():
            return True
        time.sleep(0.02)
    return False
