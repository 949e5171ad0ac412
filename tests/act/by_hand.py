"""Run the act scenarios by hand and keep everything they leave, to read or to time.

    .venv/bin/python -m tests.act.by_hand                    # every step of the story
    .venv/bin/python -m tests.act.by_hand pull_request       # a step (and the steps before it)
    .venv/bin/python -m tests.act.by_hand --keep /tmp/act-by-hand first_push

It prints each run's wall time and where its log is. The folder (``--keep``, else a new temporary
one, not removed) holds the user's repositories (``shop/``, ``shop-js/``), act's JSON logs and the
event payload of every run (``logs/<label>.log.jsonl``, ``logs/<label>.event.json``) and the
fake GitHub's state at the end (``state.json``: runs, artifacts, comments). See docs/act.md.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from tests.act.story import shop_story
from tests.act.world import Run, World, build_toolkit
from tests.fakegithub import FakeGitHub

STEPS = [
    "first_push",
    "flaky_push",
    "pull_request",
    "pull_request_again",
    "fork_pull_request",
    "companion",
    "serial_by_hand",
    "broken_install",
    "tiers_pull_request",
    "tiers_core_by_hand",
    "jest_push",
]


def _line(label: str, run: Run) -> str:
    jobs = ", ".join(f"{j.name.split('/', 1)[-1]} {j.result}" for j in run.jobs)
    return f"{label:<14} {run.seconds:6.1f} s  exit {run.exit_code}  {jobs}\n{'':<16}{run.log_file}"


def _state(worlds: list[World]) -> dict[str, object]:
    return {
        w.repo.full_name: {
            "runs": [
                {"id": r.id, "event": r.event, "branch": r.head_branch, "conclusion": r.conclusion}
                for r in w.repo.runs.values()
            ],
            "artifacts": [
                {"id": a.id, "run": a.run_id, "name": a.name, "bytes": a.size_in_bytes}
                for a in w.repo.artifacts.values()
            ],
            "comments": [
                {"id": c.id, "on": c.issue_number, "body": c.body} for c in w.repo.comments.values()
            ],
        }
        for w in worlds
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.act.by_hand", description=__doc__)
    parser.add_argument("steps", nargs="*", choices=STEPS, help="what to run (default: everything)")
    parser.add_argument("--keep", type=Path, help="folder for everything the runs leave")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="act-by-hand-"))
    work.mkdir(parents=True, exist_ok=True)
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    wanted = args.steps or STEPS
    started = time.monotonic()
    toolkit = build_toolkit(work / "toolkit")
    print(f"toolkit (actions, shard-action, wheelhouse): {time.monotonic() - started:.1f} s")
    with FakeGitHub() as fake:
        story = shop_story(toolkit, fake, logs, work)
        for step in wanted:
            seen = set(story.done)
            getattr(story, step)()
            for label, run in story.done.items():
                if label not in seen:
                    print(_line(label, run))
        (work / "state.json").write_text(json.dumps(_state(story.worlds), indent=2), "utf-8")
    print(f"total {time.monotonic() - started:.1f} s; everything is in {work}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
