"""``shard-action schema`` covers every document shard-action writes, each with its kind."""

from __future__ import annotations

import json

import pytest

from shard_action.cli import main
from shard_action.commands.schema import MODELS, schema
from shard_action.core.documents import Document


def _documents(base: type[Document] = Document) -> set[type[Document]]:
    found: set[type[Document]] = set()
    for sub in base.__subclasses__():
        found |= {sub, *_documents(sub)}
    return found


def test_every_document_model_has_a_schema() -> None:
    import shard_action.commands.comment  # noqa: F401, PLC0415 - defines one

    listed = {adapter._type for adapter, _ in MODELS.values()}
    missing = {model.__name__ for model in _documents() if model not in listed}
    assert not missing, f"documents without a `shard-action schema` name: {missing}"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_each_schema_prints_as_json_and_pins_the_kind(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema", name]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == schema(name)
    assert printed["$schema"].startswith("https://json-schema.org/")
    kind = printed.get("properties", {}).get("kind")
    if kind is not None:  # a document: its kind and version are constants
        assert kind["const"].startswith("shard-action-")
        assert "const" in printed["properties"]["version"]
    else:
        assert name in {
            "config",
            "matrix",
            "event",
            "quarantine",
        }  # yours to write, or not a whole file


def test_the_plan_schema_describes_slices_and_lane_rules() -> None:
    plan = schema("plan")
    assert plan["properties"]["kind"]["const"] == "shard-action-plan"
    assert plan["properties"]["version"]["const"] == 2
    shard = plan["$defs"]["PlannedShard"]["properties"]
    assert "slices" in shard and "tests" not in shard and "env" not in shard
    assert set(plan["$defs"]["Slice"]["properties"]) == {"lane", "tests"}
    lane = plan["$defs"]["LanePlan"]["properties"]
    assert {"env", "mode", "isolated", "timeout", "memory_mb", "workers"} <= set(lane)
