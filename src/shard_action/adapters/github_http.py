"""HTTP to the GitHub REST API: one configured ``requests`` session, its retries, and paging.

GitHub is slow, rate-limited or briefly down often enough that every request needs a retry
policy, and GitHub Enterprise Server moves the API to another host, so nothing here hard-codes
``api.github.com``. The session is built once by the caller and *passed in* to the functions that
use it, which is what lets the tests point everything at a local fake server.

Retries are urllib3's :class:`~urllib3.util.retry.Retry` (exponential backoff, ``Retry-After``),
limited to idempotent methods: a POST whose answer was lost may have been applied, and sending it
again is how duplicate comments happen. GitHub's secondary rate limit answers 403 with a
``Retry-After`` header; that 403 is retried too, a 403 without it (no permission) is not.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.models import PreparedRequest, Response
from requests.utils import get_environ_proxies
from urllib3.util.retry import Retry

from shard_action import __version__

if TYPE_CHECKING:
    from requests.sessions import _Cert, _Settings, _TextMapping, _Verify
    from typing_extensions import Self

DEFAULT_API_URL = "https://api.github.com"
USER_AGENT = f"shard-action/{__version__}"
API_VERSION = "2022-11-28"
#: Statuses worth another try: rate limited, or a server/proxy error that is usually transient.
RETRY_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})
#: Methods that can be sent twice without changing the outcome.
IDEMPOTENT_METHODS: frozenset[str] = frozenset({"GET", "HEAD", "OPTIONS"})


#: Query keys whose values may be shown in a log: GitHub's own paging and filters.
SHOWN_QUERY_KEYS: frozenset[str] = frozenset(
    {"page", "per_page", "name", "branch", "event", "status", "exclude_pull_requests"}
)
_QUERY_PAIR = re.compile(r"([?&])([^=&?\s'\"<>()]+)=([^&\s'\"<>()]*)")


def redact(text: str) -> str:
    """``text`` with the value of every query parameter masked except GitHub's paging/filters.

    An artifact download is redirected to a storage URL whose query string *is* a credential
    (a signed ``sig=…``); error messages, warnings in a public log and exception texts from
    requests all quote URLs, so they pass through here before anyone sees them.
    """

    def mask(match: re.Match[str]) -> str:
        sep, key, value = match.groups()
        return f"{sep}{key}={value if key in SHOWN_QUERY_KEYS else '***'}"

    return _QUERY_PAIR.sub(mask, text)


class RedactingFilter(logging.Filter):
    """Masks signed query strings in urllib3's own log lines.

    urllib3 logs every retried URL at WARNING ("Retrying (...) after connection broken ...:
    /blob?...&sig=..."), which reaches a public job log through logging's last-resort handler.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


#: A logger's filters do not apply to its children's records, so each urllib3 logger that
#: quotes URLs gets the filter itself.
URLLIB3_LOGGERS: tuple[str, ...] = ("urllib3.connectionpool", "urllib3.util.retry")


def redact_urllib3_logs() -> None:
    """Install :class:`RedactingFilter` once on urllib3's loggers."""
    for name in URLLIB3_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())


class GitHubAPIError(Exception):
    """A request to the GitHub API failed for good (after retries), or was refused.

    The message names the URL and GitHub's own message, never the token, and never a signed
    storage URL's signature (see :func:`redact`).
    """

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None) -> None:
        self.status = status
        self.url = None if url is None else redact(url)
        super().__init__(redact(message))


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Defaults suit a CI job; tests pass tiny backoffs.

    ``total`` bounds the number of retries per request, ``backoff_factor`` doubles from the second
    retry on (``factor * 2**(n-1)``, capped at ``backoff_max``), and a server's ``Retry-After`` is
    honoured up to ``max_retry_after`` seconds so a huge value cannot hang a job.
    ``secondary_rate_wait`` is PyGithub's wait for a secondary rate limit that names no delay.
    """

    total: int = 6
    backoff_factor: float = 1.0
    backoff_max: float = 30.0
    max_retry_after: float = 120.0
    secondary_rate_wait: float = 60.0
    statuses: frozenset[int] = RETRY_STATUSES
    methods: frozenset[str] = field(default=IDEMPOTENT_METHODS)

    def limits(self) -> dict[str, Any]:
        """The keyword arguments every Retry built from this policy shares: the same number of
        tries for every kind of failure, the same backoff, the same ``Retry-After`` ceiling."""
        return {
            "total": self.total,
            "connect": self.total,
            "read": self.total,
            "status": self.total,
            "backoff_factor": self.backoff_factor,
            "backoff_max": self.backoff_max,
            "max_retry_after": self.max_retry_after,
            "respect_retry_after_header": True,
            "raise_on_status": False,
        }


class RetryAfterCeiling(Retry):
    """A ``Retry-After`` is obeyed up to ``max_retry_after`` seconds and no longer.

    A server asking for an hour must not hold a CI job for an hour. Shared by the ``requests``
    retry below and the PyGithub one for comments; urllib3 builds each next attempt with
    ``new()``, so the ceiling has to be carried there too.
    """

    def __init__(self, *, max_retry_after: float = 120.0, **kwargs: Any) -> None:
        self.max_retry_after = max_retry_after
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> Self:
        kw.setdefault("max_retry_after", self.max_retry_after)
        return super().new(**kw)

    def parse_retry_after(self, retry_after: str) -> float:
        return min(super().parse_retry_after(retry_after), self.max_retry_after)


class BoundedRetry(RetryAfterCeiling):
    """urllib3's Retry with a ceiling on ``Retry-After`` and GitHub's 403 rate-limit answer.

    urllib3 only honours ``Retry-After`` on 413/429/503; GitHub's secondary rate limit is a 403
    carrying ``Retry-After``, which is retried here (for allowed methods only).
    """

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 403 and has_retry_after and self._is_method_retryable(method):
            return bool(self.total)
        return super().is_retry(method, status_code, has_retry_after)


def make_retry(
    policy: RetryPolicy | None = None, *, methods: Collection[str] | None = None
) -> Retry:
    """A urllib3 Retry for ``requests``: statuses and connection errors, idempotent methods only."""
    policy = policy or RetryPolicy()
    # raise_on_status=False (in limits()) hands the last answer back instead of raising, so the
    # caller sees GitHub's message.
    return BoundedRetry(
        **policy.limits(),
        status_forcelist=sorted(policy.statuses),
        allowed_methods=frozenset(m.upper() for m in (methods or policy.methods)),
        # requests follows redirects itself and strips Authorization across hosts.
        redirect=False,
    )


Timeout = float | tuple[float, float]


class _TimeoutAdapter(HTTPAdapter):
    """An adapter with a default timeout: ``requests`` would otherwise wait forever."""

    def __init__(self, *, timeout: Timeout, max_retries: Retry) -> None:
        self._timeout = timeout
        super().__init__(max_retries=max_retries)

    def send(  # noqa: PLR0917 - the signature requests calls
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> Response:
        return super().send(
            request,
            stream=stream,
            timeout=self._timeout if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )


def api_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The REST API root: ``GITHUB_API_URL`` (set by Actions, also on GHES) or api.github.com."""
    env = os.environ if environ is None else environ
    url = env.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL
    return url.rstrip("/")


class _Session(requests.Session):
    """A session that takes the proxy and CA settings from the environment, and nothing else.

    ``trust_env`` stays off, so a ``~/.netrc`` cannot add credentials behind our back (nor
    replace our ``Authorization`` header); but a self-hosted runner behind a proxy needs
    ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` and a private CA in ``REQUESTS_CA_BUNDLE`` (or
    ``CURL_CA_BUNDLE``), read here per request as ``requests`` itself would. Redirects (the
    storage host of an artifact download) are requested anew by the caller, so they get their
    own lookup.
    """

    def merge_environment_settings(
        self,
        url: str | bytes | None,
        proxies: _TextMapping | None,
        stream: bool | None,
        verify: _Verify | None,
        cert: _Cert | None,
    ) -> _Settings:
        merged = dict(proxies or {})
        if url:
            target = url.decode() if isinstance(url, bytes) else url
            found = get_environ_proxies(target, no_proxy=merged.get("no_proxy"))
            for key, value in found.items():
                merged.setdefault(key, value)
        if verify is True or verify is None:
            verify = (
                os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or verify
            )
        return super().merge_environment_settings(url, merged, stream, verify, cert)


def make_session(
    token: str | None,
    *,
    retry: RetryPolicy | None = None,
    methods: Collection[str] | None = None,
    timeout: Timeout = (10.0, 60.0),
    user_agent: str = USER_AGENT,
) -> requests.Session:
    """A session that authenticates, retries with backoff and never waits forever.

    ``methods`` widens the retried methods (e.g. add ``"PUT"`` for an idempotent upload); by
    default only GET/HEAD/OPTIONS are retried. ``timeout`` is (connect, read) seconds.
    """
    redact_urllib3_logs()
    session = _Session()
    adapter = _TimeoutAdapter(timeout=timeout, max_retries=make_retry(retry, methods=methods))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers.update(
        {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": user_agent,
        }
    )
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    # A ~/.netrc must not add credentials behind our back (e.g. on the storage host); proxies
    # and the CA bundle still come from the environment (see _Session).
    session.trust_env = False
    return session


def same_origin(a: str, b: str) -> bool:
    """Same scheme, host and port: where our token may be sent."""
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


def _github_message(response: Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.reason or ""
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return response.reason or ""


def raise_for_github(response: Response) -> None:
    """Turn a final non-2xx answer into :class:`GitHubAPIError` with a hint a user can act on."""
    if response.status_code < 400:
        return
    message = _github_message(response)
    hint = ""
    if response.status_code == 401:
        hint = " (the token is missing, expired or invalid)"
    elif (
        response.status_code == 403
        and "rate limit" not in message.lower()
        and "Authorization" in response.request.headers
    ):
        # Only a request that carried the token can lack a permission; a storage host's 403
        # is about its own signed URL.
        hint = " (the token lacks a permission, e.g. `actions: read`)"
    elif response.status_code == 404:
        hint = " (wrong repository, or the token cannot see it)"
    raise GitHubAPIError(
        f"GitHub API {response.request.method} {response.url} answered "
        f"{response.status_code}: {message}{hint}",
        status=response.status_code,
        url=response.url,
    )


def request(session: requests.Session, method: str, url: str, **kwargs: Any) -> Response:
    """Send one request; transport failures (after the retries) become :class:`GitHubAPIError`."""
    try:
        response = session.request(method, url, **kwargs)
    except requests.RequestException as exc:
        raise GitHubAPIError(
            f"GitHub API {method} {url} failed: {type(exc).__name__}: {exc}", url=url
        ) from exc
    raise_for_github(response)
    return response


def get_json(
    session: requests.Session, url: str, *, params: Mapping[str, str | int] | None = None
) -> Any:
    """GET a JSON document."""
    return _json_of(request(session, "GET", url, params=params))


def _json_of(response: Response) -> Any:
    """The answer's JSON; an answer without it is the API's fault, not the caller's."""
    try:
        return response.json()
    except ValueError as exc:
        raise GitHubAPIError(
            f"GitHub API GET {response.url} answered {response.status_code} without JSON",
            status=response.status_code,
            url=response.url,
        ) from exc


def iter_pages(
    session: requests.Session,
    url: str,
    *,
    params: Mapping[str, str | int] | None = None,
    max_pages: int = 100,
) -> Iterator[Any]:
    """Yield each page's JSON, following ``Link: rel="next"`` (which carries the query).

    A next link to another origin is not followed: it would carry our token there.
    """
    next_url: str | None = url
    query: Mapping[str, str | int] | None = params
    for _ in range(max_pages):
        if next_url is None:
            return
        response = request(session, "GET", next_url, params=query)
        yield _json_of(response)
        link = response.links.get("next", {}).get("url")
        if link and not same_origin(link, url):
            raise GitHubAPIError(
                f"GitHub API GET {response.url}: next page link points to another host: {link}",
                url=response.url,
            )
        next_url, query = link, None


def iter_items(
    session: requests.Session,
    url: str,
    key: str | None = None,
    *,
    params: Mapping[str, str | int] | None = None,
    max_pages: int = 100,
) -> Iterator[dict[str, Any]]:
    """Yield the items of a paged list; ``key`` names the list inside an object page
    (``"workflow_runs"``, ``"artifacts"``), ``None`` when the page is the list itself."""
    for page in iter_pages(session, url, params=params, max_pages=max_pages):
        items = page.get(key) if key is not None and isinstance(page, dict) else page
        if not isinstance(items, list):
            raise GitHubAPIError(f"GitHub API GET {url}: unexpected page shape", url=url)
        for item in items:
            if isinstance(item, dict):
                yield item
