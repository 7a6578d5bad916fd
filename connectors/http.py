"""The one HTTP client factory every connector uses.

It enforces the egress allow-list (a host no configured account, provider or CRM names is refused
before any connection is attempted), reports every call (allowed or refused) to an observer so it
can be audited, applies timeouts, and translates httpx errors and HTTP statuses into the
connectors' exception tree.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

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


@dataclass(frozen=True)
class EgressEvent:
    """One outbound HTTP call as the observer sees it: where, what, and how it ended."""

    host: str
    method: str
    path: str
    purpose: str
    allowed: bool
    status: int | None
    error: str | None
    elapsed_ms: int


EgressObserver = Callable[[EgressEvent], None]


def normalise_host(host: str) -> str:
    """Lower-case a host name and strip a trailing dot and IPv6 brackets."""
    return host.strip().strip("[]").rstrip(".").lower()


class EgressPolicy:
    """The set of hosts the app may reach, built from the configured services."""

    def __init__(self, allowed_hosts: Iterable[str]) -> None:
        self._hosts = frozenset(normalise_host(h) for h in allowed_hosts if h)

    @property
    def hosts(self) -> frozenset[str]:
        """The allowed host names."""
        return self._hosts

    def allows(self, host: str) -> bool:
        """Whether ``host`` is on the allow-list."""
        return normalise_host(host) in self._hosts

    def check(self, host: str) -> None:
        """Raise :class:`EgressDeniedError` unless ``host`` is allowed."""
        if not self.allows(host):
            raise EgressDeniedError(normalise_host(host))


class _GuardedTransport(httpx.BaseTransport):
    """Checks every request (redirect hops included) against the policy, then reports it."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        policy: EgressPolicy,
        observer: EgressObserver | None,
        purpose: str,
    ) -> None:
        self._inner = inner
        self._policy = policy
        self._observer = observer
        self._purpose = purpose

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = normalise_host(request.url.host)
        started = time.perf_counter()
        if not self._policy.allows(host):
            self._report(request, host, allowed=False, status=None, error="egress denied", started=started)
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
        if self._observer is None:
            return
        self._observer(
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
        self._inner.close()


class HttpClientFactory:
    """Builds httpx clients that obey the egress policy and report every call.

    ``transport`` lets tests inject an ``httpx.MockTransport``; by default a real
    ``httpx.HTTPTransport`` (with ``verify``) is used.
    """

    def __init__(
        self,
        policy: EgressPolicy,
        observer: EgressObserver | None = None,
        *,
        transport_factory: Callable[[], httpx.BaseTransport] | None = None,
    ) -> None:
        self.policy = policy
        self._observer = observer
        self._transport_factory = transport_factory

    def client(
        self,
        *,
        purpose: str,
        base_url: str = "",
        headers: dict[str, str] | None = None,
        timeout: httpx.Timeout | float | None = None,
        verify: bool | str = True,
    ) -> httpx.Client:
        """Return a client for one connector; ``purpose`` names it in egress events."""
        inner = (
            self._transport_factory()
            if self._transport_factory is not None
            else httpx.HTTPTransport(verify=verify, retries=0)
        )
        transport = _GuardedTransport(inner, self.policy, self._observer, purpose)
        return httpx.Client(
            base_url=base_url,
            headers=headers or {},
            timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
            transport=transport,
            follow_redirects=False,
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
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, min(seconds, MAX_RETRY_AFTER_S))


def error_for_status(response: httpx.Response, *, service: str) -> ConnectorError | None:
    """The connector error an HTTP response stands for, or ``None`` for 2xx/3xx."""
    status = response.status_code
    if status < 400:
        return None
    snippet = response.text[:200].replace("\n", " ") if response.content else ""
    message = f"{service} answered HTTP {status}" + (f": {snippet}" if snippet else "")
    if status in (401, 403):
        return AuthenticationError(message)
    if status == 404:
        return RemoteNotFoundError(message)
    if status == 409:
        return ConflictError(message)
    if status == 429:
        return RateLimitedError(message, retry_after=parse_retry_after(response.headers.get("Retry-After")))
    if status >= 500:
        return ServerError(message, retry_after=parse_retry_after(response.headers.get("Retry-After")))
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
    **kwargs: object,
) -> httpx.Response:
    """Send one request and translate failures.

    ``applies_effect`` marks requests that change remote state (create a note, send mail): if
    such a request fails after it was sent (read timeout, dropped connection) its outcome is
    unknown and :class:`ConnectorOutcomeUnknownError` is raised so the caller reconciles first.
    """
    try:
        response = client.request(method, url, **kwargs)  # type: ignore[arg-type]
    except EgressDeniedError:
        raise
    except httpx.ConnectTimeout as exc:
        raise ConnectorTimeoutError(f"{service}: connection timed out") from exc
    except httpx.ConnectError as exc:
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            raise TlsError(f"{service}: the server's certificate could not be verified ({text})") from exc
        raise ConnectionFailedError(f"{service}: could not connect ({text or type(exc).__name__})") from exc
    except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout) as exc:
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
    raise_for_status(response, service=service)
    return response


def json_body(response: httpx.Response, *, service: str) -> object:
    """Decode a JSON response body, raising :class:`MalformedResponseError` when it is not JSON."""
    try:
        return response.json()
    except ValueError as exc:
        raise MalformedResponseError(f"{service} answered with malformed JSON") from exc
