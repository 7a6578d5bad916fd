"""The profile's AI providers: the ``ai_providers`` settings section plus API keys in the keyring.

:class:`ProviderBook` is what the command line and the Settings page edit: add or change a
provider, remove it, and choose which providers classify and which draft, in order. Every change
is validated as a whole (:meth:`engine.ai.settings.AiSettings.validate`) before it is stored, so
the section in the database is always one the wiring can build. API keys go to the keyring under
:func:`engine.ai.settings.provider_secret_name` and never into the section; a key is stored
*before* the section changes, so "no keyring" leaves nothing half-saved.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from connectors.accounts import SectionStore
from engine.ai.settings import AiSettings, ProviderSettings, ai_settings_from_json, provider_secret_name
from engine.errors import ConfigurationError, SecretStoreUnavailableError
from engine.ports import SecretStore
from engine.settings import section_to_json

#: The settings section holding the providers and the chains (JSON; never API keys).
SECTION = "ai_providers"

#: The steps that use a chain of providers, as the command line and the settings name them.
STEPS = ("classify", "draft")


def ai_settings_to_json(settings: AiSettings) -> dict[str, Any]:
    """The stored form of the AI settings (tuples become lists)."""
    data = section_to_json(settings)
    assert isinstance(data, dict)
    return data


def _check_step(step: str) -> str:
    if step not in STEPS:
        raise ConfigurationError(f"AI step: choose classify or draft, not {step!r}.")
    return step


def _chain(settings: AiSettings, step: str) -> tuple[str, ...]:
    return settings.classify_chain if _check_step(step) == "classify" else settings.draft_chain


def with_chain(settings: AiSettings, step: str, names: Iterable[str]) -> AiSettings:
    """``settings`` with the chain of ``step`` replaced by ``names`` (not validated)."""
    chain = tuple(names)
    if _check_step(step) == "classify":
        return replace(settings, classify_chain=chain)
    return replace(settings, draft_chain=chain)


def moved(names: tuple[str, ...], name: str, offset: int) -> tuple[str, ...]:
    """``names`` with ``name`` moved ``offset`` places (−1 = earlier), clamped to the ends."""
    if name not in names:
        raise ConfigurationError(f"{name!r} is not in this chain.")
    items = [n for n in names if n != name]
    position = max(0, min(len(items), names.index(name) + offset))
    items.insert(position, name)
    return tuple(items)


@dataclass
class ProviderBook:
    """The configured AI providers and chains; API keys in the keyring (``secrets``)."""

    store: SectionStore
    secrets: SecretStore | None = None

    # --- reading -----------------------------------------------------------------------------

    def settings(self) -> AiSettings:
        """Every provider and both chains, as stored."""
        return ai_settings_from_json(self.store.section(SECTION))

    def providers(self) -> tuple[ProviderSettings, ...]:
        """The configured providers, in the order they were added."""
        return self.settings().providers

    def get(self, name: str) -> ProviderSettings:
        """The provider called ``name`` (ConfigurationError naming the known ones otherwise)."""
        settings = self.settings()
        for provider in settings.providers:
            if provider.name == name:
                return provider
        known = ", ".join(p.name for p in settings.providers) or "none yet"
        raise ConfigurationError(f"There is no AI provider called {name!r} (providers: {known}).")

    def steps_of(self, name: str) -> tuple[str, ...]:
        """The steps whose chain includes provider ``name``."""
        settings = self.settings()
        return tuple(step for step in STEPS if name in _chain(settings, step))

    def has_api_key(self, name: str) -> bool:
        """Whether the keyring holds an API key for ``name`` (False when there is no keyring)."""
        if self.secrets is None:
            return False
        try:
            return bool(self.secrets.get(provider_secret_name(name)))
        except SecretStoreUnavailableError:
            return False

    # --- changing ------------------------------------------------------------------------------

    def add(
        self,
        provider: ProviderSettings,
        *,
        api_key: str | None = None,
        steps: Iterable[str] = (),
        actor: str | None = None,
        replace_existing: bool = False,
    ) -> AiSettings:
        """Validate and store ``provider`` (replacing one of the same name when ``replace_existing``).

        A replaced provider keeps its place in the list and in the chains. ``steps``
        (``classify``, ``draft``) appends it to those chains when it is not in them yet. An
        ``api_key`` is stored in the keyring first; without a keyring nothing is stored.
        """
        provider.validate()
        current = self.settings()
        exists = any(p.name == provider.name for p in current.providers)
        if exists and not replace_existing:
            raise ConfigurationError(
                f"There is already an AI provider called {provider.name!r} (use --replace to change it)."
            )
        providers = (
            tuple(provider if p.name == provider.name else p for p in current.providers)
            if exists
            else (*current.providers, provider)
        )
        updated = replace(current, providers=providers)
        for step in steps:
            chain = _chain(updated, step)
            if provider.name not in chain:
                updated = with_chain(updated, step, (*chain, provider.name))
        updated.validate()
        if api_key is not None:
            self.set_api_key(provider.name, api_key)
        self.save(updated, actor=actor)
        return updated

    def remove(self, name: str, *, actor: str | None = None) -> ProviderSettings:
        """Remove a provider from the list and from both chains, and forget its API key."""
        provider = self.get(name)
        current = self.settings()
        updated = AiSettings(
            providers=tuple(p for p in current.providers if p.name != name),
            classify_chain=tuple(n for n in current.classify_chain if n != name),
            draft_chain=tuple(n for n in current.draft_chain if n != name),
        )
        self.save(updated, actor=actor)
        if self.secrets is not None:
            with contextlib.suppress(SecretStoreUnavailableError):  # no keyring: no key to forget
                self.secrets.delete(provider.secret_name)
        return provider

    def set_chain(self, step: str, names: Iterable[str], *, actor: str | None = None) -> AiSettings:
        """Make ``names`` (in order) the chain of ``step``; an empty chain means offline only."""
        updated = with_chain(self.settings(), step, names).validate()
        self.save(updated, actor=actor)
        return updated

    def move(self, step: str, name: str, offset: int, *, actor: str | None = None) -> AiSettings:
        """Move ``name`` earlier (negative ``offset``) or later in the chain of ``step``."""
        current = self.settings()
        return self.set_chain(step, moved(_chain(current, step), name, offset), actor=actor)

    def set_api_key(self, name: str, value: str) -> None:
        """Store ``name``'s API key in the keyring (SecretStoreUnavailableError without one)."""
        if not value:
            raise ConfigurationError(f"AI provider {name!r}: the API key is empty.")
        if self.secrets is None:
            raise ConfigurationError("no secret store is available to keep the API key")
        self.secrets.set(provider_secret_name(name), value)

    def save(self, settings: AiSettings, *, actor: str | None = None) -> None:
        """Validate the whole section and store it (the change is audited)."""
        self.store.save_section(SECTION, ai_settings_to_json(settings.validate()), actor=actor)
