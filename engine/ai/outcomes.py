"""What the provider chain returns: the result, who produced it, flags for review, audit events."""

from __future__ import annotations

from dataclasses import dataclass

from engine.audit.event import NewAuditEvent
from engine.classify.result import Classification
from engine.safety.drafts import DraftFindings


@dataclass(frozen=True)
class AiClassification:
    """A provider's validated classification (reasons with placeholders restored)."""

    category: str
    confidence: float
    reasons: tuple[str, ...]
    priority: str
    injection_suspected: bool


@dataclass(frozen=True, kw_only=True)
class ChainOutcome:
    """What every chain call returns.

    ``provider`` names the provider whose answer was used (``None``: the local fallback was used,
    and ``fallback_reason`` says why). ``flags`` are short, content-free labels; any flag means
    the email must be reviewed by a person, whatever the policy says. ``review_reasons`` are the
    detailed sentences for the review pane (they may quote the email; keep them out of the audit
    log). ``events`` hold one audit event per provider attempt (``ai.classify`` / ``ai.draft``).
    """

    provider: str | None
    fallback_reason: str | None
    flags: tuple[str, ...]
    review_reasons: tuple[str, ...]
    events: tuple[NewAuditEvent, ...]


@dataclass(frozen=True, kw_only=True)
class ClassifyOutcome(ChainOutcome):
    """The classification to use, the local and provider opinions, and the auto-send gate.

    ``classification`` is what the run records (``source="ai"`` when a provider's answer was used).
    ``agreement`` is whether the provider chose the local model's category (``None`` without a
    provider answer). ``auto_send_confidence`` is the only confidence an auto-send decision may
    compare with the policy threshold: the local confidence without a provider answer, the higher
    of both when they agree, 0 when they disagree — a provider's confidence alone never counts.
    ``priority`` is the provider's ``low|normal|high|urgent``, if any.
    """

    classification: Classification
    local: Classification
    ai: AiClassification | None
    agreement: bool | None
    auto_send_confidence: float
    priority: str | None


@dataclass(frozen=True, kw_only=True)
class DraftOutcome(ChainOutcome):
    """The draft to store: placeholders restored, checked for foreign links and contact details.

    ``source`` is ``"ai"`` or ``"template"``; ``findings`` is the draft check (``None`` for the
    office's own template).
    """

    subject: str
    body: str
    source: str
    findings: DraftFindings | None
