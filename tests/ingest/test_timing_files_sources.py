"""``--timings`` sources: files, folders, globs; format by content; bad reports; history."""

from __future__ import annotations

import gzip
import json
import math
import os
from pathlib import Path

import pytest

from shard_action.adapters.timing_files import expand_paths, read_timings, sniff
from shard_action.core.history import History, RunRecord, TestRecord
from shard_action.core.mode import ModeState
from shard_action.errors import InputError

JUNIT = (
    '<?xml version="1.0"?><testsuites><testsuite name="pytest">'
    '<testcase classname="tests.test_a" name="test_one" time="1.5"/>'
    '<testcase classname="tests.test_a.TestK" name="test_two[x]" time="0.25"><skipped/></testcase>'
    '<testcase classname="tests.test_a" name="no_time"/>'
    "</testsuite></testsuites>"
)


def _write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def _history(mode: str, last_run: int, tests: dict[str, dict[str, float]]) -> str:
    history = History(
        mode=ModeState(mode=mode, reason="test"),
        runs=[RunRecord(index=last_run, mode="parallel", tests=1, flaky=0, flaky_rate=0.0)],
        tests={
            lane: {tid: TestRecord(duration=d, outcomes="ppF") for tid, d in records.items()}
            for lane, records in tests.items()
        },
    )
    return history.model_dump_json()


def test_junit_report_gives_classname_observations(tmp_path: Path) -> None:
    report = _write(tmp_path / "junit.xml", JUNIT)
    result = read_timings([str(report)])
    assert result.sources == (str(report),)
    assert result.missing_times == 1
    assert [
        (o.classname, o.name, o.seconds, o.outcome, o.is_node_id) for o in result.observations
    ] == [
        ("tests.test_a", "test_one", 1.5, "passed", False),
        ("tests.test_a.TestK", "test_two[x]", 0.25, "skipped", False),
    ]
    assert {o.source for o in result.observations} == {str(report)}
    assert result.history is None


def test_pytest_split_durations_both_forms(tmp_path: Path) -> None:
    new = _write(tmp_path / "d.json", json.dumps({"tests/a.py::t1": 1.0, "tests/a.py::t2": 0}))
    old = _write(
        tmp_path / "old.json", json.dumps([["tests/a.py::t3", 2.5], ["tests/a.py::t4", 3]])
    )
    result = read_timings([str(new), str(old)])
    assert [(o.name, o.seconds, o.is_node_id, o.source) for o in result.observations] == [
        ("tests/a.py::t1", 1.0, True, str(new)),
        ("tests/a.py::t2", 0.0, True, str(new)),
        ("tests/a.py::t3", 2.5, True, str(old)),
        ("tests/a.py::t4", 3.0, True, str(old)),
    ]


def test_pytest_split_nan_and_negative_are_dropped_and_counted(tmp_path: Path) -> None:
    durations = _write(
        tmp_path / "d.json",
        '{"a.py::nan": NaN, "a.py::neg": -1, "a.py::inf": Infinity, "a.py::ok": 0.5}',
    )
    result = read_timings([str(durations)])
    assert [o.name for o in result.observations] == ["a.py::ok"]
    assert result.invalid_times == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"a.py::t": "slow"}', "the time of 'a.py::t' is not a number"),
        ('{"a.py::t": true}', "item 0 is not an id and a number"),
        ("[1, 2]", "item 0 is not an [id, seconds] pair"),
        ('"text"', "not a timing report"),
        ('[["a.py::t", 1, 2]]', "item 0 is not an [id, seconds] pair"),
        ('{"a.py::t": {"nested": 1}}', "the time of 'a.py::t' is not a number"),
        ('{"a.py::t": 1,', "malformed JSON at column"),
    ],
)
def test_bad_json_is_an_error_naming_the_file(tmp_path: Path, content: str, message: str) -> None:
    bad = _write(tmp_path / "bad.json", content)
    with pytest.raises(InputError) as caught:
        read_timings([str(bad)])
    assert caught.value.source == str(bad)
    assert message in str(caught.value)


def test_history_is_detected_and_gives_lane_observations(tmp_path: Path) -> None:
    history = _write(
        tmp_path / "history.json",
        _history("serial", 3, {"db-sqlite": {"t.py::a": 1.0}, "db-pg": {"t.py::a": 3.0}}),
    )
    result = read_timings([str(history)])
    assert result.history is not None
    assert result.history.mode.mode == "serial"
    assert sorted(
        (o.lane, o.name, o.seconds, o.is_node_id, o.outcome) for o in result.observations
    ) == [
        ("db-pg", "t.py::a", 3.0, True, "passed"),
        ("db-sqlite", "t.py::a", 1.0, True, "passed"),
    ]


def test_newest_history_wins_whatever_the_order(tmp_path: Path) -> None:
    older = _write(tmp_path / "a" / "h.json", _history("serial", 5, {}))
    newer = _write(tmp_path / "b" / "h.json", _history("parallel", 9, {}))
    for order in ([older, newer], [newer, older]):
        result = read_timings([str(p) for p in order])
        assert result.history is not None
        assert result.history.mode.mode == "parallel"


def test_bad_history_names_the_key(tmp_path: Path) -> None:
    document = json.loads(_history("parallel", 1, {"default": {"t.py::a": 1.0}}))
    document["tests"]["default"]["t.py::a"]["duration"] = "fast"  # a number out of range is mended
    bad = _write(tmp_path / "h.json", json.dumps(document))
    with pytest.raises(InputError) as caught:
        read_timings([str(bad)])
    assert "tests.default.t.py::a.duration" in str(caught.value)
    assert caught.value.source == str(bad)


def test_unknown_kind_is_refused(tmp_path: Path) -> None:
    bad = _write(tmp_path / "h.json", '{"kind": "something-else", "version": 1}')
    with pytest.raises(InputError, match="not a shard-action history \\(kind 'something-else'"):
        read_timings([str(bad)])


def test_format_is_detected_by_content_not_extension(tmp_path: Path) -> None:
    xml_as_json = _write(tmp_path / "report.json", JUNIT)
    json_as_xml = _write(tmp_path / "durations.xml", '{"t.py::a": 1}')
    gz_no_suffix = _write(tmp_path / "artifact", gzip.compress(b'{"t.py::b": 2}'))
    history_gz = _write(tmp_path / "h.xml.gz", gzip.compress(_history("serial", 1, {}).encode()))
    assert sniff(xml_as_json) == "xml"
    assert sniff(json_as_xml) == "json"
    assert sniff(gz_no_suffix) == "json"
    result = read_timings([str(p) for p in (xml_as_json, json_as_xml, gz_no_suffix, history_gz)])
    names = [o.name for o in result.observations]
    assert names == ["test_one", "test_two[x]", "t.py::a", "t.py::b"]
    assert result.history is not None


def test_plain_text_is_not_a_timing_report(tmp_path: Path) -> None:
    text = _write(tmp_path / "notes.xml", "hello\n")
    with pytest.raises(InputError, match="not a timing report"):
        read_timings([str(text)])


def test_folder_is_searched_recursively_for_report_suffixes_only(tmp_path: Path) -> None:
    _write(tmp_path / "r" / "b" / "two.xml", JUNIT)
    _write(tmp_path / "r" / "a" / "one.json.gz", gzip.compress(b'{"t.py::a": 1}'))
    _write(tmp_path / "r" / "c.json", '{"t.py::c": 1}')
    _write(tmp_path / "r" / "d.xml.gz", gzip.compress(JUNIT.encode()))
    _write(tmp_path / "r" / "ignored.txt", "not read")
    _write(tmp_path / "r" / "ignored.log", "not read")
    files = expand_paths([str(tmp_path / "r")])
    assert [p.relative_to(tmp_path / "r").as_posix() for p in files] == [
        "a/one.json.gz",
        "b/two.xml",
        "c.json",
        "d.xml.gz",
    ]
    assert len(read_timings([str(tmp_path / "r")]).sources) == 4


def test_globs_expand_sorted_and_each_file_is_read_once(tmp_path: Path) -> None:
    for name in ("s2/junit.xml", "s1/junit.xml", "s1/deep/er/junit.xml"):
        _write(tmp_path / name, JUNIT)
    pattern = str(tmp_path / "**" / "junit.xml")
    files = expand_paths([pattern, str(tmp_path / "s1" / "junit.xml"), str(tmp_path / "s1")])
    assert [p.relative_to(tmp_path).as_posix() for p in files] == [
        "s1/deep/er/junit.xml",
        "s1/junit.xml",
        "s2/junit.xml",
    ]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("missing.xml", "no such file or folder"),
        ("nothing-*.xml", "this pattern matches no file"),
        ("empty-dir", "no timing reports"),
    ],
)
def test_missing_paths_are_errors_naming_the_path(tmp_path: Path, given: str, message: str) -> None:
    (tmp_path / "empty-dir").mkdir()
    target = str(tmp_path / given)
    for mode in ("error", "warn"):
        with pytest.raises(InputError) as caught:
            read_timings([target], on_bad_report=mode)
        assert str(caught.value) == f"{target}: {message}" or (
            message in str(caught.value) and target in str(caught.value)
        )


def test_special_file_is_not_a_report_and_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "reports" / "pipe.xml"
    _write(tmp_path / "reports" / "real.xml", JUNIT)
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file or folder"):
        read_timings([str(fifo)], on_bad_report="warn")
    # In a folder it is passed over: opening a FIFO would block forever.
    assert read_timings([str(tmp_path / "reports")]).sources == (
        str(tmp_path / "reports" / "real.xml"),
    )


def test_bad_report_is_an_error_by_default_and_skipped_with_warn(tmp_path: Path) -> None:
    good = _write(tmp_path / "shards" / "1" / "junit.xml", JUNIT)
    cut = _write(tmp_path / "shards" / "2" / "junit.xml", JUNIT[: len(JUNIT) // 2])
    other = _write(tmp_path / "shards" / "3" / "junit.xml", "<project/>")
    split = _write(tmp_path / "shards" / "4" / "durations.json", '{"t.py::z": 4}')
    folder = str(tmp_path / "shards")

    with pytest.raises(InputError) as caught:
        read_timings([folder])
    assert caught.value.source == str(cut)
    assert caught.value.line == 1

    result = read_timings([folder], on_bad_report="warn")
    assert result.sources == (str(good), str(split))
    assert result.skipped_reports == (str(cut), str(other))
    assert len(result.warnings) == 2
    assert str(cut) in result.warnings[0] and "malformed XML" in result.warnings[0]
    assert str(other) in result.warnings[1] and "root element <project>" in result.warnings[1]
    assert [o.name for o in result.observations] == ["test_one", "test_two[x]", "t.py::z"]


def test_hostile_report_is_refused_or_skipped(tmp_path: Path) -> None:
    secret = _write(tmp_path / "secret.txt", "SECRET-CONTENT")
    evil = _write(
        tmp_path / "evil.xml",
        f'<!DOCTYPE t [<!ENTITY x SYSTEM "file://{secret}">]><testsuite>'
        '<testcase name="&x;"/></testsuite>',
    )
    with pytest.raises(InputError, match="XXE"):
        read_timings([str(evil)])
    result = read_timings([str(evil)], on_bad_report="warn")
    assert result.observations == []
    assert result.skipped_reports == (str(evil),)
    assert "SECRET-CONTENT" not in result.warnings[0]


def test_size_cap_applies_to_json_too(tmp_path: Path) -> None:
    big = _write(tmp_path / "d.json", json.dumps({f"t.py::t{i}": 1.0 for i in range(1000)}))
    with pytest.raises(InputError, match="limit"):
        read_timings([str(big)], max_bytes=1000)


def test_xml_nan_times_are_counted(tmp_path: Path) -> None:
    report = _write(
        tmp_path / "j.xml",
        '<testsuite><testcase classname="m" name="a" time="nan"/>'
        '<testcase classname="m" name="b" time="-2"/><testcase classname="m" name="c" time="0"/>'
        "</testsuite>",
    )
    result = read_timings([str(report)])
    assert [(o.name, o.seconds) for o in result.observations] == [("c", 0.0)]
    assert result.invalid_times == 2
    assert all(math.isfinite(o.seconds) for o in result.observations)
