"""Test ids: their file, the JUnit (classname, name) pytest writes for them, their paths, labels.

An id is a pytest node id (``file::Class::name[params]``) or a whole file (no ``::``); the file
part of an id is ``/``-separated and relative to the project root. Which id a JUnit case stands
for is :mod:`shard_action.core.resolver`'s question. Standard library only (the plugins import it).
"""

from __future__ import annotations

import re
from typing import Final

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
