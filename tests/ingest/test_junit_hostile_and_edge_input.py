"""The JUnit reader against hostile, broken and odd input: real files written to tmp_path."""

from __future__ import annotations

import gzip
import math
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shard_action.adapters.junit import parse_junit, parse_time, read_capped, read_junit
from shard_action.errors import InputError

SECRET = "TOP-SECRET-7f3a9c"


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def test_xxe_external_file_entity_is_refused_and_never_read(tmp_path: Path) -> None:
    secret = _write(tmp_path, "secret.txt", SECRET)
    report = _write(
        tmp_path,
        "xxe.xml",
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE testsuite [<!ENTITY leak SYSTEM "file://{secret}">]>\n'
        '<testsuite><testcase classname="c" name="&leak;" time="1"/></testsuite>\n',
    )
    with pytest.raises(InputError) as caught:
        read_junit(report)
    message = str(caught.value)
    assert SECRET not in message
    assert str(report) in message
    assert "XXE" in message
    assert "DOCTYPE" in message


def test_xxe_parameter_entity_with_external_dtd_is_refused(tmp_path: Path) -> None:
    dtd = _write(tmp_path, "evil.dtd", f'<!ENTITY leak "{SECRET}">')
    report = _write(
        tmp_path,
        "xxe2.xml",
        f'<?xml version="1.0"?><!DOCTYPE testsuite SYSTEM "file://{dtd}">'
        '<testsuite><testcase name="&leak;"/></testsuite>',
    )
    with pytest.raises(InputError) as caught:
        read_junit(report)
    assert SECRET not in str(caught.value)


def test_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    ]
    report = _write(
        tmp_path,
        "lol.xml",
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n'
        + "\n".join(entities)
        + '\n]>\n<testsuite><testcase name="&lol9;"/></testsuite>\n',
    )
    with pytest.raises(InputError) as caught:
        read_junit(report)
    assert "entity-expansion (billion laughs)" in str(caught.value)
    assert caught.value.source == str(report)


def test_undeclared_entity_is_malformed_xml_with_position(tmp_path: Path) -> None:
    report = _write(tmp_path, "undef.xml", '<testsuite>\n<testcase name="&nope;"/></testsuite>')
    with pytest.raises(InputError) as caught:
        read_junit(report)
    assert caught.value.line == 2
    assert "undefined entity" in str(caught.value)


def test_report_over_the_size_cap_is_refused_with_the_limit_named(tmp_path: Path) -> None:
    case = '<testcase classname="c" name="t" time="0.1"/>\n'
    report = _write(tmp_path, "big.xml", "<testsuite>\n" + case * 2000 + "</testsuite>\n")
    assert len(read_junit(report).cases) == 2000  # fine under the default cap
    with pytest.raises(InputError) as caught:
        read_junit(report, max_bytes=10_000)
    assert "10000 bytes limit" in str(caught.value)
    assert caught.value.source == str(report)


def test_gzip_bomb_is_stopped_by_the_cap_after_decompression(tmp_path: Path) -> None:
    body = b"<testsuite>" + b" " * (8 * 1024 * 1024) + b"</testsuite>"
    report = _write(tmp_path, "bomb.xml.gz", gzip.compress(body))
    assert report.stat().st_size < 100_000
    with pytest.raises(InputError) as caught:
        read_junit(report, max_bytes=1024 * 1024)
    assert "1 MiB limit (after decompression)" in str(caught.value)


def test_empty_file_is_named(tmp_path: Path) -> None:
    report = _write(tmp_path, "empty.xml", "")
    with pytest.raises(InputError) as caught:
        read_junit(report)
    assert str(caught.value) == f"{report}: empty file: not a JUnit report"


def test_whitespace_only_file_is_empty_too(tmp_path: Path) -> None:
    report = _write(tmp_path, "blank.xml", "  \r\n\n")
    with pytest.raises(InputError, match="empty file"):
        read_junit(report)


def test_binary_garbage_is_malformed_xml_on_line_one(tmp_path: Path) -> None:
    report = _write(tmp_path, "garbage.xml", bytes(range(256)) * 4)
    with pytest.raises(InputError) as caught:
        read_junit(report)
    assert caught.value.line == 1
    assert str(caught.value).startswith(f"{report}:1: malformed XML at column ")


def test_truncated_report_names_file_and_line(tmp_path: Path) -> None:
    report = _write(
        tmp_path,
        "cut.xml",
        '<?xml version="1.0"?>\n<testsuite>\n  <testcase name="a" time="1"/>\n  <testcase na',
    )
    with pytest.raises(InputError) as caught:
        read_junit(report)
    assert caught.value.line == 4
    assert str(caught.value).startswith(f"{report}:4: malformed XML at column ")


def test_truncated_gzip_is_named(tmp_path: Path) -> None:
    data = gzip.compress(b"<testsuite>" + b'<testcase name="x"/>' * 1000 + b"</testsuite>")
    report = _write(tmp_path, "cut.xml.gz", data[: len(data) // 2])
    with pytest.raises(InputError) as caught:
        read_junit(report)
    assert caught.value.source == str(report)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        read_junit(tmp_path / "nope.xml")
    assert str(caught.value).startswith(f"{tmp_path / 'nope.xml'}: cannot read")


def test_other_xml_is_not_a_junit_report(tmp_path: Path) -> None:
    report = _write(tmp_path, "pom.xml", '<?xml version="1.0"?><project><a/></project>')
    with pytest.raises(InputError) as caught:
        read_junit(report)
    assert str(caught.value) == f"{report}: not a JUnit report: root element <project>"


def test_gzip_is_detected_by_content_not_name(tmp_path: Path) -> None:
    xml = (
        b'<testsuites><testsuite><testcase classname="m" name="t" time="2.5"/>'
        b"</testsuite></testsuites>"
    )
    for name in ("a.xml.gz", "renamed.xml", "noext"):
        report = _write(tmp_path, name, gzip.compress(xml))
        (case,) = read_junit(report).cases
        assert (case.classname, case.name, case.seconds) == ("m", "t", 2.5)
    assert read_capped(tmp_path / "noext") == xml


def test_crlf_bom_and_utf16_reports_parse(tmp_path: Path) -> None:
    body = '<testsuite>\r\n<testcase classname="é.c" name="ü 🙂" time="1.5"/>\r\n</testsuite>\r\n'
    utf8 = _write(tmp_path, "bom.xml", b"\xef\xbb\xbf" + body.encode())
    utf16 = _write(
        tmp_path, "u16.xml", ('<?xml version="1.0" encoding="UTF-16"?>' + body).encode("utf-16")
    )
    for report in (utf8, utf16):
        (case,) = read_junit(report).cases
        assert (case.classname, case.name, case.seconds) == ("é.c", "ü 🙂", 1.5)


def test_times_nan_negative_inf_garbage_are_missing_and_counted_zero_is_valid(
    tmp_path: Path,
) -> None:
    report = _write(
        tmp_path,
        "times.xml",
        "<testsuite>"
        '<testcase name="nan" time="NaN"/><testcase name="neg" time="-1.5"/>'
        '<testcase name="inf" time="inf"/><testcase name="bad" time="&lt;&lt;computed&gt;&gt;"/>'
        '<testcase name="zero" time="0"/><testcase name="none"/><testcase name="blank" time=""/>'
        '<testcase name="exp" time="4.5e-05"/><testcase name="thousands" time="1,234.5"/>'
        "</testsuite>",
    )
    parsed = parse_junit(report)
    seconds = {case.name: case.seconds for case in parsed.report.cases}
    assert seconds == {
        "nan": None,
        "neg": None,
        "inf": None,
        "bad": None,
        "zero": 0.0,
        "none": None,
        "blank": None,
        "exp": 4.5e-05,
        "thousands": 1234.5,
    }
    assert parsed.invalid_times == 4
    assert parsed.missing_times == 2


@given(st.floats(allow_nan=True, allow_infinity=True))
@settings(max_examples=200)
def test_parse_time_keeps_exactly_the_finite_non_negative_floats(value: float) -> None:
    seconds, invalid = parse_time(repr(value))
    if math.isfinite(value) and value >= 0:
        assert (seconds, invalid) == (value, False)
    else:
        assert (seconds, invalid) == (None, True)


def test_outcomes_status_attributes_and_surefire_reruns(tmp_path: Path) -> None:
    report = _write(
        tmp_path,
        "outcomes.xml",
        """<testsuites><testsuite name="outer" file="suite_file.js">
  <testcase name="pass" status="run" time="1"/>
  <testcase name="disabled" status="disabled"/>
  <testcase name="notrun" status="notrun"/>
  <testcase name="gtest-skip" status="run" result="skipped"/>
  <testcase name="status-failed" status="failed"/>
  <testcase name="skip"><skipped message="why"/></testcase>
  <testcase name="fail"><failure>body text
 more</failure></testcase>
  <testcase name="err-wins"><skipped/><failure message="f"/><error message="e"/></testcase>
  <testcase name="disabled-but-failed" status="disabled"><failure message="boom"/></testcase>
  <testcase name="flaky"><flakyFailure message="x"><stackTrace>st</stackTrace></flakyFailure>
    <flakyError/></testcase>
  <testcase name="broken"><failure message="f"/>
    <rerunFailure/><rerunFailure/><rerunError/></testcase>
  <testcase name="xunit-on-failure"><failure message="m" file="main.c" line="38"/></testcase>
  <testsuite name="inner">
    <testcase name="nested" file="own.py" line="7"/>
    <testcase name="inherits"/>
  </testsuite>
  <testcase name="after-inner"/>
</testsuite></testsuites>""",
    )
    cases = {case.name: case for case in read_junit(report).cases}
    assert list(cases) == [
        "pass",
        "disabled",
        "notrun",
        "gtest-skip",
        "status-failed",
        "skip",
        "fail",
        "err-wins",
        "disabled-but-failed",
        "flaky",
        "broken",
        "xunit-on-failure",
        "nested",
        "inherits",
        "after-inner",
    ]
    outcome = {name: case.outcome for name, case in cases.items()}
    assert outcome == {
        "pass": "passed",
        "disabled": "skipped",
        "notrun": "skipped",
        "gtest-skip": "skipped",
        "status-failed": "failed",
        "skip": "skipped",
        "fail": "failed",
        "err-wins": "error",
        "disabled-but-failed": "failed",
        "flaky": "passed",
        "broken": "failed",
        "xunit-on-failure": "failed",
        "nested": "passed",
        "inherits": "passed",
        "after-inner": "passed",
    }
    assert cases["skip"].message == "why"
    assert cases["fail"].message == "body text\n more"
    assert cases["err-wins"].message == "e"
    assert (cases["flaky"].flaky_failures, cases["flaky"].rerun_failures) == (2, 0)
    assert (cases["broken"].flaky_failures, cases["broken"].rerun_failures) == (0, 3)
    assert (cases["xunit-on-failure"].file, cases["xunit-on-failure"].line) == ("main.c", 38)
    assert (cases["nested"].file, cases["nested"].line) == ("own.py", 7)
    assert cases["inherits"].file == "suite_file.js"
    assert cases["after-inner"].file == "suite_file.js"


def test_long_failure_bodies_are_capped(tmp_path: Path) -> None:
    report = _write(
        tmp_path,
        "long.xml",
        f"<testsuite><testcase name='t'><failure>{'x' * 50_000}</failure></testcase></testsuite>",
    )
    (case,) = read_junit(report).cases
    assert case.message == "x" * 1000


def test_namespaced_report_parses(tmp_path: Path) -> None:
    report = _write(
        tmp_path,
        "ns.xml",
        '<testsuite xmlns="urn:x"><testcase name="t" time="1"><failure/></testcase></testsuite>',
    )
    (case,) = read_junit(report).cases
    assert (case.name, case.outcome) == ("t", "failed")


@pytest.mark.parametrize(
    "name",
    [
        "test_a[$(rm -rf /)]",
        "test_b[`id`]",
        "test_c['single' \"double\"]",
        "test d with spaces",
        "test_e[ünï¢ødé-🙂]",
        "test_f[a::b/c.d[e]]",
        "test_g[;|&><]",
    ],
)
def test_names_with_shell_metacharacters_and_unicode_round_trip(tmp_path: Path, name: str) -> None:
    report = _write(
        tmp_path,
        "names.xml",
        f"<testsuite><testcase classname='tests.test_x' name={quoteattr(name)} time='0.5'/>"
        "</testsuite>",
    )
    (case,) = read_junit(report).cases
    assert case.name == name


def test_unreadable_path_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder.xml"
    folder.mkdir()
    with pytest.raises(InputError) as caught:
        read_junit(folder)
    assert str(caught.value).startswith(f"{folder}: cannot read: ")
