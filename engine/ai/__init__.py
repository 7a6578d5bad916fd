"""The engine side of AI providers: settings, prompts, schemas, strict validation, the chain.

Public API:

* :class:`ProviderChain` — ``classify(email, minimised_body, local) -> ClassifyOutcome`` and
  ``draft(email, minimised_body, *, category, facts, style, signature, template_draft) ->
  DraftOutcome``; providers in order, local fallback, one audit event per attempt.
* :class:`ClassifyOutcome`, :class:`DraftOutcome` (both :class:`ChainOutcome`),
  :class:`AiClassification`.
* :func:`combine` — the agreement rule and the auto-send confidence.
* :class:`ProviderSettings`, :class:`AiSettings`, :func:`ai_settings_from_json`,
  :func:`provider_secret_name` — what Settings stores.
* :class:`TokenUsageLedger` (protocol), :class:`InMemoryTokenUsageLedger`, :class:`TokenUsage`.
* :func:`classification_schema`, :data:`DRAFT_SCHEMA`, :func:`validated`,
  :class:`ProviderOutputRejectedError`.

Modules: ``settings``, ``prompts``, ``schemas``, ``validate``, ``chain``, ``outcomes``,
``eligibility``, ``usage``, ``errors``.
"""

from engine.ai.chain import ALL_UNAVAILABLE, NO_PROVIDERS, ProviderChain, thread_text
from engine.ai.eligibility import combine
from engine.ai.errors import ProviderOutputRejectedError, mark_not_sent, was_sent
from engine.ai.outcomes import AiClassification, ChainOutcome, ClassifyOutcome, DraftOutcome
from engine.ai.schemas import DRAFT_SCHEMA, classification_schema
from engine.ai.settings import AiSettings, ProviderSettings, ai_settings_from_json, provider_secret_name
from engine.ai.usage import InMemoryTokenUsageLedger, TokenUsage, TokenUsageLedger
from engine.ai.validate import validated

__all__ = [
    "ALL_UNAVAILABLE",
    "DRAFT_SCHEMA",
    "NO_PROVIDERS",
    "AiClassification",
    "AiSettings",
    "ChainOutcome",
    "ClassifyOutcome",
    "DraftOutcome",
    "InMemoryTokenUsageLedger",
    "ProviderChain",
    "ProviderOutputRejectedError",
    "ProviderSettings",
    "TokenUsage",
    "TokenUsageLedger",
    "ai_settings_from_json",
    "classification_schema",
    "combine",
    "mark_not_sent",
    "provider_secret_name",
    "thread_text",
    "validated",
    "was_sent",
]
