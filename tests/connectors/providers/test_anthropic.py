"""The Anthropic provider against a loopback server implementing the Messages API."""

from __future__ import annotations

import pytest

from connectors.errors import (
    AuthenticationError,
    ConnectorPermanentError,
    ConnectorTimeoutError,
    MalformedResponseError,
    RateLimitedError,
    RemoteNotFoundError,
    ServerError,
)
from engine.errors import TransientError
from engine.ports import AiProvider, CompletionRequest
from tests.connectors.providers.helpers import SCHEMA, anthropic_provider
from tests.support_http.anthropic import AnthropicServer, error_body

REQUEST = CompletionRequest(system="You sort email.", user="Subject: hi", json_schema=SCHEMA, max_tokens=400)


def test_request_and_response_shapes(anthropic_server: AnthropicServer) -> None:
    anthropic_server.responder = lambda body: '{"category": "order"}'
    provider = anthropic_provider(anthropic_server)
    assert isinstance(provider, AiProvider)
    completion = provider.complete(REQUEST, timeout=5)
    assert completion.text == '{"category": "order"}'
    assert completion.model == "claude-sonnet-4-5"
    assert completion.input_tokens > 0 and completion.output_tokens == 2
    [recorded] = anthropic_server.recorded()
    assert (recorded.method, recorded.path) == ("POST", "/v1/messages")
    assert recorded.headers["x-api-key"] == "sk-ant-test"
    assert recorded.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in recorded.headers
    assert recorded.json() == {
        "model": "claude-sonnet-4-5",
        "system": "You sort email.",
        "messages": [{"role": "user", "content": "Subject: hi"}],
        "max_tokens": 400,
        "temperature": 0.0,
    }


def test_text_blocks_are_joined_and_other_blocks_ignored(anthropic_server: AnthropicServer) -> None:
    anthropic_server.blocks = [
        {"type": "thinking", "thinking": "hmm", "signature": "x"},
        {"type": "text", "text": '{"category": '},
        {"type": "text", "text": '"other"}'},
    ]
    assert anthropic_provider(anthropic_server).complete(REQUEST, timeout=5).text == '{"category": "other"}'


def test_wrong_key(anthropic_server: AnthropicServer) -> None:
    with pytest.raises(AuthenticationError, match="invalid x-api-key"):
        anthropic_provider(anthropic_server, key="sk-wrong").complete(REQUEST, timeout=5)


@pytest.mark.parametrize(
    ("status", "kind", "error"),
    [
        (404, "not_found_error", RemoteNotFoundError),
        (500, "api_error", ServerError),
        (503, "api_error", ServerError),
        (529, "overloaded_error", ServerError),
    ],
)
def test_error_bodies(
    anthropic_server: AnthropicServer, status: int, kind: str, error: type[Exception]
) -> None:
    anthropic_server.fail(status=status, body=error_body(kind, f"{kind} happened"))
    with pytest.raises(error, match=f"{kind} happened"):
        anthropic_provider(anthropic_server).complete(REQUEST, timeout=5)


def test_overloaded_is_transient(anthropic_server: AnthropicServer) -> None:
    anthropic_server.fail(status=529, body=error_body("overloaded_error", "Overloaded"))
    with pytest.raises(TransientError):
        anthropic_provider(anthropic_server).complete(REQUEST, timeout=5)


def test_429_pauses(anthropic_server: AnthropicServer) -> None:
    anthropic_server.fail(
        status=429, body=error_body("rate_limit_error", "slow down"), headers={"retry-after": "12"}
    )
    provider = anthropic_provider(anthropic_server)
    with pytest.raises(RateLimitedError) as caught:
        provider.complete(REQUEST, timeout=2)
    assert caught.value.retry_after == 12.0
    assert provider.limiter.paused_for > 10


def test_timeout(anthropic_server: AnthropicServer) -> None:
    anthropic_server.fail(delay_s=5)
    with pytest.raises(ConnectorTimeoutError):
        anthropic_provider(anthropic_server).complete(REQUEST, timeout=0.3)


def test_malformed(anthropic_server: AnthropicServer) -> None:
    anthropic_server.fail(malformed=True)
    with pytest.raises(MalformedResponseError):
        anthropic_provider(anthropic_server).complete(REQUEST, timeout=5)


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "message", "content": "not a list"},
        {"type": "message", "content": []},
        {"type": "error", "error": {"type": "api_error", "message": "x"}},
    ],
)
def test_wrong_shapes(anthropic_server: AnthropicServer, payload: object) -> None:
    anthropic_server.fail(status=200, body=payload)
    with pytest.raises(MalformedResponseError):
        anthropic_provider(anthropic_server).complete(REQUEST, timeout=5)


def test_refusal(anthropic_server: AnthropicServer) -> None:
    anthropic_server.stop_reason = "refusal"
    with pytest.raises(ConnectorPermanentError, match="declined"):
        anthropic_provider(anthropic_server).complete(REQUEST, timeout=5)


def test_test_connection(anthropic_server: AnthropicServer) -> None:
    assert anthropic_provider(anthropic_server).test_connection().ok
    assert not anthropic_provider(anthropic_server, key="nope").test_connection().ok
