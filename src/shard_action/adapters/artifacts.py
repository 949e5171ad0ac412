"""Workflow artifacts through the REST API: find the newest trusted one, download, extract safely.

The plan step carries the timing history from run to run as an artifact. It must come from a run
we trust: a *successful* run on the *default branch* of *this* repository. A pull request from a
fork can run on a branch that is also called ``main`` and upload an artifact with the same name;
its run has another head repository, and it must never feed the default branch's history. Expired
artifacts cannot be downloaded and are skipped.

Artifact names are per repository, not per workflow: two workflows that both use the action with
the default name (``tests.yml`` and ``nightly.yml``) upload artifacts that look alike but time
other lanes and tests. So when the current workflow file is known (``GITHUB_WORKFLOW_REF``, see
:func:`workflow_file_from_ref`), only runs of that same file are trusted; without it (local use,
old GitHub Enterprise Server) any workflow's run is, as before.

The artifact actions (``download-artifact``) cannot read other runs' artifacts on GitHub
Enterprise Server, which is why this goes through the REST API with a ``requests`` session from
:mod:`shard_action.adapters.github_http`. A zip download answers 302 to a storage host; the token
is only ever sent to the API's own origin. Extraction refuses absolute paths, ``..``, links and
archives that would unpack beyond a size or member-count bound: the archive may come from a
compromised run, and it is unpacked on the runner.
"""

from __future__ import annotations

import io
import logging
import re
import stat
import tempfile
import zipfile
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, urljoin

import requests

from shard_action.adapters.github_http import (
    GitHubAPIError,
    get_json,
    iter_items,
    redact,
    request,
    same_origin,
)
from shard_action.errors import InputError

log = logging.getLogger(__name__)

DEFAULT_HISTORY_FILE = "history.json"
#: Bounds for unpacking an artifact: far above any real history, far below a full disk.
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_FILES = 1000
#: A member that inflates more than this (and is over 1 MiB) is treated as a zip bomb.
DEFAULT_MAX_RATIO = 200.0
_RATIO_FLOOR = 1024 * 1024
_CHUNK = 64 * 1024


def _workflow_file(path: str | None) -> str | None:
    """A workflow file's path without the ``@ref`` some runs (and every workflow ref) carry."""
    if not path:
        return None
    return path.partition("@")[0].strip() or None


def workflow_file_from_ref(ref: str | None, repo: str) -> str | None:
    """The workflow file of ``GITHUB_WORKFLOW_REF`` (``owner/repo/.github/workflows/x.yml@ref``)
    when it belongs to ``repo``, else ``None``.

    A ref of another repository (``--repo`` pointing elsewhere) says nothing about which of
    *that* repository's workflows wrote the history, so it does not narrow the search.
    """
    if not ref:
        return None
    owner, _, rest = ref.strip().partition("/")
    name, _, path = rest.partition("/")
    if f"{owner}/{name}".lower() != repo.lower():
        return None
    return _workflow_file(path)


@dataclass(frozen=True)
class WorkflowRun:
    """The fields of a workflow run that decide whether we trust what it uploaded.

    ``path`` is the workflow file (``.github/workflows/tests.yml``), ``None`` when the API does
    not say (older GitHub Enterprise Server versions).
    """

    id: int
    head_branch: str | None
    event: str
    status: str
    conclusion: str | None
    created_at: str
    is_fork: bool
    path: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkflowRun:
        head = data.get("head_repository")
        base = data.get("repository")
        if isinstance(head, dict) and isinstance(base, dict) and "id" in head and "id" in base:
            is_fork = head["id"] != base["id"]
        elif isinstance(head, dict):
            is_fork = bool(head.get("fork", False))
        else:
            is_fork = True  # head repository unknown (e.g. deleted fork): do not trust
        path = data.get("path")
        return cls(
            id=int(data["id"]),
            head_branch=data.get("head_branch"),
            event=str(data.get("event") or ""),
            status=str(data.get("status") or ""),
            conclusion=data.get("conclusion"),
            created_at=str(data.get("created_at") or ""),
            is_fork=is_fork,
            path=_workflow_file(path) if isinstance(path, str) else None,
        )


@dataclass(frozen=True)
class Artifact:
    """An artifact as listed by the API; ``run_*`` fields come from its ``workflow_run``
    (absent on old GitHub Enterprise Server versions)."""

    id: int
    name: str
    size_in_bytes: int
    expired: bool
    created_at: str
    run_id: int | None = None
    run_head_branch: str | None = None
    run_is_fork: bool | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Artifact:
        run = data.get("workflow_run")
        run_id = head_branch = is_fork = None
        if isinstance(run, dict) and run.get("id") is not None:
            run_id = int(run["id"])
            head_branch = run.get("head_branch")
            repo_id, head_id = run.get("repository_id"), run.get("head_repository_id")
            if repo_id is not None and head_id is not None:
                is_fork = repo_id != head_id
        return cls(
            id=int(data["id"]),
            name=str(data.get("name") or ""),
            size_in_bytes=int(data.get("size_in_bytes") or 0),
            expired=bool(data.get("expired", False)),
            created_at=str(data.get("created_at") or ""),
            run_id=run_id,
            run_head_branch=head_branch,
            run_is_fork=is_fork,
        )


class SearchLimitReached(GitHubAPIError):
    """The search looked at as many runs as it may and found no trusted artifact.

    That is not "no history": the newest trusted one may lie just beyond the limit (a busy
    default branch, many runs of other workflows or pull requests). The caller must treat it as
    an error, so that no fresh one-run history replaces the real one.
    """


@dataclass(frozen=True)
class ArtifactSearch:
    """The outcome of a search: the artifact and its run, or ``None`` and why."""

    artifact: Artifact | None
    run: WorkflowRun | None
    reason: str
    skipped: dict[str, int]


@dataclass(frozen=True)
class HistoryFetch:
    """Where the history file landed, or ``path=None`` and a reason to show the user."""

    path: Path | None
    reason: str
    artifact: Artifact | None = None
    run: WorkflowRun | None = None


def _repo_url(api_url: str, repo: str) -> str:
    owner, _, name = repo.partition("/")
    if not owner or not name or "/" in name:
        raise InputError(f"repository must be OWNER/NAME, got {repo!r}")
    return f"{api_url.rstrip('/')}/repos/{quote(owner, safe='')}/{quote(name, safe='')}"


def get_default_branch(session: requests.Session, api_url: str, repo: str) -> str:
    data = get_json(session, _repo_url(api_url, repo))
    branch = data.get("default_branch") if isinstance(data, dict) else None
    if not isinstance(branch, str) or not branch:
        raise GitHubAPIError(f"GitHub API: repository {repo} has no default branch in its answer")
    return branch


def _query(per_page: int, **filters: str | None) -> dict[str, str | int]:
    """A list's query: ``per_page`` and each filter that is given."""
    params: dict[str, str | int] = {"per_page": per_page}
    params.update({key: value for key, value in filters.items() if value is not None})
    return params


def list_artifacts(
    session: requests.Session,
    api_url: str,
    repo: str,
    *,
    name: str | None = None,
    run_id: int | None = None,
    per_page: int = 100,
    max_pages: int = 10,
) -> Iterator[Artifact]:
    """The repository's artifacts (or one run's, e.g. a ``workflow_run`` companion reading its
    trigger's) page by page; GitHub lists the newest first."""
    run = f"/runs/{int(run_id)}" if run_id is not None else ""
    url = f"{_repo_url(api_url, repo)}/actions{run}/artifacts"
    params = _query(per_page, name=name)
    for item in iter_items(session, url, "artifacts", params=params, max_pages=max_pages):
        yield Artifact.from_json(item)


def list_runs(
    session: requests.Session,
    api_url: str,
    repo: str,
    *,
    branch: str | None = None,
    status: str | None = None,
    event: str | None = None,
    per_page: int = 100,
    max_pages: int = 10,
) -> Iterator[WorkflowRun]:
    """Workflow runs, newest first, filtered by the API (``status`` may be a conclusion)."""
    params = _query(per_page, branch=branch, status=status, event=event)
    url = f"{_repo_url(api_url, repo)}/actions/runs"
    for item in iter_items(session, url, "workflow_runs", params=params, max_pages=max_pages):
        yield WorkflowRun.from_json(item)


def get_run(session: requests.Session, api_url: str, repo: str, run_id: int) -> WorkflowRun:
    data = get_json(session, f"{_repo_url(api_url, repo)}/actions/runs/{int(run_id)}")
    return WorkflowRun.from_json(data)


def _distrust(
    run: WorkflowRun, branch: str, conclusions: Collection[str], workflow: str | None
) -> str | None:
    """Why we must not use what this run uploaded, or ``None`` when we may.

    ``workflow`` (the current workflow file, or ``None`` when unknown) only rules out a run
    whose own file is known and differs: a run without ``path`` is judged as before.
    """
    if run.is_fork:
        return "from a fork"
    if run.event.startswith("pull_request"):
        return "from a pull request"
    if workflow is not None and run.path is not None and run.path != workflow:
        return "of another workflow"
    if run.head_branch != branch:
        return "on another branch"
    if run.status != "completed" or run.conclusion not in conclusions:
        return "from an unsuccessful run"
    return None


@dataclass(frozen=True)
class _Search:
    """One search's fixed facts (where, what, how far) and the answers every way of searching
    gives: found, none, or the limit reached."""

    session: requests.Session
    api_url: str
    repo: str
    name: str | None
    prefix: str | None
    branch: str
    workflow: str | None
    conclusions: Collection[str]
    per_page: int
    max_runs: int

    @property
    def what(self) -> str:
        if self.name is not None:
            return f"artifact named {self.name!r}"
        return f"artifact named {self.prefix!r}*"

    def found(self, artifact: Artifact, run: WorkflowRun, skipped: Counter[str]) -> ArtifactSearch:
        reason = f"{self.what} from run {run.id} on {self.branch!r} ({artifact.created_at})"
        return ArtifactSearch(artifact, run, reason, dict(skipped))

    def nothing(self, skipped: Counter[str]) -> str:
        """Why nothing was found, with what was looked at and why each was passed over."""
        what, repo, branch = self.what, self.repo, self.branch
        if not skipped:
            return f"no {what} in {repo} yet"
        seen = sum(skipped.values())
        parts = ", ".join(f"{count} {why}" for why, count in sorted(skipped.items()))
        of = f" of {self.workflow}" if self.workflow is not None else ""
        return (
            f"no {what} from a successful run{of} on branch {branch!r} of {repo} "
            f"(looked at {seen}: {parts})"
        )

    def limit_reached(self, skipped: Counter[str]) -> SearchLimitReached:
        return SearchLimitReached(
            f"{self.nothing(skipped)}: the search stopped at its limit of {self.max_runs} runs, "
            "so an older trusted one may exist"
        )

    def in_run(self, run: WorkflowRun, skipped: Counter[str]) -> ArtifactSearch | None:
        """The newest unexpired artifact of ``run`` if the run is trusted; what the run or its
        artifacts lack is counted in ``skipped``."""
        why = _distrust(run, self.branch, self.conclusions, self.workflow)
        if why is not None:
            skipped[f"run {why}"] += 1
            return None
        listed = list_artifacts(
            self.session, self.api_url, self.repo, run_id=run.id, name=self.name
        )
        found = [a for a in listed if self.prefix is None or a.name.startswith(self.prefix)]
        live = [a for a in found if not a.expired]
        if len(live) < len(found):  # no "0 expired" in the notice
            skipped["expired"] += len(found) - len(live)
        if not live:
            skipped["run without it"] += 1
            return None
        return self.found(max(live, key=lambda a: (a.created_at, a.id)), run, skipped)


@dataclass
class _Listing:
    """Candidates from the artifact listing, checked batch by batch against their runs."""

    search: _Search
    skipped: Counter[str] = field(default_factory=Counter)
    runs: dict[int, WorkflowRun] = field(default_factory=dict)
    without_run: int = 0

    def first(self, artifacts: Iterable[Artifact]) -> ArtifactSearch | None:
        """The newest trusted one, a page at a time (newest first within a page)."""
        prefix, per_page = self.search.prefix, self.search.per_page
        batch: list[Artifact] = []
        for artifact in artifacts:
            if prefix is not None and not artifact.name.startswith(prefix):
                continue
            batch.append(artifact)
            if len(batch) >= per_page:
                if (found := self.check(batch)) is not None:
                    return found
                batch = []
        return self.check(batch)

    def check(self, batch: list[Artifact]) -> ArtifactSearch | None:
        """The newest trusted artifact of ``batch``; every other one counted by why not."""
        search, skipped = self.search, self.skipped
        for artifact in sorted(batch, key=lambda a: (a.created_at, a.id), reverse=True):
            if artifact.expired:
                skipped["expired"] += 1
                continue
            if artifact.run_id is None:
                self.without_run += 1
                continue
            if artifact.run_is_fork:
                skipped["from a fork"] += 1
                continue
            if artifact.run_head_branch is not None and artifact.run_head_branch != search.branch:
                skipped["on another branch"] += 1
                continue
            run = self.runs.get(artifact.run_id)
            if run is None:
                if len(self.runs) >= search.max_runs:
                    skipped["beyond the search limit"] += 1
                    continue
                run = get_run(search.session, search.api_url, search.repo, artifact.run_id)
                self.runs[artifact.run_id] = run
            why = _distrust(run, search.branch, search.conclusions, search.workflow)
            if why is not None:
                skipped[why] += 1
                continue
            return search.found(artifact, run, skipped)
        return None


def find_latest_artifact(
    session: requests.Session,
    api_url: str,
    repo: str,
    *,
    name: str | None = None,
    prefix: str | None = None,
    branch: str | None = None,
    workflow: str | None = None,
    conclusions: Collection[str] = ("success",),
    per_page: int = 100,
    max_pages: int = 10,
    max_runs: int = 50,
) -> ArtifactSearch:
    """The newest unexpired artifact called ``name`` (or starting with ``prefix``) uploaded by a
    successful, non-fork run on ``branch`` (default: the repository's default branch) of the
    workflow file ``workflow`` (``.github/workflows/tests.yml``; ``None``: of any workflow).

    With ``workflow`` known, walks that workflow's own successful runs on ``branch`` (the
    workflow runs endpoint: runs of other workflows and of pull requests never use up the
    search) and looks into each one's artifacts; when the API does not know the workflow (404)
    or its last ``max_runs`` runs lack it, lists artifacts by name and checks each candidate's
    run. Looks at ``max_runs`` runs at most
    so a repository with years of artifacts stays cheap; reaching that limit without a trusted
    artifact raises :class:`SearchLimitReached` (it is not the same as "none yet").
    """
    if (name is None) == (prefix is None):
        raise ValueError("give exactly one of name= and prefix=")
    search = _Search(
        session, api_url, repo, name, prefix, branch or get_default_branch(session, api_url, repo),
        _workflow_file(workflow), conclusions, per_page, max_runs,
    )  # fmt: skip
    if search.workflow is not None:
        via_workflow = _find_via_workflow_runs(search, search.workflow)
        if via_workflow is not None:
            return via_workflow
    listing = _Listing(search)
    artifacts = list_artifacts(
        session, api_url, repo, name=name, per_page=per_page, max_pages=max_pages
    )
    if (found := listing.first(artifacts)) is not None:
        return found
    skipped = listing.skipped
    if skipped["beyond the search limit"]:
        raise search.limit_reached(skipped)
    if listing.without_run:
        # Old GitHub Enterprise Server: artifacts do not name their run; walk the runs instead.
        return _find_via_runs(search)
    return ArtifactSearch(None, None, search.nothing(skipped), dict(skipped))


def _find_via_runs(search: _Search) -> ArtifactSearch:
    """Walk the branch's runs, newest first, and look into each trusted one's artifacts.

    The runs are listed for the whole repository, not per workflow, so that runs of another
    workflow show up in ``skipped`` (and the notice says why nothing was found).
    """
    skipped: Counter[str] = Counter()
    max_pages = search.max_runs // search.per_page + 1  # one run past the limit shows more
    runs = list_runs(
        search.session, search.api_url, search.repo, branch=search.branch,
        per_page=search.per_page, max_pages=max_pages,
    )  # fmt: skip
    for looked, run in enumerate(runs):
        if looked >= search.max_runs:
            raise search.limit_reached(skipped)
        if (found := search.in_run(run, skipped)) is not None:
            return found
    return ArtifactSearch(None, None, search.nothing(skipped), dict(skipped))


def _find_via_workflow_runs(search: _Search, workflow: str) -> ArtifactSearch | None:
    """Walk the workflow's own runs on the branch, newest first; ``None`` when the API does not
    know the workflow (404: a workflow file it has no runs of, or an old GitHub Enterprise
    Server) or ``max_runs`` runs did not have it, so the caller falls back to the artifact
    listing.

    The workflow is named by its file name, which GitHub accepts in place of the numeric id.
    Every run is still judged by :func:`_distrust` (fork, pull request, branch, conclusion).
    """
    file_name = PurePosixPath(workflow).name
    quoted = quote(file_name, safe="")
    url = f"{_repo_url(search.api_url, search.repo)}/actions/workflows/{quoted}/runs"
    one = next(iter(search.conclusions)) if len(search.conclusions) == 1 else None
    params = _query(search.per_page, branch=search.branch, status=one)
    skipped: Counter[str] = Counter()
    looked = 0
    max_pages = search.max_runs // search.per_page + 1
    try:
        for item in iter_items(
            search.session, url, "workflow_runs", params=params, max_pages=max_pages
        ):
            run = WorkflowRun.from_json(item)
            if looked >= search.max_runs:
                # Many runs without it (uploads skipped, expired): the listing by name goes
                # straight to the artifacts that exist.
                log.info("no %s in the last %d runs of %s: listing the artifacts", search.what,
                         search.max_runs, workflow)  # fmt: skip
                return None
            looked += 1
            if (found := search.in_run(run, skipped)) is not None:
                return found
    except GitHubAPIError as exc:
        if exc.status == 404 and looked == 0:
            log.info("the API does not know workflow %s: searching the artifacts", file_name)
            return None
        raise
    reason = search.nothing(skipped)
    if not skipped:
        reason = (
            f"no {search.what} from a successful run of {workflow} on branch {search.branch!r} "
            f"of {search.repo} (looked at {looked} such runs)"
        )
    return ArtifactSearch(None, None, reason, dict(skipped))


class _Transient(Exception):
    """A download broke off midway; starting again from the API is worth a try."""


def download_artifact(
    session: requests.Session,
    api_url: str,
    repo: str,
    artifact_id: int,
    dest: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    attempts: int = 3,
) -> Path:
    """Download an artifact's zip to ``dest`` (a file path) and return it.

    The API answers 302 to a storage host with a signed URL; that host gets no ``Authorization``
    header (it would refuse it, and it must never see the token). A body cut off midway is
    fetched again from the start (``attempts``), asking the API for a fresh signed URL.
    """
    url = f"{_repo_url(api_url, repo)}/actions/artifacts/{int(artifact_id)}/zip"
    last: Exception | None = None
    for _ in range(max(1, attempts)):
        try:
            return _download_once(
                session,
                url,
                api_url=api_url,
                dest=dest,
                max_bytes=max_bytes,
                artifact_id=artifact_id,
            )
        except _Transient as exc:
            last = exc
            log.info(
                "artifact %s download broke off, starting again: %s", artifact_id, redact(str(exc))
            )
    raise GitHubAPIError(f"downloading artifact {artifact_id} from {repo} failed: {last}", url=url)


def _download_once(
    session: requests.Session,
    url: str,
    *,
    api_url: str,
    dest: Path,
    max_bytes: int,
    artifact_id: int,
) -> Path:
    response = request(session, "GET", url, allow_redirects=False, stream=True)
    trusted = True
    for _ in range(5):
        if not response.is_redirect:
            break
        location = urljoin(response.url, response.headers["Location"])
        response.close()
        trusted = trusted and same_origin(location, api_url)
        # ``None`` removes the session's header for this request only.
        headers = None if trusted else {"Authorization": None}
        response = request(
            session, "GET", location, headers=headers, allow_redirects=False, stream=True
        )
    if response.is_redirect:
        response.close()
        raise GitHubAPIError(f"artifact {artifact_id}: too many redirects", url=url)
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".part")
    written = 0
    try:
        with response, partial.open("wb") as out:
            for chunk in response.iter_content(_CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise InputError(
                        f"the download is larger than the limit of {max_bytes} bytes",
                        source=f"artifact {artifact_id}",
                    )
                out.write(chunk)
    except (requests.RequestException, ConnectionError) as exc:
        partial.unlink(missing_ok=True)
        raise _Transient(f"{type(exc).__name__}: {exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(dest)
    return dest


# -- safe extraction ---------------------------------------------------------------------------
_DRIVE = re.compile(r"^[A-Za-z]:")


def _member_parts(name: str) -> tuple[str, ...] | None:
    """The path parts of a member name, or ``None`` if it must not be extracted."""
    if "\x00" in name:
        return None
    normal = name.replace("\\", "/")
    if normal.startswith("/") or _DRIVE.match(normal):
        return None
    parts = tuple(p for p in PurePosixPath(normal).parts if p not in ("", "."))
    if ".." in parts:
        return None
    return parts


def _unsafe(label: str, member: str, why: str) -> InputError:
    return InputError(f"refusing to extract member {member!r}: {why}", source=label)


def _checked_parts(name: str, info: zipfile.ZipInfo) -> tuple[str, ...]:
    """A member's path parts, after refusing what is never extracted: a path out of the
    destination, a link or another non-regular file, an encrypted member."""
    parts = _member_parts(info.filename)
    if parts is None:
        raise _unsafe(name, info.filename, "absolute path or '..' leaves the destination")
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        raise _unsafe(name, info.filename, "symbolic links are not extracted")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise _unsafe(name, info.filename, "not a regular file or folder")
    if info.flag_bits & 0x1:
        raise _unsafe(name, info.filename, "encrypted")
    return parts


def _check_size(
    name: str, info: zipfile.ZipInfo, declared: int, *, max_bytes: int, max_ratio: float
) -> None:
    """Refuse a total over ``max_bytes`` so far, and a large member that inflates too much."""
    if declared > max_bytes:
        raise InputError(
            f"unpacks to more than the limit of {max_bytes} bytes (at member {info.filename!r})",
            source=name,
        )
    if info.file_size > _RATIO_FLOOR and info.file_size > max_ratio * max(info.compress_size, 1):
        raise _unsafe(
            name,
            info.filename,
            f"inflates {info.file_size} bytes from {info.compress_size} "
            f"(more than {max_ratio:g} times): a zip bomb?",
        )


def _plan_members(
    members: list[zipfile.ZipInfo], name: str, *, max_bytes: int, max_ratio: float
) -> list[tuple[zipfile.ZipInfo, tuple[str, ...]]]:
    """Every member checked before the first byte is written; what to write, in order."""
    plan: list[tuple[zipfile.ZipInfo, tuple[str, ...]]] = []
    seen: set[tuple[str, ...]] = set()
    declared = 0
    for info in members:
        parts = _checked_parts(name, info)
        if not parts:
            continue
        key = tuple(p.casefold() for p in parts)
        if key in seen and not info.is_dir():
            raise _unsafe(name, info.filename, "appears twice")
        seen.add(key)
        if not info.is_dir():
            declared += info.file_size
            _check_size(name, info, declared, max_bytes=max_bytes, max_ratio=max_ratio)
        plan.append((info, parts))
    return plan


def safe_extract(
    archive: Path | bytes,
    dest: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_files: int = DEFAULT_MAX_FILES,
    max_ratio: float = DEFAULT_MAX_RATIO,
    label: str | None = None,
) -> list[Path]:
    """Unpack a zip archive into ``dest`` and return the files written.

    Refuses (with an :class:`InputError` naming the archive and the member) absolute paths, drive
    letters, ``..``, symbolic links and other non-regular files, duplicate names, encrypted
    members, more than ``max_files`` members, more than ``max_bytes`` in total once unpacked, and
    members over 1 MiB that inflate more than ``max_ratio`` times. Everything is checked before
    the first byte is written; the sizes are counted again while writing, and a failure midway
    removes what was written.
    """
    name = label or (str(archive) if isinstance(archive, Path) else "zip archive")
    try:
        source = zipfile.ZipFile(archive if isinstance(archive, Path) else io.BytesIO(archive))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"not a readable zip archive ({exc})", source=name) from exc
    with source:
        members = source.infolist()
        if len(members) > max_files:
            raise InputError(
                f"{len(members)} members, more than the limit of {max_files}", source=name
            )
        plan = _plan_members(members, name, max_bytes=max_bytes, max_ratio=max_ratio)
        return _write_members(source, plan, dest, name, max_bytes)


def _write_members(
    source: zipfile.ZipFile,
    plan: list[tuple[zipfile.ZipInfo, tuple[str, ...]]],
    dest: Path,
    name: str,
    max_bytes: int,
) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    written: list[Path] = []
    total = 0
    try:
        for info, parts in plan:
            target = root.joinpath(*parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
            # A link already inside ``dest`` could still lead out; resolve and check.
            if not target.resolve().is_relative_to(root):
                raise _unsafe(name, info.filename, "leads outside the destination")
            if info.is_dir():
                continue
            if target.is_symlink() or (target.exists() and not target.is_file()):
                raise _unsafe(name, info.filename, "the destination holds a link or folder there")
            with source.open(info) as member, target.open("wb") as out:
                written.append(target)
                while chunk := member.read(_CHUNK):
                    total += len(chunk)
                    if total > max_bytes:
                        raise InputError(
                            f"unpacks to more than the limit of {max_bytes} bytes "
                            f"(at member {info.filename!r})",
                            source=name,
                        )
                    out.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        _remove(written)
        raise InputError(f"member could not be extracted ({exc})", source=name) from exc
    except BaseException:
        _remove(written)
        raise
    return written


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


# -- the history ---------------------------------------------------------------------------------
def fetch_history(
    session: requests.Session,
    api_url: str,
    repo: str,
    *,
    artifact_name: str,
    dest: Path,
    default_branch: str | None = None,
    workflow: str | None = None,
    filename: str = DEFAULT_HISTORY_FILE,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_files: int = DEFAULT_MAX_FILES,
) -> HistoryFetch:
    """Download and unpack the newest trusted history artifact into ``dest``.

    ``workflow`` is the current workflow file (see :func:`workflow_file_from_ref`): another
    workflow's history times other tests. ``path`` is ``dest/filename`` (or the archive's only
    file); ``None`` with ``reason`` when there is none yet. Raises :class:`GitHubAPIError` when
    the API fails for good and :class:`InputError` when the artifact is unsafe or does not hold
    a history file; the caller decides whether to plan from estimates instead.
    """
    search = find_latest_artifact(
        session, api_url, repo, name=artifact_name, branch=default_branch, workflow=workflow
    )
    if search.artifact is None:
        return HistoryFetch(None, search.reason)
    artifact = search.artifact
    label = f"artifact {artifact.name!r} (id {artifact.id}, run {artifact.run_id})"
    with tempfile.TemporaryDirectory(prefix="shard-action-artifact-") as scratch:
        archive = download_artifact(
            session, api_url, repo, artifact.id, Path(scratch) / "artifact.zip", max_bytes=max_bytes
        )
        files = safe_extract(archive, dest, max_bytes=max_bytes, max_files=max_files, label=label)
    wanted = dest.resolve() / filename
    if wanted in files:
        path = wanted
    elif len(files) == 1:
        path = files[0]
    else:
        listing = ", ".join(str(f.relative_to(dest.resolve())) for f in files) or "nothing"
        raise InputError(f"holds no {filename!r} (it holds: {listing})", source=label)
    return HistoryFetch(path, search.reason, artifact, search.run)


def fetch_latest_history(
    session: requests.Session,
    api_url: str,
    repo: str,
    *,
    artifact_name: str,
    default_branch: str | None = None,
    workflow: str | None = None,
    dest: Path,
    filename: str = DEFAULT_HISTORY_FILE,
) -> Path | None:
    """The history file's path, or ``None`` when there is none yet (the reason is logged at
    INFO; use :func:`fetch_history` to show it to the user)."""
    fetched = fetch_history(
        session,
        api_url,
        repo,
        artifact_name=artifact_name,
        dest=dest,
        default_branch=default_branch,
        workflow=workflow,
        filename=filename,
    )
    log.info("history: %s", fetched.reason)
    return fetched.path
