"""The story of the act scenarios: a user's repository through a sequence of runs.

The tests (``test_pytest_lanes.py``) and ``by_hand.py`` share it:
each step runs once, the first time something asks for it, after the steps it needs.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.act.world import ROOT, Run, Toolkit, World, git, make_repository
from tests.fakegithub import READ_TOKEN, FakeGitHub
from tests.plan_json import shard_tests

SETTINGS = """
flaky-threshold = 0.005
recover-after = 1
max-demoted = 0
"""
# max-demoted = 0: the story is about the all-or-nothing serial rollback; a re-run flaky test
# would otherwise be demoted (core/demotion.py) and the suite would stay parallel.
#: The demotion steps (``test_demotion.py``) turn it back on, as a CI variable would.
DEMOTION_ENV = {"SHARD_ACTION_MAX_DEMOTED": "10"}
FLAKY_TEST = "tests/test_flaky.py::test_price_table_cache_warms_up"
#: First-attempt names: the action adds `.attempt-N` so a re-run never mixes attempts.
ATTEMPT = ".attempt-1"
PLAN = "shard-action-plan" + ATTEMPT
HISTORY = "shard-action-history"
RESULTS = "shard-action-results-"
SAVED_COMMENT = "shard-action-comment"
PR, FORK_PR, TIERS_PR, QUARANTINE_PR = 7, 8, 9, 10  # fmt: skip
#: The tiers of ``workflows/tiers.yml``'s runs (the template's dispatch offers full, core, smoke),
#: set as CI variables would be, over four files of the default lane (at most two shards per
#: stage): the lanes are ``test_pytest_lanes.py``'s business, and this keeps the runs short.
SMOKE_FILES = ["tests/test_models.py"]
CORE_FILES = [*SMOKE_FILES, "tests/test_pricing.py", "tests/test_reports.py"]
TIERS_SUITE = [*CORE_FILES, "tests/test_backend_factory.py"]
TIERS_ENV = {
    "SHARD_ACTION_COLLECT_ARGS": json.dumps(TIERS_SUITE),
    "SHARD_ACTION_TIERS": json.dumps(
        [{"name": "smoke", "paths": SMOKE_FILES}, {"name": "core", "paths": CORE_FILES}]
    ),
    "SHARD_ACTION_MAX_SHARDS": "2",
}

QUARANTINED_TEST = "tests/test_quarantined.py::test_talks_to_a_service_that_is_down"
QUARANTINED_SOURCE = """def test_talks_to_a_service_that_is_down() -> None:
    raise ConnectionError("the service is down")
"""
QUARANTINE_ENTRY = """[[quarantine]]
test = "{test}"
owner = "@alice"
reason = "the service is down, #42"
expires = {expires}
"""


class Story:
    """The repository and its runs; each step runs once, the first time a test asks for it."""

    def __init__(self, world: World, scratch: Path) -> None:
        self.world = world
        self.scratch = scratch
        self.done: dict[str, Run] = {}
        #: The jest project's repository (``jest_push``), on the same fake GitHub.
        self.jest_world: World | None = None

    def step(self, label: str, make: Callable[[], Run]) -> Run:
        if label not in self.done:
            self.done[label] = make()
        return self.done[label]

    # -- the steps --------------------------------------------------------------------------------
    def first_push(self) -> Run:
        w = self.world
        return self.step("push-1", lambda: w.act("push", w.event("push"), label="push-1"))

    def flaky_push(self) -> Run:
        self.first_push()
        w = self.world
        flaky = self.scratch / "flaky"
        return self.step(
            "push-2",
            lambda: w.act(
                "push", w.event("push"), label="push-2", env={"EXAMPLE_FLAKY_DIR": str(flaky)}
            ),
        )

    def pull_request(self) -> Run:
        self.flaky_push()
        w = self.world
        return self.step(
            "pr-1",
            lambda: w.act("pull_request", w.pull_request_event(PR), label="pr-1"),
        )

    def pull_request_again(self) -> Run:
        self.pull_request()

        def make() -> Run:
            w = self.world
            test = w.checkout / "tests" / "test_added_on_the_pr.py"
            test.write_text("def test_added_on_the_pr() -> None:\n    assert True\n", "utf-8")
            git(w.checkout, "add", "-A")
            git(w.checkout, "commit", "-q", "-m", "one more test")
            w.repo.issues[PR].head_sha = w.head_sha
            try:
                return w.act("pull_request", w.pull_request_event(PR), label="pr-2")
            finally:  # the pull request is not merged: main goes on without it
                git(w.checkout, "revert", "--no-edit", "HEAD")

        return self.step("pr-2", make)

    def fork_pull_request(self) -> Run:
        self.pull_request_again()
        w = self.world
        return self.step(
            "fork-pr",
            lambda: w.act(
                "pull_request",
                w.pull_request_event(FORK_PR, fork=True),
                label="fork-pr",
                token=READ_TOKEN,
                fork=True,
            ),
        )

    def companion(self) -> Run:
        fork_run = self.fork_pull_request()

        def make() -> Run:
            w = self.world
            pull = w.repo.issues[FORK_PR]
            event = w.event(
                "workflow_run",
                action="completed",
                workflow_run={
                    "id": fork_run.run.id,
                    "name": "tests",
                    "event": "pull_request",
                    "conclusion": fork_run.run.conclusion,
                    "head_sha": pull.head_sha,
                    "head_branch": pull.head_ref,
                    "head_repository": {"full_name": f"forker/{w.repo.name}"},
                    "repository": {"full_name": w.repo.full_name},
                    "pull_requests": [],
                },
            )
            return w.act("workflow_run", event, workflow="pr-comment.yml", label="companion")

        return self.step("companion", make)

    def serial_by_hand(self) -> Run:
        self.companion()
        w = self.world
        event = w.event("workflow_dispatch", ref="refs/heads/main", inputs={"mode": "serial"})
        return self.step(
            "dispatch", lambda: w.act("workflow_dispatch", event, label="dispatch-serial")
        )

    def broken_install(self) -> Run:
        self.serial_by_hand()
        w = self.world
        gate = self.scratch / "install-gate"
        return self.step(
            "push-broken",
            lambda: w.act(
                "push", w.event("push"), label="push-broken", env={"ACT_BREAK_INSTALL": str(gate)}
            ),
        )

    # -- targeted demotion: two more pushes on main, demotion on --------------------------------
    def demoting_push(self) -> Run:
        """The planted flaky test fails in parallel and passes re-run alone: demoted, not serial."""
        self.broken_install()
        w = self.world
        env = {**DEMOTION_ENV, "EXAMPLE_FLAKY_DIR": str(self.scratch / "flaky-demotion")}
        return self.step(
            "push-demote", lambda: w.act("push", w.event("push"), label="push-demote", env=env)
        )

    def demoted_push(self) -> Run:
        """The next push plans the demoted test in ``default.demoted``, in parallel mode."""
        self.demoting_push()
        w = self.world
        return self.step(
            "push-demoted",
            lambda: w.act("push", w.event("push"), label="push-demoted", env=DEMOTION_ENV),
        )

    # -- quarantine: a pull request that adds a failing test and lists it in quarantine.toml ------
    def quarantine_pull_request(self, expires: str = "2099-12-31") -> Run:
        """A pull request (not merged) adding :data:`QUARANTINED_TEST`, which always fails, and
        a ``.shard-action/quarantine.toml`` entry for it that expires on ``expires``."""

        def make() -> Run:
            w = self.world
            test = w.checkout / QUARANTINED_TEST.split("::", 1)[0]
            test.write_text(QUARANTINED_SOURCE, "utf-8")
            entry = w.checkout / ".shard-action" / "quarantine.toml"
            entry.parent.mkdir(exist_ok=True)
            entry.write_text(QUARANTINE_ENTRY.format(test=QUARANTINED_TEST, expires=expires))
            git(w.checkout, "add", "-A", "-f")
            git(w.checkout, "commit", "-q", "-m", "a quarantined test")
            w.repo.issues[QUARANTINE_PR].head_sha = w.head_sha
            try:
                label = f"quarantine-{expires}"
                return w.act("pull_request", w.pull_request_event(QUARANTINE_PR), label=label)
            finally:  # the pull request is not merged: main goes on without it
                git(w.checkout, "revert", "--no-edit", "HEAD")

        return self.step(f"quarantine-{expires}", make)

    # -- workflows/tiers.yml, on the same repository (it plans from its own runs' history) --------
    def tiers_pull_request(self) -> Run:
        w = self.world
        return self.step(
            "tiers-pr",
            lambda: w.act(
                "pull_request",
                w.pull_request_event(TIERS_PR),
                workflow="tiers.yml",
                label="tiers-pr",
                env=TIERS_ENV,
            ),
        )

    def tiers_core_by_hand(self) -> Run:
        w = self.world
        event = w.event("workflow_dispatch", ref="refs/heads/main", inputs={"tier": "core"})
        return self.step(
            "tiers-core",
            lambda: w.act(
                "workflow_dispatch", event, workflow="tiers.yml", label="tiers-core", env=TIERS_ENV
            ),
        )

    # -- workflows/split-by-file.yml, on another repository: a jest project ---------------------
    def jest_push(self) -> Run:
        def make() -> Run:
            w = self.world
            self.jest_world = jest_world(w.toolkit, w.fake, w.logs, self.scratch)
            return self.jest_world.act(
                "push",
                self.jest_world.event("push"),
                label="jest-push",
                env={"SHARD_ACTION_SHARDS": "2"},
            )

        return self.step("jest-push", make)

    @property
    def worlds(self) -> list[World]:
        return [self.world] + ([self.jest_world] if self.jest_world is not None else [])


def shop_story(toolkit: Toolkit, fake: FakeGitHub, logs: Path, scratch: Path) -> Story:
    """``examples/`` as ``acme/shop`` with ``workflows/pytest-lanes.yml`` as its tests.yml,
    ``workflows/fork-comment.yml`` as its companion and ``workflows/tiers.yml``, and three pull
    requests (one from a fork, one for the tiers workflow)."""
    repo = fake.add_repo("acme/shop")
    checkout = make_repository(
        scratch / "shop",
        ROOT / "examples",
        {
            "tests.yml": ROOT / "workflows" / "pytest-lanes.yml",
            "pr-comment.yml": ROOT / "workflows" / "fork-comment.yml",
            "tiers.yml": ROOT / "workflows" / "tiers.yml",
        },
        settings=SETTINGS,
        files={"setup.py": (Path(__file__).parent / "break_install.py").read_text("utf-8")},
    )
    world = World(toolkit, fake, repo, checkout, logs)
    repo.add_pull(PR, head_ref="feature", head_sha=world.head_sha)
    repo.add_pull(FORK_PR, head_ref="patch-1", fork=True, head_sha=world.head_sha)
    repo.add_pull(TIERS_PR, head_ref="tiers", head_sha=world.head_sha)
    repo.add_pull(QUARANTINE_PR, head_ref="quarantine", head_sha=world.head_sha)
    return Story(world, scratch)


JS_PROJECT = Path(__file__).parent / "jsproject"


def jest_world(toolkit: Toolkit, fake: FakeGitHub, logs: Path, scratch: Path) -> World:
    """``tests/act/jsproject`` as ``acme/shop-js`` with ``workflows/split-by-file.yml``; its
    push sets ``SHARD_ACTION_SHARDS=2`` on the runner, as a CI variable would."""
    repo = fake.add_repo("acme/shop-js")
    checkout = make_repository(
        scratch / "shop-js",
        JS_PROJECT,
        {"tests.yml": ROOT / "workflows" / "split-by-file.yml"},
        full_name=repo.full_name,
    )
    return World(toolkit, fake, repo, checkout, logs)


# -- what a user reads on a run's page ------------------------------------------------------------
def zipped(data: bytes) -> dict[str, bytes]:
    """An artifact's files, as downloaded from the run's page."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def plan_of(world: World, run: Run) -> dict[str, Any]:
    """The plan artifact's ``plan.json``."""
    plan: dict[str, Any] = json.loads(zipped(world.artifacts_of(run)[PLAN])["plan.json"])
    return plan


def planned(world: World, run: Run) -> dict[str, list[str]]:
    """The plan artifact's shards: shard id -> planned test ids."""
    return {s["id"]: shard_tests(s) for s in plan_of(world, run)["shards"]}


def all_green(run: Run) -> None:
    assert run.exit_code == 0, run.describe()
    assert {j.result for j in run.jobs} == {"success"}, run.describe()
