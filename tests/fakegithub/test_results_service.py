"""The fake's artifact service (v4) speaks the protocol of ``@actions/artifact`` and shares its
store with the REST API, as GitHub does: what upload-artifact stores, the REST API lists and
serves (fetch-history, download-artifact with ``run-id``), with the digest download-artifact
checks. The act scenarios drive it with the official actions; this checks it without them."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
import requests

from tests.fakegithub import WRITE_TOKEN, FakeGitHub, make_zip
from tests.fakegithub.results import PREFIX, runtime_token

SERVICE = PREFIX.rstrip("/")


def call(fake: FakeGitHub, method: str, token: str, **body: Any) -> requests.Response:
    return requests.post(
        f"{fake.root_url}{SERVICE}/{method}",
        json=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=5,
    )


def upload(fake: FakeGitHub, run_id: int, name: str, data: bytes) -> requests.Response:
    """What upload-artifact does: create, two blocks, commit the list, finalize."""
    token = runtime_token(run_id)
    ids = {"workflow_run_backend_id": str(run_id), "workflow_job_run_backend_id": "job"}
    made = call(fake, "CreateArtifact", token, **ids, name=name, version=4, mime_type="x")
    assert made.status_code == 200, made.text
    url = made.json()["signed_upload_url"]
    blocks = [base64.b64encode(b"block-%d" % i).decode() for i in (1, 2)]
    half = len(data) // 2
    for block, part in zip(blocks, (data[:half], data[half:]), strict=True):
        put = requests.put(url, params={"comp": "block", "blockid": block}, data=part, timeout=5)
        assert put.status_code == 201
    listing = "".join(f"<Latest>{b}</Latest>" for b in blocks)
    committed = requests.put(
        url, params={"comp": "blocklist"}, data=f"<BlockList>{listing}</BlockList>", timeout=5
    )
    assert committed.status_code == 201
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    return call(fake, "FinalizeArtifact", token, **ids, name=name, size=str(len(data)), hash=digest)


@pytest.fixture
def run_id(fake_github: FakeGitHub) -> int:
    return fake_github.add_repo("octo/app").add_run(status="in_progress").id


def test_an_uploaded_artifact_is_listed_and_served_by_both_protocols(
    fake_github: FakeGitHub, run_id: int
) -> None:
    data = make_zip({"history.json": '{"version": 1}'})
    done = upload(fake_github, run_id, "shard-action-history", data)
    assert done.status_code == 200 and done.json()["ok"] is True
    artifact_id = int(done.json()["artifact_id"])  # int64: a string in protobuf JSON
    token = runtime_token(run_id)
    ids = {"workflow_run_backend_id": str(run_id), "workflow_job_run_backend_id": "job"}
    listed = call(fake_github, "ListArtifacts", token, **ids).json()["artifacts"]
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    assert [(a["database_id"], a["name"], a["digest"]) for a in listed] == [
        (str(artifact_id), "shard-action-history", digest)  # wrapper types are bare
    ]
    signed = call(fake_github, "GetSignedArtifactURL", token, **ids, name="shard-action-history")
    got = requests.get(signed.json()["signed_url"], timeout=5)
    assert (got.content, got.headers["Content-Type"]) == (data, "application/zip")
    # The REST API sees the same artifact, with its digest, and serves the same bytes.
    rest = f"{fake_github.api_url}/repos/octo/app/actions/runs/{run_id}/artifacts"
    auth = {"Authorization": f"token {WRITE_TOKEN}"}
    (item,) = requests.get(rest, headers=auth, timeout=5).json()["artifacts"]
    assert (item["id"], item["digest"]) == (artifact_id, digest)
    assert requests.get(item["archive_download_url"], headers=auth, timeout=5).content == data


def test_one_name_per_run_until_deleted(fake_github: FakeGitHub, run_id: int) -> None:
    assert upload(fake_github, run_id, "plan", b"one").status_code == 200
    token = runtime_token(run_id)
    ids = {"workflow_run_backend_id": str(run_id), "workflow_job_run_backend_id": "job"}
    again = call(fake_github, "CreateArtifact", token, **ids, name="plan", version=4)
    assert (again.status_code, again.json()["code"]) == (409, "already_exists")
    assert call(fake_github, "DeleteArtifact", token, **ids, name="plan").json()["ok"] is True
    assert upload(fake_github, run_id, "plan", b"two").status_code == 200
    missing = call(fake_github, "DeleteArtifact", token, **ids, name="nothing")
    assert missing.status_code == 404


def test_the_runtime_token_decides_the_run(fake_github: FakeGitHub, run_id: int) -> None:
    ids = {"workflow_run_backend_id": str(run_id), "workflow_job_run_backend_id": "job"}
    other = call(fake_github, "ListArtifacts", runtime_token(run_id + 1), **ids)
    assert (other.status_code, other.json()["code"]) == (403, "permission_denied")
    plain = call(fake_github, "ListArtifacts", WRITE_TOKEN, **ids)
    assert plain.status_code == 401


def test_a_finalize_that_does_not_match_the_upload_is_refused(
    fake_github: FakeGitHub, run_id: int
) -> None:
    token = runtime_token(run_id)
    ids = {"workflow_run_backend_id": str(run_id), "workflow_job_run_backend_id": "job"}
    url = call(fake_github, "CreateArtifact", token, **ids, name="a", version=4).json()[
        "signed_upload_url"
    ]
    assert requests.put(url, data=b"payload", timeout=5).status_code == 201
    wrong = call(fake_github, "FinalizeArtifact", token, **ids, name="a", size="7", hash="sha256:0")
    assert wrong.status_code == 400
    assert fake_github.repos["octo/app"].artifacts == {}
