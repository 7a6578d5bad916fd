"""Step 2, *minimise*: the text that may leave the machine, without quoted history or signature."""

from __future__ import annotations

from typing import Any

from engine.audit.event import NewAuditEvent
from engine.durable.step import StepContext, StepResult
from engine.mail.quoting import strip_quoted_and_signature
from engine.triage.email_data import parsed_email
from engine.triage.steps.base import LocalStep

MINIMISED = "minimised_body"


def minimised_body(ctx: StepContext[Any]) -> str:
    """The minimised body for this run (recomputed when not in the drive's scratch)."""
    cached = ctx.scratch.get(MINIMISED)
    if isinstance(cached, str):
        return cached
    text = strip_quoted_and_signature(parsed_email(ctx).body_text)
    ctx.scratch[MINIMISED] = text
    return text


class MinimiseStep(LocalStep):
    """Strip quoted history and signatures (redaction per provider happens when text leaves)."""

    name = "minimise"

    def execute(self, ctx: StepContext[Any]) -> StepResult:
        """Compute the minimised body and record how much was removed."""
        original = parsed_email(ctx).body_text
        text = minimised_body(ctx)
        return StepResult(
            output={"chars": len(text), "removed_chars": max(0, len(original) - len(text))},
            events=[
                NewAuditEvent(
                    action="email.minimised",
                    outcome="ok",
                    run_id=str(ctx.run.run_id),
                    email_ref=ctx.run.email_ref,
                    detail={"kept_chars": len(text), "removed_chars": max(0, len(original) - len(text))},
                )
            ],
        )
