"""``workflows/split-by-file.yml`` under act: a jest project, no pytest anywhere.

The project (``tests/act/jsproject``) has three test files holding eight jest tests; jest and
jest-junit come from the npm registry through its lock file (``npm ci`` in every test job, as
the template does). The user sets ``SHARD_ACTION_SHARDS=2`` on the runner (a variable, as CI
would), so the files are split over two jobs. What was planned is files, so the report counts
files, says so, and gives the test cases those files ran beside them: both true numbers.
"""

from __future__ import annotations

import html

import pytest

from tests.act.story import ATTEMPT, HISTORY, RESULTS, Story, all_green, plan_of
from tests.plan_json import shard_tests

pytestmark = pytest.mark.act

#: The project's jest tests, counted by hand: 3 in price.test.js, 2 in stock, 3 in report.
JEST_TESTS = 8
TEST_FILES = ["src/price.test.js", "test/report.test.js", "test/stock.test.js"]


def test_a_jest_project_is_split_by_file_and_reports_files_and_test_cases(story: Story) -> None:
    run = story.jest_push()
    world = story.jest_world
    assert world is not None
    all_green(run)
    assert run.run.conclusion == "success"
    plan = plan_of(world, run)
    assert plan["granularity"] == "file"
    shards = {s["id"]: shard_tests(s) for s in plan["shards"]}
    assert sorted(t for tests in shards.values() for t in tests) == TEST_FILES  # each file once
    assert run.job("plan").outputs["shard-count"] == "2" == str(len(shards))
    assert {j.matrix["shard"] for j in run.jobs_named("test")} == set(shards)
    kept = world.artifacts_of(run)
    assert {RESULTS + s + ATTEMPT for s in shards} <= set(kept)  # every shard's results
    report = run.job("report")
    assert {k: report.outputs[k] for k in ("tests", "test-cases", "failed", "lost")} == {
        "tests": str(len(TEST_FILES)), "test-cases": str(JEST_TESTS), "failed": "0", "lost": "0"
    }  # fmt: skip
    # as GitHub renders it: html entities and Markdown backslash escapes (`\(`) undone
    summary = html.unescape(report.summary).replace("\\(", "(").replace("\\)", ")")
    assert summary.startswith(
        f"## ✅ shard-action: {len(TEST_FILES)} test files passed ({JEST_TESTS} test cases)"
    ), summary[:300]
    assert "| Test files |" in summary
    assert HISTORY in kept
