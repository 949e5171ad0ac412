"""The configuration users write, validated once at the edge.

Keys are kebab-case in files (``max-shards``) and snake_case in Python. Every field can come from
``[tool.shard-action]`` in ``pyproject.toml``, a ``--config`` file (TOML or YAML), a
``SHARD_ACTION_<FIELD>`` environment variable or a CLI flag, later ones winning: CI must be able to
change the shard count without editing files. Loading the layers is the adapter's job
(``adapters.config_file``); this module only says what a valid configuration is.
"""

from __future__ import annotations

import re
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shard_action.core.models import MAX_SECONDS

FLAKY_THRESHOLD: Final = 0.05
"""The flaky rate above which the next run is serial, unless a config or flag says otherwise."""
RECOVER_AFTER: Final = 3
"""Clean serial runs after which the mode returns to parallel, unless told otherwise."""
OUTAGE_THRESHOLD: Final = 0.8
"""The share of failing tests over which a run is an outage, unless told otherwise."""
PROMOTE_AFTER: Final = 5
"""Clean runs in its demoted lane after which a demoted test runs in parallel again."""
MAX_DEMOTED: Final = 10
"""Tests demoted at once. The demoted lane is one shard, so each one adds its time to that
shard; and a suite with more parallel-sensitive tests than this shares state widely, which the
serial rollback shows (and fixes) better than a growing sequential shard."""
DEMOTED_SUFFIX: Final = ".demoted"
"""A lane instance's demoted lane is ``{instance}.demoted`` (``core.lanes``); no lane of the
config may end so, so the name always says where a test came from."""

GITHUB_MATRIX_LIMIT = 256
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


def _kebab(name: str) -> str:
    return name.replace("_", "-")


def _regexes(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc
    return patterns


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=_kebab, populate_by_name=True, frozen=True
    )


class Selection(_Strict):
    """A named choice of tests by ``markers``, ``paths`` and ``ids``: what lanes and tiers have
    in common, so that both are matched by one rule (``core.lanes.selected``)."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    markers: list[str] = Field(
        default_factory=list, description="pytest markers that select tests."
    )
    paths: list[str] = Field(
        default_factory=list,
        description="Glob patterns on the test file path (`**` crosses folders).",
    )
    ids: list[str] = Field(
        default_factory=list, description="Regular expressions searched in the test id."
    )

    @field_validator("ids")
    @classmethod
    def _ids_compile(cls, patterns: list[str]) -> list[str]:
        return _regexes(patterns)


class LaneConfig(Selection):
    """A set of tests with its own rules (see DESIGN.md, "lane").

    A test joins the first lane whose ``markers``, ``paths`` (globs on the test's file) or ``ids``
    (regular expressions searched in the node id) match; a lane with none of the three is a
    catch-all only if it is named like the default lane.
    """

    name: Annotated[
        str, Field(pattern=NAME_PATTERN, description="Lane name; shard ids start with it.")
    ]
    mode: Literal["parallel", "sequential"] = Field(
        "parallel",
        description="`sequential`: exactly one shard, one process, tests in order, no xdist.",
    )
    max_shards: Annotated[int, Field(ge=1, le=GITHUB_MATRIX_LIMIT)] | None = Field(
        None, description="At most this many shards for this lane."
    )
    env: dict[str, str] = Field(
        default_factory=dict, description="Environment for the lane's processes."
    )
    isolated: bool = Field(
        True,
        description="Run this lane's tests in processes of their own, even in serial mode, so "
        "a process never switches backend.",
    )
    backends: list[Annotated[str, Field(pattern=NAME_PATTERN)]] = Field(
        default_factory=list,
        description="Fan out: plan the lane's tests once per value, with `backend-var` set to it.",
    )
    backend_var: Annotated[str, Field(pattern=ENV_NAME_PATTERN)] = Field(
        "BACKEND", description="Environment variable that carries the fan-out value."
    )
    timeout: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = Field(
        None, description="Seconds a runner process of this lane may take before it is killed."
    )
    memory_mb: Annotated[int, Field(ge=16)] | None = Field(
        None, description="Address-space cap (MiB) for this lane's runner processes."
    )
    workers: Annotated[int, Field(ge=1, le=64)] | Literal["auto"] | None = Field(
        None,
        description="pytest-xdist workers inside each shard of this parallel lane (`-n`): a "
        "number, or `auto` for the machine's CPU count (the plan job's when planning, the test "
        "job's when running). The planner predicts the shard as its tests spread longest first "
        "over the workers plus a start-up per worker, and the shard hands them to xdist in that "
        "order. Needs pytest-xdist in the test environment; not for sequential lanes.",
    )

    @field_validator("env")
    @classmethod
    def _env_names(cls, env: dict[str, str]) -> dict[str, str]:
        for key in env:
            if not re.match(ENV_NAME_PATTERN, key):
                raise ValueError(f"invalid environment variable name {key!r}")
        return env

    @field_validator("backends")
    @classmethod
    def _backends_unique(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("fan-out values must be unique")
        return values

    @model_validator(mode="after")
    def _sequential_has_no_workers(self) -> LaneConfig:
        if self.mode == "sequential" and self.workers is not None:
            raise ValueError(
                f"lane {self.name!r}: workers runs tests side by side, which a sequential lane "
                "must not; remove workers or make the lane parallel"
            )
        return self


FULL_TIER = "full"
"""The tier every test is in, without defining it."""


class TierConfig(Selection):
    """A named selection of tests (see DESIGN.md, "Tiers"), matched like a lane.

    Unlike lanes, tiers do not partition the suite: a test is in every tier whose ``markers``,
    ``paths`` or ``ids`` match it, and in ``full``. A tier chooses *which* tests run; the lanes
    still decide *how* they run, and the history stays per lane and test whatever the tier.
    """

    name: Annotated[
        str, Field(pattern=NAME_PATTERN, description="Tier name, for `tier` and `first-tier`.")
    ]


class Config(_Strict):
    """Everything the planner (and later the runner and report) may be told."""

    shards: Annotated[int, Field(ge=1, le=GITHUB_MATRIX_LIMIT)] | Literal["auto"] = Field(
        "auto",
        description="Number of shards, or `auto` to pick the count the per-shard overhead makes "
        "worthwhile.",
    )
    max_shards: Annotated[int, Field(ge=1, le=GITHUB_MATRIX_LIMIT)] = Field(
        32, description="Cap on shards over all lanes (GitHub allows 256 matrix jobs)."
    )
    target_time: Annotated[float, Field(gt=0, le=MAX_SECONDS, allow_inf_nan=False)] | None = Field(
        None,
        description='With `shards = "auto"`: seconds the test stage should finish within. The '
        "plan takes the count that meets it for the fewest billed minutes (each job's predicted "
        "wall rounded up to the minute), else the fastest count up to `max-shards` (the "
        "fewest minutes within 1 % or 0.5 s of the fastest wall, whichever is larger).",
    )
    shard_overhead: Annotated[float, Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)] = Field(
        30.0,
        description="Seconds a shard's job costs before our step (checkout, install) until the "
        "history has measured it (then the median of the lane's last runs).",
    )
    granularity: Literal["test", "file"] = Field(
        "test", description="Split by test id, or keep files whole (split only oversized files)."
    )
    lanes: list[LaneConfig] = Field(default_factory=list, description="Lanes, first match wins.")
    tiers: list[TierConfig] = Field(
        default_factory=list,
        description="Named selections of tests (smoke, core…); `full` is every test.",
    )
    tier: Annotated[str, Field(pattern=NAME_PATTERN)] = Field(
        FULL_TIER, description="Plan only this tier's tests (`full`: every test)."
    )
    first_tier: Annotated[str, Field(pattern=NAME_PATTERN)] | None = Field(
        None,
        description="Plan this tier's tests in shards of their own that run first; the rest of "
        "`tier` runs after them, only when they pass (matrix outputs `matrix-first` and "
        "`matrix-rest`).",
    )
    default_lane: Annotated[str, Field(pattern=NAME_PATTERN)] = Field(
        "default", description="Name of the lane that takes every test no lane matched."
    )
    default_duration: Annotated[float, Field(gt=0, le=MAX_SECONDS, allow_inf_nan=False)] | None = (
        Field(
            None,
            description="Seconds assumed for a test with no timing and no measured test in its "
            "file or lane; unset: estimated from the file's source size per test.",
        )
    )
    probe: Annotated[float, Field(ge=0, le=600, allow_inf_nan=False)] = Field(
        5.0,
        description="First run (no timing for any test): seconds of test time the plan may "
        "spend running a fixed sample of the tests (16 per lane, at most 64, chosen by a hash of "
        "the id, quarantined ones left out), one pytest process per distinct lane `env` (each "
        "lane's tests with its `env`, as its shards), to scale the estimated durations by what "
        "they took (3 must finish); kept in `first-run.json` beside the plan. Skipped with "
        "`shards = 1`, `max-shards = 1` or serial mode. 0: off.",
    )
    mode: Literal["auto", "parallel", "serial"] = Field(
        "auto", description="`auto` follows the history's mode; the others force one."
    )
    flaky_threshold: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = Field(
        FLAKY_THRESHOLD,
        description="Flaky rate (flaky tests / tests run) above which we fall back to serial.",
    )
    recover_after: Annotated[int, Field(ge=1)] = Field(
        RECOVER_AFTER, description="Clean serial runs after which the mode returns to parallel."
    )
    outage_threshold: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = Field(
        OUTAGE_THRESHOLD,
        description="A run where over this share of tests failed (or of one shard's tests, or "
        "of the failures ended in one error) is an outage: not counted toward the flaky rate or "
        "the mode. 1 turns these rules off; a dead shard is always an outage.",
    )
    promote_after: Annotated[int, Field(ge=1)] = Field(
        PROMOTE_AFTER,
        description="Clean runs in a row after which a demoted test (parallel-sensitive: it "
        "failed in parallel and passed when re-run alone, or in serial runs) runs in parallel "
        "again.",
    )
    max_demoted: Annotated[int, Field(ge=0)] = Field(
        MAX_DEMOTED,
        description="Tests that may be demoted to their lane's sequential `{lane}.demoted` lane "
        "at once; a parallel-sensitive test over the cap counts toward the flaky rate (and may "
        "send the suite to serial). 0 turns demotion off.",
    )
    quarantine_file: str | None = Field(
        None,
        description="The quarantine file (TOML, `[[quarantine]]` tables with `test`, `owner`, "
        "`reason`, `expires`, optional `lane`), relative to the project folder. Quarantined "
        "tests still run and are reported but do not fail the job or count toward the flaky "
        "rate; an expired entry fails the plan. Unset: `.shard-action/quarantine.toml` if it "
        "exists.",
    )
    split_files: bool = Field(
        True,
        description="At file granularity, split a file longer than the target by test id "
        "(pytest can; runners split by file cannot).",
    )
    on_bad_report: Literal["error", "warn"] = Field(
        "error", description="A corrupt timing report: stop with an error, or warn and skip it."
    )
    allow_no_tests: bool = Field(
        False,
        description="Accept a suite with no test: by default `plan` and `local` fail with exit "
        "status 5 (as pytest does), because a wrong folder or a filter that selects nothing "
        "would otherwise pass.",
    )
    collect_args: list[str] = Field(
        default_factory=list, description="Extra arguments for pytest collection (e.g. `tests`)."
    )
    test_files: list[str] = Field(
        default_factory=list,
        description="Glob patterns of test files for runners split by file (jest, go, rspec…); "
        "when set, tests are these files instead of pytest's collection.",
    )
    reruns: Annotated[int, Field(ge=0, le=10)] = Field(
        2,
        description="Re-run a failed test up to this many times in a fresh process: passed on a "
        "re-run = flaky, failed every time = broken.",
    )
    early_flake_runs: Annotated[int, Field(ge=0, le=10)] = Field(
        0,
        description="Run each new test (not in the history), and each test in a file "
        "`--changed-files` lists, this many more times, each round in a fresh process, in the "
        "spare time of the shards that finish early: such a test that fails in one of them is "
        "reported flaky before it can flake on the main branch. 0: off.",
    )
    fail_on_flaky: bool = Field(
        False, description="Make a shard fail for flaky tests too, not only for broken ones."
    )
    coverage: bool = Field(True, description="Measure coverage with coverage.py in every shard.")
    coverage_core: Literal["auto", "sysmon", "ctrace", "pytrace"] = Field(
        "auto",
        description="coverage.py's measurement core (`COVERAGE_CORE`). `auto`: `sysmon` "
        "(sys.monitoring, cheaper) where the test interpreter and coverage.py support it for "
        "the project's settings (CPython 3.12+ and coverage 7.4+; with branch coverage Python "
        "3.14+ and coverage 7.7+; no plugins or dynamic contexts), else coverage.py's default. "
        "A `COVERAGE_CORE` in the environment wins.",
    )
    pytest_args: list[str] = Field(
        default_factory=list, description="Extra arguments for pytest when a shard runs."
    )
    command: str | None = Field(
        None,
        description="Jinja2 command template for runners other than pytest, rendered per shard "
        "with `files`, `tests`, `junit_path`, `shard`, `lane` (values are shell-quoted).",
    )
    python: str | None = Field(
        None, description="Python interpreter that collects and runs the tests (default: ours)."
    )

    def as_planned(self) -> Config:
        """The config the planner follows: a runner split by file (``test-files``) plans
        whole files, whatever ``granularity`` says (its tests are the files)."""
        if self.test_files and self.granularity != "file":
            return self.model_copy(update={"granularity": "file"})
        return self

    @model_validator(mode="after")
    def _lane_names_unique(self) -> Config:
        names: set[str] = {self.default_lane}
        for lane in self.lanes:
            instances = [f"{lane.name}-{v}" for v in lane.backends] or [lane.name]
            for name in instances:
                if name.endswith(DEMOTED_SUFFIX):
                    raise ValueError(
                        f"lane name {name!r} ends with {DEMOTED_SUFFIX!r}, which names the lane "
                        "of demoted tests"
                    )
                if name in names and not (name == self.default_lane and lane.name == name):
                    raise ValueError(f"lane name {name!r} is used twice")
                names.add(name)
        return self

    @model_validator(mode="after")
    def _tiers_known(self) -> Config:
        names = [tier.name for tier in self.tiers]
        for name in names:
            if name == FULL_TIER:
                raise ValueError(f"tier name {FULL_TIER!r} is taken: it means every test")
            if names.count(name) > 1:
                raise ValueError(f"tier name {name!r} is used twice")
        known = [FULL_TIER, *names]
        for key, value in (("tier", self.tier), ("first-tier", self.first_tier)):
            if value is not None and value not in known:
                raise ValueError(f"{key} {value!r} is not a tier (tiers: {', '.join(known)})")
        if self.first_tier == FULL_TIER:
            raise ValueError("first-tier cannot be 'full': nothing would be left to run after it")
        return self


FIELD_NAMES: tuple[str, ...] = tuple(Config.model_fields)
