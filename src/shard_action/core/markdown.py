"""GitHub Markdown written one way for every document: escaped text, inline code, first lines,
and text fitted to a size limit.

The job summary, the PR comment and the plan summary all go through these (numbers and words go
through :mod:`shard_action.core.units`), so a test id is escaped the same everywhere and a
document cut to GitHub's limit always closes its blocks and says where the rest is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Final

from markupsafe import Markup

ELLIPSIS: Final = "\u2026"

_MD_SPECIAL: Final = re.compile(r"([\\`*_\[\]{}()#|~!$])")
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CODE_ENTITIES: Final = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "|": "&#124;",
    "`": "&#96;",
    "*": "&#42;",
    "_": "&#95;",
    "\\": "&#92;",
    "[": "&#91;",
    "]": "&#93;",
    "~": "&#126;",
    "$": "&#36;",
    ":": "&#58;",
    "@": "&#64;",
    "#": "&#35;",
}
_BREAK_AFTER: Final = re.compile(r"(/|&#58;&#58;|&#91;)")
"""Where a long id may wrap in a browser (``<wbr>``): after a ``/``, a ``::`` and a ``[``."""


def _visible_controls(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the last one ``…`` when anything was cut."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + ELLIPSIS


def first_line(value: object, limit: int = 120) -> str:
    """The first non-blank line of a message, shortened; ``…`` also when more lines follow."""
    text = "" if value is None else str(value)
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    kept = [line for line in lines if line]
    if not kept:
        return ""
    head = kept[0]
    if len(kept) > 1 and len(head) < limit:
        return head + " " + ELLIPSIS
    return shorten(head, limit)


def md_escape(value: object) -> Markup:
    """Any value as inline Markdown text: one line, no markup, no HTML, no mentions.

    A test id can hold ``|`` (ends a cell), backticks, ``*``/``_``, ``<script>``, newlines (end
    a row) or ``@someone`` (a mention that notifies a stranger): all are made inert.
    """
    if isinstance(value, Markup):
        return value
    text = "" if value is None else str(value)
    text = _visible_controls(text.replace("\r\n", "\n")).replace("\n", " ").replace("\r", " ")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = text.replace("@", "@\u200b")
    return Markup(text)


def md_code(value: object, limit: int | None = None) -> Markup:
    """A value (a test id) as inline code that no character can break out of, in any context.

    Every character Markdown or HTML could act on is an entity, so it reads the same in a table
    cell, a list and a paragraph (a backtick span cannot hold ``|`` in a table). A browser may
    wrap it after ``/``, ``::`` and ``[`` (``<wbr>``, which GitHub keeps): a long id makes its
    cell taller rather than the table wider than the comment column.
    """
    text = "" if value is None else str(value)
    if limit is not None:
        text = shorten(text, limit)
    text = _visible_controls(text.replace("\r\n", "\n")).replace("\n", "\u21b5").replace("\r", "")
    encoded = "".join(_CODE_ENTITIES.get(ch, ch) for ch in text)
    breakable = _BREAK_AFTER.sub(r"\1<wbr>", encoded)
    return Markup(f"<code>{breakable}</code>")


FIGURE_SPACE: Final = "\u2007"
"""A space as wide as a digit that no browser breaks at (Unicode class GL, glue)."""
_CODE_PX: Final = 8.0
_CODE_PADDING_PX: Final = 6.0
_HEADER_PX: Final = 8.4
_FIGURE_PX: Final = 7.7
"""Pixels at GitHub's 14 px: a code character at 85% and the code span's padding, a bold header
character, and a figure space where it is narrowest (Segoe UI's digits)."""


def md_header(name: object, values: Iterable[object]) -> Markup:
    """A table header as wide as the longest of ``values`` as inline code, so no id in its
    column wraps (``storage-sqlite-1`` at its hyphens) when a wide cell elsewhere (a message)
    makes the browser squeeze the table into the comment column.

    A browser shrinks a column down to its widest unbreakable piece, and a word of the header
    followed by figure spaces (a digit's width, never narrower than a code character at 85%) is
    one: a one-word name gets half the padding on each side (it stays centred), a longer one
    all of it after its last word. The padding sits inside ``<span>`` (which GitHub keeps), as
    a table cell's outer spaces are trimmed. :func:`plain_header` undoes it.
    """
    text = "" if name is None else str(name)
    widest = max((len(str(v)) for v in values if v is not None), default=0)
    words = text.split(" ")
    short = widest * _CODE_PX + _CODE_PADDING_PX - len(words[-1]) * _HEADER_PX
    pad = math.ceil(short / _FIGURE_PX)
    if pad <= 0:
        return md_escape(text)
    left = pad // 2 if len(words) == 1 else 0
    before = f"<span>{FIGURE_SPACE * left}</span>" if left else ""
    return Markup(f"{before}{md_escape(text)}<span>{FIGURE_SPACE * (pad - left)}</span>")


def plain_header(cell: str) -> str:
    """A header cell of :func:`md_header` as its name again (for a terminal's table)."""
    return re.sub(r"</?span>", "", cell).replace(FIGURE_SPACE, "").strip()


def md_fenced(value: object, language: str = "", limit: int | None = None) -> Markup:
    """A value (a failure message) as a fenced code block that no line of it can close: the
    fence is longer than any run of backticks inside (CommonMark closes a fence only with one at
    least as long); shortened to ``limit`` characters (``…`` at the end when cut)."""
    text = _visible_controls(("" if value is None else str(value)).replace("\r\n", "\n"))
    if limit is not None:
        text = shorten(text, limit)
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return Markup(f"{fence}{language}\n{text.rstrip(chr(10))}\n{fence}")


_BLANK_RUNS: Final = re.compile(r"\n[ \t]*(?:\n[ \t]*)+\n")


def tidy(text: str) -> str:
    """At most one blank line in a row, none at the start, one newline at the end.

    Templates are easier to read with generous whitespace around ``{% if %}`` blocks; the
    rendered Markdown should not carry it.
    """
    return _BLANK_RUNS.sub("\n\n", text).strip("\n") + "\n"


_FENCE_LINE: Final = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def _open_fence(text: str) -> str | None:
    """The fence of the code block ``text`` ends inside, or None.

    CommonMark closes a block only with the same character, at least as many times, and nothing
    else on the line: :func:`md_fenced` uses four or more backticks when a message holds three,
    so a line of three backticks inside it does not close it.
    """
    opened: str | None = None
    for line in text.splitlines():
        found = _FENCE_LINE.match(line)
        if found is None:
            continue
        fence, rest = found.groups()
        if opened is None:
            if not (fence[0] == "`" and "`" in rest):  # a backtick fence's info has none
                opened = fence
        elif fence[0] == opened[0] and len(fence) >= len(opened) and not rest.strip():
            opened = None
    return opened


def _close_open_blocks(text: str) -> str:
    fence = _open_fence(text)
    if fence is not None:
        text += "\n" + fence
    opened = text.count("<details")
    closed = text.count("</details>")
    text += "\n</details>" * max(0, opened - closed)
    return text


def fit(text: str, budget: int, pointer: str, measure: Callable[[str], int] = len) -> str:
    """``text`` cut at a line end so that it and ``pointer`` fit ``budget`` (as ``measure``d).

    Open fences and ``<details>`` are closed so the rest of the page renders; when not even
    ``pointer`` fits, the answer is empty (nothing is better than a cut note).
    """
    if measure(text) <= budget:
        return text
    if measure(pointer) > budget:
        return ""
    room = budget - measure(pointer) - 32
    kept: list[str] = []
    used = 0
    for line in text.splitlines(keepends=True):
        size = measure(line)
        if used + size > room:
            break
        kept.append(line)
        used += size
    result = _close_open_blocks("".join(kept).rstrip("\n")) + "\n\n" + pointer
    while measure(result) > budget and kept:  # closing tags took the slack; drop more lines
        kept.pop()
        result = _close_open_blocks("".join(kept).rstrip("\n")) + "\n\n" + pointer
    return result if measure(result) <= budget else pointer
