"""What the triage steps need from the composition root: settings, classifier, sender, CRM, AI."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.ai.chain import ProviderChain
from engine.ports import AiProvider, CrmClient, MailSender, MailSource
from engine.settings import OfficeSettings, Policy


class TextClassifier(Protocol):
    """The offline classifier as the classify step uses it (see engine.classify)."""

    def classify(self, item: Any) -> Any:
        """Return a Classification for a ClassifierInput."""
        ...


@dataclass(frozen=True)
class SettingsSnapshot:
    """The settings a run uses, read once per runner pass."""

    office: OfficeSettings
    policies: Mapping[str, Policy]
    templates: Any
    classify_chain: ProviderChain = field(default_factory=lambda: ProviderChain(()))
    draft_chain: ProviderChain = field(default_factory=lambda: ProviderChain(()))


@dataclass
class TriageDeps:
    """The collaborators of the triage steps.

    ``settings`` and ``classifier`` are callables so that changes made in Settings (or a model
    retrained from a correction) apply to the next run without restarting.
    """

    settings: Callable[[], SettingsSnapshot]
    classifier: Callable[[], TextClassifier]
    sender: MailSender
    sources: Mapping[str, MailSource] = field(default_factory=dict)
    crm: CrmClient | None = None
    classify_providers: tuple[AiProvider, ...] = ()
    draft_providers: tuple[AiProvider, ...] = ()
