"""The one merged JUnit XML of a run: every executed test once, with its final outcome.

Tools downstream (test reporters, dashboards, our own planner's ``--timings``) expect one
``<testcase>`` per test. Re-runs therefore do not become extra test cases: they are kept the way
Surefire keeps them, which most JUnit readers understand, ``<flakyFailure>`` for failed attempts
of a test that passed in the end and ``<rerunFailure>`` for failed re-runs of a broken one, plus
``<properties>`` (shard, lane, id, verdict, attempts). Tests that were planned but never ran are
added as errors in a suite of their own, so a JUnit reader turns red for them too instead of
simply never hearing of them.

One ``<testcase>`` per planned test, that is per (lane instance, test id): under fan-out the same
id runs once per backend. Its ``classname`` and ``name`` stay exactly what pytest writes for the
id, so the merged file still maps back to node ids (``plan --timings``, ``Resolver``); what tells
the instances apart is the suite and a property:

* one ``<testsuite>`` per shard and lane instance: named after the shard (``storage-sqlite-1``),
  or ``shard / lane`` (``serial / storage-memory``) when one shard ran several lane instances,
  as the serial shard does;
* the ``shard-action.lane`` property of every test case.

Why ElementTree and not junitparser: junitparser has no model for ``flakyFailure`` or
test-case properties, so we would be building raw elements anyway; ElementTree escapes attribute
and text content correctly. What neither does is drop characters XML 1.0 cannot hold (a test id
can contain ``\\x1b``): we write those the way pytest does (``#x1B``), so the merged file parses
and names still match what pytest itself writes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from shard_action.adapters.files import write_text_atomic
from shard_action.core.completeness import LostTest
from shard_action.core.outcomes import is_failing_status
from shard_action.core.report import TestEntry
from shard_action.core.testids import is_whole_file, junit_pair, xml_escape

MESSAGE_LIMIT = 2000


def _text(value: object) -> str:
    return xml_escape(str(value))


def _names(entry: TestEntry) -> tuple[str, str]:
    if entry.name is not None and entry.classname is not None:
        return entry.classname, entry.name
    if not is_whole_file(entry.test):
        return junit_pair(entry.test)
    return "", entry.test


def _properties(parent: ET.Element, values: Sequence[tuple[str, object]]) -> None:
    props = ET.SubElement(parent, "properties")
    for name, value in values:
        ET.SubElement(props, "property", name=name, value=_text(value))


def _attempt(parent: ET.Element, tag: str, message: str | None) -> None:
    element = ET.SubElement(parent, tag)
    if message:
        element.set("message", _text(message[:MESSAGE_LIMIT]))


def _case(suite: ET.Element, entry: TestEntry) -> None:
    classname, name = _names(entry)
    case = ET.SubElement(suite, "testcase", classname=_text(classname), name=_text(name))
    if entry.file:
        case.set("file", _text(entry.file))
    if entry.line is not None:
        case.set("line", str(entry.line))
    if entry.seconds is not None:
        case.set("time", f"{entry.seconds:.3f}")
    _properties(
        case,
        [
            ("shard-action.id", entry.test),
            ("shard-action.shard", entry.shard),
            ("shard-action.lane", entry.lane),
            ("shard-action.status", entry.status),
            ("shard-action.attempts", entry.attempts),
            *([("shard-action.kind", entry.kind)] if entry.kind != "planned" else []),
        ],
    )
    earlier = list(entry.failures)
    status = entry.verdict or entry.status  # a quarantined test keeps its failures on record
    if status == "skipped":
        ET.SubElement(case, "skipped")
    elif is_failing_status(status):
        tag = "error" if entry.outcome == "error" else "failure"
        _attempt(case, tag, entry.message)
        for message in earlier[1 : entry.attempts]:
            _attempt(case, "rerunError" if tag == "error" else "rerunFailure", message)
        for _ in range(max(0, entry.attempts - max(1, len(earlier)))):
            _attempt(case, "rerunError" if tag == "error" else "rerunFailure", None)
    elif status == "flaky":
        failed = max(1, entry.attempts - 1)
        messages = (earlier + [None] * failed)[:failed]
        for message in messages:
            _attempt(case, "flakyFailure", message)


def _counts(suite: ET.Element, cases: Sequence[ET.Element]) -> None:
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
    suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    total = sum(float(c.get("time", "0")) for c in cases)
    suite.set("time", f"{total:.3f}")


def _suite_names(tests: Sequence[TestEntry]) -> dict[tuple[str, str], str]:
    """(shard, lane) -> suite name: the shard's id, with the lane when the shard ran several."""
    lanes: dict[str, dict[str, None]] = {}
    for entry in tests:
        lanes.setdefault(entry.shard, {}).setdefault(entry.lane, None)
    return {
        (shard, lane): shard if len(found) == 1 else f"{shard} / {lane}"
        for shard, found in lanes.items()
        for lane in found
    }


def junit_tree(
    tests: Sequence[TestEntry], lost: Sequence[LostTest] = (), *, name: str = "shard-action"
) -> ET.Element:
    """The merged report as an element tree: one suite per shard and lane instance, in order of
    first appearance, lost tests last."""
    root = ET.Element("testsuites", name=_text(name))
    names = _suite_names(tests)
    suites: dict[tuple[str, str], ET.Element] = {}
    for entry in tests:
        key = (entry.shard, entry.lane)
        suite = suites.get(key)
        if suite is None:
            suite = suites[key] = ET.SubElement(root, "testsuite", name=_text(names[key]))
        _case(suite, entry)
    if lost:
        suite = ET.SubElement(root, "testsuite", name="shard-action: lost tests")
        for item in lost:
            if not is_whole_file(item.test):
                classname, case_name = junit_pair(item.test)
            else:
                classname, case_name = "", item.test
            case = ET.SubElement(
                suite, "testcase", classname=_text(classname), name=_text(case_name)
            )
            _properties(
                case,
                [
                    ("shard-action.id", item.test),
                    ("shard-action.shard", item.shard),
                    ("shard-action.lane", item.lane),
                    ("shard-action.status", "lost"),
                ],
            )
            ET.SubElement(case, "error", type="shard-action.lost", message=_text(item.reason))
    all_cases: list[ET.Element] = []
    for suite in root:
        cases = suite.findall("testcase")
        _counts(suite, cases)
        all_cases.extend(cases)
    _counts(root, all_cases)
    return root


def write_junit(
    path: Path,
    tests: Sequence[TestEntry],
    lost: Sequence[LostTest] = (),
    *,
    name: str = "shard-action",
) -> None:
    root = junit_tree(tests, lost, name=name)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    write_text_atomic(path, '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n")
