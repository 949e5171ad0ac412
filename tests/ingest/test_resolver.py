"""The resolver without guesses (results: the runner, the fan-in), against pytest's own naming.

pytest's ``mangle_test_address`` and ``bin_xml_escape`` write the cases (as its JUnit plugin
does): the expected ids come from the suite itself, never from the resolver.
"""

from __future__ import annotations

from _pytest.junitxml import bin_xml_escape, mangle_test_address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shard_action.core.resolver import Resolver
from tests.ingest.test_timing_resolution import _suites

WORKDIR = "/home/runner/work/repo"


def _file(node_id: str) -> str:
    return node_id.partition("::")[0]


def _dotted(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def _case(node_id: str, *, xunit1: bool) -> tuple[str, str, str | None]:
    """(classname, name, file) as pytest writes them; xunit1's file, absolute as on a runner."""
    names = mangle_test_address(node_id)
    file = f"{WORKDIR}/{_file(node_id)}" if xunit1 else None
    return ".".join(names[:-1]), bin_xml_escape(names[-1]), file


@given(suite=_suites(), xunit1=st.booleans())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_case_resolves_to_its_own_id_or_to_nothing(suite: list[str], xunit1: bool) -> None:
    pairs: dict[tuple[str, str], list[str]] = {}
    for node_id in suite:
        classname, name, _ = _case(node_id, xunit1=False)
        pairs.setdefault((classname, name), []).append(node_id)
    resolver = Resolver(suite, WORKDIR)
    for node_id in suite:
        classname, name, file = _case(node_id, xunit1=xunit1)
        tied = pairs[(classname, name)]
        in_its_file = [t for t in tied if _file(t) == _file(node_id)]
        found = resolver.match(classname, name, file)
        if len(tied) == 1 or (xunit1 and len(in_its_file) == 1):
            assert found.test == node_id
        else:
            assert found.test is None  # a tie that no file settles is never guessed
        assert not found.stale


@given(suite=_suites(), xunit1=st.booleans())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_split_by_file_a_case_names_the_file_of_its_test(suite: list[str], xunit1: bool) -> None:
    files = sorted({_file(i) for i in suite})
    resolver = Resolver(files, WORKDIR)
    for node_id in suite:
        classname, name, file = _case(node_id, xunit1=xunit1)
        found = resolver.match(classname, name, file)
        if xunit1:  # the file settles what the dotted name cannot
            assert found.test == _file(node_id)
            continue
        rivals = [
            f
            for f in files
            if f != _file(node_id)
            and (classname == _dotted(f) or classname.startswith(_dotted(f) + "."))
            and len(_dotted(f)) >= len(_dotted(_file(node_id)))
        ]
        if not rivals:
            assert found.test == _file(node_id)
        else:  # a longer or equal dotted module: never a file the classname does not name
            assert found.test is None or found.test in rivals


def test_an_id_that_is_a_name_and_a_rebuilt_id_are_both_found() -> None:
    ids = ["tests/test_a.py::TestK::test_x[1]", "src/app.test.js"]
    resolver = Resolver(ids, WORKDIR)
    assert resolver.match("tests.test_a.TestK", "test_x[1]").test == ids[0]
    assert resolver.match(None, "src/app.test.js").test == ids[1]  # a runner that writes ids
    assert resolver.match("tests.test_a.TestK", "test_gone").stale
    assert resolver.match("other.module", "test_x[1]") == (None, None, False)
