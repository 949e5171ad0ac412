"""Verdicts from every witness: real JUnit files (the shared corpus, pytest-rerunfailures output),
our runner's re-run records, and the lookup of JUnit cases by node id."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shard_action.adapters.junit import read_junit
from shard_action.core.flakiness import (
    FLAKY_ELEMENT,
    OUR_RERUN,
    REPEATED,
    RERUN_ELEMENT,
    classify,
    classify_case,
    group_cases,
)
from shard_action.core.manifest import Attempt, Rerun
from shard_action.core.resolver import Resolver
from shard_action.core.results import CaseResult
from shard_action.core.testids import junit_pair

CORPUS = Path(__file__).resolve().parents[1] / "data" / "junit"
RERUNFAILURES = Path(__file__).resolve().parent / "data" / "rerunfailures"


def _cases(relative: str) -> list[CaseResult]:
    return list(read_junit(CORPUS / relative).cases)


def _by_key(cases: list[CaseResult]) -> dict[tuple[str | None, str], list[CaseResult]]:
    groups: dict[tuple[str | None, str], list[CaseResult]] = {}
    for case in cases:
        groups.setdefault((case.classname, case.name), []).append(case)
    return groups


def case(outcome: str = "passed", **kw: object) -> CaseResult:
    return CaseResult(
        name=str(kw.pop("name", "test_x")),
        classname=kw.pop("classname", "tests.test_a"),  # type: ignore[arg-type]
        file=kw.pop("file", "tests/test_a.py"),  # type: ignore[arg-type]
        seconds=kw.pop("seconds", 0.5),  # type: ignore[arg-type]
        outcome=outcome,  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


# -- the shared corpus: the `flaky` rows of MANIFEST.tsv ------------------------------------


def test_corpus_failure_error_then_pass_is_flaky_and_other_classnames_are_other_tests() -> None:
    groups = _by_key(_cases("mikepenz/test_results/flaky_retries/flaky_with_classname_file.xml"))
    # MANIFEST: "same testcase repeated: failure, error, then pass"; same name, other classname
    # is a different test ("should NOT be merged").
    assert len(groups) == 3
    foo = classify_case(groups[("test_foo.TestFoo", "test_foo")])
    assert (foo.status, foo.outcome, foo.attempts) == ("flaky", "passed", 3)
    assert foo.failures == ("it failed", "it broke")  # the message attributes
    assert foo.evidence == (REPEATED,)
    assert classify_case(groups[("test_bar.TestBar", "test_foo")]).status == "passed"
    assert classify_case(groups[("test_baz.TestBaz", "test_baz")]).status == "passed"


def test_corpus_every_attempt_failing_is_broken() -> None:
    (group,) = _by_key(
        _cases("mikepenz/test_results/flaky_retries/flaky_all_failures.xml")
    ).values()
    verdict = classify_case(group)
    assert (verdict.status, verdict.outcome, verdict.attempts) == ("broken", "error", 3)
    assert verdict.message == "third error"


def test_corpus_pass_then_failures_is_broken_because_the_last_attempt_decides() -> None:
    (group,) = _by_key(
        _cases("mikepenz/test_results/flaky_retries/flaky_success_first.xml")
    ).values()
    verdict = classify_case(group)
    assert (verdict.status, verdict.outcome, verdict.attempts) == ("broken", "error", 3)


def test_corpus_gotestsum_rerun_fail_then_pass() -> None:
    groups = _by_key(_cases("mikepenz/test_results/junit-server-test/report.xml"))
    race = groups[
        ("github.com/example/example/server/v8/channels/api4", "TestWebSocketReconnectRace")
    ]
    verdict = classify_case(race, retries=False)  # not pytest: only recorded outcomes count
    assert (verdict.status, verdict.attempts) == ("flaky", 2)
    assert verdict.seconds == pytest.approx(3.32)  # the first attempt's time
    skipped = groups[
        ("github.com/example/example/server/v8/channels/api4", "TestCreateChannelBookmark")
    ]
    assert classify_case(skipped).status == "skipped"


@pytest.mark.parametrize(
    "relative",
    [
        "mikepenz/test_results/maven_surefire_flaky/surefire-report.xml",
        "mikepenz/test_results/junit_flaky_failure/marathon_junit_report.xml",
    ],
)
def test_corpus_surefire_flaky_failure_element(relative: str) -> None:
    (case_result,) = _cases(relative)
    verdict = classify_case([case_result])
    assert (verdict.status, verdict.outcome, verdict.attempts) == ("flaky", "passed", 2)
    assert verdict.evidence == (FLAKY_ELEMENT,)


def test_corpus_mixed_flaky_and_passed_names_only_the_flaky_one() -> None:
    verdicts = {
        key[1]: classify_case(group).status
        for key, group in _by_key(
            _cases("mikepenz/test_results/junit_flaky_failure/mixed_flaky_and_passed.xml")
        ).items()
    }
    assert verdicts == {"testFlaky": "flaky", "testPassed": "passed", "testAnotherPassed": "passed"}


def test_corpus_testng_skipped_then_failure_is_broken() -> None:
    (group,) = _by_key(
        _cases(
            "dorny/__tests__/fixtures/external/java/TEST-org.apache.pulsar.AddMissingPatchVersionTest.xml"
        )
    ).values()
    verdict = classify_case(group)
    assert (verdict.status, verdict.outcome, verdict.attempts) == ("broken", "failed", 2)


def test_named_flaky_without_retry_markers_is_not_flaky() -> None:
    # MANIFEST: "named flaky but has no retry markers or duplicate testcases"
    groups = _by_key(_cases("mikepenz/test_results/python/report_flaky.xml"))
    assert all(classify_case(g).status != "flaky" for g in groups.values())
    assert all(len(g) == 1 for g in groups.values())


def test_surefire_rerun_failure_means_failed_on_reruns_too() -> None:
    verdict = classify_case([case("failed", rerun_failures=2, message="boom")])
    assert (verdict.status, verdict.attempts) == ("broken", 3)
    assert verdict.evidence == (RERUN_ELEMENT,)
    assert verdict.failures == ("boom", None, None)


# -- pytest-rerunfailures, real output ------------------------------------------------------


def _rerunfailures(version: str) -> dict[str, list[list[CaseResult]]]:
    report = read_junit(RERUNFAILURES / f"rerunfailures-{version}.xml")
    ids = [
        "test_rr.py::test_passes",
        "test_rr.py::test_flaky_once",
        "test_rr.py::test_flaky_twice",
        "test_rr.py::test_always_fails",
        "test_rr.py::test_param[1]",
        "test_rr.py::test_param[2]",
        "test_rr.py::test_setup_flaky",
    ]
    grouped = group_cases(ids, [report])
    assert grouped.unmatched == 0
    return {k: [list(g) for g in v] for k, v in grouped.by_test.items()}


def test_rerunfailures_16_7_empty_placeholders_are_failed_attempts() -> None:
    by_test = _rerunfailures("16.7")
    status = {t: classify(cases=g).status for t, g in by_test.items()}
    assert status == {
        "test_rr.py::test_passes": "passed",
        "test_rr.py::test_flaky_once": "flaky",
        "test_rr.py::test_flaky_twice": "flaky",
        "test_rr.py::test_always_fails": "broken",
        "test_rr.py::test_param[1]": "passed",
        "test_rr.py::test_param[2]": "passed",
        "test_rr.py::test_setup_flaky": "flaky",
    }
    attempts = {t: classify(cases=g).attempts for t, g in by_test.items()}
    assert attempts["test_rr.py::test_flaky_twice"] == 3
    assert attempts["test_rr.py::test_always_fails"] == 3
    # pytest said "6 rerun": the extra attempts add up to the same figure
    assert sum(a - 1 for a in attempts.values()) == 6


def test_rerunfailures_16_6_leaves_no_trace_so_nothing_is_flaky() -> None:
    by_test = _rerunfailures("16.6")
    status = {t: classify(cases=g).status for t, g in by_test.items()}
    assert status["test_rr.py::test_flaky_once"] == "passed"
    assert status["test_rr.py::test_always_fails"] == "failed"


def test_parametrized_ids_are_distinct_tests_not_retries() -> None:
    by_test = _rerunfailures("16.7")
    assert len(by_test["test_rr.py::test_param[1]"][0]) == 1
    assert len(by_test["test_rr.py::test_param[2]"][0]) == 1


# -- our own re-runs (the manifest) ---------------------------------------------------------


def test_our_rerun_flaky_with_junit_from_two_reports() -> None:
    rerun = Rerun(
        test="tests/test_a.py::test_x",
        attempts=[Attempt(attempt=1, outcome="failed"), Attempt(attempt=2, outcome="passed")],
        verdict="flaky",
    )
    first = [case("failed", message="first", seconds=1.0)]
    second = [case("passed", seconds=2.0)]
    verdict = classify(outcome="passed", rerun=rerun, cases=[first, second])
    assert (verdict.status, verdict.outcome, verdict.attempts) == ("flaky", "passed", 2)
    assert verdict.evidence == (OUR_RERUN,)
    assert verdict.seconds == 1.0
    assert verdict.failures == ("first",)


def test_our_rerun_broken_keeps_the_first_failure_kind() -> None:
    rerun = Rerun(
        test="t",
        attempts=[Attempt(attempt=1, outcome="error"), Attempt(attempt=2, outcome="failed")],
        verdict="broken",
    )
    verdict = classify(outcome="error", rerun=rerun)
    assert (verdict.status, verdict.outcome, verdict.attempts) == ("broken", "error", 2)
    assert verdict.failures == (None, None)


def test_the_manifest_decides_the_outcome_over_junit() -> None:
    verdict = classify(outcome="failed", cases=[[case("passed")]])
    assert (verdict.status, verdict.outcome) == ("failed", "failed")


def test_no_witness_at_all_is_an_error() -> None:
    verdict = classify()
    assert (verdict.status, verdict.outcome) == ("failed", "error")
    assert verdict.message is not None and "no result" in verdict.message


def test_serial_fan_out_two_reports_without_rerun_are_not_retries() -> None:
    verdict = classify(outcome="passed", cases=[[case("passed")], [case("passed")]])
    assert verdict.status == "passed"


def test_whole_file_without_retries_takes_the_worst_case() -> None:
    verdict = classify(
        cases=[[case("passed", name="a")], [case("failed", name="b")], [case("skipped", name="c")]],
        retries=False,
    )
    assert (verdict.status, verdict.outcome) == ("failed", "failed")
    only_skips = classify(cases=[[case("skipped", name="a")]], retries=False)
    assert only_skips.status == "skipped"
    pass_and_skip = classify(
        cases=[[case("skipped", name="a")], [case("passed", name="b")]], retries=False
    )
    assert (pass_and_skip.status, pass_and_skip.outcome) == ("passed", "passed")


# -- looking cases up by node id ------------------------------------------------------------


@pytest.mark.parametrize(
    ("node_id", "pair"),
    [
        ("tests/test_x.py::test_a", ("tests.test_x", "test_a")),
        ("tests/test_x.py::TestA::test_b", ("tests.test_x.TestA", "test_b")),
        ("tests/test_x.py::TestA::Inner::test_c", ("tests.test_x.TestA.Inner", "test_c")),
        ("tests/test_x.py::test_p[a::b.c/d]", ("tests.test_x", "test_p[a::b.c/d]")),
        ("a.b/test_x.py::test_p[x]", ("a.b.test_x", "test_p[x]")),
        ("tests/test_x.py::test_p[\x1b]", ("tests.test_x", "test_p[#x1B]")),
    ],
)
def test_junit_pair_follows_pytest_naming(node_id: str, pair: tuple[str, str]) -> None:
    assert junit_pair(node_id) == pair


def test_case_index_settles_ambiguous_pairs_by_file_and_maps_absolute_paths() -> None:
    ids = ["a.b/test_x.py::test_a", "a/b/test_x.py::test_a", "pkg/test_f.py"]
    index = Resolver(ids, workdir="/home/runner/work/repo")
    ambiguous = case(name="test_a", classname="a.b.test_x", file=None)
    assert index.lookup(ambiguous) is None
    assert index.lookup(case(name="test_a", classname="a.b.test_x", file="a/b/test_x.py")) == (
        "a/b/test_x.py::test_a"
    )
    by_path = case(
        name="anything", classname="Whatever", file="/home/runner/work/repo/pkg/test_f.py"
    )
    assert index.lookup(by_path) == "pkg/test_f.py"
    by_module = case(name="anything", classname="pkg.test_f.TestK", file=None)
    assert index.lookup(by_module) == "pkg/test_f.py"
    assert index.lookup(case(name="nope", classname="other.mod", file=None)) is None


@given(
    st.lists(st.sampled_from(["passed", "failed", "error", "skipped"]), min_size=1, max_size=6),
    st.integers(0, 3),
    st.booleans(),
)
def test_classify_case_invariants(outcomes: list[str], flaky: int, retries: bool) -> None:
    appearances = [case(o) for o in outcomes[:-1]] + [case(outcomes[-1], flaky_failures=flaky)]
    verdict = classify_case(appearances, retries=retries)
    assert verdict.attempts == len(outcomes) + flaky
    assert verdict.outcome == outcomes[-1]
    if verdict.status == "flaky":
        assert verdict.outcome == "passed" and verdict.attempts >= 2
    if verdict.status == "broken":
        assert verdict.outcome in ("failed", "error") and verdict.attempts >= 2
    if outcomes[-1] == "passed" and len(outcomes) == 1 and flaky == 0:
        assert verdict.status == "passed"
