"""The job summary on a terminal: test-id tables become lists, Mermaid becomes a pointer."""

from __future__ import annotations

from shard_action.core.render import for_terminal

SUMMARY = """## title

| Tests | Passed |
| ---: | ---: |
| 3 | 2 |

| Test | Lane | Shard | Message |
| --- | --- | --- | --- |
| <code>t.py&#58;&#58;test&#124;x</code> | <code>default</code> | <code>d-1</code> | a \\| b |
| <code>t.py&#58;&#58;test_y</code> | <code>default</code> | <code>d-2</code> | \u2013 |

```mermaid
gantt
    title Shards
```

after
"""


def test_test_tables_become_lists_and_the_chart_a_note() -> None:
    text = for_terminal(SUMMARY, chart_note="*chart: summary.md*")
    assert text.split("\n") == [
        "## title",
        "",
        "| Tests | Passed |",
        "| ---: | ---: |",
        "| 3 | 2 |",
        "",
        "- <code>t.py&#58;&#58;test&#124;x</code> — Lane: <code>default</code> · "
        "Shard: <code>d-1</code> · Message: a \\| b",
        "- <code>t.py&#58;&#58;test_y</code> — Lane: <code>default</code> · "
        "Shard: <code>d-2</code>",
        "",
        "*chart: summary.md*",
        "",
        "after",
        "",
    ]
