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


class ClassifyStep(LocalStep):
    """Decide the email's category with a confidence and human-readable reasons."""

    name = "classify"

    def execute(self, ctx: StepContext[TriageDeps]) -> StepResult:
        """Classify offline; the result sets the run's category, confidence and priority."""
        email = parsed_email(ctx)
        item = ClassifierInput.from_parsed(email, minimised_body(ctx))
        result: Classification = ctx.deps.classifier().classify(item)
        return classification_result(ctx, result, flags=[])


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
