"""Step 3, *classify*: user rules, then the local model (and AI providers when configured)."""

from __future__ import annotations

from typing import Any

from engine.audit.event import NewAuditEvent
from engine.categories import Category, DataCategory
from engine.classify.model import ClassifierInput
from engine.classify.result import Classification
from engine.durable.step import StepContext, StepResult
from engine.triage.deps import TriageDeps
from engine.triage.email_data import parsed_email
from engine.triage.steps.base import LocalStep
from engine.triage.steps.minimise import minimised_body

#: Queue order: complaints first, then cancellations, then the rest.
PRIORITY = {Category.COMPLAINT.value: 20, Category.CANCELLATION.value: 10}


def permille(confidence: float) -> int:
    """Confidence as an integer in 0..1000 (the audit log holds no floats)."""
    return round(max(0.0, min(1.0, confidence)) * 1000)


class ClassifyStep:
    """Decide the email's category with a confidence and human-readable reasons.

    Rules and the local model always run; then the classify chain of AI providers (if any)
    gets the minimised, redacted email, with the local result as the fallback. The chain also
    scans for prompt injection, even when no provider is configured.
    """

    name = "classify"
    retry = LocalStep.retry

    def __init__(self, *, remote_timeout_s: float | None = None) -> None:
        self.local = remote_timeout_s is None
        self.timeout_s = LocalStep.timeout_s if remote_timeout_s is None else remote_timeout_s

    def execute(self, ctx: StepContext[TriageDeps]) -> StepResult:
        """Classify; the result sets the run's category, confidence, priority and review flags."""
        email = parsed_email(ctx)
        body = minimised_body(ctx)
        local: Classification = ctx.deps.classifier().classify(ClassifierInput.from_parsed(email, body))
        outcome = ctx.deps.settings().classify_chain.classify(
            email, body, local, run_id=str(ctx.run.run_id), email_ref=ctx.run.email_ref
        )
        result = classification_result(
            ctx, outcome.classification, flags=list(outcome.flags), extra_events=list(outcome.events)
        )
        result.output["review_reasons"] = list(outcome.review_reasons)
        result.output["provider"] = outcome.provider
        result.output["fallback_reason"] = outcome.fallback_reason
        result.output["agreement"] = outcome.agreement
        return result


def classification_result(
    ctx: StepContext[Any],
    result: Classification,
    *,
    flags: list[str],
    extra_events: list[NewAuditEvent] | None = None,
) -> StepResult:
    """The step result for a final classification (shared by the offline and the AI paths)."""
    return StepResult(
        output={
            "category": result.category,
            "confidence": result.confidence,
            "reasons": list(result.reasons),
            "source": result.source,
            "flags": flags,
        },
        run_updates={
            "category": result.category,
            "confidence": result.confidence,
            "priority": PRIORITY.get(result.category, 0),
            "flags": flags or None,
        },
        events=[
            *(extra_events or []),
            NewAuditEvent(
                action="email.classified",
                outcome=result.category,
                run_id=str(ctx.run.run_id),
                email_ref=ctx.run.email_ref,
                data_categories=(
                    DataCategory.SUBJECT.value,
                    DataCategory.MESSAGE_BODY.value,
                    DataCategory.EMAIL_ADDRESS.value,
                ),
                detail={
                    "category": result.category,
                    "confidence_permille": permille(result.confidence),
                    "source": result.source,
                    "flags": flags,
                },
            ),
        ],
    )
