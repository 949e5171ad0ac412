"""``shard-action schema``: the JSON schema of the config and of every file we write.

Editors validate ``shard-action.yml`` against it, and other tools can read ``plan.json``,
``report.json`` (the templates' data) or the history without importing our code. The schemas
are generated from the models the program validates with, so they cannot drift from it.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from pydantic import TypeAdapter

from shard_action.core.config import Config
from shard_action.core.fetched import FetchedHistory
from shard_action.core.history import History
from shard_action.core.manifest import ShardManifest
from shard_action.core.matrix import Matrix
from shard_action.core.plan import Plan
from shard_action.core.plugin_files import EVENT, CollectionFile, SelectFile
from shard_action.core.probe import FirstRunFile
from shard_action.core.pull_request import SavedComment
from shard_action.core.quarantine import QuarantineFile
from shard_action.core.report import Report

MODELS: dict[str, tuple[TypeAdapter[Any], str]] = {
    "config": (TypeAdapter(Config), "[tool.shard-action], shard-action.toml or .yml"),
    "plan": (TypeAdapter(Plan), "plan.json: the shards and their slices"),
    "matrix": (TypeAdapter(Matrix), "matrix.json and the `matrix` outputs of `plan`"),
    "select": (TypeAdapter(SelectFile), "select.json: what the pytest plugin keeps"),
    "collection": (TypeAdapter(CollectionFile), "collection.json: what the plugin kept"),
    "event": (EVENT, "one line of events.jsonl, the plugin's test events"),
    "manifest": (TypeAdapter(ShardManifest), "manifest.json: what one shard did"),
    "report": (TypeAdapter(Report), "report.json: the fan-in's result, the templates' data"),
    "history": (TypeAdapter(History), "history.json: timings, flakiness and mode over runs"),
    "fetch-history": (TypeAdapter(FetchedHistory), "fetch-history.json: what was found"),
    "comment": (TypeAdapter(SavedComment), "comment.json: a comment saved for the companion"),
    "quarantine": (TypeAdapter(QuarantineFile), ".shard-action/quarantine.toml (you write it)"),
    "first-run": (TypeAdapter(FirstRunFile), "first-run.json: a first plan's collection, probe"),
}
"""Name -> (the model, which file). Every JSON file shard-action writes has one."""


def schema(name: str) -> dict[str, Any]:
    adapter, what = MODELS[name]
    document = adapter.json_schema(by_alias=True)
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document.setdefault("title", f"shard-action {name}")
    document.setdefault("description", what)
    return document


def render(name: str) -> str:
    return json.dumps(schema(name), indent=2, ensure_ascii=False) + "\n"


def _run(args: argparse.Namespace) -> int:
    print(render(args.model), end="")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listed = "; ".join(f"{name}: {what}" for name, (_, what) in MODELS.items())
    parser = sub.add_parser(
        "schema",
        help="print the JSON schema of the config or of a file shard-action writes",
        description="Print a JSON schema generated from the models the program validates with. "
        + listed,
    )
    parser.add_argument(
        "model",
        nargs="?",
        choices=list(MODELS),
        default="config",
        help="which schema: the config (default) or a file shard-action writes",
    )
    parser.set_defaults(func=_run)
