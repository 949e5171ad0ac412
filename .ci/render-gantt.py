#!/usr/bin/env python3
"""Render the Mermaid Gantt charts of Markdown files in a real browser and check their axis.

Why a script and not a test: it needs Chromium (Debian ``chromium``) and npm's ``mermaid``, which
a fresh CI machine does not have; the Mermaid source itself is tested in
tests/report/test_report_gantt.py. Usage:

    npm install --prefix /tmp/mm mermaid@11 && apt-get install -y chromium
    python3 .ci/render-gantt.py --mermaid /tmp/mm/node_modules/mermaid/dist/mermaid.min.js \\
        --out /tmp/charts tests/report/data/golden/summary.md

Each chart is drawn with the viewer's clock in UTC, UTC+5:30 and UTC-3:30 (Mermaid formats the
axis in local time); the tick labels must be the same in every zone and never repeat. A PNG per
chart and zone goes to --out, to look at. Exit 1 on a failed check.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ZONES = ("UTC", "Asia/Kolkata", "America/St_Johns")
_BLOCK = re.compile(r"```mermaid\n(.*?)```", re.DOTALL)
_TICK = re.compile(r'<g class="tick"[^>]*>.*?<text[^>]*>([^<]*)</text>', re.DOTALL)


def page(source: str, mermaid_js: Path) -> str:
    return (
        "<html><body style='width:760px'>"
        f"<pre class='mermaid'>{html.escape(source)}</pre>"
        f"<script src='{mermaid_js.as_uri()}'></script>"
        "<script>mermaid.initialize({startOnLoad: true});</script></body></html>"
    )


def chromium(zone: str, *args: str) -> str:
    env = {**os.environ, "TZ": zone}
    done = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
         "--virtual-time-budget=5000", "--window-size=800,600", *args],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mermaid", type=Path, required=True, help="mermaid.min.js")
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNGs")
    parser.add_argument("markdown", nargs="+", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for md in args.markdown:
            for n, source in enumerate(_BLOCK.findall(md.read_text(encoding="utf-8"))):
                if not source.startswith("gantt"):
                    continue
                file = Path(tmp) / f"{md.stem}-{n}.html"
                file.write_text(page(source, args.mermaid.resolve()), encoding="utf-8")
                seen: dict[str, list[str]] = {}
                for zone in ZONES:
                    dom = chromium(zone, "--dump-dom", file.as_uri())
                    seen[zone] = [html.unescape(t) for t in _TICK.findall(dom)]
                    png = args.out / f"{md.stem}-{n}-{zone.replace('/', '-')}.png"
                    chromium(zone, f"--screenshot={png}", file.as_uri())
                ticks = seen[ZONES[0]]
                problems = []
                if len(ticks) < 2:
                    problems.append("fewer than two ticks")
                if len(set(ticks)) != len(ticks):
                    problems.append("repeated ticks")
                problems += [f"{z} reads {t}" for z, t in seen.items() if t != ticks]
                print(f"{md}#{n}: ticks {ticks}: {'; '.join(problems) or 'ok'}")
                failures += bool(problems)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
