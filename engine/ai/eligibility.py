"""Combining the local model's and a provider's classification, and the auto-send gate.

Rule: a provider's classification counts toward auto-send only when it agrees with the local
model's category; then the run may use the higher of the two confidences. When they disagree the
email is flagged for review and its auto-send confidence is 0, whatever either model's confidence
(the stricter reading of "or the local confidence is above the threshold": two confident models
that disagree are a reason to ask a person). If the provider would close the email unanswered
(spam, notification) while the local model sees mail that needs a reply, the local category is
kept, so a provider can never silently close a customer's email on its own say-so.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.ai.outcomes import AiClassification
from engine.categories import NO_REPLY_CATEGORIES
from engine.classify.result import Classification
from engine.safety.flags import DISAGREEMENT_FLAG


@dataclass(frozen=True)
class Combined:
    """The classification to record, whether the models agree, and the auto-send confidence."""

    classification: Classification
    agreement: bool
    auto_send_confidence: float
    flags: tuple[str, ...]
    review_reasons: tuple[str, ...]


def combine(local: Classification, ai: AiClassification) -> Combined:
    """Apply the rule in the module docstring."""
    if ai.category == local.category:
        confidence = max(ai.confidence, local.confidence)
        chosen = Classification(ai.category, confidence, ai.reasons or local.reasons, "ai")
        return Combined(chosen, True, confidence, (), ())
    keep_local = ai.category in NO_REPLY_CATEGORIES and local.category not in NO_REPLY_CATEGORIES
    confidence = min(ai.confidence, local.confidence)
    if keep_local:
        chosen = Classification(local.category, confidence, local.reasons, local.source)
    else:
        chosen = Classification(ai.category, confidence, ai.reasons, "ai")
    reason = (
        f"The AI provider chose {ai.category} ({ai.confidence:.0%}) but the local model chose "
        f"{local.category} ({local.confidence:.0%}); {chosen.category} is shown until a person decides."
    )
    return Combined(chosen, False, 0.0, (DISAGREEMENT_FLAG,), (reason,))
