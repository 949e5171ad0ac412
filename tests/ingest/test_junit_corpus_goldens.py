"""Golden tests over the whole JUnit corpus (``tests/data/junit``, see its NOTICE.md).

Each report's parsed output is kept as JSON under ``tests/golden/junit/`` (same relative path plus
``.json``); run with ``SHARD_ACTION_UPDATE_GOLDENS=1`` to rewrite them after a deliberate change,
then read the diff. The goldens are not trusted on their own: every file is also checked against
facts that do not come from our parser: the MANIFEST's independently counted ``testcases`` column,
and the standard library's own ElementTree (the corpus is trusted input) for names, classnames,
times and result elements, in document order.
"""

from __future__ import annotations

import json
import math
import os
import xml.etree.ElementTree as StdET
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from shard_action.adapters.junit import parse_junit
from shard_action.errors import InputError

DATA = Path(__file__).resolve().parent.parent / "data" / "junit"
GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "junit"
UPDATE = os.environ.get("SHARD_ACTION_UPDATE_GOLDENS") == "1"
PARSEABLE = {"valid", "edge", "flaky"}


def _manifest() -> list[dict[str, str]]:
    lines = (DATA / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:] if line]


MANIFEST = _manifest()


def _parsed_document(row: dict[str, str]) -> dict[str, Any]:
    path = DATA / row["path"]
    try:
        parsed = parse_junit(path)
    except InputError as exc:
        return {
            "error": str(exc).replace(str(path), row["path"]),
            "line": exc.line,
        }
    return {
        "source": row["path"],
        "invalid_times": parsed.invalid_times,
        "missing_times": parsed.missing_times,
        "cases": [asdict(case) for case in parsed.report.cases],
    }


def _golden_text(document: dict[str, Any]) -> str:
    """JSON with one test case per line: small files, readable diffs."""
    head = {k: v for k, v in document.items() if k != "cases"}
    lines = [json.dumps(head, ensure_ascii=False, sort_keys=True)[:-1]]
    if "cases" in document:
        cases = [json.dumps(c, ensure_ascii=False, sort_keys=True) for c in document["cases"]]
        body = ",\n  ".join(cases)
        lines.append(f', "cases": [\n  {body}\n]' if cases else ', "cases": []')
    return "".join(lines) + "}\n"


def test_manifest_lists_every_xml_file_in_the_corpus() -> None:
    on_disk = {p.relative_to(DATA).as_posix() for p in DATA.rglob("*.xml")}
    assert on_disk == {row["path"] for row in MANIFEST}
    assert len(MANIFEST) == 87


@pytest.mark.parametrize("row", MANIFEST, ids=[row["path"] for row in MANIFEST])
def test_report_matches_its_golden(row: dict[str, str]) -> None:
    document = _parsed_document(row)
    golden = GOLDEN / (row["path"] + ".json")
    text = _golden_text(document)
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.is_file(), f"no golden for {row['path']}; run with SHARD_ACTION_UPDATE_GOLDENS=1"
    assert json.loads(golden.read_text(encoding="utf-8")) == json.loads(text)


def test_no_golden_without_a_corpus_file() -> None:
    goldens = {p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*.json")}
    assert goldens == {row["path"] + ".json" for row in MANIFEST}


def _std_time(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


PARSEABLE_ROWS = [row for row in MANIFEST if row["kind"] in PARSEABLE]


@pytest.mark.parametrize("row", PARSEABLE_ROWS, ids=[row["path"] for row in PARSEABLE_ROWS])
def test_parseable_report_agrees_with_manifest_and_stdlib(row: dict[str, str]) -> None:
    path = DATA / row["path"]
    cases = parse_junit(path).report.cases
    assert len(cases) == int(row["testcases"])

    elements = list(StdET.parse(path).getroot().iter("testcase"))
    assert len(elements) == len(cases)
    for element, case in zip(elements, cases, strict=True):
        assert case.name == element.get("name", "")
        assert case.classname == (element.get("classname") or None)
        assert case.seconds == _std_time(element.get("time"))
        children = {child.tag for child in element}
        if "error" in children:
            assert case.outcome == "error"
        elif "failure" in children:
            assert case.outcome == "failed"
        elif "skipped" in children or element.get("status") == "disabled":
            assert case.outcome == "skipped"
        else:
            assert case.outcome == "passed"
        flaky = sum(1 for child in element if child.tag in ("flakyFailure", "flakyError"))
        rerun = sum(1 for child in element if child.tag in ("rerunFailure", "rerunError"))
        assert (case.flaky_failures, case.rerun_failures) == (flaky, rerun)


BROKEN_ROWS = [row for row in MANIFEST if row["kind"] not in PARSEABLE]


@pytest.mark.parametrize("row", BROKEN_ROWS, ids=[row["path"] for row in BROKEN_ROWS])
def test_broken_report_raises_input_error_naming_the_file(row: dict[str, str]) -> None:
    path = DATA / row["path"]
    with pytest.raises(InputError) as caught:
        parse_junit(path)
    assert str(path) in str(caught.value)
    assert caught.value.source == str(path)
    if row["kind"] == "corrupt":
        with pytest.raises(StdET.ParseError) as std:
            StdET.parse(path)
        assert caught.value.line == std.value.position[0]
        assert f"{path}:{std.value.position[0]}: " in str(caught.value)
        assert f"column {std.value.position[1]}" in str(caught.value)
    else:
        root = StdET.parse(path).getroot().tag
        assert f"not a JUnit report: root element <{root}>" in str(caught.value)


def test_corpus_has_all_kinds() -> None:
    kinds = {row["kind"] for row in MANIFEST}
    assert kinds == {"valid", "edge", "flaky", "corrupt", "non-junit"}
