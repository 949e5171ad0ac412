"""A runner split by file (a command template) is judged from its JUnit, case by case, per file.

pytest's xunit1 report names an inherited test by the class that ran it (the classname) and by
the file that *defines* it (``file``): the classname decides, or ``test_b.py``'s only test would
be charged to ``test_a.py`` and ``test_b.py`` counted as not run (the bug this pins down).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from shard_action.adapters.junit import read_junit
from shard_action.adapters.runner import outcomes_from_junit

BASE = """\
class TestBase:
    value = 1

    def test_value(self):
        assert self.value == 1
"""
CHILD = """\
import tests.test_a as base


class TestChild(base.TestBase):
    value = 2
"""


def test_an_inherited_test_counts_for_the_file_that_ran_it(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "__init__.py").write_text("")
    (tests / "test_a.py").write_text(BASE)
    (tests / "test_b.py").write_text(CHILD)
    junit = tmp_path / "junit.xml"
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    subprocess.run(
        [*pytest, f"--junitxml={junit}", "-o", "junit_family=xunit1", "tests"],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    report = read_junit(junit)
    inherited = [c for c in report.cases if c.classname == "tests.test_b.TestChild"]
    assert [(c.file, c.outcome) for c in inherited] == [("tests/test_a.py", "failed")]

    found = outcomes_from_junit(report, ["tests/test_a.py", "tests/test_b.py"], root=tmp_path)
    assert found == {"tests/test_a.py": "passed", "tests/test_b.py": "failed"}
