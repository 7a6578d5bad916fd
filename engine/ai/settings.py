"""Settings of the AI providers and of which providers each step uses, in order.

Stored as JSON like the other settings sections (``engine.settings.section_to_json`` works on
them); API keys are never part of a section — they live in the keyring under
:func:`provider_secret_name`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import urlsplit

from engine.errors import ConfigurationError

#: Provider kinds: one connector serves every OpenAI-compatible API (OpenAI, Azure OpenAI,
#: Mistral, Groq, OpenRouter, Ollama, LM Studio, vLLM, llama.cpp); the other is Anthropic.
PROVIDER_KINDS = ("openai", "anthropic")
MAX_TOKENS_FIELDS = ("max_tokens", "max_completion_tokens")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,39}$")

#: Default base URLs by kind.
DEFAULT_BASE_URLS = {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com"}


def provider_secret_name(name: str) -> str:
    """The keyring entry holding a provider's API key."""
    return f"ai-provider:{name}"


@dataclass(frozen=True)
class ProviderSettings:
    """One configured provider.

    ``base_url`` is the API root (``https://api.openai.com/v1``, ``http://localhost:11434/v1``,
    ``https://api.anthropic.com``; for Azure OpenAI the deployment URL
    ``https://<resource>.openai.azure.com/openai/deployments/<deployment>`` with
    ``azure_api_version`` set). ``requests_per_minute=None`` means no limit. ``needs_api_key``
    is false for local servers that take none. ``max_tokens_field`` is ``max_completion_tokens``
    for newer OpenAI models that refuse ``max_tokens``.
    """

    name: str
    kind: str
    base_url: str
    model: str
    timeout_s: float = 60.0
    requests_per_minute: int | None = 60
    max_concurrency: int = 4
    redact: bool = True
    needs_api_key: bool = True
    azure_api_version: str | None = None
    max_tokens_field: str = "max_tokens"

    @property
    def secret_name(self) -> str:
        """The keyring entry holding this provider's API key."""
        return provider_secret_name(self.name)

    def validate(self) -> ProviderSettings:
        """Return self, or raise ConfigurationError naming the bad field."""
        label = f"AI provider {self.name!r}"
        if not _NAME.match(self.name):
            raise ConfigurationError(
                "AI provider name: use up to 40 letters, digits, spaces, dots, dashes or underscores."
            )
        if self.kind not in PROVIDER_KINDS:
            raise ConfigurationError(f"{label}: the type must be one of {', '.join(PROVIDER_KINDS)}.")
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(
                f"{label}: the base URL must start with https:// (or http:// for a local server)."
            )
        if parts.query or parts.fragment:
            raise ConfigurationError(f"{label}: the base URL must not contain ? or #.")
        if not self.model.strip() and self.azure_api_version is None:
            raise ConfigurationError(f"{label}: enter the model name (for example gpt-4o-mini).")
        if not 1 <= self.timeout_s <= 600:
            raise ConfigurationError(f"{label}: the timeout must be between 1 and 600 seconds.")
        if self.requests_per_minute is not None and not 1 <= self.requests_per_minute <= 100_000:
            raise ConfigurationError(
                f"{label}: requests per minute must be between 1 and 100000 (or no limit)."
            )
        if not 1 <= self.max_concurrency <= 64:
            raise ConfigurationError(f"{label}: concurrent requests must be between 1 and 64.")
        if self.azure_api_version is not None and self.kind != "openai":
            raise ConfigurationError(
                f"{label}: an Azure API version only applies to OpenAI-compatible providers."
            )
        if self.max_tokens_field not in MAX_TOKENS_FIELDS:
            raise ConfigurationError(
                f"{label}: the token limit field must be max_tokens or max_completion_tokens."
            )
        return self

    @property
    def host(self) -> str:
        """The API's host name (what the egress allow-list and the audit log name)."""
        return (urlsplit(self.base_url).hostname or "").lower()


@dataclass(frozen=True)
class AiSettings:
    """Every configured provider and the chain (provider names, in order) each step uses.

    An empty chain means the step uses the offline classifier or the templates only.
    """

    providers: tuple[ProviderSettings, ...] = ()
    classify_chain: tuple[str, ...] = ()
    draft_chain: tuple[str, ...] = ()

    def validate(self) -> AiSettings:
        """Return self, or raise ConfigurationError."""
        names = [p.validate().name for p in self.providers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigurationError(f"AI providers: the name {duplicates[0]!r} is used twice.")
        for step, chain in (("classification", self.classify_chain), ("drafting", self.draft_chain)):
            unknown = [n for n in chain if n not in names]
            if unknown:
                raise ConfigurationError(f"AI {step}: there is no provider called {unknown[0]!r}.")
            if len(set(chain)) != len(chain):
                raise ConfigurationError(f"AI {step}: each provider may appear once in the chain.")
        return self

    def provider(self, name: str) -> ProviderSettings:
        """The provider called ``name``."""
        for settings in self.providers:
            if settings.name == name:
                return settings
        raise ConfigurationError(f"There is no AI provider called {name!r}.")

    def chain(self, step: str) -> tuple[ProviderSettings, ...]:
        """The providers of ``"classify"`` or ``"draft"``, in order."""
        names = {"classify": self.classify_chain, "draft": self.draft_chain}[step]
        return tuple(self.provider(n) for n in names)

    def hosts(self) -> tuple[str, ...]:
        """Hosts of every configured provider (for the egress allow-list)."""
        return tuple(sorted({p.host for p in self.providers if p.host}))


def ai_settings_from_json(data: Any) -> AiSettings:
    """Build AiSettings from stored JSON, ignoring unknown keys (from newer versions)."""
    if not isinstance(data, dict):
        return AiSettings()
    known = {f.name for f in fields(ProviderSettings)}
    providers = tuple(
        ProviderSettings(**{k: v for k, v in raw.items() if k in known})
        for raw in data.get("providers") or []
        if isinstance(raw, dict)
    )
    return AiSettings(
        providers=providers,
        classify_chain=tuple(str(n) for n in data.get("classify_chain") or []),
        draft_chain=tuple(str(n) for n in data.get("draft_chain") or []),
    )


def with_defaults(kind: str, name: str, **overrides: Any) -> ProviderSettings:
    """A provider of ``kind`` with the default base URL, overridden by ``overrides``."""
    base = ProviderSettings(name=name, kind=kind, base_url=DEFAULT_BASE_URLS.get(kind, ""), model="")
    return replace(base, **overrides)
