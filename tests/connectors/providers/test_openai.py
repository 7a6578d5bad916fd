"""The OpenAI-compatible provider against a loopback server implementing chat completions."""

from __future__ import annotations

import json

import pytest

from connectors.errors import (
    AuthenticationError,
    ConflictError,
    ConnectorPermanentError,
    ConnectorTimeoutError,
    EgressDeniedError,
    MalformedResponseError,
    RateLimitedError,
    RemoteNotFoundError,
    ServerError,
)
from connectors.http import EgressEvent, EgressPolicy, HttpClientFactory
from engine.errors import PermanentError, TransientError
from engine.ports import AiProvider, CompletionRequest
from tests.connectors.providers.helpers import SCHEMA, openai_provider
from tests.support_http.openai import OpenAIServer

REQUEST = CompletionRequest(system="You sort email.", user="Subject: hi", json_schema=SCHEMA, max_tokens=300)


def test_request_and_response_shapes(openai_server: OpenAIServer) -> None:
    openai_server.responder = lambda body: '{"category": "order"}'
    provider = openai_provider(openai_server)
    assert isinstance(provider, AiProvider)
    completion = provider.complete(REQUEST, timeout=5)
    assert completion.text == '{"category": "order"}'
    assert completion.model == "gpt-4o-mini"
    assert (completion.input_tokens, completion.output_tokens) == (5, 2)
    [recorded] = openai_server.recorded()
    assert (recorded.method, recorded.path) == ("POST", "/v1/chat/completions")
    assert recorded.headers["authorization"] == "Bearer sk-test"
    body = recorded.json()
    assert body == {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You sort email."},
            {"role": "user", "content": "Subject: hi"},
        ],
        "temperature": 0.0,
        "max_tokens": 300,
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "email_classification",
                "schema": {k: v for k, v in SCHEMA.items() if k != "title"},
                "strict": True,
            },
        },
    }
    assert provider.destination == "127.0.0.1"
    assert provider.redact is True


def test_no_schema_no_response_format(openai_server: OpenAIServer) -> None:
    openai_server.responder = lambda body: "OK"
    provider = openai_provider(openai_server)
    provider.complete(CompletionRequest(system="s", user="u"), timeout=5)
    assert "response_format" not in openai_server.recorded()[0].json()


def test_json_schema_rejected_falls_back_to_json_object_and_remembers(openai_server: OpenAIServer) -> None:
    openai_server.json_schema_supported = False
    openai_server.responder = lambda body: '{"category": "other"}'
    provider = openai_provider(openai_server)
    assert provider.complete(REQUEST, timeout=5).text == '{"category": "other"}'
    assert provider.format_mode == "json_object"
    provider.complete(REQUEST, timeout=5)
    formats = [r.json().get("response_format", {}).get("type") for r in openai_server.recorded()]
    assert formats == ["json_schema", "json_object", "json_object"]


def test_no_json_modes_at_all_still_works(openai_server: OpenAIServer) -> None:
    openai_server.json_schema_supported = False
    openai_server.json_object_supported = False
    provider = openai_provider(openai_server)
    provider.complete(REQUEST, timeout=5)
    assert provider.format_mode == "none"
    assert "response_format" not in openai_server.recorded()[-1].json()


def test_other_400_is_permanent_after_stepping_down(openai_server: OpenAIServer) -> None:
    openai_server.fail(status=400, body={"error": {"message": "context too long"}}, times=3)
    provider = openai_provider(openai_server)
    with pytest.raises(ConnectorPermanentError, match="context too long"):
        provider.complete(REQUEST, timeout=5)
    assert len(openai_server.recorded()) == 3
    assert provider.format_mode == "json_schema"  # nothing succeeded, nothing remembered


def test_azure_variant() -> None:
    with OpenAIServer(api_key="azure-key", prefix="/openai/deployments/triage", azure=True) as server:
        provider = openai_provider(
            server,
            base_url=f"{server.url}/openai/deployments/triage",
            model="",
            azure_api_version="2024-10-21",
            key="azure-key",
        )
        provider.complete(REQUEST, timeout=5)
        [recorded] = server.recorded()
    assert recorded.path == "/openai/deployments/triage/chat/completions"
    assert recorded.query == {"api-version": ["2024-10-21"]}
    assert recorded.headers["api-key"] == "azure-key"
    assert "authorization" not in recorded.headers
    assert "model" not in recorded.json()


def test_max_completion_tokens_field(openai_server: OpenAIServer) -> None:
    provider = openai_provider(openai_server, max_tokens_field="max_completion_tokens")
    provider.complete(REQUEST, timeout=5)
    body = openai_server.recorded()[0].json()
    assert body["max_completion_tokens"] == 300
    assert "max_tokens" not in body


def test_local_server_without_key() -> None:
    with OpenAIServer(api_key=None) as server:
        provider = openai_provider(server, needs_api_key=False, key="")
        provider.complete(REQUEST, timeout=5)
        assert "authorization" not in server.recorded()[0].headers


def test_missing_key_sends_nothing(openai_server: OpenAIServer) -> None:
    provider = openai_provider(openai_server, key="")
    with pytest.raises(AuthenticationError, match="No API key is stored"):
        provider.complete(REQUEST, timeout=5)
    assert openai_server.requests == []


@pytest.mark.parametrize(
    ("status", "error", "marker"),
    [
        (401, AuthenticationError, PermanentError),
        (404, RemoteNotFoundError, PermanentError),
        (409, ConflictError, PermanentError),
        (500, ServerError, TransientError),
        (503, ServerError, TransientError),
    ],
)
def test_error_statuses(
    openai_server: OpenAIServer, status: int, error: type[Exception], marker: type
) -> None:
    openai_server.fail(status=status, body={"error": {"message": f"status {status}", "type": "x"}})
    with pytest.raises(error, match=f"status {status}") as caught:
        openai_provider(openai_server).complete(CompletionRequest(system="s", user="u"), timeout=5)
    assert isinstance(caught.value, marker)


def test_wrong_key_is_401_from_the_server(openai_server: OpenAIServer) -> None:
    with pytest.raises(AuthenticationError, match="Incorrect API key"):
        openai_provider(openai_server, key="sk-wrong").complete(REQUEST, timeout=5)


def test_429_with_retry_after_pauses_the_provider(openai_server: OpenAIServer) -> None:
    openai_server.fail(
        status=429, body={"error": {"message": "Rate limit reached"}}, headers={"Retry-After": "30"}
    )
    provider = openai_provider(openai_server)
    with pytest.raises(RateLimitedError) as caught:
        provider.complete(REQUEST, timeout=2)
    assert caught.value.retry_after == 30.0
    assert provider.limiter.paused_for == pytest.approx(30, abs=1)
    with pytest.raises(RateLimitedError, match="over its request limit"):
        provider.complete(REQUEST, timeout=2)  # refused locally: the server sees nothing more
    assert len(openai_server.recorded()) == 1


def test_timeout(openai_server: OpenAIServer) -> None:
    openai_server.fail(delay_s=5)
    provider = openai_provider(openai_server, timeout_s=1.0)
    with pytest.raises(ConnectorTimeoutError) as caught:
        provider.complete(REQUEST, timeout=0.3)
    assert isinstance(caught.value, TransientError)


def test_malformed_json(openai_server: OpenAIServer) -> None:
    openai_server.fail(malformed=True)
    with pytest.raises(MalformedResponseError):
        openai_provider(openai_server).complete(REQUEST, timeout=5)


@pytest.mark.parametrize(
    "payload",
    [
        {"id": "x"},
        {"choices": []},
        {"choices": [{"message": None}]},
        {"choices": [{"message": {"role": "assistant", "content": None}}]},
        [1, 2, 3],
    ],
)
def test_wrong_shapes_are_malformed(openai_server: OpenAIServer, payload: object) -> None:
    openai_server.fail(status=200, body=payload)
    with pytest.raises(MalformedResponseError):
        openai_provider(openai_server).complete(REQUEST, timeout=5)


def test_refusal(openai_server: OpenAIServer) -> None:
    body = {
        "choices": [{"message": {"role": "assistant", "content": None, "refusal": "I can't help with that."}}]
    }
    openai_server.fail(status=200, body=body)
    with pytest.raises(ConnectorPermanentError, match="refused"):
        openai_provider(openai_server).complete(REQUEST, timeout=5)


def test_missing_usage_counts_zero(openai_server: OpenAIServer) -> None:
    openai_server.fail(status=200, body={"choices": [{"message": {"content": "{}"}}], "model": "m"})
    completion = openai_provider(openai_server).complete(REQUEST, timeout=5)
    assert (completion.input_tokens, completion.output_tokens, completion.model) == (0, 0, "m")


def test_host_not_on_the_allow_list_is_never_contacted(openai_server: OpenAIServer) -> None:
    events: list[EgressEvent] = []
    factory = HttpClientFactory(EgressPolicy(["api.openai.com"]), events.append)
    provider = openai_provider(openai_server, factory=factory)
    with pytest.raises(EgressDeniedError):
        provider.complete(REQUEST, timeout=5)
    assert openai_server.connections == 0
    assert [(e.host, e.allowed, e.purpose) for e in events] == [("127.0.0.1", False, "ai:openai")]


def test_test_connection(openai_server: OpenAIServer) -> None:
    openai_server.responder = lambda body: "OK"
    result = openai_provider(openai_server).test_connection()
    assert result.ok
    assert "gpt-4o-mini" in result.message
    bad = openai_provider(openai_server, key="sk-wrong").test_connection()
    assert not bad.ok
    assert "refused the API key" in bad.message


def test_never_sends_tools(openai_server: OpenAIServer) -> None:
    provider = openai_provider(openai_server)
    provider.complete(REQUEST, timeout=5)
    provider.complete(CompletionRequest(system="s", user="u"), timeout=5)
    for recorded in openai_server.recorded():
        body = recorded.json()
        assert not {"tools", "functions", "tool_choice", "function_call"} & set(body)
        assert json.dumps(body).count('"role"') == 2


def test_errors_before_sending_are_marked_not_sent(openai_server: OpenAIServer) -> None:
    from engine.ai.errors import was_sent

    factory = HttpClientFactory(EgressPolicy(["api.openai.com"]))
    with pytest.raises(EgressDeniedError) as refused:
        openai_provider(openai_server, factory=factory).complete(REQUEST, timeout=5)
    with pytest.raises(AuthenticationError) as no_key:
        openai_provider(openai_server, key="").complete(REQUEST, timeout=5)
    paused = openai_provider(openai_server)
    paused.limiter.pause(60)
    with pytest.raises(RateLimitedError) as limited:
        paused.complete(REQUEST, timeout=1)
    assert not any(was_sent(e.value) for e in (refused, no_key, limited))
    openai_server.fail(status=429, body={"error": {"message": "slow down"}})
    with pytest.raises(RateLimitedError) as server_said:
        openai_provider(openai_server).complete(REQUEST, timeout=5)
    assert was_sent(server_said.value)
    assert len(openai_server.recorded()) == 1
