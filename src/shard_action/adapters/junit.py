"""Read JUnit XML from any producer, safely, into :class:`~shard_action.core.results.JUnitReport`.

JUnit XML is not one format but a family: pytest (xunit1 with ``file``/``line``, xunit2 without),
Surefire (``<flakyFailure>``, ``<rerunFailure>``), TestNG, jest, googletest (``status="run"``),
tst (``status="disabled"``), nested ``<testsuite>`` trees with ``<testcase>`` at any depth, root
``<testsuites>`` or ``<testsuite>``. We read the common core and ignore the rest.

Why a SAX-style target on defusedxml's parser, and not junitparser:

* **Hostile XML.** Reports come from pull requests, so they are untrusted. defusedxml's parser
  refuses DOCTYPEs (``forbid_dtd=True``), entity declarations and external references before expat
  acts on them, which stops XXE and billion-laughs. junitparser parses with lxml when lxml is
  installed, and lxml's defaults resolve internal entities, so safety would depend on what else
  happens to be installed.
* **Any depth, document order.** junitparser iterates the direct children of each suite; nested
  suites and a ``<testcase>`` beside child suites need hand-written recursion anyway, and its
  ``time`` getter raises on values such as ``"<<computed>>"`` instead of letting us count them.
* **Size.** A target receives start/end/data events and keeps nothing but the current test case,
  so a 1M-case report never becomes a 1M-element tree (nor 1M wrapper objects).
* **Errors a user can act on.** expat's position (line, column) goes straight into the
  :class:`~shard_action.errors.InputError`.

Times: ``time`` is seconds as a float (``1e-05`` and ``1,234.5`` are accepted). A value that is
missing leaves ``seconds=None``; one that is present but unusable (NaN, infinite, negative, not a
number) also gives ``None`` and is counted in :attr:`ParsedJUnit.invalid_times`. Zero is valid.
Producers that write other units (container-structure-test writes nanoseconds) cannot be told
apart and are read as seconds.

Outcome of a case: a child ``<error>`` wins over ``<failure>``, which wins over ``<skipped>``
(evidence of a failure is never hidden by a skip marker); without such children, a ``status`` or
``result`` attribute that says skipped/disabled/failed/error decides; otherwise the case passed.
``<flakyFailure>``/``<flakyError>`` and ``<rerunFailure>``/``<rerunError>`` are counted, not
treated as the outcome. A case without ``file``/``line`` takes them from its ``<failure>`` or
``<error>`` (some xunit producers put them there), else the enclosing suite's ``file``.
"""

from __future__ import annotations

import gzip
import io
import math
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final, cast
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml.ElementTree import DefusedXMLParser

from shard_action.core.outcomes import Outcome
from shard_action.core.results import CaseResult, JUnitReport
from shard_action.errors import InputError

DEFAULT_MAX_BYTES: Final = 256 * 1024 * 1024
"""Largest report we read (after decompression): bigger files are refused with a message."""

MESSAGE_LIMIT: Final = 1000
"""Characters kept from a failure body when the element has no ``message`` attribute."""

GZIP_MAGIC: Final = b"\x1f\x8b"
_CHUNK: Final = 1 << 16

_FINAL_TAGS: Final = frozenset({"error", "failure", "skipped"})
_PRECEDENCE: Final[tuple[tuple[str, Outcome], ...]] = (
    ("error", "error"),
    ("failure", "failed"),
    ("skipped", "skipped"),
)
_FLAKY_TAGS: Final = frozenset({"flakyFailure", "flakyError"})
_RERUN_TAGS: Final = frozenset({"rerunFailure", "rerunError"})
_SKIP_STATUS: Final = frozenset(
    {"disabled", "notrun", "not_run", "skip", "skipped", "ignored", "pending", "suppressed"}
)
_FAIL_STATUS: Final = frozenset({"fail", "failed", "failure"})
_ERROR_STATUS: Final = frozenset({"error", "errored", "broken"})


@dataclass(frozen=True, slots=True)
class ParsedJUnit:
    """A report plus what the parser had to drop, so callers can say so."""

    report: JUnitReport
    invalid_times: int = 0
    missing_times: int = 0


class ReportTooLarge(InputError):
    """The file (decompressed) is over the size cap."""


class _CappedReader(io.RawIOBase):
    """A binary stream that fails once more than ``limit`` bytes were read.

    Applied after decompression, so a small gzip bomb is caught too.
    """

    def __init__(self, inner: BinaryIO, limit: int, source: str) -> None:
        super().__init__()
        self._inner = inner
        self._left = limit
        self._limit = limit
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        want = min(len(buffer), self._left + 1)
        data = self._inner.read(want)
        if len(data) > self._left:
            raise ReportTooLarge(
                f"file is larger than the {_human(self._limit)} limit "
                "(after decompression); raise the limit or split the report",
                source=self._source,
            )
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)


def _human(size: int) -> str:
    if size >= 1 << 20 and size % (1 << 20) == 0:
        return f"{size >> 20} MiB"
    return f"{size} bytes"


@contextmanager
def open_capped(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[BinaryIO]:
    """Open a report for reading: gzip detected by its magic bytes, size capped, errors named.

    Gzip is recognised by content, not by the ``.gz`` suffix: artifacts get renamed.
    """
    source = str(path)
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=source) from exc
    try:
        magic = raw.read(2)
        raw.seek(0)
        inner: BinaryIO = (
            cast(BinaryIO, gzip.GzipFile(fileobj=raw, mode="rb")) if magic == GZIP_MAGIC else raw
        )
        reader = cast(BinaryIO, io.BufferedReader(_CappedReader(inner, max_bytes, source), _CHUNK))
        try:
            yield reader
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise InputError(f"corrupt gzip data: {exc}", source=source) from exc
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", source=source) from exc
    finally:
        raw.close()


def read_capped(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The whole (decompressed) content of a report, refusing files over ``max_bytes``."""
    with open_capped(path, max_bytes=max_bytes) as stream:
        return stream.read()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if tag.startswith("{") else tag


def parse_time(value: str | None) -> tuple[float | None, bool]:
    """Seconds from a ``time`` attribute, and whether the value was present but unusable."""
    if value is None:
        return None, False
    text = value.strip()
    if not text:
        return None, False
    if "," in text and "." in text:  # "1,234.567": thousands separators (older Surefire)
        text = text.replace(",", "")
    try:
        seconds = float(text)
    except ValueError:
        return None, True
    if math.isnan(seconds) or math.isinf(seconds) or seconds < 0:
        return None, True
    return seconds, False


def _parse_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


class _Collector:
    """Target for the XML parser: turns start/end/data events into :class:`CaseResult` values."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.cases: list[CaseResult] = []
        self.invalid_times = 0
        self.missing_times = 0
        self._depth = 0
        self._suite_files: list[tuple[int, str | None]] = []
        self._case: dict[str, str] | None = None
        self._case_depth = 0
        self._finals: list[tuple[str, dict[str, str], list[str]]] = []
        self._text: list[str] | None = None
        self._text_len = 0
        self._flaky = 0
        self._rerun = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        tag = _local(tag)
        depth = self._depth = self._depth + 1
        if depth == 1 and tag not in ("testsuites", "testsuite"):
            raise InputError(f"not a JUnit report: root element <{tag}>", source=self.source)
        if self._case is not None:
            if depth == self._case_depth + 1:
                if tag in _FINAL_TAGS:
                    parts: list[str] = []
                    self._finals.append((tag, attrib, parts))
                    self._text = parts
                    self._text_len = 0
                elif tag in _FLAKY_TAGS:
                    self._flaky += 1
                elif tag in _RERUN_TAGS:
                    self._rerun += 1
            return
        if tag == "testcase":
            self._case = attrib
            self._case_depth = depth
            self._finals = []
            self._flaky = self._rerun = 0
        elif tag == "testsuite":
            inherited = self._suite_files[-1][1] if self._suite_files else None
            self._suite_files.append((depth, attrib.get("file") or inherited))

    def data(self, text: str) -> None:
        if self._text is not None and self._text_len < MESSAGE_LIMIT:
            self._text.append(text)
            self._text_len += len(text)

    def end(self, tag: str) -> None:
        depth = self._depth
        self._depth -= 1
        if self._case is None:
            if self._suite_files and self._suite_files[-1][0] == depth:
                self._suite_files.pop()
            return
        if depth == self._case_depth + 1:
            self._text = None
        elif depth == self._case_depth:
            self._finish_case(self._case)
            self._case = None

    def _finish_case(self, attrib: dict[str, str]) -> None:
        seconds, invalid = parse_time(attrib.get("time"))
        if invalid:
            self.invalid_times += 1
        elif seconds is None:
            self.missing_times += 1
        outcome, message = self._outcome(attrib)
        file = attrib.get("file")
        line = attrib.get("line")
        if file is None:  # some producers put file/line on <failure> instead
            for _tag, final_attrib, _parts in self._finals:
                if final_attrib.get("file"):
                    file, line = final_attrib["file"], final_attrib.get("line")
                    break
        if file is None and self._suite_files:
            file = self._suite_files[-1][1]
        self.cases.append(
            CaseResult(
                name=attrib.get("name", ""),
                classname=attrib.get("classname") or None,
                file=file or None,
                seconds=seconds,
                outcome=outcome,
                flaky_failures=self._flaky,
                rerun_failures=self._rerun,
                message=message,
                line=_parse_int(line),
            )
        )

    def _outcome(self, attrib: dict[str, str]) -> tuple[Outcome, str | None]:
        for tag, outcome in _PRECEDENCE:
            for final_tag, final_attrib, parts in self._finals:
                if final_tag == tag:
                    message = final_attrib.get("message") or "".join(parts).strip()
                    return outcome, (message[:MESSAGE_LIMIT] if message else None)
        status = {attrib.get("status", "").lower(), attrib.get("result", "").lower()}
        if status & _ERROR_STATUS:
            return "error", None
        if status & _FAIL_STATUS:
            return "failed", None
        if status & _SKIP_STATUS:
            return "skipped", None
        return "passed", None

    def close(self) -> None:
        if self._depth != 0:  # pragma: no cover - expat reports unclosed tags first
            raise InputError("unexpected end of file", source=self.source)


def _position(parser: DefusedXMLParser) -> tuple[int | None, int | None]:
    expat = getattr(parser, "parser", None)
    if expat is None:  # pragma: no cover - the pure-Python parser always has one
        return None, None
    return expat.CurrentLineNumber, expat.CurrentColumnNumber


def parse_junit(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedJUnit:
    """Parse one report (plain or gzip) and say how many times had to be dropped.

    Raises :class:`InputError` naming the file, with line and column for malformed XML.
    """
    source = str(path)
    collector = _Collector(source)
    parser = DefusedXMLParser(
        target=collector, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    empty = True
    try:
        with open_capped(path, max_bytes=max_bytes) as stream:
            while chunk := stream.read(_CHUNK):
                if empty and chunk.strip():
                    empty = False
                parser.feed(chunk)
            if empty:
                raise InputError("empty file: not a JUnit report", source=source)
            parser.close()
    except ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(": line ", 1)[0]
        raise InputError(
            f"malformed XML at column {column}: {reason}", source=source, line=line
        ) from exc
    except (DTDForbidden, EntitiesForbidden) as exc:
        where, _ = _position(parser)
        raise InputError(
            "refusing XML with a DOCTYPE or entity declaration: JUnit reports never need one, "
            f"and they are how XXE and entity-expansion (billion laughs) attacks work ({exc})",
            source=source,
            line=where,
        ) from exc
    except DefusedXmlException as exc:
        where, _ = _position(parser)
        raise InputError(
            f"refusing XML with an external reference (XXE): {exc}", source=source, line=where
        ) from exc
    return ParsedJUnit(
        report=JUnitReport(source=source, cases=tuple(collector.cases)),
        invalid_times=collector.invalid_times,
        missing_times=collector.missing_times,
    )


def read_junit(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> JUnitReport:
    """One report's test cases, in document order. See :func:`parse_junit` for the errors."""
    return parse_junit(path, max_bytes=max_bytes).report
