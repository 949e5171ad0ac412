"""A scenario hook, copied as ``setup.py`` into the user's repository of the act tests.

Without ``$ACT_BREAK_INSTALL`` it is a plain ``setup()`` (the project's metadata stays in
``pyproject.toml``). With it set to a folder, every job that installs the project takes a number
there, in the order the jobs get to it (the plan job first), and the job given number 2 fails to
install, as a job would whose package index or build broke: so exactly one test shard of the run
never starts its tests. pip runs this file more than once per install, so a job is known by its
workspace and keeps its number.
"""

import os
import sys
import tempfile
import time
from pathlib import Path

from setuptools import setup  # type: ignore[import-untyped]

BROKEN = 2


def _number(gate: Path, me: str) -> int:
    gate.mkdir(parents=True, exist_ok=True)
    number = 1
    while True:
        slot = gate / str(number)
        claim = Path(tempfile.mkdtemp(dir=gate))
        (claim / "owner").write_text(me, encoding="utf-8")
        try:
            claim.rename(slot)  # atomic: fails when another job holds this number
        except OSError:
            (claim / "owner").unlink()
            claim.rmdir()
            for _ in range(200):
                if (slot / "owner").exists():
                    break
                time.sleep(0.01)
            if (slot / "owner").read_text(encoding="utf-8") == me:
                return number
            number += 1
            continue
        return number


_gate = os.environ.get("ACT_BREAK_INSTALL")
if _gate and _number(Path(_gate), os.environ.get("GITHUB_WORKSPACE", os.getcwd())) == BROKEN:
    sys.exit("act scenario: this job's install is broken on purpose ($ACT_BREAK_INSTALL)")

setup()
