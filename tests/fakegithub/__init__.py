"""A local fake of the GitHub REST API (real HTTP on 127.0.0.1) with state and fault injection.

Other test folders get the ``fake_github`` fixture with
``from tests.fakegithub.fixtures import fake_github  # noqa: F401`` in their ``conftest.py``.
"""

from tests.fakegithub.faults import DEFAULT_MIX, Fault, FaultRule
from tests.fakegithub.server import (
    BOT_LOGIN,
    COMMENT_LIMIT,
    READ_TOKEN,
    WRITE_TOKEN,
    FakeGitHub,
    RequestRecord,
)
from tests.fakegithub.state import (
    DEFAULT_WORKFLOW,
    FakeArtifact,
    FakeComment,
    FakeRepo,
    FakeRun,
    make_zip,
)

__all__ = [
    "BOT_LOGIN",
    "COMMENT_LIMIT",
    "DEFAULT_MIX",
    "DEFAULT_WORKFLOW",
    "READ_TOKEN",
    "WRITE_TOKEN",
    "FakeArtifact",
    "FakeComment",
    "FakeGitHub",
    "FakeRepo",
    "FakeRun",
    "Fault",
    "FaultRule",
    "RequestRecord",
    "make_zip",
]
