"""Requests to Microsoft Graph for one mailbox: tokens, throttling, limits and error mapping.

Every request goes through the egress-checked client factory, holds one of the mailbox's four
request slots (:class:`~connectors.graph.limits.MailboxLimits`) and carries a bearer token from
the token source. Statuses:

* **401/403**: the token may have expired or been revoked early; the token is refreshed once
  (msal uses the refresh token) and the request repeated.
* **429, 503, 502, 504**: throttled or briefly unavailable; nothing was done. ``Retry-After`` is
  honoured: up to ``max_inline_wait_s`` the client waits and repeats (at most
  ``max_throttle_retries`` times); a longer wait is raised as
  :class:`~connectors.errors.RateLimitedError` / :class:`~connectors.errors.ServerError` with
  ``retry_after`` so the engine's runner schedules the retry instead.
* **410**: a delta link has expired (:class:`DeltaExpiredError`; the source restarts its sync).
* Anything else through :func:`connectors.http.error_for_status`.

A request that changes something (send, move) and fails after it went out (read timeout, dropped
connection) raises :class:`~connectors.errors.ConnectorOutcomeUnknownError`.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from connectors.errors import (
    AuthenticationError,
    ConnectorPermanentError,
    MalformedResponseError,
    RateLimitedError,
    ServerError,
)
from connectors.graph.limits import MailboxLimits
from connectors.http import HttpClientFactory, error_for_status, parse_retry_after, request

DEFAULT_GRAPH_URL = "https://graph.microsoft.com/v1.0"
SERVICE = "Microsoft Graph"
#: Statuses that mean "throttled or briefly unavailable; nothing was done; try again later".
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
#: Waits up to this long (Retry-After) happen inside the request; longer ones go back to the runner.
MAX_INLINE_WAIT_S = 30.0
MAX_THROTTLE_RETRIES = 3
#: Retry-After when a throttling answer does not carry one.
DEFAULT_RETRY_AFTER_S = 5.0

TokenSource = Callable[[bool], str]


def tls_verify(verify: bool | str) -> Any:
    """What to hand the client factory as ``verify``: a CA file path becomes an SSL context.

    httpx 0.28 deprecates ``verify=<path>`` (a warning) but accepts an ``ssl.SSLContext``; the
    factory passes ``verify`` through to httpx unchanged.
    """
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return verify


class DeltaExpiredError(ConnectorPermanentError):
    """The delta (or next) link is no longer valid (HTTP 410): the sync must start again."""


class GraphClient:
    """Authenticated, throttled access to one mailbox's Graph endpoints."""

    def __init__(
        self,
        *,
        token: TokenSource,
        http: HttpClientFactory,
        base_url: str = DEFAULT_GRAPH_URL,
        limits: MailboxLimits | None = None,
        verify: bool | str = True,
        sleep: Callable[[float], None] = time.sleep,
        max_inline_wait_s: float = MAX_INLINE_WAIT_S,
        max_throttle_retries: int = MAX_THROTTLE_RETRIES,
        timeout_s: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.host = urlsplit(self.base_url).hostname or ""
        self.limits = limits or MailboxLimits()
        self._token = token
        self._client = http.client(purpose="microsoft-graph", verify=tls_verify(verify), timeout=timeout_s)
        self._sleep = sleep
        self.max_inline_wait_s = max_inline_wait_s
        self.max_throttle_retries = max_throttle_retries
        self.throttled = 0

    def url(self, path_or_url: str) -> str:
        """An absolute URL: links from Graph (nextLink, deltaLink) are used as they are."""
        if path_or_url.startswith(("https://", "http://")):
            return path_or_url
        return self.base_url + "/" + path_or_url.lstrip("/")

    def get_json(
        self, path: str, *, params: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """GET a JSON object."""
        response = self.request("GET", path, params=params, headers=headers)
        return _json_object(response)

    def get_bytes(self, path: str) -> bytes:
        """GET raw bytes (e.g. a message's MIME from ``/$value``)."""
        return self.request("GET", path).content

    def request(
        self,
        method: str,
        path: str,
        *,
        applies_effect: bool = False,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """Send one request (see the module docstring for retries); return a 2xx response."""
        url = self.url(path)
        refreshed = False
        throttled = 0
        while True:
            token = self._token(refreshed)
            all_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
            with self.limits.requests:
                response = self._exchange(
                    method,
                    url,
                    applies_effect,
                    params=params,
                    headers=all_headers,
                    json=json,
                    content=content,
                )
            status = response.status_code
            if status < 400:
                return response
            if status in (401, 403) and not refreshed:
                refreshed = True
                continue
            if status in RETRYABLE_STATUSES:
                wait = parse_retry_after(response.headers.get("Retry-After"))
                wait = DEFAULT_RETRY_AFTER_S if wait is None else wait
                if throttled < self.max_throttle_retries and wait <= self.max_inline_wait_s:
                    throttled += 1
                    self.throttled += 1
                    self._sleep(wait)
                    continue
                message = f"{SERVICE} answered HTTP {status} ({_graph_error(response)})"
                if status == 429:
                    raise RateLimitedError(message, retry_after=wait)
                raise ServerError(message, retry_after=wait)
            if status == 410:
                raise DeltaExpiredError(f"{SERVICE}: the sync link has expired ({_graph_error(response)})")
            error = error_for_status(response, service=SERVICE)
            if isinstance(error, AuthenticationError):
                raise AuthenticationError(
                    f"{SERVICE} refused the request (HTTP {status}: {_graph_error(response)}); "
                    "check the mailbox permissions or sign in again"
                )
            assert error is not None
            raise error

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def _exchange(self, method: str, url: str, applies_effect: bool, **kwargs: Any) -> httpx.Response:
        """One HTTP exchange; transport failures translated by :func:`connectors.http.request`."""
        return request(
            self._client,
            method,
            url,
            service=SERVICE,
            applies_effect=applies_effect,
            check_status=False,
            **kwargs,
        )

def _graph_error(response: httpx.Response) -> str:
    """``code: message`` from a Graph error body, or the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return f"{error.get('code', '')}: {error.get('message', '')}".strip(": ")
    return response.text[:200]


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise MalformedResponseError(f"{SERVICE} answered with malformed JSON") from exc
    if not isinstance(body, dict):
        raise MalformedResponseError(f"{SERVICE} answered with JSON that is not an object")
    return body
