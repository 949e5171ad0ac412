"""A fake GitHub REST API over real HTTP on 127.0.0.1, for driving the real PyGithub and requests.

Two host names reach the same server: the API answers on ``127.0.0.1:<port>`` and artifact
downloads redirect to a "storage host" at ``localhost:<port>``, which (like GitHub's blob storage)
refuses a request that carries an ``Authorization`` header. Tokens: a write token, a read-only
token (writes answer 403 "Resource not accessible by integration", as for fork PRs and
Dependabot), anything else answers 401. ``GET /user`` answers 403 as it does for
``GITHUB_TOKEN``. Faults (:mod:`tests.fakegithub.faults`) are injected per request and every
request is logged, so a test can assert on what was sent.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.fakegithub.faults import (
    DEFAULT_MIX,
    SECONDARY_MESSAGE,
    Fault,
    FaultRule,
    rule,
)
from tests.fakegithub.results import (
    PREFIX,
    UPLOAD_PATH,
    ResultsService,
    handle_twirp,
    handle_upload,
)
from tests.fakegithub.state import Clock, FakeArtifact, FakeRepo, TokenInfo, iso

WRITE_TOKEN = "ghs_FakeWriteToken0123456789abcdefABCDEF01"
READ_TOKEN = "ghs_FakeReadOnlyToken0123456789abcdefABCD02"
BOT_LOGIN = "github-actions[bot]"
COMMENT_LIMIT = 65_536
NO_PERMISSION = "Resource not accessible by integration"
CONCLUSIONS = frozenset(
    {"action_required", "cancelled", "failure", "neutral", "skipped", "stale", "success",
     "timed_out"}
)  # fmt: skip


@dataclass
class RequestRecord:
    """One request as the server saw it (headers as sent, body raw)."""

    method: str
    host: Literal["api", "blob"]
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    login: str | None = None
    status: int | None = None
    fault: Fault | None = None

    @property
    def authorization(self) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == "authorization":
                return value
        return None


@dataclass
class Reply:
    status: int
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        if self.payload is None:
            return b""
        if isinstance(self.payload, bytes):
            return self.payload
        return json.dumps(self.payload).encode()


def _message(status: int, message: str, **extra: Any) -> Reply:
    return Reply(
        status, {"message": message, "documentation_url": "https://docs.github.com/rest", **extra}
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeGitHub

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self.open_sockets: set[socket.socket] = set()
        self.to_reset: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
            reset = request in self.to_reset
            self.to_reset.discard(request)
        if reset:
            request.close()  # SO_LINGER 0: the peer sees a reset, not an orderly close
            return
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout, reset) is part of the game, not an error."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def drop_all_connections(self) -> None:
        with self.sockets_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 30
    # Headers and body go out in two writes; with Nagle on, delayed ACKs add ~40 ms to each.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        hostname = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        record = RequestRecord(
            method=self.command,
            host="blob" if hostname == fake.blob_hostname else "api",
            path=split.path,
            query=parse_qs(split.query),
            headers=dict(self.headers.items()),
            body=body,
        )
        fake._log(record)
        if fake.latency:
            time.sleep(fake.latency)
        fault = fake._draw_fault(record)
        record.fault = fault
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        if fault is not None and fault.kind == "held":
            fake.released.wait(timeout=30)
        if fault is not None and not fault.performs:
            if fault.kind == "reset":
                self._reset()
                return
            self._send(record, _fault_reply(fault))
            return
        reply = fake._route(record)
        if fault is not None and fault.kind == "applied":
            self._send(record, _fault_reply(Fault.error(fault.status)))
        elif fault is not None and fault.kind == "applied-reset":
            self._reset()
        else:
            self._send(record, reply)

    def _reset(self) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with self.server.sockets_lock:
            self.server.to_reset.add(self.connection)
        self.close_connection = True

    def _send(self, record: RequestRecord, reply: Reply) -> None:
        record.status = reply.status
        payload = reply.encode()
        self.send_response(reply.status)
        if reply.payload is not None and not isinstance(reply.payload, bytes):
            self.send_header("Content-Type", "application/json; charset=utf-8")
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)


def _fault_reply(fault: Fault) -> Reply:
    if fault.kind == "too-many":
        reply = _message(429, "API rate limit exceeded (fake)")
    elif fault.kind == "secondary":
        reply = _message(403, SECONDARY_MESSAGE)
    else:
        reply = _message(fault.status, f"Server Error {fault.status} (fake)")
    if fault.retry_after is not None:
        reply.headers["Retry-After"] = fault.retry_after
    return reply


Route = Callable[["FakeGitHub", RequestRecord, re.Match[str]], Reply]
_ROUTES: list[tuple[str, re.Pattern[str], Route]] = []


def _route(method: str, pattern: str) -> Callable[[Route], Route]:
    def register(func: Route) -> Route:
        _ROUTES.append((method, re.compile(f"^{pattern}$"), func))
        return func

    return register


_REPO = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"


class FakeGitHub:
    """The fake API server. Use as a context manager (or ``start()``/``stop()``).

    ``api_prefix`` imitates GitHub Enterprise Server (``/api/v3``). ``tokens`` maps token ->
    :class:`TokenInfo`; by default :data:`WRITE_TOKEN` and :data:`READ_TOKEN` act as
    ``github-actions[bot]``.
    """

    blob_hostname = "localhost"

    def __init__(
        self,
        *,
        api_prefix: str = "",
        tokens: Mapping[str, TokenInfo] | None = None,
    ) -> None:
        self.api_prefix = api_prefix.rstrip("/")
        self.tokens: dict[str, TokenInfo] = dict(
            tokens
            if tokens is not None
            else {
                WRITE_TOKEN: TokenInfo(BOT_LOGIN, write=True, user_id=41898282),
                READ_TOKEN: TokenInfo(BOT_LOGIN, write=False, user_id=41898282),
            }
        )
        self.repos: dict[str, FakeRepo] = {}
        self.requests: list[RequestRecord] = []
        self.rules: list[FaultRule] = []
        self.latency = 0.0
        #: Artifacts without ``workflow_run`` (as old GitHub Enterprise Server lists them).
        self.legacy_artifacts = False
        #: ``/actions/workflows/{id}/runs`` answers 404 (a workflow the API does not know).
        self.no_workflow_runs_endpoint = False
        #: The Actions artifact service (v4) for the official artifact actions under ``act``.
        self.results = ResultsService()
        self.released = threading.Event()
        self._ids = itertools.count(1001)
        self._clock = Clock()
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> FakeGitHub:
        self._server = _Server(self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="fake-github",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut every open connection: the API is now *down*."""
        if self._server is None:
            return
        self.released.set()
        self._server.shutdown()
        self._server.server_close()
        self._server.drop_all_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """What ``GITHUB_API_URL`` would be."""
        return f"{self.root_url}{self.api_prefix}"

    @property
    def blob_root(self) -> str:
        """The storage host's origin."""
        return f"http://{self.blob_hostname}:{self.port}"

    @property
    def blob_url(self) -> str:
        return f"{self.blob_root}/_blob"

    def signed_download_url(self, artifact: FakeArtifact) -> str:
        """Where an artifact's zip is served, signed like an Azure SAS URL."""
        signed = f"sv=2021-12-02&se=2099-01-01&sig={_signature(artifact.id)}"
        return f"{self.blob_url}/{artifact.id}?{signed}"

    # -- state --------------------------------------------------------------------------------
    def add_repo(self, full_name: str, *, default_branch: str = "main") -> FakeRepo:
        owner, name = full_name.split("/")
        with self._lock:
            repo = FakeRepo(
                owner=owner,
                name=name,
                id=next(self._ids),
                default_branch=default_branch,
                _ids=self._ids,
                _clock=self._clock,
            )
            self.repos[full_name.lower()] = repo
            return repo

    def add_token(
        self,
        token: str,
        login: str,
        *,
        write: bool = True,
        user_type: str = "User",
        actions_read: bool = True,
    ) -> None:
        self.tokens[token] = TokenInfo(
            login,
            write=write,
            user_id=len(self.tokens) + 1,
            user_type=user_type,
            actions_read=actions_read,
        )

    # -- faults -------------------------------------------------------------------------------
    def script(
        self,
        faults: Iterable[Fault | None],
        *,
        methods: Iterable[str] | None = None,
        path: str | None = None,
        host: Literal["api", "blob"] | None = None,
    ) -> FaultRule:
        """Scripted faults: one entry per matching request, ``None`` lets one through."""
        added = rule(methods=methods, path=path, host=host, script=faults)
        self.rules.append(added)
        return added

    def fault_rate(
        self,
        rate: float,
        *,
        seed: int,
        kinds: Sequence[Fault] = DEFAULT_MIX,
        methods: Iterable[str] | None = None,
        path: str | None = None,
        host: Literal["api", "blob"] | None = None,
    ) -> FaultRule:
        """``rate`` of matching requests get a fault from ``kinds``, drawn by ``Random(seed)``."""
        added = rule(methods=methods, path=path, host=host, rate=rate, kinds=kinds, seed=seed)
        self.rules.append(added)
        return added

    def clear_faults(self) -> None:
        self.rules.clear()

    def release_held(self) -> None:
        """Let every request stopped by a ``held`` fault go on (and land)."""
        self.released.set()

    def _draw_fault(self, record: RequestRecord) -> Fault | None:
        path = self._api_path(record.path) if record.host == "api" else record.path
        for candidate in list(self.rules):
            if candidate.matches(record.method, path or record.path, record.host):
                fault = candidate.draw()
                if fault is not None:
                    return fault
        return None

    # -- log ----------------------------------------------------------------------------------
    def _log(self, record: RequestRecord) -> None:
        with self._lock:
            self.requests.append(record)

    def requests_to(
        self, method: str | None = None, path: str | None = None
    ) -> list[RequestRecord]:
        """Logged requests by method and a regex searched in the path (prefix included)."""
        pattern = None if path is None else re.compile(path)
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method.upper())
                and (pattern is None or pattern.search(r.path))
            ]

    # -- routing --------------------------------------------------------------------------------
    def _api_path(self, path: str) -> str | None:
        if not self.api_prefix:
            return path
        if path == self.api_prefix or path.startswith(self.api_prefix + "/"):
            return path[len(self.api_prefix) :] or "/"
        return None

    def _route(self, record: RequestRecord) -> Reply:
        with self._lock:
            if record.host == "blob":
                if record.path.startswith(UPLOAD_PATH):
                    return Reply(*handle_upload(self, record))
                return self._blob(record)
            if record.path.startswith(PREFIX):
                return Reply(*handle_twirp(self, record))  # authenticated by the runtime token
            path = self._api_path(record.path)
            if path is None:
                return _message(404, "Not Found")
            token = _token_of(record.headers)
            if token is None:
                return _message(401, "Requires authentication")
            info = self.tokens.get(token)
            if info is None:
                return _message(401, "Bad credentials")
            record.login = info.login
            method = "GET" if record.method == "HEAD" else record.method
            for route_method, pattern, func in _ROUTES:
                match = pattern.match(path)
                if match is None or route_method != method:
                    continue
                if method != "GET" and not info.write:
                    return _message(403, NO_PERMISSION)
                return func(self, record, match)
            return _message(404, "Not Found")  # GitHub answers 404 for unknown verbs too

    def _blob(self, record: RequestRecord) -> Reply:
        # Like an Azure SAS URL, the signature travels in the query string (``sig``).
        match = re.match(r"^/_blob/(\d+)$", record.path)
        signature = record.query.get("sig", [""])[-1]
        if match is None or record.method != "GET":
            return Reply(404, b"<Error><Code>BlobNotFound</Code></Error>")
        if record.authorization is not None:
            # GitHub's storage answers this way when a client forwards the API token.
            return Reply(
                400,
                b"<Error><Code>InvalidAuthenticationInfo</Code>"
                b"<Message>Authentication information is not given in the correct format."
                b"</Message></Error>",
                {"Content-Type": "application/xml"},
            )
        artifact_id = int(match.group(1))
        for repo in self.repos.values():
            artifact = repo.artifacts.get(artifact_id)
            if artifact is not None and _signature(artifact.id) == signature:
                return Reply(200, artifact.data, {"Content-Type": "application/zip"})
        return Reply(403, b"<Error><Code>AuthenticationFailed</Code></Error>")

    def _repo(self, match: re.Match[str]) -> FakeRepo | None:
        return self.repos.get(f"{match['owner']}/{match['name']}".lower())

    def _links(self, record: RequestRecord, page: int, last: int, per_page: int) -> str:
        def url(number: int) -> str:
            query = {k: v[-1] for k, v in record.query.items()}
            query.update({"per_page": str(per_page), "page": str(number)})
            return f"{self.root_url}{record.path}?{urlencode(query)}"

        links = []
        if page < last:
            links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
        if page > 1:
            links += [f'<{url(page - 1)}>; rel="prev"', f'<{url(1)}>; rel="first"']
        return ", ".join(links)

    def _page(
        self, record: RequestRecord, items: Sequence[Any]
    ) -> tuple[list[Any], dict[str, str]]:
        per_page = min(max(int(_q(record, "per_page") or 30), 1), 100)
        page = max(int(_q(record, "page") or 1), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = list(items[(page - 1) * per_page : page * per_page])
        links = self._links(record, page, last, per_page)
        return chunk, ({"Link": links} if links else {})


def _token_of(headers: Mapping[str, str]) -> str | None:
    for key, value in headers.items():
        if key.lower() == "authorization":
            scheme, _, credential = value.partition(" ")
            if scheme.lower() in {"token", "bearer"} and credential:
                return credential.strip()
            return ""
    return None


def _q(record: RequestRecord, key: str) -> str | None:
    values = record.query.get(key)
    return values[-1] if values else None


def _signature(artifact_id: int) -> str:
    return f"{(artifact_id * 2654435761) % 2**32:08x}"


def _json_body(record: RequestRecord) -> dict[str, Any] | None:
    try:
        data = json.loads(record.body or b"{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


# -- endpoints ----------------------------------------------------------------------------------
@_route("GET", "/user")
def _get_user(fake: FakeGitHub, record: RequestRecord, match: re.Match[str]) -> Reply:
    return _message(403, NO_PERMISSION)


@_route("GET", _REPO)
def _get_repo(fake: FakeGitHub, record: RequestRecord, match: re.Match[str]) -> Reply:
    repo = fake._repo(match)
    return _message(404, "Not Found") if repo is None else Reply(200, repo.repo_json(fake.api_url))


@_route("GET", _REPO + r"/actions/runs")
def _list_runs(fake: FakeGitHub, record: RequestRecord, match: re.Match[str]) -> Reply:
    repo = fake._repo(match)
    if repo is None:
        return _message(404, "Not Found")
    return _runs_reply(fake, record, repo, list(repo.runs.values()))


@_route("GET", _REPO + r"/actions/workflows/(?P<workflow>[^/]+)/runs")
def _list_workflow_runs(fake: FakeGitHub, record: RequestRecord, match: re.Match[str]) -> Reply:
    """A workflow's runs; like GitHub, ``workflow`` is its numeric id or its file name."""
    repo = fake._repo(match)
    if repo is None or fake.no_workflow_runs_endpoint:
        return _message(404, "Not Found")
    wanted = match["workflow"]
    runs = [
        r
        for r in repo.runs.values()
        if r.path is not None and wanted in (_file_name(r.path), str(repo.workflow_id(r.path)))
    ]
    if not runs:  # GitHub knows a workflow by its file; no run of it here means no such file
        return _message(404, "Not Found")
    return _runs_reply(fake, record, repo, runs)


def _file_name(path: str) -> str:
    return path.partition("@")[0].rsplit("/", 1)[-1]


def _runs_reply(fake: FakeGitHub, record: RequestRecord, repo: FakeRepo, runs: list[Any]) -> Reply:
    if (branch := _q(record, "branch")) is not None:
        runs = [r for r in runs if r.head_branch == branch]
    if (event := _q(record, "event")) is not None:
        runs = [r for r in runs if r.event == event]
    if (status := _q(record, "status")) is not None:
        if status in CONCLUSIONS:
            runs = [r for r in runs if r.conclusion == status]
        else:
            runs = [r for r in runs if r.status == status]
    runs.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    chunk, headers = fake._page(record, runs)
    return Reply(
        200,
        {
            "total_count": len(runs),
            "workflow_runs": [repo.run_json(fake.api_url, r) for r in chunk],
        },
        headers,
    )


@_route("GET", _REPO + r"/actions/runs/(?P<run>\d+)")
def _get_run(fake: FakeGitHub, record: RequestRecord, match: re.Match[str]) -> Reply:
    repo = fake._repo(match)
    run = None if repo is None else repo.runs.get(int(match["run"]))
    if repo is None or run is None:
        return _message(404, "Not Found")
    return Reply(200, repo.run_json(fake.api_url, run))


@_route("GET", _REPO + r"/actions/runs/(?P<run>\d+)/jobs")
def _list_run_jobs(fake: FakeGitHub, record: RequestRecord, match: re.Match[str]) -> Reply:
    """A run's jobs: ``filter=latest`` (the default) keeps each job's newest attempt."""
    repo = fake._repo(match)
    run = None if repo is None else repo.runs.get(int(match["run"]))
    if repo is None or run is None:
        return _message(404, "Not Found")
    if not fake.tokens[_token_of(record.headers) or ""].actions_read:
        return _message(403, NO_PERMISSION)
    jobs = list(run.jobs)
    if (_q(record, "filter") or "latest") == "latest":
        newest: dict[str, Any] = {}
        for job in jobs:
            if job.name not in newest or job.run_attempt >= newest[job.name].run_attempt:
                newest[job.name] = job
        jobs = [job for job in jobs if newest[job.name] is job]
    chunk, headers = fake._page(record, jobs)
    return Reply(
        200,
        {"total_count": len(jobs), "jobs": [repo.job_json(fake.api_url, run, j) for j in chunk]},
        headers,
    )


def _artifact_list(
    fake: FakeGitHub, record: RequestRecord, repo: FakeRepo, run_id: int | None
) -> Reply:
    artifacts = [a for a in repo.artifacts.values() if run_id is None or a.run_id == run_id]
    if (name := _q(record, "name")) is not None:
        artifacts = [a for a in artifacts if a.name == name]
    artifacts.sort(key=lambda a: (a.created_at, a.id), reverse=True)
    chunk, headers = fake._page(record, artifacts)
    return Reply(
        200,
        {
            "total_count": len(artifacts),
            "artifacts": [
                repo.artifact_json(fake.api_url, a, with_run=not fake.legacy_artifacts)
                for a in chunk
            ],
        },
        headers,
    )


@_route("GET", _REPO + r"/actions/runs/(?P<run>\d+)/artifacts")
def _list_run_artifacts(fake: FakeGitHub, record: RequestRecord, match: re.Match[str]) -> Reply:
    repo = fake._repo(match)
    if repo is None or int(match["run"]) not in repo.runs:
        return _message(404, "Not Found")
    return _artifact_list(fake, record, repo, int(match["run"]))


@_route("GET", _REPO + r"/actions/artifacts")
def _list_artifacts(fake: FakeGitHub, record: RequestRecord, match: re.Match[str]) -> Reply:
    repo = fake._repo(match)
    if repo is None:
        return _message(404, "Not Found")
    return _artifact_list(fake, record, repo, None)


@_route("GET", _REPO + r"/actions/artifacts/(?P<artifact>\d+)")
def _get_artifact(fake: FakeGitHub, record: RequestRecord, match: re.Match[str]) -> Reply:
    repo = fake._repo(match)
    artifact = None if repo is None else repo.artifacts.get(int(match["artifact"]))
    if repo is None or artifact is None:
        return _message(404, "Not Found")
    return Reply(
        200, repo.artifact_json(fake.api_url, artifact, with_run=not fake.legacy_artifacts)
    )


@_route("GET", _REPO + r"/actions/artifacts/(?P<artifact>\d+)/(?P<format>[a-z]+)")
def _download_artifact(fake: FakeGitHub, record: RequestRecord, match: re.Match[str]) -> Reply:
    repo = fake._repo(match)
    artifact = None if repo is None else repo.artifacts.get(int(match["artifact"]))
    if repo is None or artifact is None or match["format"] != "zip":
        return _message(404, "Not Found")
    if artifact.expired:
        return _message(410, "Artifact has expired")
    return Reply(302, None, {"Location": fake.signed_download_url(artifact)})


@_route("GET", _REPO + r"/issues/(?P<number>\d+)")
def _get_issue(fake: FakeGitHub, record: RequestRecord, match: re.Match[str]) -> Reply:
    repo = fake._repo(match)
    issue = None if repo is None else repo.issues.get(int(match["number"]))
    if repo is None or issue is None:
        return _message(404, "Not Found")
    return Reply(200, repo.issue_json(fake.api_url, issue))


@_route("GET", _REPO + r"/pulls/(?P<number>\d+)")
def _get_pull(fake: FakeGitHub, record: RequestRecord, match: re.Match[str]) -> Reply:
    repo = fake._repo(match)
    issue = None if repo is None else repo.issues.get(int(match["number"]))
    if repo is None or issue is None or not issue.is_pull:
        return _message(404, "Not Found")
    return Reply(200, repo.pull_json(fake.api_url, issue))


@_route("GET", _REPO + r"/issues/(?P<number>\d+)/comments")
def _list_comments(fake: FakeGitHub, record: RequestRecord, match: re.Match[str]) -> Reply:
    repo = fake._repo(match)
    if repo is None or int(match["number"]) not in repo.issues:
        return _message(404, "Not Found")
    comments = repo.comments_on(int(match["number"]))
    chunk, headers = fake._page(record, comments)
    return Reply(200, [repo.comment_json(fake.api_url, c) for c in chunk], headers)


def _body_problem(data: dict[str, Any] | None) -> Reply | None:
    if data is None or not isinstance(data.get("body"), str):
        return _message(422, 'Invalid request.\n\n"body" wasn\'t supplied.')
    if len(data["body"]) > COMMENT_LIMIT:
        return _message(
            422,
            "Validation Failed",
            errors=[
                {
                    "resource": "IssueComment",
                    "code": "custom",
                    "field": "body",
                    "message": f"body is too long (maximum is {COMMENT_LIMIT} characters)",
                }
            ],
        )
    return None


@_route("POST", _REPO + r"/issues/(?P<number>\d+)/comments")
def _create_comment(fake: FakeGitHub, record: RequestRecord, match: re.Match[str]) -> Reply:
    repo = fake._repo(match)
    number = int(match["number"])
    if repo is None or number not in repo.issues:
        return _message(404, "Not Found")
    data = _json_body(record)
    if (problem := _body_problem(data)) is not None:
        return problem
    assert data is not None
    info = fake.tokens[_token_of(record.headers) or ""]
    comment = repo.add_comment(number, data["body"], login=info.login, user_type=info.user_type)
    comment.user_id = info.user_id
    body = repo.comment_json(fake.api_url, comment)
    return Reply(201, body, {"Location": body["url"]})


def _comment(fake: FakeGitHub, match: re.Match[str]) -> tuple[FakeRepo | None, Any]:
    repo = fake._repo(match)
    return repo, (None if repo is None else repo.comments.get(int(match["comment"])))


@_route("GET", _REPO + r"/issues/comments/(?P<comment>\d+)")
def _get_comment(fake: FakeGitHub, record: RequestRecord, match: re.Match[str]) -> Reply:
    repo, comment = _comment(fake, match)
    if repo is None or comment is None:
        return _message(404, "Not Found")
    return Reply(200, repo.comment_json(fake.api_url, comment))


@_route("PATCH", _REPO + r"/issues/comments/(?P<comment>\d+)")
def _edit_comment(fake: FakeGitHub, record: RequestRecord, match: re.Match[str]) -> Reply:
    repo, comment = _comment(fake, match)
    if repo is None or comment is None:
        return _message(404, "Not Found")
    data = _json_body(record)
    if (problem := _body_problem(data)) is not None:
        return problem
    assert data is not None
    comment.body = data["body"]
    comment.updated_at = fake._clock.now()
    return Reply(200, repo.comment_json(fake.api_url, comment))


@_route("DELETE", _REPO + r"/issues/comments/(?P<comment>\d+)")
def _delete_comment(fake: FakeGitHub, record: RequestRecord, match: re.Match[str]) -> Reply:
    repo, comment = _comment(fake, match)
    if repo is None or comment is None:
        return _message(404, "Not Found")
    del repo.comments[comment.id]
    return Reply(204)


__all__ = [
    "BOT_LOGIN",
    "COMMENT_LIMIT",
    "READ_TOKEN",
    "WRITE_TOKEN",
    "FakeGitHub",
    "Fault",
    "RequestRecord",
    "iso",
]
