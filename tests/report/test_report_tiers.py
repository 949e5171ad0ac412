"""The fan-in of a plan with a first tier: shards held back after it failed are "not run".

The workflow runs the other shards only when every first-tier shard passed; when one did not,
their missing results are the workflow's decision, not a lost job. A shard missing after the
first tier *passed* is still lost: that is the check that must never be weakened.
"""

from __future__ import annotations

from shard_action.commands.report import default_templates
from shard_action.core.history import History
from shard_action.core.plan import Plan
from shard_action.core.render import render_summary, template_set
from shard_action.core.report import ShardResult, build

from .factories import manifest, plan, shard


def staged_plan() -> Plan:
    first = shard("smoke.default-1", ["tests/test_a.py::test_quick"]).model_copy(
        update={"first": True}
    )
    rest = [
        shard("default-1", ["tests/test_a.py::test_slow", "tests/test_b.py::test_b1"]),
        shard("default-2", ["tests/test_b.py::test_b2"]),
    ]
    return plan([first, *rest]).model_copy(update={"first_tier": "smoke"})


def test_after_a_failed_first_tier_the_rest_is_not_run_not_lost() -> None:
    the_plan = staged_plan()
    failed = manifest(
        "smoke.default-1",
        ["tests/test_a.py::test_quick"],
        outcomes={"tests/test_a.py::test_quick": "failed"},
        exit_code=1,
    )
    report = build(the_plan, [ShardResult(failed)], history=History()).report
    assert report.not_run_shards == ["default-1", "default-2"]
    assert report.counts.not_run == 3
    assert report.counts.planned == 4
    assert report.counts.lost == 0 and report.lost_shards == []
    assert report.complete
    assert report.exit_code == 1  # the smoke failure, not "incomplete"
    assert [s.status for s in report.shards] == ["failed", "not run", "not run"]
    summary = render_summary(template_set(default_templates()), report)
    assert "3 tests not run" in summary.text


def test_after_a_passed_first_tier_a_missing_shard_is_lost() -> None:
    the_plan = staged_plan()
    passed = manifest("smoke.default-1", ["tests/test_a.py::test_quick"])
    other = manifest("default-2", ["tests/test_b.py::test_b2"])
    report = build(the_plan, [ShardResult(passed), ShardResult(other)], history=History()).report
    assert report.not_run_shards == []
    assert [s.shard for s in report.lost_shards] == ["default-1"]
    assert report.counts.lost == 2
    assert report.exit_code == 3
