"""What moved out of the ``plan`` and ``run`` commands into the core: the plan step's outputs,
a shard's manifest from its ledger, and which demoted tests a plan takes from the history."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import timedelta

from shard_action.core.demotion import DemotedTest, Demotion
from shard_action.core.flakiness import Verdict
from shard_action.core.history import History
from shard_action.core.ledger import Ledger, SliceRecord
from shard_action.core.plan import EMPTY_SHARD_ID
from shard_action.core.plan_outputs import outputs
from shard_action.core.report_document import TestEntry
from shard_action.core.shard_manifest import Ended, manifest_of

from .factories import T0, plan, shard

A = ["tests/test_a.py::test_1", "tests/test_a.py::test_2"]
B = ["tests/test_b.py::test_1"]


def test_the_plan_outputs_hold_each_tier_and_its_count() -> None:
    first = shard("smoke-1", A).model_copy(update={"first": True})
    planned = plan([first, shard("default-1", B)])
    got = outputs(planned, "out/plan.json")
    assert set(got) == {
        "matrix", "matrix-first", "matrix-rest", "first-count", "rest-count", "shard-count",
        "mode", "plan",
    }  # fmt: skip
    assert [j["shard"] for j in json.loads(got["matrix"])["include"]] == ["smoke-1", "default-1"]
    assert [j["shard"] for j in json.loads(got["matrix-first"])["include"]] == ["smoke-1"]
    assert (got["first-count"], got["rest-count"], got["shard-count"]) == ("1", "1", "2")
    assert (got["mode"], got["plan"]) == ("parallel", "out/plan.json")
    assert ", " not in got["matrix"] and ": " not in got["matrix"]  # compact: outputs are capped


def _ended() -> Ended:
    return Ended(T0, T0 + timedelta(seconds=3), "/w", "/w/results", [".coverage.s1"], 2)


def test_a_manifest_adds_up_the_ledger() -> None:
    planned = plan([shard("s1", A)])
    record = SliceRecord("default", tuple(A))
    record.first(A[0], "passed", 0.1)
    record.first(A[1], "failed", 0.2)
    record.exit_codes.append(1)
    manifest, lines = manifest_of(planned, "s1", Ledger(slices=[record]), _ended())
    assert (manifest.shard, manifest.lane, manifest.attempt, manifest.workdir) == (
        "s1", "default", 2, "/w",
    )  # fmt: skip
    assert manifest.exit_code == 1 and manifest.slices[0].outcomes[A[1]] == "failed"
    assert manifest.coverage == [".coverage.s1"] and manifest.measured is None
    assert lines and "/w/results" in lines[-1]


def test_the_placeholder_shard_of_an_empty_plan_leaves_an_empty_manifest() -> None:
    manifest, _ = manifest_of(plan([]), EMPTY_SHARD_ID, Ledger(slices=[]), _ended())
    assert (manifest.lane, manifest.exit_code, manifest.slices) == (EMPTY_SHARD_ID, 0, [])


def test_max_demoted_0_turns_off_what_the_history_demoted() -> None:
    demoted = [DemotedTest(lane="db", test="t", since=1, reason="r")]
    history = History(demotion=Demotion(demoted=demoted))
    assert history.demoted_for(3) == demoted
    assert history.demoted_for(0) == []


def test_a_test_entry_holds_every_fact_of_its_verdict() -> None:
    """``TestEntry.of`` takes the verdict as it is: a fact the verdict gains needs a field."""
    assert {f.name for f in fields(Verdict)} <= set(TestEntry.model_fields)
