"""Self-hosted runners behind a proxy: the history lookup and the PR comment go through
``HTTP(S)_PROXY`` unless ``NO_PROXY`` says otherwise, and a private CA comes from
``REQUESTS_CA_BUNDLE``, while a ``~/.netrc`` still adds nothing.

The proxy is a real one on loopback (absolute-form requests forwarded with http.client,
``CONNECT`` refused and counted), so what it counts is what went through it.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from shard_action.adapters.artifacts import fetch_latest_history
from shard_action.adapters.comments import comment_marker, upsert_comment
from tests.fakegithub import FakeGitHub, FakeRepo
from tests.github.helpers import PR, REPO, client, session

NAME = "shard-action-history"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


class _Proxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _ProxyHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Proxy

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_CONNECT(self) -> None:
        with self.server.lock:
            self.server.seen.append(("CONNECT", self.path))
        self.send_error(405)

    def _forward(self) -> None:
        with self.server.lock:
            self.server.seen.append((self.command, self.path))
        target = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"}
        upstream = http.client.HTTPConnection(target.hostname or "", target.port, timeout=10)
        path = target.path + (f"?{target.query}" if target.query else "")
        upstream.request(self.command, path, body=body, headers=headers)
        reply = upstream.getresponse()
        data = reply.read()
        self.send_response(reply.status)
        for key, value in reply.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        upstream.close()

    do_GET = do_POST = do_PATCH = do_DELETE = _forward


@pytest.fixture
def proxy() -> Iterator[_Proxy]:
    server = _Proxy()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def repo(fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> FakeRepo:
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.lower(), raising=False)
    repo = fake_github.add_repo(REPO)
    repo.add_pull(PR)
    repo.add_artifact(repo.add_run(), NAME, files={"history.json": "{}"})
    return repo


def test_the_history_lookup_goes_through_the_proxy(
    fake_github: FakeGitHub,
    repo: FakeRepo,
    proxy: _Proxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    path = fetch_latest_history(
        session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path
    )
    assert path is not None and path.read_text("utf-8") == "{}"
    through = {(method, urlsplit(url).hostname) for method, url in proxy.seen}
    # The API and the storage host of the zip download both went through it.
    assert through == {("GET", "127.0.0.1"), ("GET", "localhost")}
    assert len(proxy.seen) == len(fake_github.requests)


def test_no_proxy_bypasses_it(
    fake_github: FakeGitHub,
    repo: FakeRepo,
    proxy: _Proxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    path = fetch_latest_history(
        session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path
    )
    assert path is not None
    assert proxy.seen == []


def test_the_pr_comment_goes_through_the_proxy(
    fake_github: FakeGitHub, repo: FakeRepo, proxy: _Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    result = upsert_comment(client(fake_github), REPO, PR, "x", marker=comment_marker("CI"))
    assert result.action == "created"
    assert ("POST", f"{fake_github.api_url}/repos/{REPO}/issues/{PR}/comments") in proxy.seen


def test_https_proxy_and_ca_bundle_are_read_for_https_urls(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No TLS server here: what the session would use for an https URL, as requests decides."""
    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_text("not read until a TLS handshake", "utf-8")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp.example:3128")
    monkeypatch.setenv("NO_PROXY", "ghes.internal.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    s = session()
    settings = s.merge_environment_settings("https://api.github.com/repos", {}, None, None, None)
    assert settings["proxies"]["https"] == "http://proxy.corp.example:3128"
    assert settings["verify"] == str(bundle)
    bypass = s.merge_environment_settings(
        "https://ghes.internal.example/api/v3", {}, None, None, None
    )
    assert "https" not in bypass["proxies"]


def test_a_netrc_still_adds_no_credentials(
    fake_github: FakeGitHub,
    repo: FakeRepo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine localhost login someone password secret\n", "utf-8")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    path = fetch_latest_history(
        session(), fake_github.api_url, REPO, artifact_name=NAME, dest=tmp_path / "out"
    )
    assert path is not None, "the storage host got no Authorization header (it refuses one)"
    blob = [r for r in fake_github.requests if r.host == "blob"]
    assert blob and all(r.authorization is None for r in blob)
