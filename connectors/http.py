"""The one HTTP client factory every connector uses.

It enforces the egress allow-list (a host no configured account, provider or CRM names is refused
before any connection is attempted — no DNS look-up, no socket), reports every call (allowed or
refused) to an observer so it can be audited, applies timeouts, and translates httpx errors and
HTTP statuses into the connectors' exception tree.

Clients ignore proxy and certificate settings from the environment (``trust_env=False``): an
``HTTPS_PROXY`` variable would otherwise route requests around the guarded transport. The policy
is read at each request, so removing a service from Settings stops traffic to it at once, even
through clients built earlier.
"""

from __future__ import annotations

import email.utils
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.errors import (
    AuthenticationError,
    ConflictError,
    ConnectionFailedError,
    ConnectorError,
    ConnectorOutcomeUnknownError,
    ConnectorPermanentError,
    ConnectorTimeoutError,
    EgressDeniedError,
    MalformedResponseError,
    RateLimitedError,
    RemoteNotFoundError,
    ServerError,
    TlsError,
)

#: Seconds to wait for a connection, a read, a write and a pool slot unless a connector says otherwise.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)

#: Retry-After values larger than this are capped (a misbehaving server must not park a run for days).
MAX_RETRY_AFTER_S = 3600.0

#: HTTP statuses that mean "try again later" besides 5xx.
TRANSIENT_STATUSES = frozenset({408, 425, 429})

_SNIPPET_CHARS = 200
_HOST_CHARS = re.compile(r"[a-z0-9.:_-]{1,253}")
_DENIED = EgressDeniedError.__name__


@dataclass(frozen=True)
class EgressEvent:
    """One outbound HTTP call as the observer sees it: where, what, and how it ended.

    ``path`` excludes the query string (which may carry search terms such as an email address);
    ``error`` is an exception class name, never a message.
    """

    host: str
    method: str
    path: str
    purpose: str
    allowed: bool
    status: int | None
    error: str | None
    elapsed_ms: int


EgressObserver = Callable[[EgressEvent], None]


@dataclass(frozen=True)
class ConnectionTestResult:
    """The answer to "Test connection": whether it worked and a sentence for the settings page."""

    ok: bool
    message: str


def normalise_host(host: str) -> str:
    """Lower-case a host name, strip a trailing dot and IPv6 brackets, and encode it as IDNA
    (``bücher.example`` → ``xn--bcher-kva.example``) so a look-alike never equals its original."""
    host = host.strip().strip("[]").rstrip(".").lower()
    if host and not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return host
    return host


def host_of(url_or_host: str) -> str:
    """The normalised host of a URL (``https://api.openai.com/v1`` → ``api.openai.com``) or bare host."""
    value = url_or_host.strip()
    if not value:
        return ""
    if "://" not in value:
        value = "http://" + value
    try:
        host = normalise_host(httpx.URL(value).host)
    except httpx.InvalidURL:
        return ""
    return host if _HOST_CHARS.fullmatch(host) else ""


class EgressPolicy:
    """The set of hosts the app may reach, built from the configured services.

    Hosts are compared exactly (after normalisation): allowing ``api.example.com`` does not allow
    ``example.com`` or ``evil.api.example.com``; ports are not part of the rule.
    """

    def __init__(self, allowed_hosts: Iterable[str]) -> None:
        self._hosts = frozenset(h for h in (normalise_host(x) for x in allowed_hosts if x) if h)

    @classmethod
    def from_urls(cls, urls: Iterable[str]) -> EgressPolicy:
        """A policy allowing the host of each URL (or bare host name) given; blanks are ignored."""
        return cls(h for h in (host_of(u) for u in urls) if h)

    @property
    def hosts(self) -> frozenset[str]:
        """The allowed host names."""
        return self._hosts

    def union(self, other: EgressPolicy) -> EgressPolicy:
        """A policy allowing the hosts of both."""
        return EgressPolicy(self._hosts | other.hosts)

    def allows(self, host: str) -> bool:
        """Whether ``host`` is on the allow-list."""
        return normalise_host(host) in self._hosts

    def check(self, host: str) -> None:
        """Raise :class:`EgressDeniedError` unless ``host`` is allowed."""
        if not self.allows(host):
            raise EgressDeniedError(normalise_host(host))


class _GuardedTransport(httpx.BaseTransport):
    """Checks every request (redirect hops included) against the policy, then reports it."""

    def __init__(self, inner: httpx.BaseTransport, factory: HttpClientFactory, purpose: str) -> None:
        self._inner = inner
        self._factory = factory
        self._purpose = purpose

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Refuse a host off the allow-list before connecting; otherwise send, and report either way."""
        host = normalise_host(request.url.raw_host.decode("ascii", "replace"))
        started = time.perf_counter()
        if request.url.scheme not in ("http", "https") or not self._factory.policy.allows(host):
            self._report(request, host, allowed=False, status=None, error=_DENIED, started=started)
            raise EgressDeniedError(host)
        try:
            response = self._inner.handle_request(request)
        except Exception as exc:
            self._report(request, host, allowed=True, status=None, error=type(exc).__name__, started=started)
            raise
        self._report(request, host, allowed=True, status=response.status_code, error=None, started=started)
        return response

    def _report(
        self,
        request: httpx.Request,
        host: str,
        *,
        allowed: bool,
        status: int | None,
        error: str | None,
        started: float,
    ) -> None:
        self._factory.report(
            EgressEvent(
                host=host,
                method=request.method,
                path=request.url.path,
                purpose=self._purpose,
                allowed=allowed,
                status=status,
                error=error,
                elapsed_ms=int((time.perf_counter() - started) * 1000),
            )
        )

    def close(self) -> None:
        """Close the wrapped transport."""
        self._inner.close()


class HttpClientFactory:
    """Builds httpx clients that obey the egress policy and report every call.

    ``observer`` receives an :class:`EgressEvent` for every request, from the thread that made it;
    it must not raise. ``transport_factory`` lets tests inject an ``httpx.MockTransport``; by
    default a real ``httpx.HTTPTransport`` (with ``verify``, no automatic retries) is used.
    """

    def __init__(
        self,
        policy: EgressPolicy,
        observer: EgressObserver | None = None,
        *,
        transport_factory: Callable[[], httpx.BaseTransport] | None = None,
    ) -> None:
        self._policy = policy
        self._observer = observer
        self._transport_factory = transport_factory

    @property
    def policy(self) -> EgressPolicy:
        """The allow-list in force (read at every request)."""
        return self._policy

    def set_policy(self, policy: EgressPolicy) -> None:
        """Replace the allow-list (after Settings changed); applies to existing clients too."""
        self._policy = policy

    def report(self, event: EgressEvent) -> None:
        """Hand one event to the observer, if any."""
        if self._observer is not None:
            self._observer(event)

    def client(
        self,
        *,
        purpose: str,
        base_url: str = "",
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | float | None = None,
        verify: bool | str = True,
        max_connections: int = 10,
    ) -> httpx.Client:
        """Return a client for one connector; ``purpose`` names it in egress events."""
        inner = (
            self._transport_factory()
            if self._transport_factory is not None
            else httpx.HTTPTransport(
                verify=verify,
                retries=0,
                trust_env=False,
                limits=httpx.Limits(
                    max_connections=max_connections, max_keepalive_connections=max_connections
                ),
            )
        )
        return httpx.Client(
            base_url=base_url,
            headers=dict(headers or {}),
            timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
            transport=_GuardedTransport(inner, self, purpose),
            follow_redirects=False,
            trust_env=False,
        )


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, min(seconds, MAX_RETRY_AFTER_S))


def error_snippet(response: httpx.Response) -> str:
    """A short, single-line excerpt of an error body for messages (the JSON error message if any)."""
    if not response.content:
        return ""
    try:
        data = response.json()
    except ValueError:
        data = None
    message = _json_error_message(data)
    text = message if message else response.text
    return " ".join(text.split())[:_SNIPPET_CHARS]


def _json_error_message(data: object) -> str | None:
    """The human message of the common JSON error shapes (OpenAI, Anthropic, HubSpot, Pipedrive)."""
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    if isinstance(error, str):
        return error
    message = data.get("message")
    return message if isinstance(message, str) else None


def error_for_status(response: httpx.Response, *, service: str) -> ConnectorError | None:
    """The connector error an HTTP response stands for, or ``None`` for 1xx–3xx."""
    status = response.status_code
    if status < 400:
        return None
    snippet = error_snippet(response)
    message = f"{service} answered HTTP {status}" + (f": {snippet}" if snippet else "")
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status in (401, 403):
        return AuthenticationError(message)
    if status == 404:
        return RemoteNotFoundError(message)
    if status == 409:
        return ConflictError(message)
    if status == 429:
        return RateLimitedError(message, retry_after=retry_after)
    if status in TRANSIENT_STATUSES:
        return ServerError(message, retry_after=retry_after)
    if status >= 500:
        return ServerError(message, retry_after=retry_after)
    return ConnectorPermanentError(message)


def raise_for_status(response: httpx.Response, *, service: str) -> None:
    """Raise the connector error an HTTP error status stands for."""
    error = error_for_status(response, service=service)
    if error is not None:
        raise error


def request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    service: str,
    applies_effect: bool = False,
    check_status: bool = True,
    json: Any = None,
    content: bytes | None = None,
    params: Mapping[str, str | int] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: httpx.Timeout | float | None = None,
) -> httpx.Response:
    """Send one request and translate failures.

    ``applies_effect`` marks requests that change remote state (create a note, send mail): if
    such a request fails after it may have been sent (read or write timeout, dropped connection)
    its outcome is unknown and :class:`ConnectorOutcomeUnknownError` is raised so the caller
    reconciles first. A request that never left (refused by the allow-list, connection or pool
    timeout, refused connection) is never "unknown". ``check_status=False`` returns 4xx/5xx
    responses instead of raising (for connectors that read the error body themselves).
    """
    extra: dict[str, Any] = {}
    if timeout is not None:
        extra["timeout"] = timeout
    try:
        response = client.request(
            method, url, json=json, content=content, params=params, headers=headers, **extra
        )
    except EgressDeniedError:
        raise
    except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise ConnectorTimeoutError(f"{service}: connection timed out") from exc
    except httpx.ConnectError as exc:
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            raise TlsError(f"{service}: the server's certificate could not be verified ({text})") from exc
        raise ConnectionFailedError(f"{service}: could not connect ({text or type(exc).__name__})") from exc
    except (httpx.ReadTimeout, httpx.WriteTimeout) as exc:
        if applies_effect:
            raise ConnectorOutcomeUnknownError(
                f"{service}: no answer in time; the request may have been applied"
            ) from exc
        raise ConnectorTimeoutError(f"{service}: no answer in time") from exc
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
        if applies_effect:
            raise ConnectorOutcomeUnknownError(
                f"{service}: connection dropped; the request may have been applied"
            ) from exc
        raise ConnectionFailedError(f"{service}: connection dropped ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise ConnectionFailedError(f"{service}: {type(exc).__name__}: {exc}") from exc
    if check_status:
        raise_for_status(response, service=service)
    return response


def json_body(response: httpx.Response, *, service: str) -> object:
    """Decode a JSON response body, raising :class:`MalformedResponseError` when it is not JSON."""
    try:
        return response.json()
    except ValueError as exc:
        raise MalformedResponseError(f"{service} answered with malformed JSON") from exc


def json_object(response: httpx.Response, *, service: str) -> dict[str, Any]:
    """Decode a JSON object body; anything else (broken JSON, a list, a string) is malformed."""
    data = json_body(response, service=service)
    if not isinstance(data, dict):
        raise MalformedResponseError(f"{service} answered with JSON that is not an object")
    return data
