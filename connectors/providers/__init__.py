"""AI provider connectors implementing :class:`engine.ports.AiProvider`.

* :class:`OpenAICompatibleProvider` — OpenAI, Azure OpenAI, Mistral, Groq, OpenRouter and local
  servers (Ollama, LM Studio, vLLM, llama.cpp).
* :class:`AnthropicProvider` — Anthropic's Messages API.
* :func:`build_provider` — the right connector for a :class:`engine.ai.settings.ProviderSettings`.

Every request goes through :class:`connectors.http.HttpClientFactory` (egress allow-list, audit
observer) under the provider's :class:`connectors.ratelimit.RateLimiter`.
"""

from __future__ import annotations

from connectors.http import HttpClientFactory
from connectors.providers.anthropic import AnthropicProvider
from connectors.providers.base import ProviderBase
from connectors.providers.openai import OpenAICompatibleProvider
from connectors.ratelimit import RateLimiter
from engine.ai.settings import ProviderSettings
from engine.errors import ConfigurationError
from engine.ports import SecretStore

__all__ = ["AnthropicProvider", "OpenAICompatibleProvider", "ProviderBase", "build_provider"]


def build_provider(
    settings: ProviderSettings,
    http: HttpClientFactory,
    secrets: SecretStore,
    *,
    limiter: RateLimiter | None = None,
) -> ProviderBase:
    """The connector for ``settings.kind`` (``openai`` or ``anthropic``)."""
    if settings.kind == "openai":
        return OpenAICompatibleProvider(settings, http, secrets, limiter=limiter)
    if settings.kind == "anthropic":
        return AnthropicProvider(settings, http, secrets, limiter=limiter)
    raise ConfigurationError(f"Unknown AI provider type {settings.kind!r}.")
