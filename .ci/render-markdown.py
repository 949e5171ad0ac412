#!/usr/bin/env python3
"""Draw job summaries and PR comments as GitHub would, in Chromium, and measure their tables.

Why a script and not a test: it needs Chromium (Debian ``chromium``); the structure of the
Markdown is tested with markdown-it in tests/report/test_rendered_markdown.py. Usage:

    apt-get install -y chromium
    python3 .ci/render-markdown.py --out /tmp/pages tests/report/data/golden/comment.md
    # with the charts drawn, as GitHub draws them:
    npm install --prefix /tmp/mm mermaid@11
    python3 .ci/render-markdown.py --mermaid /tmp/mm/node_modules/mermaid/dist/mermaid.min.js \
        --out /tmp/pages tests/report/data/golden/summary.md

Each file is parsed as GFM (markdown-it, raw HTML on, as GitHub keeps ``<code>``, ``<wbr>`` and
``<details>``), laid out in a 730 px column with GitHub's table and code styles, and every
``<details>`` is opened; with ``--mermaid``, each ```` ```mermaid ```` block is drawn as on
GitHub. A PNG per file goes to --out, to look at; each table's narrowest width (min-content) is
printed. Exit 1 when a table is wider than the column.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from markdown_it import MarkdownIt

COLUMN = 730
STYLE = """
body { margin: 0; font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial,
  sans-serif; }
#page { width: COLUMNpx; padding: 8px; }
table { border-collapse: collapse; display: block; width: max-content; max-width: 100%;
  overflow: auto; }
td, th { padding: 6px 13px; border: 1px solid #d1d9e0; }
code { font: 85% ui-monospace, SFMono-Regular, Menlo, monospace; padding: .2em .4em;
  background: #eff1f3; border-radius: 6px; white-space: break-spaces; }
pre { background: #f6f8fa; padding: 16px; overflow: auto; }
blockquote { border-left: .25em solid #d1d9e0; margin: 0; padding: 0 1em; color: #59636e; }
""".replace("COLUMN", str(COLUMN))
MEASURE = """
<script>
document.querySelectorAll('details').forEach(d => d.open = true);
const widths = [...document.querySelectorAll('table')].map(t => {
  t.style.width = 'min-content'; t.style.maxWidth = 'none';
  const narrowest = t.scrollWidth;
  t.style.width = ''; t.style.maxWidth = '';
  return narrowest;
});
document.title = 'widths=' + widths.join(',');
</script>
"""


_MERMAID_BLOCK = re.compile(r'<pre><code class="language-mermaid">(.*?)</code></pre>', re.S)


def page(markdown: str, mermaid_js: Path | None = None) -> str:
    body = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    script = ""
    if mermaid_js is not None:
        body = _MERMAID_BLOCK.sub(r"<pre class='mermaid'>\1</pre>", body)
        script = (
            f"<script src='{mermaid_js.resolve().as_uri()}'></script>"
            "<script>mermaid.initialize({startOnLoad: true});</script>"
        )
    return (
        f"<html><head><style>{STYLE}</style></head><body><div id='page'>{body}</div>"
        f"{script}{MEASURE}</body></html>"
    )


def chromium(*args: str) -> str:
    done = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
         "--virtual-time-budget=5000", *args],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNGs")
    parser.add_argument("--mermaid", type=Path, help="mermaid.min.js: draw the charts too")
    parser.add_argument("markdown", nargs="+", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for md in args.markdown:
            file = Path(tmp) / f"{md.stem}.html"
            file.write_text(page(md.read_text(encoding="utf-8"), args.mermaid), encoding="utf-8")
            dom = chromium("--dump-dom", file.as_uri())
            found = re.search(r"<title>widths=([\d,]*)</title>", dom)
            widths = [int(w) for w in found.group(1).split(",") if w] if found else []
            png = args.out / f"{md.stem}.png"
            chromium(f"--screenshot={png}", f"--window-size={COLUMN + 40},4000", file.as_uri())
            wide = [w for w in widths if w > COLUMN]
            print(f"{md}: tables {widths} px; {'too wide: ' + str(wide) if wide else 'ok'}")
            failures += bool(wide)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
