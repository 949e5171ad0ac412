"""The ``manifest.json`` a shard leaves (model: ``core.manifest``): its ledger added up into the
slices' results and the shard's verdict (``core.ledger.add_up``), what its clock measured
(``core.prediction.measure``), and the lines it prints about itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shard_action.core.completeness import fanned_out
from shard_action.core.ledger import Ledger, add_up
from shard_action.core.manifest import ShardManifest
from shard_action.core.plan import EMPTY_SHARD_ID, Plan, plan_digest
from shard_action.core.prediction import measure
from shard_action.core.shard_summary import summary_lines


@dataclass(frozen=True, slots=True)
class Ended:
    """Where and when the shard ran, and what it left besides its ledger."""

    started: datetime
    finished: datetime
    workdir: str
    results: str
    coverage: list[str]
    attempt: int | None
    """The workflow run's attempt (``GITHUB_RUN_ATTEMPT``), when known."""


def manifest_of(
    plan: Plan, shard_id: str, ledger: Ledger, ended: Ended
) -> tuple[ShardManifest, list[str]]:
    """The shard's manifest (its ``exit_code`` is the shard's verdict) and its summary lines."""
    fanned = fanned_out(plan.shards)
    verdicts = add_up(plan, shard_id, ledger, fanned)
    lane = next((s.lane for s in plan.shards if s.id == shard_id), EMPTY_SHARD_ID)
    manifest = ShardManifest(
        shard=shard_id,
        lane=lane,
        mode=plan.mode,
        started=ended.started,
        finished=ended.finished,
        exit_code=verdicts.exit_code,
        slices=verdicts.slices,
        early=[record.result() for record in ledger.early],
        coverage=ended.coverage,
        workdir=ended.workdir,
        failure=verdicts.failure,
        plan_digest=plan_digest(plan),
        attempt=ended.attempt,
        measured=measure(
            ended.started.timestamp(),
            ended.finished.timestamp(),
            ledger.processes,
            ledger.files,
            reruns=ledger.reruns,
            scopes=ledger.scopes,
            carried=ledger.carried,
        ),
    )
    lines = summary_lines(
        manifest, ended.results, ledger.notes, verdicts.counts, verdicts.lost, fanned=fanned
    )
    return manifest, lines
