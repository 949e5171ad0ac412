"""The summary and the comment parsed back as GitHub Markdown (markdown-it, GFM tables, raw
HTML on): every table row has its header's cells, every ``<details>`` and fence closes, no line
could be read as a workflow command, and no table is wider than GitHub's comment column.

The width is the table's narrowest layout: per column, the longest piece no browser can break
(a word, or an id between ``<wbr>`` points), at GitHub's 14 px font (code at 85%, monospace)
with its 13 px cell padding; calibrated to within 25 px of what ``.ci/render-markdown.py``
measures in Chromium on the golden files.
"""

from __future__ import annotations

import html
import re

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from shard_action.commands.report import default_templates
from shard_action.core.markdown import fit, md_fenced
from shard_action.core.render import render_comment, render_summary, template_set
from shard_action.core.report import Report

from .test_report_render import sample_report
from .test_report_words import MESSAGE, _run

COLUMN_PX = 730
TEXT_PX = 8.4  # a character of the 14 px sans-serif text, bold headers included
CODE_PX = 8.0  # a monospace character at 85% of 14 px, with the code span's padding
CELL_PX = 2 * 13 + 1  # padding and border
EMOJI_PX = 20
TEMPLATES = template_set(default_templates())


def _reports() -> dict[str, Report]:
    return {
        "lost": sample_report(),
        "serial": sample_report(lost=False),
        "failing": _run(failed={f"tests/test_a.py::test_{n}": MESSAGE for n in range(3)}),
        "local": _run(b_start=30, per_test=2.0, overhead=0),
    }


def _documents() -> list[tuple[str, str]]:
    out = []
    for name, report in _reports().items():
        out.append((f"{name}/summary", render_summary(TEMPLATES, report).text))
        out.append((f"{name}/comment", render_comment(TEMPLATES, report).text))
    return out


DOCUMENTS = _documents()
IDS = [name for name, _ in DOCUMENTS]


def _parse(text: str) -> list[Token]:
    return MarkdownIt("commonmark", {"html": True}).enable("table").parse(text)


def _cells(line: str) -> int:
    """Cells of a table row as GFM splits them: ``\\|`` is not a separator."""
    inner = line.strip().removeprefix("|").removesuffix("|")
    return len(re.split(r"(?<!\\)\|", re.sub(r"\\\\", "", inner)))


@pytest.mark.parametrize(("name", "text"), DOCUMENTS, ids=IDS)
def test_every_table_row_has_the_header_cells(name: str, text: str) -> None:
    lines = text.splitlines()
    tables = [t for t in _parse(text) if t.type == "table_open"]
    assert tables, name
    for table in tables:
        assert table.map is not None
        start, end = table.map
        widths = {_cells(line) for line in lines[start:end]}
        assert len(widths) == 1, (name, lines[start:end])
    # a line that looks like a row outside any table is a table the parser did not see
    covered = {n for t in tables if t.map for n in range(*t.map)}
    fences = {n for t in _parse(text) if t.type == "fence" and t.map for n in range(*t.map)}
    strays = [
        line
        for n, line in enumerate(lines)
        if line.startswith("| ") and n not in covered and n not in fences
    ]
    assert not strays, (name, strays)


@pytest.mark.parametrize(("name", "text"), DOCUMENTS, ids=IDS)
def test_details_and_fences_close(name: str, text: str) -> None:
    depth = 0
    for tag in re.findall(r"</?details", text):
        depth += 1 if tag == "<details" else -1
        assert depth >= 0, name
    assert depth == 0, name
    lines = text.splitlines()
    for token in _parse(text):
        if token.type == "fence":
            assert token.map is not None
            closing = lines[token.map[1] - 1].strip()
            assert closing and set(closing) == {token.markup[0]}, (name, token.map)
            assert len(closing) >= len(token.markup)


@pytest.mark.parametrize(("name", "text"), DOCUMENTS, ids=IDS)
def test_no_line_reads_as_a_workflow_command(name: str, text: str) -> None:
    assert not [line for line in text.splitlines() if line.lstrip().startswith("::")], name


def _pieces(token: Token) -> list[tuple[str, bool]]:
    """The unbreakable pieces of a cell: (text, is code)."""
    pieces: list[tuple[str, bool]] = []
    code = False
    for child in token.children or []:
        if child.type == "html_inline":
            if child.content.startswith("<code"):
                code = True
            elif child.content.startswith("</code"):
                code = False
            elif child.content.startswith("<wbr"):
                pieces.append(("", code))
            continue
        content = child.content if child.type in ("text", "code_inline") else ""
        for n, word in enumerate(re.split(r"\s+", html.unescape(content))):
            if n == 0 and pieces and pieces[-1][1] == code and content[:1].strip():
                pieces[-1] = (pieces[-1][0] + word, code)
            else:
                pieces.append((word, code or child.type == "code_inline"))
    return pieces


def _px(piece: str, code: bool) -> float:
    emoji = sum(1 for ch in piece if ord(ch) > 0x2000)
    return (len(piece) - emoji) * (CODE_PX if code else TEXT_PX) + emoji * EMOJI_PX + 6 * code


def table_widths(text: str) -> list[float]:
    """Each table's narrowest width in pixels."""
    widths: list[float] = []
    columns: list[float] = []
    cell = 0
    for token in _parse(text):
        if token.type == "table_open":
            columns = []
        elif token.type == "tr_open":
            cell = 0
        elif token.type == "inline" and columns is not None and token.level > 2:
            narrowest = max((_px(p, c) for p, c in _pieces(token)), default=0.0)
            if cell == len(columns):
                columns.append(0.0)
            columns[cell] = max(columns[cell], narrowest + CELL_PX)
            cell += 1
        elif token.type == "table_close":
            widths.append(sum(columns))
    return widths


@pytest.mark.parametrize(("name", "text"), DOCUMENTS, ids=IDS)
def test_tables_fit_the_comment_column(name: str, text: str) -> None:
    widths = table_widths(text)
    assert widths and max(widths) <= COLUMN_PX, (name, widths)


def test_the_width_estimate_catches_an_unbreakable_id() -> None:
    long_id = "tests/" + "x" * 120 + ".py::test_one"
    table = f"| Test | Result |\n| --- | --- |\n| <code>{long_id}</code> | broken |\n"
    assert table_widths(table)[0] > COLUMN_PX
    breakable = long_id.replace("/", "/<wbr>")
    assert table_widths(table.replace(long_id, breakable))[0] > COLUMN_PX  # 120 x still one piece
    short = "| Test | Result |\n| --- | --- |\n| <code>tests/<wbr>test_a.py</code> | broken |\n"
    assert table_widths(short)[0] < 300


def test_a_cut_inside_a_long_fence_closes_it_with_its_own_fence() -> None:
    """A message holding ``` is fenced with ````: closing it with ``` left the pointer (and
    the rest of the page) inside the code block."""
    message = "assert a == b\n```\nnot the end\n" + "\n".join(f"line {n}" for n in range(400))
    text = "## Title\n\n" + md_fenced(message, "text") + "\n\nafter\n"
    pointer = "> **Truncated**: the rest is elsewhere.\n"
    cut = fit(text, 1500, pointer)
    assert len(cut) <= 1500 and cut.endswith(pointer)
    tokens = _parse(cut)
    fences = [t for t in tokens if t.type == "fence"]
    assert len(fences) == 1 and "Truncated" not in fences[0].content
    assert "line 5" in fences[0].content and "not the end" in fences[0].content
    assert any(t.type == "blockquote_open" for t in tokens)  # the pointer is Markdown again
