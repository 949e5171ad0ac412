"""Quarantine under act: ``workflows/pytest-lanes.yml`` on the story's repository.

A pull request adds a test that always fails and lists it in ``.shard-action/quarantine.toml``
(issue 10 §2). What a user checks:

1. with the entry in force, the run is green: the test ran, is reported as quarantined with its
   owner in the comment, and is not in the ``failed`` output;
2. with the entry expired, the plan job fails and says which entry, whose, and since when — a
   quarantine cannot quietly become permanent.
"""

from __future__ import annotations

import html

import pytest

from tests.act.story import QUARANTINE_PR, QUARANTINED_TEST, Story, all_green, planned

pytestmark = pytest.mark.act


def test_a_quarantined_failing_test_runs_is_reported_and_does_not_fail_the_run(
    story: Story,
) -> None:
    run = story.quarantine_pull_request()
    all_green(run)
    shards = planned(story.world, run)
    assert any(QUARANTINED_TEST in ids for ids in shards.values()), "the test was not planned"
    report = run.job("report")
    assert (report.outputs["failed"], report.outputs["lost"]) == ("0", "0")
    comments = story.world.repo.comments_on(QUARANTINE_PR)
    assert len(comments) == 1
    body = html.unescape(comments[0].body)
    assert "test_talks_to_a_service_that_is_down" in body
    assert "Quarantined" in body
    # The owner is named, without a mention that would notify them on every run.
    assert "@\u200balice" in body and "@alice" not in body
    # Its failure stays in the record: the job summary says it failed, as quarantined.
    assert "the service is down" in html.unescape(report.summary)


def test_an_expired_quarantine_entry_fails_the_plan_naming_it(story: Story) -> None:
    run = story.quarantine_pull_request(expires="2026-01-01")
    assert run.exit_code != 0, run.describe()
    plan = run.job("plan")
    assert plan.result == "failure", run.describe()
    said = html.unescape(plan.log + "\n".join(text for _, text in plan.annotations))
    assert "test_talks_to_a_service_that_is_down" in said
    assert "@alice" in said and "expired on 2026-01-01" in said
    assert not run.jobs_named("test"), "shards ran although the plan failed"
