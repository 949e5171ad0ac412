"""Each shard job's set-up (checkout, install) from the run's jobs, as the REST API lists them.

A job cannot see its own set-up: our command starts after it. The report job reads the run's
jobs (``GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs``: each job's and step's
``started_at``/``completed_at``) and the set-up of a shard's job is from the job's start to the
shard's own start (its manifest), so the shard's wall plus its set-up is the job a user waits
for. When the runner's clock and GitHub's disagree (the shard's start falls outside its job), the
start of our step is used instead: the first step whose name mentions ``shard-action`` (a step
``uses: org/shard-action@v1`` is listed as "Run org/shard-action@v1").

A job is a shard's when its name ends in the shard's name or id in parentheses, as the workflow
templates name them (``test (${{ matrix.name }})``), or names the id first in GitHub's default
matrix name (``test (unit-1, unit, …)``); the job's whole name being the shard's counts only when
nothing else matched. A shard matched by two jobs, or a job by two shards, gets no set-up: a
wrong figure would teach the history a wrong cost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone

from pydantic import BaseModel, ConfigDict

from shard_action.core.plan import Plan, PlannedShard

SKEW = timedelta(seconds=2)
"""How far the runner's clock may be from GitHub's (timestamps are whole seconds)."""
STEP_MARK = "shard-action"


class _Api(BaseModel):
    """A shape from the API: fields we do not read are ignored, a missing time is unknown."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Step(_Api):
    name: str = ""
    started_at: datetime | None = None
    completed_at: datetime | None = None


class Job(_Api):
    name: str = ""
    started_at: datetime | None = None
    completed_at: datetime | None = None
    steps: tuple[Step, ...] = ()


def jobs_of(items: Iterable[object]) -> list[Job]:
    """The jobs an API page listed; an entry that is not a job is skipped."""
    found: list[Job] = []
    for item in items:
        try:
            found.append(Job.model_validate(item))
        except ValueError:
            continue
    return found


def _labels(shard: PlannedShard) -> tuple[str, ...]:
    return (shard.name, shard.id) if shard.name != shard.id else (shard.id,)


def _named(job: Job, shard: PlannedShard) -> bool:
    name = job.name
    return (
        name.endswith(f"({shard.name})")
        or name.endswith(f"({shard.id})")
        or (f"({shard.id}, " in name)
    )


def _one_to_one(pairs: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Shard id -> job index, keeping only pairs where both sides matched once."""
    found = list(pairs)
    shards = [s for s, _ in found]
    jobs = [j for _, j in found]
    return {s: j for s, j in found if shards.count(s) == 1 and jobs.count(j) == 1}


def match(plan: Plan, jobs: Sequence[Job]) -> dict[str, Job]:
    """Each shard's job (see the module docstring)."""
    named = _one_to_one(
        (shard.id, index)
        for shard in plan.shards
        for index, job in enumerate(jobs)
        if _named(job, shard)
    )
    taken = set(named.values())
    exact = _one_to_one(
        (shard.id, index)
        for shard in plan.shards
        if shard.id not in named
        for index, job in enumerate(jobs)
        if index not in taken and job.name in _labels(shard)
    )
    return {shard: jobs[index] for shard, index in {**named, **exact}.items()}


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _our_step(job: Job) -> datetime | None:
    for step in job.steps:
        if STEP_MARK in step.name.lower() and step.started_at is not None:
            return step.started_at
    return None


def setup_of(job: Job, started: datetime) -> float | None:
    """Seconds from the job's start to the shard's ``started``, or to our step's start."""
    if job.started_at is None:
        return None
    begin, started = _utc(job.started_at), _utc(started)
    end: datetime | None = started
    late = _utc(job.completed_at) + SKEW if job.completed_at is not None else None
    if started < begin - SKEW or (late is not None and started > late):
        end = _our_step(job)
    if end is None:
        return None
    return max(0.0, (_utc(end) - begin).total_seconds())


def setups_of(plan: Plan, jobs: Sequence[Job], starts: Mapping[str, datetime]) -> dict[str, float]:
    """Shard id -> its job's set-up, for the shards that ran (``starts``) and have a job."""
    found: dict[str, float] = {}
    for shard_id, job in match(plan, jobs).items():
        started = starts.get(shard_id)
        if started is None:
            continue
        seconds = setup_of(job, started)
        if seconds is not None:
            found[shard_id] = seconds
    return found
