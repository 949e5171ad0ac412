"""The fan-in with a quarantine: quarantined tests are reported but neither fail the job nor
move the flaky rate; tests flaky on their own are suggested as ready-to-paste entries."""

from __future__ import annotations

import sys
from datetime import date

from shard_action.commands.report import default_templates
from shard_action.core.history import History
from shard_action.core.quarantine import Quarantine, parse
from shard_action.core.render import render_comment, render_summary, template_set
from shard_action.core.report import EXIT_FAILED, EXIT_OK, Fanin, Settings, ShardResult, build
from tests.report.factories import manifest, plan, shard
from tests.report.test_report_build import broken_rerun, flaky_rerun

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TESTS = [f"tests/test_a.py::test_{n}" for n in range(20)]
BROKEN, FLAKY, OTHER = TESTS[0], TESTS[1], TESTS[2]
TODAY = date(2026, 12, 2)


def _quarantine(*tests: str) -> Quarantine:
    entries = [
        {"test": t, "owner": "@alice", "reason": "flaky on its own", "expires": date(2027, 1, 1)}
        for t in tests
    ]
    return Quarantine(
        source=".shard-action/quarantine.toml", entries=parse({"quarantine": entries})
    )


def _run(
    quarantine: Quarantine, *, mode: str = "parallel", history: History | None = None
) -> Fanin:
    the_plan = plan([shard("s1", TESTS)], mode=mode).model_copy(update={"quarantine": quarantine})
    result = ShardResult(
        manifest(
            "s1",
            TESTS,
            outcomes={BROKEN: "failed"},
            reruns=[broken_rerun(BROKEN), flaky_rerun(FLAKY)],
            exit_code=0,
            mode=mode,
        )
    )
    return build(
        the_plan,
        [result],
        history=history or History(),
        settings=Settings(flaky_threshold=0.01, today=TODAY, max_demoted=0),
    )


def test_without_quarantine_the_broken_test_fails_and_the_flaky_one_sends_it_serial() -> None:
    report = _run(Quarantine()).report
    assert report.exit_code == EXIT_FAILED
    assert (report.counts.broken, report.counts.flaky, report.counts.quarantined) == (1, 1, 0)
    assert report.mode.next.mode == "serial"


def test_quarantined_tests_are_reported_but_do_not_fail_the_job_or_count_as_flaky() -> None:
    fanin = _run(_quarantine(BROKEN, FLAKY, OTHER))
    report = fanin.report
    assert report.exit_code == EXIT_OK and report.ok
    assert (report.counts.failing, report.counts.flaky, report.counts.quarantined) == (0, 0, 2)
    assert report.failures == [] and report.flaky == []
    rows = {q.test: (q.status, q.owner, q.expires) for q in report.quarantined}
    assert rows == {
        BROKEN: ("broken", "@alice", date(2027, 1, 1)),
        FLAKY: ("flaky", "@alice", date(2027, 1, 1)),
        OTHER: ("passed", "@alice", date(2027, 1, 1)),  # listed, and passed: maybe fixed
    }
    # the flaky rate leaves them out, so they never force serial
    assert report.mode.rate_flaky == 0 and report.mode.next.mode == "parallel"
    # ... but the history keeps what really happened, so the flip rate can show progress
    assert fanin.history is not None
    records = fanin.history.tests["default"]
    assert (records[BROKEN].outcomes, records[FLAKY].outcomes) == ("f", "F")
    by_test = {t.test: t for t in fanin.tests}
    assert (by_test[BROKEN].status, by_test[BROKEN].verdict) == ("quarantined", "broken")
    assert (by_test[OTHER].status, by_test[OTHER].verdict) == ("passed", None)


def test_a_lane_entry_quarantines_only_that_lane() -> None:
    entries = parse(
        {
            "quarantine": [
                {"test": BROKEN, "owner": "o", "reason": "r", "expires": TODAY, "lane": "db"}
            ]
        }
    )
    report = _run(Quarantine(entries=entries)).report
    assert report.exit_code == EXIT_FAILED and report.quarantined == []


def test_a_test_flaky_in_a_serial_run_is_suggested_as_an_entry_that_parses_back() -> None:
    report = _run(Quarantine(), mode="serial").report
    assert [(s.test, s.flip_rate) for s in report.suggested] == [(FLAKY, 1.0)]
    assert report.suggested[0].reason == "flaky on its own: flip rate 100% over the last 1 run"
    entries = parse(tomllib.loads(report.suggested_toml))
    assert [(e.test, e.expires, e.lane) for e in entries] == [(FLAKY, date(2027, 1, 1), None)]
    # once quarantined, it is no longer suggested
    assert _run(_quarantine(FLAKY), mode="serial").report.suggested == []


def test_a_flaky_test_in_a_parallel_run_is_not_suggested() -> None:
    assert _run(Quarantine()).report.suggested == []


def test_summary_and_comment_show_the_quarantine_and_the_block_to_paste() -> None:
    templates = template_set(default_templates(), {})
    held = _run(_quarantine(BROKEN)).report
    summary = render_summary(templates, held).text
    assert "### 🧊 Quarantined tests" in summary
    assert "## ✅ shard-action: 19 of 20 tests passed, 1 quarantined" in summary
    row = (
        "<code>tests/<wbr>test&#95;a.py&#58;&#58;<wbr>test&#95;0</code> | <code>default</code> "
        "| broken |"
    )
    assert row in summary
    assert "| 20 | 18 | 0 | 0 | 1 | 1 | 0 | 0 |" in summary  # quarantined column
    comment = render_comment(templates, held).text
    assert "Quarantined tests that failed or flaked (1): not failing the job" in comment
    suggested = _run(Quarantine(), mode="serial").report
    for text in (
        render_summary(templates, suggested).text,
        render_comment(templates, suggested).text,
    ):
        assert '```toml\n[[quarantine]]\ntest = "tests/test_a.py::test_1"' in text
