"""What the fan-in is given besides the plan: each shard's results as the adapters read them, the
coverage totals, the settings it judges by, and the previous history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shard_action.core.config import (
    FLAKY_THRESHOLD,
    MAX_DEMOTED,
    OUTAGE_THRESHOLD,
    PROMOTE_AFTER,
    RECOVER_AFTER,
)
from shard_action.core.history import History, Limits
from shard_action.core.manifest import ShardManifest
from shard_action.core.plan import FanInSettings
from shard_action.core.report_document import Problem
from shard_action.core.results import JUnitReport


@dataclass(frozen=True, slots=True)
class ShardResult:
    """One shard's results as the adapters read them.

    ``reports`` are keyed by the name the manifest's runs list them under (relative to the
    shard's results folder): each run is judged from its own files only, so the same id in the
    sqlite and the memory run of a serial shard are two tests, not one test seen twice.
    """

    manifest: ShardManifest
    reports: Mapping[str, JUnitReport] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CoverageTotals:
    """What the coverage adapter measured (``percent`` is None when nothing was measured)."""

    percent: float | None
    covered_lines: int = 0
    statements: int = 0
    files: int = 0
    data_files: int = 0
    note: str | None = None
    branches: int = 0
    covered_branches: int = 0
    shards: tuple[str, ...] | None = None
    """The shards whose data was combined (None: not known, not counted as partial)."""


@dataclass(frozen=True, slots=True)
class Settings:
    flaky_threshold: float = FLAKY_THRESHOLD
    recover_after: int = RECOVER_AFTER
    outage_threshold: float = OUTAGE_THRESHOLD
    promote_after: int = PROMOTE_AFTER
    max_demoted: int = MAX_DEMOTED
    fork: bool = False
    """A run from an untrusted fork: the history is neither changed nor written."""
    limits: Limits = field(default_factory=Limits)
    sha: str | None = None
    today: date | None = None
    """The date suggested quarantine entries count their expiry from (None: no suggestions)."""
    concurrency: int | None = None
    """Shard processes run at once on one machine (``local``); None on CI."""

    @classmethod
    def of(cls, thresholds: object, **rest: Any) -> Settings:
        """The settings with ``thresholds``' value (a config, or a plan's ``fan_in``) of each
        :class:`~shard_action.core.plan.FanInSettings` field: the one list of them."""
        taken = {name: getattr(thresholds, name) for name in FanInSettings.model_fields}
        return cls(**taken, **rest)


@dataclass(frozen=True, slots=True)
class Given:
    """What ``build`` was given besides the plan and the shards' results."""

    history: History | None
    previous: History
    coverage: CoverageTotals | None
    settings: Settings
    problems: Sequence[Problem]
    setups: Mapping[str, float] | None

    @property
    def writable(self) -> bool:
        return self.history is not None and not self.settings.fork
