"""Real pytest writes the reports: weird ids through ``--junitxml`` (both dialects) and back.

The oracle is pytest-split's ``--store-durations`` from the same run: it records per node id, so
it needs no name mapping at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shard_action.adapters.timing_files import read_timings
from shard_action.core.models import TestItem
from shard_action.core.timings import resolve

pytest.importorskip("pytest_split")

FILES = {
    "pytest.ini": "[pytest]\naddopts = -p no:cacheprovider --import-mode=importlib\n",
    "tests/v1.2/test_dotted.py": """
        import pytest

        def test_a():
            pass

        class TestK:
            @pytest.mark.parametrize("x", [0.5, "a/b.c"])
            def test_b(self, x):
                pass
    """,
    "tests/test_weird.py": """
        import time
        import pytest

        WEIRD = ["a.b/c::d[e]", "$(rm -rf /)", "'q' \\"dq\\"", "sp ace", "ünï🙂", "\\x1b[0m"]

        @pytest.mark.parametrize("p", WEIRD)
        def test_p(p):
            pass

        class TestA:
            class TestB:
                def test_nested(self):
                    pass

        @pytest.mark.parametrize("ms", [5, 30, 60])
        def test_sleep(ms):
            time.sleep(ms / 1000)
    """,
    "tests/helpers_base.py": """
        class Base:
            def test_inherited(self):
                pass
    """,
    "tests/test_child.py": """
        import sys, pathlib
        sys.path.insert(0, str(pathlib.Path(__file__).parent))
        from helpers_base import Base

        class TestChild(Base):
            pass
    """,
}


def _pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("proj")
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    for family in ("xunit1", "xunit2"):
        done = _pytest(
            root,
            "-q",
            "-o",
            f"junit_family={family}",
            f"--junitxml={family}.xml",
            "--store-durations",
            f"--durations-path={family}.json",
        )
        assert done.returncode == 0, done.stdout + done.stderr
    collect = _pytest(root, "--collect-only", "-q")
    assert collect.returncode == 0, collect.stdout + collect.stderr
    (root / "collect.txt").write_text(collect.stdout, encoding="utf-8")
    return root


@pytest.mark.slow
@pytest.mark.parametrize("family", ["xunit1", "xunit2"])
def test_real_pytest_junit_resolves_every_collected_id(project: Path, family: str) -> None:
    lines = (project / "collect.txt").read_text(encoding="utf-8").splitlines()
    ids = [line for line in lines if "::" in line]
    assert len(ids) == 14
    split = json.loads((project / f"{family}.json").read_text(encoding="utf-8"))
    assert set(split) == set(ids)

    read = read_timings([str(project / f"{family}.xml")])
    tests = [TestItem(id=i, file=i.partition("::")[0]) for i in ids]
    timings = resolve(read.observations, tests, granularity="test")
    assert (timings.unresolved, timings.stale) == (0, 0)
    assert list(timings.durations) == ids
    for node_id, seconds in timings.durations.items():
        assert abs(seconds - split[node_id]) <= 0.0005 + 1e-9, node_id
    sleepy = {i: timings.durations[i] for i in ids if "test_sleep[" in i}
    assert sleepy["tests/test_weird.py::test_sleep[60]"] >= 0.06
    assert sleepy["tests/test_weird.py::test_sleep[30]"] >= 0.03
    if family == "xunit1":
        assert any(o.file == "tests/helpers_base.py" for o in read.observations)
