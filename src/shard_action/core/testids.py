"""Test ids and how JUnit reports name them: the one place for that mapping.

An id is a pytest node id (``file::Class::name[params]``) or a whole file (no ``::``). A JUnit
case names a test by ``classname`` + ``name`` (+ ``file`` in some dialects); :class:`CaseIndex`
finds the planned id a case stands for, or ``None``: a case never matches a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # the pytest plugins import this module: standard library only at run time
    from shard_action.core.results import CaseResult

SEPARATOR: Final = "::"

_ILLEGAL_XML: Final = re.compile(
    "[^\u0009\u000a\u000d\u0020-\u007e\u0080-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def file_of(test_id: str) -> str:
    """The file part of an id; splitting on the *first* ``::`` keeps ``::`` inside parameters."""
    return test_id.split(SEPARATOR, 1)[0]


def is_whole_file(test_id: str) -> bool:
    """File-granularity ids are paths; pytest node ids always contain ``::``."""
    return SEPARATOR not in test_id


def slashes(path: str) -> str:
    """A path as any OS writes it, ``/``-separated (Windows runners write ``\\``)."""
    return path.replace("\\", "/")


def normalise_path(path: str, root: str | None = None) -> str:
    """A report's path as an id's file: ``/``-separated, relative to ``root``, no ``./``."""
    path = slashes(path)
    if root:
        prefix = slashes(root).rstrip("/") + "/"
        if path.startswith(prefix):
            path = path[len(prefix) :]
    while path.startswith("./"):
        path = path[2:]
    return path


def xml_escape(text: str) -> str:
    """pytest's ``bin_xml_escape``: characters XML cannot hold become ``#xNN``."""
    if (text.isascii() and text.isprintable()) or _ILLEGAL_XML.search(text) is None:
        return text

    def repl(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"#x{code:02X}" if code <= 0xFF else f"#x{code:04X}"

    return _ILLEGAL_XML.sub(repl, text)


def label(test: str, lane: str, fanned_out: bool) -> str:
    """A test as a person reads it: with its lane when the id alone does not say which one.

    ``fanned_out``: the id is planned in more than one lane instance
    (``completeness.fanned_out``), so the same id ran once per backend. The history keeps
    this text in its flaky lists: changing it changes stored documents.
    """
    return f"{test} (lane {lane})" if fanned_out else test


def module_name(path: str) -> str:
    """A test file as pytest writes it in a classname: ``a/b/test_x.py`` -> ``a.b.test_x``."""
    dotted = path.replace("/", ".")
    return dotted[:-3] if dotted.endswith(".py") else dotted


def junit_pair(node_id: str) -> tuple[str, str]:
    """The (classname, name) pytest writes for a node id (``mangle_test_address``, pytest 9).

    The file becomes a dotted module, classes follow it; the name keeps its parameters whole,
    so a ``::`` or ``.`` inside ``[...]`` stays in the name.
    """
    path, _, tail = node_id.partition(SEPARATOR)
    head, bracket, params = tail.partition("[")
    names = head.split(SEPARATOR)
    name = names[-1] + bracket + params
    return ".".join([module_name(path), *names[:-1]]), xml_escape(name)


@dataclass
class CaseIndex:
    """Test ids, looked up the way a JUnit report names them.

    Node ids are found by pytest's own naming run forward (:func:`junit_pair`), settled by
    ``file`` when two ids give the same pair. Whole-file ids (file granularity, or runners that
    are not pytest) are found by the case's ``file`` (relative to ``workdir``, or the one known
    file it ends with), else by the dotted module that starts its classname (pytest's xunit2,
    which writes no ``file``). A ``name`` equal to an id (runners that write ids) is taken as is.
    """

    ids: Sequence[str]
    workdir: str | None = None
    _pairs: dict[tuple[str, str], list[str]] = field(init=False, default_factory=dict)
    _files: dict[str, str] = field(init=False, default_factory=dict)
    _modules: dict[str, str] = field(init=False, default_factory=dict)
    _known: frozenset[str] = field(init=False, default=frozenset())

    def __post_init__(self) -> None:
        self._known = frozenset(self.ids)
        for test_id in self.ids:
            if SEPARATOR in test_id:
                found = self._pairs.setdefault(junit_pair(test_id), [])
                if test_id not in found:
                    found.append(test_id)
            else:
                path = normalise_path(test_id)
                self._files.setdefault(path, test_id)
                self._modules.setdefault(module_name(path), test_id)

    def lookup(self, case: CaseResult) -> str | None:
        if case.name in self._known:
            return case.name
        file = normalise_path(case.file, self.workdir) if case.file else None
        if case.classname:
            found = self._pairs.get((case.classname, case.name))
            if found:
                if len(found) == 1:
                    return found[0]
                if file is not None:
                    settled = [t for t in found if file_of(t) == file]
                    if len(settled) == 1:
                        return settled[0]
                return None
        if file is not None:
            whole = self._files.get(file) or self._by_suffix(file)
            if whole is not None:
                return whole
        if case.classname:
            parts = case.classname.split(".")
            for end in range(len(parts), 0, -1):
                found_file = self._modules.get(".".join(parts[:end]))
                if found_file is not None:
                    return found_file
        return None

    def _by_suffix(self, path: str) -> str | None:
        """An absolute path from another checkout of the same tree: the known file it ends with."""
        if not path.startswith("/"):
            return None
        parts = path.split("/")
        for start in range(1, len(parts)):  # longest suffix first: the most specific file
            found = self._files.get("/".join(parts[start:]))
            if found is not None:
                return found
        return None

    def matched(self, cases: Iterable[CaseResult]) -> dict[str, list[CaseResult]]:
        """The cases of each id that at least one case names, in document order."""
        found: dict[str, list[CaseResult]] = {}
        for case in cases:
            test_id = self.lookup(case)
            if test_id is not None:
                found.setdefault(test_id, []).append(case)
        return found
