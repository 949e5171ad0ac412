"""``core.timings.resolve``: JUnit names and node ids onto today's tests.

JUnit observations are produced with pytest's *own* naming functions (``mangle_test_address``
and ``bin_xml_escape`` from ``_pytest.junitxml``, the code that writes ``--junitxml``), so the
expected mapping does not come from the code under test.
"""

from __future__ import annotations

import pytest
from _pytest.junitxml import bin_xml_escape, mangle_test_address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shard_action.core.models import MAX_SECONDS, Observation, TestItem
from shard_action.core.timings import resolve


def _items(ids: list[str]) -> list[TestItem]:
    return [TestItem(id=i, file=i.partition("::")[0]) for i in ids]


def _files(ids: list[str]) -> list[TestItem]:
    files = dict.fromkeys(i.partition("::")[0] for i in ids)
    return [TestItem(id=f, file=f) for f in files]


def _junit(
    node_id: str,
    seconds: float,
    source: str = "junit.xml",
    *,
    xunit1: bool = False,
    prefix: str | None = None,
) -> Observation:
    """What pytest writes for ``node_id`` (see ``_pytest/junitxml.py::record_testreport``)."""
    names = mangle_test_address(node_id)
    classnames = names[:-1]
    if prefix:
        classnames.insert(0, prefix)
    return Observation(
        name=bin_xml_escape(names[-1]),
        classname=".".join(classnames),
        seconds=seconds,
        source=source,
        file=node_id.partition("::")[0] if xunit1 else None,
    )


def _node(
    node_id: str, seconds: float, source: str = "d.json", lane: str | None = None
) -> Observation:
    return Observation(name=node_id, seconds=seconds, source=source, is_node_id=True, lane=lane)


WEIRD_IDS = [
    "tests/test_x.py::test_plain",
    "tests/test_x.py::TestA::test_b[param]",
    "tests/test_x.py::TestA::TestB::test_c",
    "tests/test_x.py::TestA::TestB::TestC::test_d[1-2]",
    "tests/test_x.py::test_p[a.b/c::d[e]]",
    "tests/test_x.py::test_p[x.y]",
    "tests/test_x.py::test_q[tests/test_x.py::test_plain]",
    "tests/v1.2/test_dotted.py::test_a",
    "tests/v1.2/test_dotted.py::TestK::test_a[0.5]",
    "tests/test_shell.py::test_s[$(rm -rf /)]",
    "tests/test_shell.py::test_s[`id`;echo]",
    "tests/test_shell.py::test_s['single' \"double\"]",
    "tests/test_shell.py::test_s[with spaces  two]",
    "tests/test_unicode.py::test_u[ünïcødé-🙂]",
    "tests/test_unicode.py::TestÜ::test_ü",
    "tests/test_escape.py::test_ctrl[\x1b[0m]",
    "tests/test_escape.py::test_ctrl[\x00nul]",
    "test_top.py::test_root_level",
    "tests/sub/__init__.py::test_in_init",
]


@pytest.mark.parametrize("xunit1", [False, True], ids=["xunit2", "xunit1"])
def test_every_weird_id_resolves_from_pytests_own_junit_names(xunit1: bool) -> None:
    observations = [_junit(i, float(n + 1), xunit1=xunit1) for n, i in enumerate(WEIRD_IDS)]
    timings = resolve(observations, _items(WEIRD_IDS), granularity="test")
    assert timings.durations == {i: float(n + 1) for n, i in enumerate(WEIRD_IDS)}
    assert (timings.stale, timings.unresolved) == (0, 0)
    assert timings.sources == ("junit.xml",)


def test_durations_follow_the_order_of_todays_tests() -> None:
    ids = ["tests/test_x.py::test_b", "tests/test_x.py::test_a", "tests/test_y.py::test_c"]
    observations = [_junit(i, 1.0) for i in reversed(ids)]
    assert list(resolve(observations, _items(ids), granularity="test").durations) == ids


def test_dotted_folder_and_dotted_path_clash_needs_xunit1_file() -> None:
    ids = ["a.b/test_x.py::test_a", "a/b/test_x.py::test_a"]
    xunit2 = [_junit(ids[0], 1.0), _junit(ids[1], 2.0)]
    timings = resolve(xunit2, _items(ids), granularity="test")
    assert timings.durations == {}  # the same pair for both: not guessed
    assert timings.unresolved == 1  # one distinct (classname, name) pair
    xunit1 = [_junit(ids[0], 1.0, xunit1=True), _junit(ids[1], 2.0, xunit1=True)]
    timings = resolve(xunit1, _items(ids), granularity="test")
    assert timings.durations == {ids[0]: 1.0, ids[1]: 2.0}


def test_module_and_class_with_the_same_dotted_name_are_a_tie() -> None:
    ids = ["a/b.py::C::test_t", "a/b/C.py::test_t"]
    assert mangle_test_address(ids[0])[:-1] == ["a.b", "C"]
    observations = [_junit(ids[0], 1.0)]
    timings = resolve(observations, _items(ids), granularity="test")
    assert timings.durations == {}
    assert timings.unresolved == 1
    settled = resolve([_junit(ids[0], 1.0, xunit1=True)], _items(ids), granularity="test")
    assert settled.durations == {ids[0]: 1.0}


def test_xunit1_file_of_a_base_class_does_not_mislead() -> None:
    # pytest writes the file that defines the function: for inherited tests, the base module.
    ids = ["tests/test_child.py::TestChild::test_inherited"]
    observation = Observation(
        name="test_inherited",
        classname="tests.test_child.TestChild",
        file="tests/base.py",
        seconds=3.0,
        source="j.xml",
    )
    assert resolve([observation], _items(ids), granularity="test").durations == {ids[0]: 3.0}


@pytest.mark.parametrize(
    ("classname", "why"),
    [
        ("project.tests.test_x.TestA", "rootdir one level up"),
        ("ci-linux.tests.test_x.TestA", "junit_prefix"),
        ("test_x.TestA", "rootdir one level down"),
    ],
)
def test_rootdir_differences_and_junit_prefix_resolve(classname: str, why: str) -> None:
    ids = ["tests/test_x.py::TestA::test_b[1]", "tests/test_y.py::TestA::test_b[1]"]
    observation = Observation(name="test_b[1]", classname=classname, seconds=2.0, source="j")
    timings = resolve([observation], _items(ids), granularity="test")
    assert timings.durations == {ids[0]: 2.0}, why


def test_junit_prefix_written_by_pytest_resolves() -> None:
    ids = ["tests/test_x.py::TestA::test_b"]
    timings = resolve([_junit(ids[0], 1.0, prefix="linux")], _items(ids), granularity="test")
    assert timings.durations == {ids[0]: 1.0}


def test_deleted_module_is_never_charged_to_a_same_named_test_elsewhere() -> None:
    today = ["tests/new/test_util.py::test_a"]
    old = _junit("tests/old/test_util.py::test_a", 9.0)
    timings = resolve([old], _items(today), granularity="test")
    assert timings.durations == {}
    assert timings.unresolved == 1


def test_stale_tests_are_counted_once_per_test_and_ignored() -> None:
    today = ["tests/test_x.py::test_kept"]
    observations = [
        _node("tests/test_x.py::test_kept", 1.0, "a.json"),
        _node("tests/test_x.py::test_removed", 5.0, "a.json"),
        _node("tests/test_x.py::test_removed", 6.0, "b.json"),
        _node("tests/test_gone.py::test_z", 1.0, "b.json"),
        _junit("tests/test_x.py::test_renamed", 2.0, "c.xml"),
        _junit("tests/test_x.py::test_renamed", 2.0, "d.xml"),
    ]
    timings = resolve(observations, _items(today), granularity="test")
    assert timings.durations == {"tests/test_x.py::test_kept": 1.0}
    assert timings.stale == 3
    assert timings.unresolved == 0


def test_foreign_producers_and_collection_errors_are_unresolved() -> None:
    today = ["tests/test_x.py::test_a"]
    observations = [
        Observation(name="testFoo", classname="com.example.FooTest", seconds=1.0, source="s"),
        Observation(name="renders", classname="Button component", seconds=1.0, source="s"),
        Observation(name="tests.test_broken", classname=None, seconds=0.0, source="s"),
        Observation(name="testFoo", classname="com.example.FooTest", seconds=2.0, source="t"),
    ]
    timings = resolve(observations, _items(today), granularity="test")
    assert timings.durations == {}
    assert (timings.unresolved, timings.stale) == (3, 0)
    assert timings.unresolved_examples == (
        "Button component::renders",
        "com.example.FooTest::testFoo",
        "tests.test_broken",
    )


def test_a_name_that_is_already_a_node_id_resolves() -> None:
    today = ["tests/test_x.py::test_a"]
    observation = Observation(name=today[0], classname="whatever", seconds=1.0, source="s")
    assert resolve([observation], _items(today), granularity="test").durations == {today[0]: 1.0}


def test_median_over_runs_and_last_rerun_within_one_report() -> None:
    test = "tests/test_x.py::test_a"
    runs = [
        _junit(test, 10.0, "run1.xml"),
        _junit(test, 1.0, "run2.xml"),
        _junit(test, 3.0, "run3.xml"),
    ]
    assert resolve(runs, _items([test]), granularity="test").durations[test] == 3.0
    assert resolve(runs[:2], _items([test]), granularity="test").durations[test] == 5.5
    reruns = [
        _junit(test, 30.0, "run1.xml"),  # failed (timeout)
        _junit(test, 2.0, "run1.xml"),  # passed on re-run: this one counts
        _node(test, 4.0, "durations.json"),
    ]
    assert resolve(reruns, _items([test]), granularity="test").durations[test] == 3.0


def test_history_lanes_give_by_lane_and_the_median_in_durations() -> None:
    test = "tests/test_db.py::test_q"
    observations = [
        _node(test, 1.0, "history.json", lane="db-sqlite"),
        _node(test, 5.0, "history.json", lane="db-postgres"),
        _node(test, 3.0, "older-history.json", lane="db-postgres"),
        _node("tests/test_db.py::test_gone", 3.0, "history.json", lane="db-sqlite"),
    ]
    timings = resolve(observations, _items([test]), granularity="test")
    assert timings.by_lane == {"db-sqlite": {test: 1.0}, "db-postgres": {test: 4.0}}
    assert timings.durations == {test: 3.0}
    assert timings.stale == 1


def test_nan_negative_and_infinite_observations_are_ignored() -> None:
    test = "tests/test_x.py::test_a"
    observations = [
        _node(test, float("nan"), "a"),
        _node(test, -1.0, "b"),
        _node(test, float("inf"), "c"),
        _node(test, 0.0, "d"),
    ]
    timings = resolve(observations, _items([test]), granularity="test")
    assert timings.durations == {test: 0.0}
    assert timings.sources == ("a", "b", "c", "d")


def test_sources_and_skipped_reports_pass_through() -> None:
    timings = resolve(
        [], _items(["t.py::a"]), granularity="test", sources=["x"], skipped_reports=["bad.xml"]
    )
    assert (timings.sources, timings.skipped_reports, timings.durations) == (
        ("x",),
        ("bad.xml",),
        {},
    )


def test_file_granularity_sums_per_test_medians() -> None:
    ids = [
        "tests/test_x.py::test_a",
        "tests/test_x.py::TestK::test_b[1]",
        "tests/v1.2/test_y.py::test_c",
        "tests/test_z.py::test_d",
    ]
    observations = [
        _junit(ids[0], 1.0, "run1.xml"),
        _junit(ids[0], 3.0, "run2.xml"),  # median 2.0
        _junit(ids[1], 0.5, "run1.xml"),  # only in one run
        _junit(ids[2], 4.0, "run2.xml"),
        _node("tests/test_deleted.py::test_e", 7.0, "d.json"),
        _node(ids[3], 1.25, "d.json"),
    ]
    timings = resolve(observations, _files(ids), granularity="file")
    assert timings.durations == {
        "tests/test_x.py": 2.5,
        "tests/v1.2/test_y.py": 4.0,
        "tests/test_z.py": 1.25,
    }
    assert timings.stale == 1


def test_file_granularity_a_file_level_figure_wins_over_the_sum() -> None:
    files = [TestItem(id="tests/test_x.py", file="tests/test_x.py")]
    observations = [
        _node("tests/test_x.py::test_a", 1.0, "d.json"),
        _node("tests/test_x.py", 10.0, "history.json", lane="default"),
    ]
    timings = resolve(observations, files, granularity="file")
    assert timings.by_lane == {"default": {"tests/test_x.py": 10.0}}
    assert timings.durations == {"tests/test_x.py": 10.0}


def test_file_granularity_for_other_runners_uses_file_attribute_or_path_classname() -> None:
    files = [TestItem(id=f, file=f) for f in ("src/button.test.js", "pkg/util_test.go")]
    observations = [
        Observation(
            name="renders",
            classname="Button renders",
            file="/home/runner/work/repo/repo/src/button.test.js",
            seconds=2.0,
            source="jest.xml",
        ),
        Observation(name="clicks", classname="src/button.test.js", seconds=1.0, source="jest.xml"),
        Observation(name="TestX", classname="pkg/util_test.go", seconds=0.5, source="go.xml"),
        Observation(name="y", classname="Unknown", seconds=0.5, source="go.xml"),
    ]
    timings = resolve(observations, files, granularity="file")
    assert timings.durations == {"src/button.test.js": 3.0, "pkg/util_test.go": 0.5}
    assert timings.unresolved == 1


def test_file_granularity_xunit2_from_another_rootdir() -> None:
    files = [TestItem(id="tests/test_x.py", file="tests/test_x.py")]
    observation = Observation(name="t", classname="test_x.TestA", seconds=1.5, source="j")
    assert resolve([observation], files, granularity="file").durations == {"tests/test_x.py": 1.5}


# --- properties --------------------------------------------------------------------------------

_segment = st.text(alphabet="abcxyz_.", min_size=1, max_size=4).filter(
    lambda s: s not in (".", "..") and not s.startswith(".")
)
_param = st.text(alphabet=st.sampled_from(list("ab.-/:[] $()'\"ü🙂\x1b")), min_size=0, max_size=8)


@st.composite
def _suites(draw: st.DrawFn) -> list[str]:
    ids: set[str] = set()
    for _ in range(draw(st.integers(1, 25))):
        folders = draw(st.lists(_segment, max_size=3))
        module = "test_" + draw(_segment) + ".py"
        classes = draw(st.lists(st.sampled_from(["TestA", "TestB", "Inner"]), max_size=2))
        function = "test_" + draw(st.sampled_from(["a", "b", "c"]))
        if draw(st.booleans()):
            function += "[" + draw(_param) + "]"
        ids.add("::".join(["/".join([*folders, module]), *classes, function]))
    return sorted(ids)


@given(suite=_suites(), xunit1=st.booleans())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_property_unique_pairs_resolve_to_themselves_ties_are_never_guessed(
    suite: list[str], xunit1: bool
) -> None:
    pairs: dict[tuple[str, str], list[str]] = {}
    for node_id in suite:
        names = mangle_test_address(node_id)
        pairs.setdefault((".".join(names[:-1]), bin_xml_escape(names[-1])), []).append(node_id)
    observations = [_junit(i, float(n), xunit1=xunit1) for n, i in enumerate(suite)]
    timings = resolve(observations, _items(suite), granularity="test")
    seconds = {i: float(n) for n, i in enumerate(suite)}
    for node_id, value in timings.durations.items():
        assert value == seconds[node_id]  # nothing is ever charged to another test
    for same in pairs.values():
        if len(same) == 1:
            assert same[0] in timings.durations
        elif not xunit1:
            assert not any(i in timings.durations for i in same)
    assert timings.stale == 0


@given(suite=_suites())
@settings(max_examples=75, deadline=None)
def test_property_file_granularity_sums_match_node_id_sums(suite: list[str]) -> None:
    observations = [_node(i, float(n % 7)) for n, i in enumerate(suite)]
    timings = resolve(observations, _files(suite), granularity="file")
    expected: dict[str, float] = {}
    for n, node_id in enumerate(suite):
        file = node_id.partition("::")[0]
        expected[file] = expected.get(file, 0.0) + float(n % 7)
    assert timings.durations == pytest.approx(expected)


@given(
    values=st.lists(
        st.floats(min_value=0, max_value=MAX_SECONDS, allow_nan=False), min_size=1, max_size=9
    )
)
def test_property_several_runs_give_the_median(values: list[float]) -> None:
    test = "tests/test_x.py::test_a"
    observations = [_node(test, v, f"run{n}.json") for n, v in enumerate(values)]
    got = resolve(observations, _items([test]), granularity="test").durations[test]
    ordered = sorted(values)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    assert got == pytest.approx(median)
    assert min(values) <= got <= max(values)


def test_resolve_maps_100k_tests_of_both_kinds() -> None:
    # How fast is measured in benchmarks/plan_speed.py, not asserted here.
    ids = [
        f"tests/pkg{i // 1000}/test_m{(i // 50) % 20}.py::TestC{i % 7}::test_{i}[p-{i % 3}]"
        for i in range(100_000)
    ]
    tests = _items(ids)
    observations = [_junit(i, 0.5) for i in ids[::2]] + [_node(i, 0.5) for i in ids[1::2]]
    observations.append(_junit("tests/pkg0/test_m0.py::TestC0::test_deleted", 1.0))
    timings = resolve(observations, tests, granularity="test")
    assert len(timings.durations) == 100_000
    assert timings.stale == 1
