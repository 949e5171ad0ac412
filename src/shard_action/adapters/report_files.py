"""The report's output folder, and its templates: ours (packaged) and the user's replacements.

A user's template that cannot be read or rendered is a problem in the report, and ours is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from shard_action.adapters.files import write_text_atomic
from shard_action.adapters.history_file import write_history
from shard_action.adapters.junit_write import write_junit
from shard_action.core.render import (
    TEMPLATE_NAMES,
    Rendered,
    TemplateProblem,
    render_comment,
    render_summary,
    template_set,
)
from shard_action.core.report import Fanin, Problem, Report


def default_templates() -> dict[str, str]:
    folder = resources.files("shard_action") / "templates"
    return {name: (folder / name).read_text(encoding="utf-8") for name in TEMPLATE_NAMES}


def user_templates(folder: Path | None) -> tuple[dict[str, str], list[Problem]]:
    """The user's replacements (``summary.md.j2``, ``comment.md.j2``) found in ``folder``."""
    if folder is None:
        return {}, []
    if not folder.is_dir():
        return {}, [
            Problem(kind="template", source=str(folder), message="not a folder; defaults used")
        ]
    found: dict[str, str] = {}
    problems: list[Problem] = []
    for name in TEMPLATE_NAMES:
        path = folder / name
        if not path.is_file():
            continue
        try:
            found[name] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(
                Problem(
                    kind="template", source=str(path), message=f"cannot read ({exc}); default used"
                )
            )
    if not found and not problems:
        problems.append(
            Problem(
                kind="template",
                source=str(folder),
                message=f"holds neither {' nor '.join(TEMPLATE_NAMES)}; defaults used",
            )
        )
    return found, problems


def render_both(
    report: Report,
    overrides: Mapping[str, str],
    folder: Path | None,
    summary_url: str | None,
) -> tuple[Report, Rendered, Rendered]:
    """Render with the user's templates, falling back to ours for one that fails; the report
    returned names each template that failed (rendered after the failure, so it says so)."""
    defaults = default_templates()
    results: list[Rendered] = []
    for name, render in (
        ("summary.md.j2", render_summary),
        ("comment.md.j2", render_comment),
    ):
        if name in overrides:
            try:
                results.append(
                    render(template_set(defaults, overrides), report, summary_url=summary_url)
                )
                continue
            except TemplateProblem as exc:
                source = str(folder / name) if folder is not None else name
                problem = Problem(kind="template", source=source, message=f"{exc}; default used")
                report = report.model_copy(update={"problems": [*report.problems, problem]})
        results.append(render(template_set(defaults), report, summary_url=summary_url))
    return report, results[0], results[1]


def write_files(
    out: Path, fanin: Fanin, overrides: Mapping[str, str], templates: Path | None, url: str | None
) -> tuple[Report, str, str]:
    """Every file of ``--out``; the report returned names templates that failed to render."""
    write_junit(out / "junit.xml", fanin.tests, fanin.report.lost)
    report, summary, comment = render_both(fanin.report, overrides, templates, url)
    write_text_atomic(out / "summary.md", summary.text)
    write_text_atomic(out / "comment.md", comment.text)
    history_file = out / "history.json"
    if fanin.history is not None:
        write_history(history_file, fanin.history)
    else:
        history_file.unlink(missing_ok=True)
    write_text_atomic(out / "report.json", report.model_dump_json(indent=1) + "\n")
    return report, summary.text, comment.text
