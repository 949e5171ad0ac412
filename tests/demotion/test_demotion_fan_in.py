"""Demotion through the fan-in (``core.report.build``) and the planner (``make_plan``)."""

from __future__ import annotations

from shard_action.commands.report import default_templates
from shard_action.core.config import Config
from shard_action.core.demotion import DemotedTest, Demotion
from shard_action.core.history import History
from shard_action.core.manifest import Attempt, Rerun
from shard_action.core.models import TestItem, Timings
from shard_action.core.plan import FanInSettings, Plan
from shard_action.core.planner import make_plan
from shard_action.core.render import render_comment, render_plan, render_summary, template_set
from shard_action.core.report import Settings, ShardResult, build

from ..report.factories import manifest, plan, shard

A = [f"tests/test_a.py::test_{n}" for n in range(10)]
B = [f"tests/test_b.py::test_{n}" for n in range(10)]


def _flaky(test: str) -> Rerun:
    attempts = [Attempt(attempt=1, outcome="failed"), Attempt(attempt=2, outcome="passed")]
    return Rerun(test=test, attempts=attempts, verdict="flaky")


def _run(history: History, settings: Settings, *, flaky: list[str]):  # type: ignore[no-untyped-def]
    the_plan = plan([shard("s1", A), shard("s2", B)]).model_copy(update={"fan_in": FanInSettings()})
    results = [
        ShardResult(manifest("s1", A)),
        ShardResult(manifest("s2", B, reruns=[_flaky(t) for t in flaky])),
    ]
    return build(the_plan, results, history=history, settings=settings)


def test_a_flaky_test_re_run_alone_is_demoted_and_the_suite_stays_parallel() -> None:
    fanin = _run(History(), Settings(flaky_threshold=0.04), flaky=[B[3]])
    report = fanin.report
    assert report.counts.flaky == 1  # still reported as flaky
    assert report.mode.flaky_rate == 0.0 and report.mode.next.mode == "parallel"
    assert "demoted" in report.mode.next.reason and B[3] in report.mode.next.reason
    assert [(r.test, r.state) for r in report.demotion] == [(B[3], "demoted")]
    assert fanin.history is not None
    assert [(d.lane, d.test, d.since) for d in fanin.history.demotion.demoted] == [
        ("default", B[3], 1)
    ]


def test_over_the_cap_the_rest_count_and_the_suite_goes_serial() -> None:
    fanin = _run(History(), Settings(flaky_threshold=0.04, max_demoted=1), flaky=[B[3], B[4]])
    report = fanin.report
    assert report.mode.next.mode == "serial"
    assert report.mode.rate_flaky == 1 and B[4] in report.mode.next.reason
    assert {(r.test, r.state) for r in report.demotion} == {
        (B[3], "demoted"),
        (B[4], "cap reached"),
    }


def test_max_demoted_zero_is_the_old_rollback() -> None:
    fanin = _run(History(), Settings(flaky_threshold=0.04, max_demoted=0), flaky=[B[3]])
    assert fanin.report.mode.next.mode == "serial"
    assert fanin.history is not None and fanin.history.demotion == Demotion()


def test_the_planner_moves_demoted_tests_to_a_sequential_lane_with_the_lane_env() -> None:
    config = Config.model_validate(
        {"shards": 4, "lanes": [{"name": "db", "paths": ["tests/db"], "env": {"DB": "x"}}]}
    )
    tests = [TestItem(id=t, file=t.split("::")[0]) for t in [*A, "tests/db/test_d.py::test_1"]]
    demoted = {"default": frozenset({A[2], A[5]}), "db": frozenset({"tests/db/test_d.py::test_1"})}
    the_plan = make_plan(
        config, tests, Timings(), mode="parallel", mode_reason="r", demoted=demoted
    )
    lanes = {lane.name: lane for lane in the_plan.lanes}
    assert lanes["default.demoted"].mode == "sequential" and lanes["default.demoted"].shards == 1
    assert lanes["db.demoted"].env == {"DB": "x"} and "db" not in lanes  # all of db demoted
    by_lane = {s.lane: s.tests for s in the_plan.shards}
    assert by_lane["default.demoted"] == [A[2], A[5]]
    assert sorted(t for s in the_plan.shards if s.lane == "default" for t in s.tests) == [
        t for t in A if t not in (A[2], A[5])
    ]
    serial = make_plan(config, tests, Timings(), mode="serial", mode_reason="r", demoted=demoted)
    assert [s.lane for s in serial.shards[0].slices] == ["db.demoted", "default", "default.demoted"]


def test_a_lane_may_not_be_named_like_a_demoted_lane() -> None:
    try:
        Config.model_validate({"lanes": [{"name": "x.demoted"}]})
    except ValueError as exc:
        assert "demoted" in str(exc)
    else:
        raise AssertionError("accepted")


def test_a_demoted_test_that_ran_in_its_own_lane_keeps_its_count() -> None:
    history = History(
        demotion=Demotion(
            demoted=[DemotedTest(lane="default", test=A[1], since=1, clean_runs=4, reason="r")]
        )
    )
    # promote-after 5: a fifth clean run in the demoted lane would promote it; this one
    # ran in the default lane (a plan that did not demote), which proves nothing
    fanin = _run(history, Settings(promote_after=5), flaky=[])
    assert fanin.history is not None and fanin.history.demotion.demoted == history.demotion.demoted


def test_the_serial_route_through_the_fan_in_the_plan_and_what_a_person_reads() -> None:
    """Re-runs off: B[3] fails in a parallel run (nothing re-runs it alone), then passes in two
    serial runs; the second demotes it, the next plan runs it in `default.demoted`."""
    parallel = plan([shard("s1", A), shard("s2", B)]).model_copy(update={"fan_in": FanInSettings()})
    serial = plan([shard("serial", [*A, *B])], mode="serial").model_copy(
        update={"fan_in": FanInSettings()}
    )
    failed = manifest("s2", B, outcomes={B[3]: "failed"})
    failing = [ShardResult(manifest("s1", A)), ShardResult(failed)]
    passing = [ShardResult(manifest("serial", [*A, *B], mode="serial"))]
    settings = Settings()
    first = build(parallel, failing, history=History(), settings=settings)
    assert first.history is not None and first.report.demotion == []
    assert [(s.test, s.parallel_failures) for s in first.history.demotion.suspects] == [(B[3], 1)]
    second = build(serial, passing, history=first.history, settings=settings)
    assert second.history is not None and second.history.demotion.demoted == []
    third = build(serial, passing, history=second.history, settings=settings)
    assert third.history is not None
    reason = "failed in 1 parallel run (last #1) and passed in 2 serial runs after"
    assert [(d.test, d.since, d.reason) for d in third.history.demotion.demoted] == [
        (B[3], 3, reason)
    ]
    assert third.history.demotion.suspects == []
    (row,) = third.report.demotion
    assert (row.test, row.state) == (B[3], "demoted") and row.detail.startswith(reason)
    templates = template_set(default_templates())
    escaped = "failed in 1 parallel run \\(last \\#1\\) and passed in 2 serial runs after"
    assert escaped in render_comment(templates, third.report).text  # Markdown-escaped
    assert escaped in render_summary(templates, third.report).text
    tests = [TestItem(id=t, file=t.split("::")[0]) for t in [*A, *B]]
    demoted = third.history.demotion.demoted
    next_plan = make_plan(
        Config(shards=2), tests, Timings(), mode="parallel", mode_reason="r",
        demoted=Demotion(demoted=demoted).tests(),
    ).model_copy(update={"demoted": demoted})  # fmt: skip
    assert [s.tests for s in next_plan.shards if s.lane == "default.demoted"] == [[B[3]]]
    assert escaped in render_plan(templates, next_plan)


def _demoted_plan() -> tuple[Plan, list[str]]:
    """A's shard and B without B[3]; B[3] in `default.demoted`, a shard of its own."""
    rest = [t for t in B if t != B[3]]
    shards = [shard("s1", A), shard("s2", rest), shard("d1", [B[3]], "default.demoted")]
    return plan(shards).model_copy(update={"fan_in": FanInSettings()}), rest


def test_one_test_one_series_its_record_follows_it_across_demotion() -> None:
    """Run 1 flaky in parallel (demoted), run 2 passed in its demoted lane, run 3 failed there
    on every attempt: its one record reads F, p, f, so it is failing and known flaky with a
    flip rate of 2 of 3 (F flips, p does not, f flips back), not broken."""
    first = _run(History(), Settings(), flaky=[B[3]])
    assert first.history is not None
    demoted_plan, rest = _demoted_plan()
    passing = [
        ShardResult(manifest("s1", A)),
        ShardResult(manifest("s2", rest)),
        ShardResult(manifest("d1", [B[3]], lane="default.demoted")),
    ]
    second = build(demoted_plan, passing, history=first.history, settings=Settings())
    assert second.history is not None
    assert "default.demoted" not in second.history.tests
    assert second.history.tests["default"][B[3]].outcomes == "Fp"
    broken = Rerun(
        test=B[3],
        attempts=[Attempt(attempt=n, outcome="failed") for n in (1, 2, 3)],
        verdict="broken",
    )
    failing = [
        *passing[:2],
        ShardResult(manifest("d1", [B[3]], lane="default.demoted", reruns=[broken])),
    ]
    third = build(demoted_plan, failing, history=second.history, settings=Settings())
    (entry,) = [e for e in third.tests if e.test == B[3]]
    assert (entry.lane, entry.status, entry.known_flaky) == ("default.demoted", "failed", True)
    assert (entry.flip_rate, entry.flip_window) == (2 / 3, 3)
    assert third.history is not None
    assert third.history.tests["default"][B[3]].outcomes == "Fpf"
