"""``workflows/split-by-file.yml`` under act: a jest project, no pytest anywhere.

The project (``tests/act/jsproject``) has three test files; jest and jest-junit come from the
npm registry through its lock file (``npm ci`` in every test job, as the template does). The
user sets ``SHARD_ACTION_SHARDS=2`` on the runner (a variable, as CI would), so the files are
split over two jobs; the report counts every jest test once and says every planned file ran.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.act.story import jest_push
from tests.act.world import Run, Toolkit, World
from tests.fakegithub import FakeGitHub

pytestmark = [pytest.mark.act, pytest.mark.xdist_group("act")]

#: The project's jest tests, counted by hand: 3 in price.test.js, 2 in stock, 3 in report.
JEST_TESTS = 8
TEST_FILES = ["src/price.test.js", "test/report.test.js", "test/stock.test.js"]


@pytest.fixture(scope="module")
def push(
    toolkit: Toolkit, act_logs: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[World, Run]]:
    with FakeGitHub() as fake:
        yield jest_push(toolkit, fake, act_logs, tmp_path_factory.mktemp("act-jest"))


def test_a_jest_project_is_split_by_file_and_every_file_reports(push: tuple[World, Run]) -> None:
    world, run = push
    assert run.exit_code == 0, run.describe()
    assert {j.result for j in run.jobs} == {"success"}, run.describe()
    plan = run.job("plan")
    assert plan.outputs["shard-count"] == "2"
    shards = [j.matrix["shard"] for j in run.jobs_named("test")]
    assert len(shards) == 2
    with zipfile.ZipFile(io.BytesIO(world.artifacts_of(run)["shard-action-plan"])) as archive:
        planned = json.loads(archive.read("plan.json"))
    files = sorted(t for s in planned["shards"] for t in s["tests"])
    assert files == TEST_FILES  # each file in exactly one shard
    report = run.job("report")
    assert (report.outputs["tests"], report.outputs["failed"], report.outputs["lost"]) == (
        str(JEST_TESTS), "0", "0")  # fmt: skip
    assert report.summary.startswith(f"## ✅ shard-action: {JEST_TESTS} tests passed")
    assert "shard-action-history" in world.artifacts_of(run)
