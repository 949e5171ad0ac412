"""Collection of today's tests: a real pytest subprocess on suites written to a temp folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shard_action.adapters.collect import (
    LARGE_FILE,
    Collected,
    collect_pytest,
    match_test_files,
    read_test_list,
    tree_key,
)
from shard_action.errors import InputError

SUITE = """
import pytest

pytestmark = pytest.mark.db


@pytest.mark.parametrize("x", ["a b", "$(touch pwned)", "q'\\"", "a::b", "semi;colon"])
def test_param(x):
    pass


class TestGroup:
    @pytest.mark.slow
    def test_method(self):
        pass
"""


def make_suite(root: Path) -> None:
    (root / "tests").mkdir()
    (root / "tests" / "test_a.py").write_text(SUITE, encoding="utf-8")
    (root / "tests" / "test_b.py").write_text("def test_plain():\n    pass\n", encoding="utf-8")
    (root / "pytest.ini").write_text("[pytest]\nmarkers =\n    db\n    slow\n", encoding="utf-8")


@pytest.mark.slow
def test_pytest_collection_gives_ids_files_and_markers(tmp_path: Path) -> None:
    make_suite(tmp_path)
    collected = collect_pytest(tmp_path)
    ids = [t.id for t in collected.tests]
    assert ids == [
        "tests/test_a.py::test_param[a b]",
        "tests/test_a.py::test_param[$(touch pwned)]",
        "tests/test_a.py::test_param[q'\"]",
        "tests/test_a.py::test_param[a::b]",
        "tests/test_a.py::test_param[semi;colon]",
        "tests/test_a.py::TestGroup::test_method",
        "tests/test_b.py::test_plain",
    ]
    by_id = {t.id: t for t in collected.tests}
    assert by_id["tests/test_a.py::TestGroup::test_method"].markers >= {"db", "slow"}
    assert "db" not in by_id["tests/test_b.py::test_plain"].markers
    assert by_id["tests/test_a.py::test_param[a::b]"].file == "tests/test_a.py"
    assert not (tmp_path / "pwned").exists()


@pytest.mark.slow
def test_collection_errors_are_named_not_swallowed(tmp_path: Path) -> None:
    make_suite(tmp_path)
    (tmp_path / "tests" / "test_broken.py").write_text("import no_such_module_zz\n")
    with pytest.raises(InputError) as info:
        collect_pytest(tmp_path)
    assert "tests/test_broken.py" in str(info.value)
    assert "no_such_module_zz" in str(info.value)


@pytest.mark.slow
def test_empty_suite_is_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    assert collect_pytest(tmp_path).tests == ()


@pytest.mark.slow
def test_collect_args_limit_collection(tmp_path: Path) -> None:
    make_suite(tmp_path)
    collected = collect_pytest(tmp_path, ["tests/test_b.py"])
    assert [t.id for t in collected.tests] == ["tests/test_b.py::test_plain"]


@pytest.mark.slow
def test_bad_usage_reports_pytest_output(tmp_path: Path) -> None:
    make_suite(tmp_path)
    with pytest.raises(InputError, match="collection failed"):
        collect_pytest(tmp_path, ["--no-such-option"])


@pytest.mark.slow
def test_cache_hits_on_unchanged_tree_and_misses_on_change(tmp_path: Path) -> None:
    make_suite(tmp_path)
    cache = tmp_path / ".shard-action" / "cache"
    first = collect_pytest(tmp_path, cache_dir=cache)
    second = collect_pytest(tmp_path, cache_dir=cache)
    assert not first.cached
    assert second.cached
    assert second.tests == first.tests
    (tmp_path / "tests" / "test_b.py").write_text(
        "def test_plain():\n    pass\ndef test_new():\n    pass\n"
    )
    third = collect_pytest(tmp_path, cache_dir=cache)
    assert not third.cached
    assert "tests/test_b.py::test_new" in [t.id for t in third.tests]


DATA_SUITE = """
from pathlib import Path

import pytest

CASES = Path(__file__).with_name("cases.txt").read_text().split()


@pytest.mark.parametrize("case", CASES)
def test_case(case):
    pass
"""


def make_data_suite(root: Path) -> None:
    """A suite whose ids come from a data file: the cache key must cover more than ``*.py``."""
    (root / "tests").mkdir()
    (root / "tests" / "test_data.py").write_text(DATA_SUITE, encoding="utf-8")
    (root / "tests" / "cases.txt").write_text("one two\n", encoding="utf-8")
    (root / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")


def ids_of(collected: Collected) -> list[str]:
    return [t.id for t in collected.tests]


@pytest.mark.slow
def test_cache_misses_when_a_data_file_that_makes_ids_changes(tmp_path: Path) -> None:
    make_data_suite(tmp_path)
    cache = tmp_path / ".shard-action" / "cache"
    assert ids_of(collect_pytest(tmp_path, cache_dir=cache)) == [
        "tests/test_data.py::test_case[one]",
        "tests/test_data.py::test_case[two]",
    ]
    (tmp_path / "tests" / "cases.txt").write_text("one two three\n", encoding="utf-8")
    again = collect_pytest(tmp_path, cache_dir=cache)
    assert not again.cached
    assert ids_of(again)[-1] == "tests/test_data.py::test_case[three]"


@pytest.mark.slow
def test_cache_ignores_our_own_output_and_coverage_data(tmp_path: Path) -> None:
    make_data_suite(tmp_path)
    cache = tmp_path / ".shard-action" / "cache"
    out = tmp_path / "shard-plan"
    first = collect_pytest(tmp_path, cache_dir=cache, skip=[out])
    out.mkdir()
    (out / "plan.json").write_text("{}", encoding="utf-8")
    (tmp_path / ".coverage.shard-1").write_bytes(b"data")
    second = collect_pytest(tmp_path, cache_dir=cache, skip=[out])
    assert second.cached
    assert second.tests == first.tests


@pytest.mark.slow
def test_cache_misses_on_other_collect_args_and_pytest_variables(tmp_path: Path) -> None:
    make_data_suite(tmp_path)
    cache = tmp_path / ".shard-action" / "cache"
    env = {**os.environ, "PYTEST_ADDOPTS": ""}
    assert not collect_pytest(tmp_path, cache_dir=cache, env=env).cached
    narrowed = collect_pytest(tmp_path, ["-k", "two"], cache_dir=cache, env=env)
    assert not narrowed.cached
    assert ids_of(narrowed) == ["tests/test_data.py::test_case[two]"]
    by_addopts = collect_pytest(tmp_path, cache_dir=cache, env={**env, "PYTEST_ADDOPTS": "-k one"})
    assert not by_addopts.cached
    assert ids_of(by_addopts) == ["tests/test_data.py::test_case[one]"]
    assert collect_pytest(tmp_path, cache_dir=cache, env=env).cached


@pytest.mark.slow
def test_cache_misses_when_a_package_is_installed(tmp_path: Path) -> None:
    """A new entry in a folder on the import path (a ``*.dist-info``, a ``.pth``) is an install."""
    root = tmp_path / "project"
    root.mkdir()
    make_data_suite(root)
    site = tmp_path / "site"
    site.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    cache = root / ".shard-action" / "cache"
    assert not collect_pytest(root, cache_dir=cache, env=env).cached
    assert collect_pytest(root, cache_dir=cache, env=env).cached
    (site / "newplugin-1.0.dist-info").mkdir()
    assert not collect_pytest(root, cache_dir=cache, env=env).cached


@pytest.mark.slow
def test_a_damaged_cache_entry_is_a_miss(tmp_path: Path) -> None:
    make_data_suite(tmp_path)
    cache = tmp_path / ".shard-action" / "cache"
    first = collect_pytest(tmp_path, cache_dir=cache)
    (entry,) = cache.glob("collect-*.json")
    entry.write_text('{"items": [{"id": 1', encoding="utf-8")
    again = collect_pytest(tmp_path, cache_dir=cache)
    assert not again.cached
    assert again.tests == first.tests
    assert collect_pytest(tmp_path, cache_dir=cache).cached


def test_tree_key_reads_large_files_by_size_and_mtime(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (LARGE_FILE + 1))
    key = tree_key(tmp_path, [])
    stat = big.stat()
    with big.open("r+b") as handle:  # same size, other content, same mtime: same key
        handle.write(b"y")
    os.utime(big, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert tree_key(tmp_path, []) == key
    os.utime(big, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert tree_key(tmp_path, []) != key


@pytest.mark.slow
def test_plain_asserts_at_collection_can_be_overridden(tmp_path: Path) -> None:
    make_suite(tmp_path)
    plain = collect_pytest(tmp_path)
    rewritten = collect_pytest(tmp_path, ["--assert=rewrite"])
    assert rewritten.tests == plain.tests


def test_tests_from_file_keeps_every_character(tmp_path: Path) -> None:
    ids = [
        "t/test_x.py::test_a[ spaced ]",
        "t/test_x.py::test_b[$(id)]",
        "t/ünï.py::tëst",
        "t/q.py::x['\"]",
    ]
    path = tmp_path / "ids.txt"
    path.write_text("\n".join(ids) + "\n\n" + ids[0] + "\r\n", encoding="utf-8")
    collected = read_test_list(path)
    assert [t.id for t in collected.tests] == ids
    assert collected.tests[2].file == "t/ünï.py"
    assert "1 duplicate" in collected.warnings[0]


def test_tests_from_file_with_bom_comments_and_unicode_line_separators(tmp_path: Path) -> None:
    ids = [
        "t/test_x.py::test_a[\u2028]",  # LINE SEPARATOR inside a parameter
        "t/test_x.py::test_b[\x85\x0c]",  # NEL and form feed
        "t/test_x.py::test_c",
    ]
    path = tmp_path / "ids.txt"
    text = "# made by a script\n" + "\r\n".join(ids) + "\n  # indented comment\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))  # as Windows editors save
    assert [t.id for t in read_test_list(path).tests] == ids


def test_tests_from_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="test list not found") as info:
        read_test_list(tmp_path / "nope.txt")
    assert "nope.txt" in str(info.value)


def test_tests_from_globs_skips_vendored_folders(tmp_path: Path) -> None:
    for name in ["src/a.test.js", "src/b/c.test.js", "node_modules/x/d.test.js", "src/e.js"]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    collected = match_test_files(tmp_path, ["**/*.test.js"])
    assert [t.id for t in collected.tests] == ["src/a.test.js", "src/b/c.test.js"]
    assert all(t.id == t.file for t in collected.tests)
