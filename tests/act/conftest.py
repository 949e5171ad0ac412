"""Fixtures of the act scenarios: one toolkit (official actions, wheelhouse) and one story (a
user's repository on a fake GitHub) per test session.

Every test marked ``act`` joins the xdist group ``act`` here, so ``--dist loadgroup`` runs them
all on one worker, in order. Whatever the distribution, the toolkit is built once: the first
worker to ask builds it under a file lock in the session's shared temporary folder, and the
others read it from there (each keeps its own act cache, as two act runs must not share one).
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.act.story import Story, shop_story
from tests.act.world import MissingActions, Toolkit, build_toolkit
from tests.fakegithub import FakeGitHub

GROUP = "act"


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("act") is not None:
            item.add_marker(pytest.mark.xdist_group(GROUP))


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def shared_toolkit(shared: Path, own_cache: Path) -> Toolkit:
    """The toolkit built in ``shared`` (built now if no process has), with ``own_cache``."""
    folder = shared / "act-toolkit"
    built = shared / "act-toolkit.json"
    with _locked(shared / "act-toolkit.lock"):
        if built.is_file():
            fields = json.loads(built.read_text("utf-8"))
            toolkit = Toolkit(
                act=Path(fields["act"]),
                local_repositories=tuple(fields["local_repositories"]),
                wheelhouse=Path(fields["wheelhouse"]),
                cache=Path(fields["cache"]),
            )
        else:
            toolkit = build_toolkit(folder)
            fields = {k: str(v) if isinstance(v, Path) else v
                      for k, v in dataclasses.asdict(toolkit).items()}  # fmt: skip
            built.write_text(json.dumps(fields), "utf-8")
    return dataclasses.replace(toolkit, cache=own_cache)


@pytest.fixture(scope="session")
def toolkit(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Toolkit:
    """Built once per test session; a missing ``shared/actions`` fails the tests, never skips."""
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent  # xdist: the workers' common parent
    try:
        return shared_toolkit(shared, tmp_path_factory.mktemp("act-cache"))
    except MissingActions as missing:
        pytest.fail(str(missing), pytrace=False)


@pytest.fixture(scope="session")
def act_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("act-logs")


@pytest.fixture(scope="session")
def story(
    toolkit: Toolkit, act_logs: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Story]:
    """One user's repository and fake GitHub for every scenario module (each runs only the
    steps it asks for); the wall time of every run is left in ``timings.json``."""
    with FakeGitHub() as fake:
        story = shop_story(toolkit, fake, act_logs, tmp_path_factory.mktemp("act-story"))
        yield story
        timings = {label: round(run.seconds, 1) for label, run in story.done.items()}
        (act_logs / "timings.json").write_text(json.dumps(timings, indent=2), "utf-8")
