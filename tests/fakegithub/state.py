"""What the fake GitHub remembers: repositories, workflow runs, artifacts, issues, comments.

Plain dataclasses a test fills in directly (``fake.add_repo(...)``, ``repo.add_run(...)``) and
reads back to assert on (``repo.comments_on(7)``), plus their JSON shapes as api.github.com
returns them (only the fields PyGithub and our code read, plus the obvious neighbours).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
#: The workflow file of a run unless the test says otherwise (``add_run(path=...)``); the action
#: harness names the same file in ``GITHUB_WORKFLOW_REF``.
DEFAULT_WORKFLOW = ".github/workflows/tests.yml"


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_zip(files: Mapping[str, bytes | str]) -> bytes:
    """A zip archive holding ``files`` (name -> content), as upload-artifact would produce."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content.encode() if isinstance(content, str) else content)
    return buffer.getvalue()


class Clock:
    """A fake clock: every timestamp is later than the previous one, in creation order."""

    def __init__(self) -> None:
        self._ticks = itertools.count(1)

    def now(self) -> datetime:
        return EPOCH + timedelta(seconds=next(self._ticks))


@dataclass(frozen=True)
class TokenInfo:
    login: str
    write: bool
    user_id: int
    user_type: str = "Bot"
    actions_read: bool = True
    """``False``: a token without ``actions: read`` (the jobs endpoint answers 403)."""


@dataclass
class FakeStep:
    name: str
    started_at: datetime | None
    completed_at: datetime | None
    number: int = 1


@dataclass
class FakeJob:
    """One job of a run (one attempt of it), with its steps."""

    id: int
    name: str
    started_at: datetime | None
    completed_at: datetime | None
    steps: list[FakeStep] = field(default_factory=list)
    run_attempt: int = 1


@dataclass
class FakeComment:
    id: int
    issue_number: int
    body: str
    login: str
    user_id: int
    user_type: str
    created_at: datetime
    updated_at: datetime


@dataclass
class FakeIssue:
    number: int
    title: str
    is_pull: bool
    head_ref: str = "feature"
    base_ref: str = "main"
    head_fork: bool = False
    state: str = "open"
    #: The pull request's current head commit; the event helpers of the tests build "b" * 40.
    head_sha: str = "b" * 40


@dataclass
class FakeArtifact:
    id: int
    name: str
    data: bytes
    run_id: int
    expired: bool
    created_at: datetime

    @property
    def size_in_bytes(self) -> int:
        return len(self.data)

    @property
    def digest(self) -> str:
        """As GitHub lists it (download-artifact v5+ checks it against what it downloaded)."""
        return "sha256:" + hashlib.sha256(self.data).hexdigest()


@dataclass
class FakeRun:
    id: int
    name: str
    path: str | None
    """The workflow file; ``None`` imitates an API that does not say (older GHES versions)."""
    head_branch: str
    head_sha: str
    event: str
    status: str
    conclusion: str | None
    created_at: datetime
    fork: bool
    run_number: int
    jobs: list[FakeJob] = field(default_factory=list)

    def add_job(
        self,
        name: str,
        started_at: datetime | None,
        completed_at: datetime | None = None,
        *,
        steps: Mapping[str, tuple[datetime | None, datetime | None]] | None = None,
        run_attempt: int = 1,
    ) -> FakeJob:
        """A job of this run; ``steps``: name -> (started_at, completed_at), in order."""
        job = FakeJob(
            id=self.id * 1000 + len(self.jobs) + 1,
            name=name,
            started_at=started_at,
            completed_at=completed_at,
            steps=[
                FakeStep(step, start, end, number)
                for number, (step, (start, end)) in enumerate((steps or {}).items(), start=1)
            ],
            run_attempt=run_attempt,
        )
        self.jobs.append(job)
        return job


@dataclass
class FakeRepo:
    owner: str
    name: str
    id: int
    default_branch: str
    _ids: itertools.count[int] = field(repr=False)
    _clock: Clock = field(repr=False)
    private: bool = False
    runs: dict[int, FakeRun] = field(default_factory=dict)
    artifacts: dict[int, FakeArtifact] = field(default_factory=dict)
    issues: dict[int, FakeIssue] = field(default_factory=dict)
    comments: dict[int, FakeComment] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def fork_repo_id(self) -> int:
        """The id of "someone's fork" used as head repository of fork runs."""
        return self.id + 500_000

    # -- building state -------------------------------------------------------------------
    def add_run(
        self,
        *,
        head_branch: str | None = None,
        event: str = "push",
        conclusion: str | None = "success",
        status: str = "completed",
        fork: bool = False,
        name: str = "CI",
        path: str | None = DEFAULT_WORKFLOW,
        created_at: datetime | None = None,
        head_sha: str | None = None,
    ) -> FakeRun:
        run_id = next(self._ids)
        run = FakeRun(
            id=run_id,
            name=name,
            path=path,
            head_branch=self.default_branch if head_branch is None else head_branch,
            head_sha=head_sha or f"{run_id:040x}",
            event=event,
            status=status,
            conclusion=conclusion if status == "completed" else None,
            created_at=created_at or self._clock.now(),
            fork=fork,
            run_number=len(self.runs) + 1,
        )
        self.runs[run.id] = run
        return run

    def add_artifact(
        self,
        run: FakeRun,
        name: str,
        *,
        files: Mapping[str, bytes | str] | None = None,
        data: bytes | None = None,
        expired: bool = False,
        created_at: datetime | None = None,
    ) -> FakeArtifact:
        """An artifact of ``run``: give ``files`` (zipped for you) or raw zip ``data``."""
        payload = data if data is not None else make_zip(files or {})
        artifact = FakeArtifact(
            id=next(self._ids),
            name=name,
            data=payload,
            run_id=run.id,
            expired=expired,
            created_at=created_at or max(run.created_at, self._clock.now()),
        )
        self.artifacts[artifact.id] = artifact
        return artifact

    def add_pull(
        self,
        number: int,
        *,
        head_ref: str = "feature",
        fork: bool = False,
        head_sha: str = "b" * 40,
    ) -> FakeIssue:
        issue = FakeIssue(
            number=number,
            title=f"PR {number}",
            is_pull=True,
            head_ref=head_ref,
            base_ref=self.default_branch,
            head_fork=fork,
            head_sha=head_sha,
        )
        self.issues[number] = issue
        return issue

    def add_issue(self, number: int) -> FakeIssue:
        issue = FakeIssue(number=number, title=f"Issue {number}", is_pull=False)
        self.issues[number] = issue
        return issue

    def add_comment(
        self,
        number: int,
        body: str,
        *,
        login: str = "github-actions[bot]",
        user_type: str = "Bot",
    ) -> FakeComment:
        """A comment already on the issue/PR (made by someone, some time ago)."""
        now = self._clock.now()
        comment = FakeComment(
            id=next(self._ids),
            issue_number=number,
            body=body,
            login=login,
            user_id=zlib.crc32(login.encode()) % 1_000_000,
            user_type=user_type,
            created_at=now,
            updated_at=now,
        )
        self.comments[comment.id] = comment
        return comment

    def comments_on(self, number: int) -> list[FakeComment]:
        """The comments of one issue/PR, oldest first."""
        return sorted(
            (c for c in self.comments.values() if c.issue_number == number),
            key=lambda c: (c.created_at, c.id),
        )

    # -- JSON ---------------------------------------------------------------------------------
    def workflow_id(self, path: str) -> int:
        """A stable id per workflow file, as GitHub gives each workflow of a repository."""
        return zlib.crc32(path.partition("@")[0].encode()) % 1_000_000 + 1

    def owner_json(self, base: str) -> dict[str, Any]:
        return {
            "login": self.owner,
            "id": self.id + 1_000_000,
            "type": "Organization",
            "url": f"{base}/users/{self.owner}",
        }

    def repo_json(self, base: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "node_id": f"R_{self.id}",
            "name": self.name,
            "full_name": self.full_name,
            "owner": self.owner_json(base),
            "private": self.private,
            "fork": False,
            "default_branch": self.default_branch,
            "url": f"{base}/repos/{self.full_name}",
            "html_url": f"https://github.example/{self.full_name}",
        }

    def head_repo_json(self, base: str, fork: bool) -> dict[str, Any]:
        if not fork:
            return self.repo_json(base)
        full = f"forker/{self.name}"
        return {
            "id": self.fork_repo_id,
            "node_id": f"R_{self.fork_repo_id}",
            "name": self.name,
            "full_name": full,
            "owner": {"login": "forker", "id": 42, "type": "User"},
            "private": False,
            "fork": True,
            "url": f"{base}/repos/{full}",
            "html_url": f"https://github.example/{full}",
        }

    def run_json(self, base: str, run: FakeRun) -> dict[str, Any]:
        url = f"{base}/repos/{self.full_name}/actions/runs/{run.id}"
        data: dict[str, Any] = {
            "id": run.id,
            "name": run.name,
            "node_id": f"WFR_{run.id}",
            "head_branch": run.head_branch,
            "head_sha": run.head_sha,
            "run_number": run.run_number,
            "event": run.event,
            "status": run.status,
            "conclusion": run.conclusion,
            "workflow_id": self.workflow_id(run.path or run.name),
            "url": url,
            "html_url": f"https://github.example/{self.full_name}/actions/runs/{run.id}",
            "artifacts_url": f"{url}/artifacts",
            "pull_requests": [],
            "created_at": iso(run.created_at),
            "updated_at": iso(run.created_at),
            "run_started_at": iso(run.created_at),
            "repository": self.repo_json(base),
            "head_repository": self.head_repo_json(base, run.fork),
        }
        if run.path is not None:
            data["path"] = run.path
        return data

    def job_json(self, base: str, run: FakeRun, job: FakeJob) -> dict[str, Any]:
        def moment(value: datetime | None) -> str | None:
            return None if value is None else iso(value)

        def state(end: datetime | None) -> dict[str, Any]:
            done = end is not None
            return {
                "status": "completed" if done else "in_progress",
                "conclusion": "success" if done else None,
            }

        return {
            "id": job.id,
            "run_id": run.id,
            "run_attempt": job.run_attempt,
            "url": f"{base}/repos/{self.full_name}/actions/jobs/{job.id}",
            "head_sha": run.head_sha,
            "name": job.name,
            **state(job.completed_at),
            "started_at": moment(job.started_at),
            "completed_at": moment(job.completed_at),
            "steps": [
                {
                    "name": step.name,
                    "number": step.number,
                    **state(step.completed_at),
                    "started_at": moment(step.started_at),
                    "completed_at": moment(step.completed_at),
                }
                for step in job.steps
            ],
            "labels": ["ubuntu-latest"],
        }

    def artifact_json(
        self, base: str, artifact: FakeArtifact, *, with_run: bool = True
    ) -> dict[str, Any]:
        """``with_run=False`` imitates old GHES versions whose artifacts do not name their run."""
        run = self.runs[artifact.run_id]
        url = f"{base}/repos/{self.full_name}/actions/artifacts/{artifact.id}"
        expires = artifact.created_at + timedelta(days=90)
        data: dict[str, Any] = {
            "id": artifact.id,
            "node_id": f"MDg6QXJ0aWZhY3Q{artifact.id}",
            "name": artifact.name,
            "size_in_bytes": artifact.size_in_bytes,
            "url": url,
            "archive_download_url": f"{url}/zip",
            "digest": artifact.digest,
            "expired": artifact.expired,
            "created_at": iso(artifact.created_at),
            "updated_at": iso(artifact.created_at),
            "expires_at": iso(expires),
        }
        if with_run:
            data["workflow_run"] = {
                "id": run.id,
                "repository_id": self.id,
                "head_repository_id": self.fork_repo_id if run.fork else self.id,
                "head_branch": run.head_branch,
                "head_sha": run.head_sha,
            }
        return data

    def issue_json(self, base: str, issue: FakeIssue) -> dict[str, Any]:
        url = f"{base}/repos/{self.full_name}/issues/{issue.number}"
        data: dict[str, Any] = {
            "id": issue.number + 7_000_000,
            "node_id": f"I_{issue.number}",
            "number": issue.number,
            "title": issue.title,
            "state": issue.state,
            "url": url,
            "html_url": f"https://github.example/{self.full_name}/issues/{issue.number}",
            "comments_url": f"{url}/comments",
            "repository_url": f"{base}/repos/{self.full_name}",
            "user": {"login": "contributor", "id": 7, "type": "User"},
            "comments": len(self.comments_on(issue.number)),
            "body": "",
        }
        if issue.is_pull:
            data["pull_request"] = {"url": f"{base}/repos/{self.full_name}/pulls/{issue.number}"}
        return data

    def pull_json(self, base: str, issue: FakeIssue) -> dict[str, Any]:
        url = f"{base}/repos/{self.full_name}/pulls/{issue.number}"
        return {
            "id": issue.number + 8_000_000,
            "node_id": f"PR_{issue.number}",
            "number": issue.number,
            "title": issue.title,
            "state": issue.state,
            "url": url,
            "html_url": f"https://github.example/{self.full_name}/pull/{issue.number}",
            "issue_url": f"{base}/repos/{self.full_name}/issues/{issue.number}",
            "comments_url": f"{base}/repos/{self.full_name}/issues/{issue.number}/comments",
            "user": {"login": "contributor", "id": 7, "type": "User"},
            "head": {
                "ref": issue.head_ref,
                "sha": issue.head_sha,
                "repo": self.head_repo_json(base, issue.head_fork),
            },
            "base": {
                "ref": issue.base_ref,
                "sha": "0" * 40,
                "repo": self.repo_json(base),
            },
        }

    def comment_json(self, base: str, comment: FakeComment) -> dict[str, Any]:
        return {
            "id": comment.id,
            "node_id": f"IC_{comment.id}",
            "url": f"{base}/repos/{self.full_name}/issues/comments/{comment.id}",
            "html_url": (
                f"https://github.example/{self.full_name}/pull/{comment.issue_number}"
                f"#issuecomment-{comment.id}"
            ),
            "issue_url": f"{base}/repos/{self.full_name}/issues/{comment.issue_number}",
            "body": comment.body,
            "user": {
                "login": comment.login,
                "id": comment.user_id,
                "type": comment.user_type,
            },
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.updated_at),
            "author_association": "NONE" if comment.user_type == "Bot" else "MEMBER",
        }
