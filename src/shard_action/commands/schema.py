"""``shard-action schema``: the JSON schema of the config and of every file we write.

Editors validate ``shard-action.yml`` against it, and other tools can read ``plan.json`` or the
history without importing our code. The schemas are generated from the pydantic models, so they
cannot drift from what the program accepts.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from pydantic import BaseModel

from shard_action.core.config import Config
from shard_action.core.history import History
from shard_action.core.manifest import ShardManifest
from shard_action.core.plan import Plan
from shard_action.core.quarantine import QuarantineFile
from shard_action.core.report import Report

MODELS: dict[str, type[BaseModel]] = {
    "config": Config,
    "plan": Plan,
    "history": History,
    "manifest": ShardManifest,
    "report": Report,
    "quarantine": QuarantineFile,
}


def schema(name: str) -> dict[str, Any]:
    model = MODELS[name]
    document = model.model_json_schema(by_alias=True)
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document.setdefault("title", f"shard-action {name}")
    return document


def render(name: str) -> str:
    return json.dumps(schema(name), indent=2, ensure_ascii=False) + "\n"


def _run(args: argparse.Namespace) -> int:
    print(render(args.model), end="")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "schema",
        help="print the JSON schema of the config (or of plan.json, the history, a manifest, "
        "report.json, the quarantine file)",
        description="Print a JSON schema generated from the models the program validates with.",
    )
    parser.add_argument(
        "model",
        nargs="?",
        choices=sorted(MODELS),
        default="config",
        help="which schema: the config (default) or a file shard-action writes",
    )
    parser.set_defaults(func=_run)
