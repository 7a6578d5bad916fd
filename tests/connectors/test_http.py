"""The HTTP client factory: egress allow-list (refused before connecting), observer, error mapping."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from connectors.errors import (
    AuthenticationError,
    ConflictError,
    ConnectionFailedError,
    ConnectorOutcomeUnknownError,
    ConnectorPermanentError,
    ConnectorTimeoutError,
    EgressDeniedError,
    MalformedResponseError,
    RateLimitedError,
    RemoteNotFoundError,
    ServerError,
)
from connectors.http import (
    MAX_RETRY_AFTER_S,
    EgressEvent,
    EgressPolicy,
    HttpClientFactory,
    error_snippet,
    host_of,
    json_body,
    json_object,
    parse_retry_after,
    request,
)
from engine.errors import OutcomeUnknownError, PermanentError, TransientError
from tests.support.ports import free_port
from tests.support_http.server import LoopbackServer, RecordedRequest


class EchoServer(LoopbackServer):
    """Answers 200 with the path, or a redirect to ``redirect_to``."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.redirect_to: str | None = None

    def handle(self, request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        if self.redirect_to:
            return 302, None, {"Location": self.redirect_to}
        return 200, {"path": request.path}, {}


@pytest.fixture
def host_a() -> Iterator[EchoServer]:
    with EchoServer("127.0.0.1") as server:
        yield server


@pytest.fixture
def host_b() -> Iterator[EchoServer]:
    """A second server on another loopback address: nothing may ever connect to it."""
    with EchoServer("127.0.0.2") as server:
        yield server


class Observer:
    def __init__(self) -> None:
        self.events: list[EgressEvent] = []

    def __call__(self, event: EgressEvent) -> None:
        self.events.append(event)


def test_allowed_host_is_reached_and_reported(host_a: EchoServer) -> None:
    observer = Observer()
    factory = HttpClientFactory(EgressPolicy.from_urls([host_a.url]), observer)
    with factory.client(purpose="ai:test") as client:
        response = request(client, "GET", f"{host_a.url}/v1/models?q=jane@example.com", service="test")
    assert response.json() == {"path": "/v1/models"}
    [event] = observer.events
    assert (event.host, event.method, event.path, event.purpose) == (
        "127.0.0.1",
        "GET",
        "/v1/models",
        "ai:test",
    )
    assert event.allowed and event.status == 200 and event.error is None
    assert "jane" not in repr(event)  # the query string is never reported


def test_host_b_is_refused_before_any_connection(host_a: EchoServer, host_b: EchoServer) -> None:
    observer = Observer()
    factory = HttpClientFactory(EgressPolicy.from_urls([host_a.url]), observer)
    with factory.client(purpose="crm:hubspot") as client, pytest.raises(EgressDeniedError) as caught:
        request(client, "POST", f"{host_b.url}/steal", service="test", json={"x": 1}, applies_effect=True)
    assert caught.value.host == "127.0.0.2"
    assert isinstance(caught.value, PermanentError)
    assert host_b.connections == 0
    assert host_b.requests == []
    [event] = observer.events
    assert (event.host, event.allowed, event.status, event.error) == (
        "127.0.0.2",
        False,
        None,
        "EgressDeniedError",
    )
    assert event.purpose == "crm:hubspot"


def test_same_machine_under_another_name_is_still_refused(host_a: EchoServer) -> None:
    factory = HttpClientFactory(EgressPolicy(["localhost"]))
    with factory.client(purpose="t") as client, pytest.raises(EgressDeniedError):
        client.get(f"{host_a.url}/")
    assert host_a.connections == 0


def test_userinfo_trick_goes_nowhere(host_a: EchoServer, host_b: EchoServer) -> None:
    factory = HttpClientFactory(EgressPolicy.from_urls([host_a.url]))
    with factory.client(purpose="t") as client, pytest.raises(EgressDeniedError):
        client.get(f"http://127.0.0.1@127.0.0.2:{host_b.port}/")
    assert host_b.connections == 0


def test_redirect_to_another_host_is_not_followed_and_refused_if_asked(
    host_a: EchoServer, host_b: EchoServer
) -> None:
    host_a.redirect_to = f"{host_b.url}/landing"
    observer = Observer()
    factory = HttpClientFactory(EgressPolicy.from_urls([host_a.url]), observer)
    with factory.client(purpose="t") as client:
        assert client.get(f"{host_a.url}/").status_code == 302  # not followed by default
        with pytest.raises(EgressDeniedError):
            client.get(f"{host_a.url}/", follow_redirects=True)
    assert host_b.connections == 0
    assert [e.allowed for e in observer.events] == [True, True, False]


def test_proxy_environment_cannot_route_around_the_guard(
    host_a: EchoServer, host_b: EchoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP(S)_PROXY pointing at host B: requests still go straight to A, B sees nothing."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, host_b.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    factory = HttpClientFactory(EgressPolicy.from_urls([host_a.url]))
    with factory.client(purpose="t") as client:
        assert client.get(f"{host_a.url}/x").status_code == 200
    assert host_b.connections == 0
    assert [r.path for r in host_a.requests] == ["/x"]


def test_policy_change_applies_to_existing_clients(host_a: EchoServer) -> None:
    factory = HttpClientFactory(EgressPolicy.from_urls([host_a.url]))
    with factory.client(purpose="t") as client:
        assert client.get(f"{host_a.url}/").status_code == 200
        factory.set_policy(EgressPolicy([]))
        with pytest.raises(EgressDeniedError):
            client.get(f"{host_a.url}/")
    assert len(host_a.requests) == 1


def test_policy_from_urls_and_hosts() -> None:
    policy = EgressPolicy.from_urls(
        [
            "https://API.OpenAI.com/v1",
            "my-resource.openai.azure.com",
            "http://localhost:11434",
            "https://bücher.example/x",
            "",
            "https://[::1]:8080/",
        ]
    )
    assert policy.hosts == {
        "api.openai.com",
        "my-resource.openai.azure.com",
        "localhost",
        "xn--bcher-kva.example",
        "::1",
    }
    assert policy.allows("API.OPENAI.COM.")
    assert not policy.allows("openai.com")
    assert not policy.allows("evil.api.openai.com")
    assert policy.union(EgressPolicy(["b.example"])).allows("b.example")
    assert host_of("not a url at all") == ""
    with pytest.raises(EgressDeniedError):
        policy.check("example.org")


def test_other_schemes_are_refused() -> None:
    factory = HttpClientFactory(EgressPolicy(["127.0.0.1"]))
    with factory.client(purpose="t") as client, pytest.raises((EgressDeniedError, httpx.UnsupportedProtocol)):
        client.get("ftp://127.0.0.1/file")


# --- status and error mapping -----------------------------------------------------------------


class StatusServer(LoopbackServer):
    def handle(self, request: RecordedRequest) -> tuple[int, Any]:
        return 200, {"ok": True}


@pytest.fixture
def status_server() -> Iterator[StatusServer]:
    with StatusServer() as server:
        yield server


@pytest.fixture
def client(status_server: StatusServer) -> Iterator[httpx.Client]:
    factory = HttpClientFactory(EgressPolicy.from_urls([status_server.url]))
    with factory.client(purpose="t", base_url=status_server.url, timeout=2.0) as client:
        yield client


@pytest.mark.parametrize(
    ("status", "error", "marker"),
    [
        (401, AuthenticationError, PermanentError),
        (403, AuthenticationError, PermanentError),
        (404, RemoteNotFoundError, PermanentError),
        (409, ConflictError, PermanentError),
        (400, ConnectorPermanentError, PermanentError),
        (422, ConnectorPermanentError, PermanentError),
        (408, ServerError, TransientError),
        (429, RateLimitedError, TransientError),
        (500, ServerError, TransientError),
        (503, ServerError, TransientError),
        (529, ServerError, TransientError),
    ],
)
def test_status_mapping(
    status_server: StatusServer,
    client: httpx.Client,
    status: int,
    error: type[Exception],
    marker: type[Exception],
) -> None:
    status_server.fail(
        status=status, body={"error": {"message": "nope", "type": "x"}}, headers={"Retry-After": "7"}
    )
    with pytest.raises(error) as caught:
        request(client, "GET", "/", service="Svc")
    assert isinstance(caught.value, marker)
    assert str(caught.value) == f"Svc answered HTTP {status}: nope"
    if status in (429, 503):
        assert caught.value.retry_after == 7.0  # type: ignore[attr-defined]


def test_status_unchecked_returns_response(status_server: StatusServer, client: httpx.Client) -> None:
    status_server.fail(status=400, body={"error": {"message": "bad"}})
    assert request(client, "GET", "/", service="Svc", check_status=False).status_code == 400


def test_read_timeout_is_transient_unless_the_request_applies_an_effect(
    status_server: StatusServer, client: httpx.Client
) -> None:
    status_server.fail(delay_s=5, times=2)
    with pytest.raises(ConnectorTimeoutError):
        request(client, "GET", "/", service="Svc", timeout=0.2)
    with pytest.raises(ConnectorOutcomeUnknownError) as caught:
        request(client, "POST", "/", service="Svc", json={}, timeout=0.2, applies_effect=True)
    assert isinstance(caught.value, OutcomeUnknownError)


def test_dropped_connection(status_server: StatusServer, client: httpx.Client) -> None:
    status_server.fail(drop_after_apply=True, times=2)
    with pytest.raises(ConnectionFailedError):
        request(client, "GET", "/", service="Svc")
    with pytest.raises(ConnectorOutcomeUnknownError):
        request(client, "POST", "/", service="Svc", json={}, applies_effect=True)


def test_refused_connection_is_never_outcome_unknown() -> None:
    port = free_port()
    factory = HttpClientFactory(EgressPolicy(["127.0.0.1"]))
    with factory.client(purpose="t") as client, pytest.raises(ConnectionFailedError):
        request(client, "POST", f"http://127.0.0.1:{port}/", service="Svc", applies_effect=True)


def test_malformed_json(status_server: StatusServer, client: httpx.Client) -> None:
    status_server.fail(malformed=True)
    response = request(client, "GET", "/", service="Svc")
    with pytest.raises(MalformedResponseError):
        json_body(response, service="Svc")
    with pytest.raises(MalformedResponseError):
        json_object(httpx.Response(200, json=[1, 2]), service="Svc")


def test_error_snippet_prefers_the_json_message() -> None:
    assert (
        error_snippet(httpx.Response(400, json={"error": {"message": "bad  model\nname"}}))
        == "bad model name"
    )
    assert (
        error_snippet(httpx.Response(401, json={"success": False, "error": "Unauthorized"})) == "Unauthorized"
    )
    assert (
        error_snippet(httpx.Response(409, json={"message": "Contact already exists"}))
        == "Contact already exists"
    )
    assert error_snippet(httpx.Response(500, text="x" * 500)) == "x" * 200
    assert error_snippet(httpx.Response(502)) == ""


def test_parse_retry_after() -> None:
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("Mon, 30 Nov 2026 09:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Mon, 30 Nov 2026 08:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("999999") == MAX_RETRY_AFTER_S
    assert parse_retry_after("-5") == 0.0
    for bad in (None, "", "soon", "nan", "inf"):
        assert parse_retry_after(bad) is None
