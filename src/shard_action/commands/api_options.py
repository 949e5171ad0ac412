"""Options and set-up shared by the commands that call the GitHub API (``fetch-history``,
``comment``): the token, the repository, how patient to be, and quiet libraries.

The token is read from the environment only, never from a flag: flags end up in logs.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from shard_action.errors import InputError

if TYPE_CHECKING:
    from shard_action.adapters.github_http import RetryPolicy

TOKEN_VARS = ("SHARD_ACTION_TOKEN", "GITHUB_TOKEN", "GH_TOKEN")
"""Where the token is read from, first found wins. It is never a flag: flags end up in logs."""
TOKEN_HELP: Final = (
    f"token from {', '.join(TOKEN_VARS[:-1])} or {TOKEN_VARS[-1]} (the first one set)"
)
"""The variables in words, for each command's ``--help``."""


def token_from_env(env: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if env is None else env
    for name in TOKEN_VARS:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


#: Variables that set the API options' defaults, for a job that cannot pass flags (the action).
RETRIES_VARIABLE: Final = "SHARD_ACTION_API_RETRIES"
BACKOFF_VARIABLE: Final = "SHARD_ACTION_API_BACKOFF"


def _from_env(
    env: Mapping[str, str], name: str, kind: type[int] | type[float], default: float
) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise InputError(f"not a number: {raw!r}", source=f"environment variable {name}") from None
    if value < 0:
        raise InputError(f"must be 0 or more, got {raw}", source=f"environment variable {name}")
    return value


def add_api_options(parser: argparse.ArgumentParser, *, retries: int) -> None:
    """How patient to be with the API; the defaults suit a CI job, tests pass small values.

    ``SHARD_ACTION_API_RETRIES`` / ``SHARD_ACTION_API_BACKOFF`` change the defaults (read when
    the command runs), for steps of the action that take no extra arguments.
    """
    parser.add_argument(
        "--retries",
        type=int,
        default=None,
        metavar="N",
        help=f"retries per API request on 5xx, 429, rate limits and resets (default: "
        f"${RETRIES_VARIABLE} or {retries})",
    )
    parser.add_argument(
        "--backoff",
        type=float,
        default=None,
        metavar="SECONDS",
        help=f"first wait of the exponential backoff between retries (default: "
        f"${BACKOFF_VARIABLE} or 1); it also caps the pause GitHub asks for between writes",
    )
    parser.set_defaults(api_retries_default=retries)


def api_patience(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[int, float]:
    """``(retries, backoff)``: the flags, else the variables, else the command's defaults."""
    retries = args.retries
    if retries is None:
        retries = int(_from_env(env, RETRIES_VARIABLE, int, args.api_retries_default))
    backoff = args.backoff
    if backoff is None:
        backoff = _from_env(env, BACKOFF_VARIABLE, float, 1.0)
    return retries, backoff


def quiet_libraries(env: Mapping[str, str] | None = None) -> None:
    """Our own messages say what happened; the libraries' warnings would say it twice.

    Python prints warnings of loggers without handlers to stderr ("last resort"); a
    ``NullHandler`` on the chatty loggers stops that without changing their levels, so whoever
    configures logging (a test's caplog, ``RUNNER_DEBUG=1`` below) still gets every record.
    """
    env = os.environ if env is None else env
    if env.get("RUNNER_DEBUG") == "1":
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
        return
    for name in ("github", "urllib3", "shard_action"):
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())
        for handler in logger.handlers:
            # PyGithub prints its INFO lines ("Request POST ... failed with 403") to stderr.
            if type(handler) is logging.StreamHandler and handler.level < logging.WARNING:
                handler.setLevel(logging.WARNING)


@dataclass(frozen=True)
class ApiAccess:
    """What an API command calls with: the token and how patient to be."""

    token: str | None
    retries: int
    backoff: float

    def retry_policy(self) -> RetryPolicy:
        """The retries as ``requests`` takes them; a negative flag is refused here, when the
        command first needs them."""
        # Every command is imported to build the CLI; only these two pay for requests/PyGithub.
        from shard_action.adapters.github_http import RetryPolicy  # noqa: PLC0415

        if self.retries < 0:
            raise InputError(f"--retries must be 0 or more, got {self.retries}")
        if self.backoff < 0:
            raise InputError(f"--backoff must be 0 or more, got {self.backoff}")
        backoff = float(self.backoff)
        return RetryPolicy(
            total=self.retries,
            backoff_factor=backoff,
            backoff_max=max(backoff, min(30.0, 16 * backoff)),
            max_retry_after=max(backoff, min(60.0, 60 * backoff)),
            secondary_rate_wait=max(backoff, min(60.0, 60 * backoff)),
        )


def api_access(args: argparse.Namespace, env: Mapping[str, str]) -> ApiAccess:
    """An API command's first step: quiet libraries, then the token and the patience."""
    quiet_libraries(env)
    retries, backoff = api_patience(args, env)
    return ApiAccess(token_from_env(env), retries, backoff)


def repo_from(value: str | None, env: Mapping[str, str]) -> str | None:
    repo = (value or env.get("GITHUB_REPOSITORY", "")).strip()
    if not repo:
        return None
    owner, _, name = repo.partition("/")
    if not owner or not name or "/" in name:
        raise InputError(f"repository must be OWNER/NAME, got {repo!r}", source="--repo")
    return repo
