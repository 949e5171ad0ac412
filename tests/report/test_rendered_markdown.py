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

from shard_action.commands.plan import plan_summary
from shard_action.commands.report import default_templates
from shard_action.core.config import Config
from shard_action.core.markdown import FIGURE_SPACE, fit, md_fenced, plain_header
from shard_action.core.models import TestItem, Timings
from shard_action.core.planner import make_plan
from shard_action.core.render import render_comment, render_summary, template_set
from shard_action.core.report import Report

from .test_report_render import sample_report
from .test_report_words import MESSAGE, _run

COLUMN_PX = 730
TEXT_PX = 8.4  # a character of the 14 px sans-serif text, bold headers included
CODE_PX = 8.0  # a monospace character at 85% of 14 px, with the code span's padding
CELL_PX = 2 * 13 + 1  # padding and border
EMOJI_PX = 20
FIGURE_PX = (7.7, 8.9)
"""A figure space: a digit's width, narrowest in Segoe UI (GitHub on Windows), widest in the
DejaVu Sans Chromium falls back to here. The narrow one decides whether an id can wrap, the wide
one whether the table still fits."""
TEMPLATES = template_set(default_templates())


def _reports() -> dict[str, Report]:
    return {
        "lost": sample_report(),
        "serial": sample_report(lost=False),
        "failing": _run(failed={f"tests/test_a.py::test_{n}": MESSAGE for n in range(3)}),
        "local": _run(b_start=30, per_test=2.0, overhead=0),
    }


def _lanes_plan() -> str:
    """A plan summary of two lanes with hyphenated names, the critical one capped by ``auto``
    (its reason is a long sentence) and every test estimated (the Estimated column)."""
    tests = [
        TestItem(id=f"tests/{lane}/test_{n}.py::test_it", file=f"tests/{lane}/test_{n}.py")
        for lane in ("sqlite", "unit")
        for n in range(6)
    ]
    measured = {t.id: 20.0 for t in tests if "/unit/" in t.id}
    config = Config.model_validate(
        {"shard-overhead": 30.0, "lanes": [
            {"name": "storage-sqlite", "paths": ["tests/sqlite/**"], "mode": "sequential"},
            {"name": "unit-fast-path", "paths": ["tests/unit/**"]},
        ]}
    )  # fmt: skip
    plan = make_plan(config, tests, Timings(durations=measured), mode="parallel", mode_reason="x")
    assert any(lane.capped_by and "shards auto" in lane.capped_by for lane in plan.lanes)
    return plan_summary(plan)[0]


def _documents() -> list[tuple[str, str]]:
    out = [("lanes/plan", _lanes_plan())]
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
    """The unbreakable pieces of a cell: (text, is code). A browser may break after a hyphen
    (``storage-`` / ``sqlite-1``) and at a space, never at a figure space."""
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
        text = html.unescape(content)
        if code:
            text = text.replace("-", "- ")
        for n, word in enumerate(re.split(r"[ \t\n]+", text)):
            if n == 0 and pieces and pieces[-1][1] == code and content[:1] not in " \t\n":
                pieces[-1] = (pieces[-1][0] + word, code)
            else:
                pieces.append((word, code or child.type == "code_inline"))
    return pieces


def _px(piece: str, code: bool, figure: float = FIGURE_PX[1]) -> float:
    figures = piece.count(FIGURE_SPACE)
    emoji = sum(1 for ch in piece if ord(ch) > 0x2000) - figures
    chars = len(piece) - emoji - figures
    return chars * (CODE_PX if code else TEXT_PX) + emoji * EMOJI_PX + figures * figure + 6 * code


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


def _id_columns(text: str, figure: float) -> list[tuple[str, float, list[tuple[str, float]]]]:
    """Per column that holds whole ids (inline code without ``<wbr>``: shard ids, lane names)
    of a table the browser must squeeze (wider than the comment column on one line per cell):
    (header, the column's narrowest width, each id's width unbroken)."""
    found: list[tuple[str, float, list[tuple[str, float]]]] = []
    columns: list[tuple[str, float, list[tuple[str, float]]]] = []
    widest: list[float] = []
    cell = 0
    for token in _parse(text):
        if token.type == "table_open":
            columns, widest = [], []
        elif token.type == "tr_open":
            cell = 0
        elif token.type == "inline" and token.level > 2:
            pieces = _pieces(token)
            narrowest = max((_px(p, c, figure) for p, c in pieces), default=0.0)
            if cell == len(columns):
                columns.append((plain_header(html.unescape(token.content)), 0.0, []))
                widest.append(0.0)
            name, width, ids = columns[cell]
            content = token.content
            if (
                content.startswith("<code>")
                and content.endswith("</code>")
                and "<wbr>" not in content
            ):
                whole = html.unescape(content[6:-7])
                ids = [*ids, (whole, _px(whole, True, figure))]
            columns[cell] = (name, max(width, narrowest), ids)
            one_line = sum(_px(p, c, figure) + (0 if c else TEXT_PX) for p, c in pieces)
            widest[cell] = max(widest[cell], one_line + CELL_PX)
            cell += 1
        elif token.type == "table_close" and sum(widest) > COLUMN_PX:
            found.extend(c for c in columns if c[2])
    return found


@pytest.mark.parametrize(("name", "text"), DOCUMENTS, ids=IDS)
def test_no_shard_id_or_lane_wraps_when_a_table_is_squeezed(name: str, text: str) -> None:
    """A browser squeezes a table wider than the column down towards each column's widest
    unbreakable piece; a shard id breaks at its hyphens (``storage-`` / ``sqlite-1``) unless
    its column is never narrower than the whole id (the header's padding, md_header)."""
    for header, width, ids in _id_columns(text, FIGURE_PX[0]):
        for whole, px in ids:
            assert px <= width, (name, header, whole, px, width)


def test_the_no_wrap_check_sees_a_hyphen() -> None:
    """Without the header's padding, ``storage-sqlite-1`` can break after ``storage-``."""
    table = (
        "| Shard | Why |\n| --- | --- |\n| <code>storage-sqlite-1</code> | " + "why " * 200 + "|\n"
    )
    ((_, width, ids),) = _id_columns(table, FIGURE_PX[0])
    assert ids[0][1] > width


def test_the_plan_summary_keeps_the_long_reason_out_of_the_lanes_table() -> None:
    """The auto count's reason in a Note column made the lanes table so wide that
    ``storage-sqlite`` wrapped: it is a sentence under the table."""
    plan = dict(DOCUMENTS)["lanes/plan"]
    rows = "".join(line for line in plan.splitlines() if line.startswith("|"))
    assert "<code>storage-sqlite</code>" in rows and "shards auto" not in rows
    critical = r"^Critical path: <code>unit-fast-path</code>, 2 shards; limited by shards auto: "
    assert re.search(critical, plan, re.M), plan
