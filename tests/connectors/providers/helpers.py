"""Building providers against the loopback fakes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from connectors.http import EgressEvent, EgressPolicy, HttpClientFactory
from connectors.providers import AnthropicProvider, OpenAICompatibleProvider, ProviderBase
from engine.ai.settings import ProviderSettings
from tests.support_http.secrets import DictSecrets
from tests.support_http.server import LoopbackServer

#: Every provider built here; the conftest closes them after each test.
CREATED: list[ProviderBase] = []

SCHEMA = {
    "title": "email_classification",
    "type": "object",
    "properties": {"category": {"type": "string", "enum": ["order", "other"]}},
    "required": ["category"],
    "additionalProperties": False,
}


def factory_for(*servers: LoopbackServer, events: list[EgressEvent] | None = None) -> HttpClientFactory:
    """A client factory allowing exactly these servers' hosts."""
    return HttpClientFactory(
        EgressPolicy.from_urls([s.url for s in servers]), events.append if events is not None else None
    )


def openai_provider(server: LoopbackServer, **overrides: Any) -> OpenAICompatibleProvider:
    settings = ProviderSettings(
        name="openai",
        kind="openai",
        base_url=f"{server.url}/v1",
        model="gpt-4o-mini",
        timeout_s=5.0,
        requests_per_minute=None,
    )
    secrets = DictSecrets({"ai-provider:openai": overrides.pop("key", "sk-test")})
    factory = overrides.pop("factory", None) or factory_for(server)
    provider = OpenAICompatibleProvider(replace(settings, **overrides), factory, secrets)
    CREATED.append(provider)
    return provider


def anthropic_provider(server: LoopbackServer, **overrides: Any) -> AnthropicProvider:
    settings = ProviderSettings(
        name="claude",
        kind="anthropic",
        base_url=server.url,
        model="claude-sonnet-4-5",
        timeout_s=5.0,
        requests_per_minute=None,
    )
    secrets = DictSecrets({"ai-provider:claude": overrides.pop("key", "sk-ant-test")})
    factory = overrides.pop("factory", None) or factory_for(server)
    provider = AnthropicProvider(replace(settings, **overrides), factory, secrets)
    CREATED.append(provider)
    return provider
