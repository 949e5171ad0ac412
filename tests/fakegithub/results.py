"""The artifact service of GitHub Actions (v4), as upload-artifact v4+ and download-artifact v4+
speak to it, on the fake GitHub: so the official actions can run under ``act`` with artifacts
that the fake REST API lists and serves too (one store, two protocols, as on GitHub).

Two parts, both learned from the clients (``@actions/artifact`` 6.x inside the pinned actions):

- Twirp JSON under ``/twirp/github.actions.results.api.v1.ArtifactService/`` on the API host
  (``ACTIONS_RESULTS_URL``): ``CreateArtifact``, ``FinalizeArtifact``, ``ListArtifacts``,
  ``GetSignedArtifactURL``, ``DeleteArtifact``. The caller's run comes from the runtime token
  (``ACTIONS_RUNTIME_TOKEN``), a JWT whose ``scp`` claim holds ``Actions.Results:<run>:<job>``;
  its signature is not checked, as the client does not check it either. Protobuf JSON writes
  int64 as strings and wrapper types bare (``"digest": "sha256:…"``), and so does this.
- An Azure-blob-like upload URL on the storage host: ``PUT ?comp=block&blockid=…`` per block,
  ``PUT ?comp=blocklist`` to commit. A finalized artifact becomes a :class:`FakeArtifact` of its
  run, downloaded from the same signed storage URL the REST zip endpoint redirects to.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fakegithub.state import FakeArtifact, FakeRepo, FakeRun, iso

if TYPE_CHECKING:
    from tests.fakegithub.server import FakeGitHub, RequestRecord

#: ``(status, payload, headers)``: the server turns it into its reply (JSON for a dict).
Answer = tuple[int, Any, dict[str, str]]

PREFIX = "/twirp/github.actions.results.api.v1.ArtifactService/"
UPLOAD_PATH = "/_upload/"


def runtime_token(run_id: int, job: str = "job") -> str:
    """An unsigned JWT as the runner hands to a job: the artifact client reads only ``scp``."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {"scp": f"Actions.GenericRead:0 Actions.Results:{run_id}:{job}", "iss": "fake"}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.fake-signature"


def _scope(authorization: str | None) -> tuple[str, str] | None:
    """``(run, job)`` from a ``Bearer`` runtime token, ``None`` when it has no results scope."""
    if not authorization or not authorization.lower().startswith("bearer "):
        return None
    pieces = authorization.split(" ", 1)[1].strip().split(".")
    if len(pieces) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(pieces[1] + "=" * (-len(pieces[1]) % 4)))
    except ValueError:
        return None
    for scope in str(claims.get("scp", "")).split(" "):
        parts = scope.split(":")
        if parts[0] == "Actions.Results" and len(parts) == 3:
            return parts[1], parts[2]
    return None


@dataclass
class Upload:
    """An artifact between ``CreateArtifact`` and ``FinalizeArtifact``."""

    run: FakeRun
    repo: FakeRepo
    name: str
    blocks: dict[str, bytes] = field(default_factory=dict)
    data: bytes | None = None


@dataclass
class ResultsService:
    """The v4 artifact state of one fake GitHub: uploads in flight, keyed by their URL token."""

    uploads: dict[str, Upload] = field(default_factory=dict)
    #: Every Twirp call as ``(method, request body)``, for tests that assert on what was sent.
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def _error(status: int, code: str, message: str) -> Answer:
    return status, {"code": code, "msg": message}, {}


def _ok(payload: dict[str, Any]) -> Answer:
    return 200, payload, {}


def _find_run(fake: FakeGitHub, run_id: str) -> tuple[FakeRepo, FakeRun] | None:
    if not run_id.isdigit():
        return None
    for repo in fake.repos.values():
        run = repo.runs.get(int(run_id))
        if run is not None:
            return repo, run
    return None


def _field(body: dict[str, Any], name: str) -> Any:
    """A request field by its proto name, or by its JSON (camelCase) name."""
    if name in body:
        return body[name]
    camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)
    return body.get(camel)


def _finalized(repo: FakeRepo, run: FakeRun, name: str) -> FakeArtifact | None:
    for artifact in repo.artifacts.values():
        if artifact.run_id == run.id and artifact.name == name:
            return artifact
    return None


def handle_twirp(fake: FakeGitHub, record: RequestRecord) -> Answer:
    """One Twirp call on the API host (path under :data:`PREFIX`)."""
    method = record.path[len(PREFIX) :]
    if record.method != "POST":
        return _error(404, "bad_route", f"no handler for {record.method} {record.path}")
    scope = _scope(record.authorization)
    if scope is None:
        return _error(401, "unauthenticated", "no Actions.Results scope in the runtime token")
    try:
        body = json.loads(record.body or b"{}")
    except ValueError:
        return _error(400, "malformed", "the body is not JSON")
    if not isinstance(body, dict):
        return _error(400, "malformed", "the body is not a JSON object")
    service = fake.results
    service.calls.append((method, body))
    run_id = str(_field(body, "workflow_run_backend_id") or "")
    if run_id != scope[0]:
        return _error(403, "permission_denied", "the run is not the runtime token's run")
    found = _find_run(fake, run_id)
    if found is None:
        return _error(404, "not_found", f"no workflow run {run_id}")
    repo, run = found
    name = _field(body, "name")
    if method == "CreateArtifact":
        if not isinstance(name, str) or not name:
            return _error(400, "invalid_argument", "name is required")
        if int(_field(body, "version") or 0) < 4:
            return _error(400, "invalid_argument", "version must be 4 or more")
        if _finalized(repo, run, name) is not None:
            return _error(409, "already_exists", f"an artifact named {name} exists in this run")
        key = secrets.token_hex(8)
        service.uploads[key] = Upload(run=run, repo=repo, name=name)
        url = f"{fake.blob_root}{UPLOAD_PATH}{key}?sv=2021-12-02&sig={key[:6]}"
        return _ok({"ok": True, "signed_upload_url": url})
    if method == "FinalizeArtifact":
        pending = [(k, u) for k, u in service.uploads.items() if u.run is run and u.name == name]
        if not pending or pending[-1][1].data is None:
            return _error(404, "not_found", f"no committed upload for {name}")
        key, upload = pending[-1]
        assert upload.data is not None
        digest = "sha256:" + hashlib.sha256(upload.data).hexdigest()
        if int(_field(body, "size") or -1) != len(upload.data):
            return _error(400, "invalid_argument", "size does not match the uploaded blob")
        sent = _field(body, "hash")
        if isinstance(sent, dict):
            sent = sent.get("value")
        if sent is not None and sent != digest:
            return _error(400, "invalid_argument", "hash does not match the uploaded blob")
        del service.uploads[key]
        made = repo.add_artifact(run, upload.name, data=upload.data)
        return _ok({"ok": True, "artifact_id": str(made.id)})
    if method == "ListArtifacts":
        name_filter = _field(body, "name_filter")
        id_filter = _field(body, "id_filter")
        if isinstance(name_filter, dict):
            name_filter = name_filter.get("value")
        if isinstance(id_filter, dict):
            id_filter = id_filter.get("value")
        listed = [
            a
            for a in sorted(repo.artifacts.values(), key=lambda a: a.id)
            if a.run_id == run.id
            and (name_filter is None or a.name == name_filter)
            and (id_filter is None or str(a.id) == str(id_filter))
        ]
        return _ok(
            {
                "artifacts": [
                    {
                        "workflow_run_backend_id": str(run.id),
                        "workflow_job_run_backend_id": scope[1],
                        "database_id": str(a.id),
                        "name": a.name,
                        "size": str(a.size_in_bytes),
                        "created_at": iso(a.created_at),
                        "digest": a.digest,
                    }
                    for a in listed
                ]
            }
        )
    if method in {"GetSignedArtifactURL", "DeleteArtifact"}:
        artifact = _finalized(repo, run, name) if isinstance(name, str) else None
        if artifact is None:
            return _error(404, "not_found", f"no artifact named {name} in run {run.id}")
        if method == "DeleteArtifact":
            del repo.artifacts[artifact.id]
            return _ok({"ok": True, "artifact_id": str(artifact.id)})
        return _ok({"signed_url": fake.signed_download_url(artifact)})
    return _error(404, "bad_route", f"no method {method}")


_BLOCK = re.compile(rb"<(?:Latest|Committed|Uncommitted)>([^<]*)</")


def handle_upload(fake: FakeGitHub, record: RequestRecord) -> Answer:
    """A ``PUT`` to an upload URL on the storage host (Azure block blob protocol)."""
    key = record.path[len(UPLOAD_PATH) :]
    upload = fake.results.uploads.get(key)
    if upload is None or record.method != "PUT":
        return 404, b"<Error><Code>BlobNotFound</Code></Error>", {}
    headers = {"x-ms-request-id": secrets.token_hex(8), "x-ms-version": "2021-12-02"}
    comp = (record.query.get("comp") or [""])[-1]
    if comp == "block":
        block_id = (record.query.get("blockid") or [""])[-1]
        upload.blocks[block_id] = record.body
        return 201, b"", headers
    if comp == "blocklist":
        ids = [m.decode() for m in _BLOCK.findall(record.body)]
        missing = [i for i in ids if i not in upload.blocks]
        if missing:
            return 400, b"<Error><Code>InvalidBlockList</Code></Error>", headers
        upload.data = b"".join(upload.blocks[i] for i in ids)
        return 201, b"", {**headers, "ETag": f'"{key}"'}
    if comp == "":
        upload.data = record.body  # a single-shot upload (Put Blob)
        return 201, b"", {**headers, "ETag": f'"{key}"'}
    return 400, b"<Error><Code>InvalidQueryParameterValue</Code></Error>", headers
