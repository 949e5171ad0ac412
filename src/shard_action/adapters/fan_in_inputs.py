"""The fan-in's inputs besides the shards' results: its settings (flags over ``SHARD_ACTION_*``
variables over what the plan recorded) and the previous history."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

from pydantic import ValidationError

from shard_action.adapters.config_file import load_config
from shard_action.adapters.history_file import read_history
from shard_action.adapters.shard_results import message_of
from shard_action.core.config import Config
from shard_action.core.history import History
from shard_action.core.plan import Plan
from shard_action.core.report import Problem
from shard_action.errors import InputError

#: The only settings the fan-in reads; other ``SHARD_ACTION_*`` variables are the plan's business.
FAN_IN_VARIABLES: Final = (
    "SHARD_ACTION_FLAKY_THRESHOLD",
    "SHARD_ACTION_RECOVER_AFTER",
    "SHARD_ACTION_OUTAGE_THRESHOLD",
    "SHARD_ACTION_PROMOTE_AFTER",
    "SHARD_ACTION_MAX_DEMOTED",
)


def settings_from(
    plan: Plan,
    env: Mapping[str, str],
    flaky_threshold: float | None,
    recover_after: int | None,
) -> tuple[Config, list[Problem]]:
    """The thresholds: flags over ``SHARD_ACTION_*`` variables over what the plan recorded.

    The plan job read the project's config (``--config``, ``pyproject.toml``, its variables),
    so the plan's values are that config, even when this job runs elsewhere or with other files.
    """
    flags = {"flaky-threshold": flaky_threshold, "recover-after": recover_after}
    recorded = {name.replace("_", "-"): value for name, value in plan.fan_in}
    variables = {name: env[name] for name in FAN_IN_VARIABLES if name in env}
    try:
        config = load_config(
            cwd=Path.cwd(), env=variables, flags=flags, recorded=(recorded, "plan.json")
        )
        return config, []
    except InputError as exc:
        problem = Problem(
            kind="config",
            source=exc.source or "configuration",
            message=f"{exc}; the plan's thresholds used",
        )
        values = {**recorded, **{k: v for k, v in flags.items() if v is not None}}
        try:
            return Config.model_validate(values), [problem]
        except ValidationError as bad:
            raise InputError(f"invalid option: {bad.errors()[0]['msg']}") from None


def previous_history(path: Path | None) -> tuple[History | None, list[Problem]]:
    """The previous history (none given: a new one); unreadable: None, and the problem."""
    if path is None:
        return History(), []
    try:
        return read_history(path), []
    except InputError as exc:
        message = f"{message_of(exc)}; the history was not updated"
        return None, [Problem(kind="history", source=str(path), message=message)]
