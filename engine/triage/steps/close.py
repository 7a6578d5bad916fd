"""Step 8, *close*: mark the original as processed in its mailbox and settle the run's outcome."""

from __future__ import annotations

from engine.audit.event import NewAuditEvent
from engine.durable.step import StepContext, StepResult
from engine.triage.deps import TriageDeps
from engine.triage.steps.base import LocalStep, RemoteStep
from engine.triage.steps.send import message_ref


class CloseStep:
    """Flag or move the original as configured (idempotent), then finish the run."""

    name = "close"
    retry = RemoteStep.retry
    #: Flagging or moving the original again on a rerun is harmless (see ``Step``).
    repeatable = True

    def __init__(self, *, remote: bool) -> None:
        self.local = not remote
        self.timeout_s = RemoteStep.timeout_s if remote else LocalStep.timeout_s

    def execute(self, ctx: StepContext[TriageDeps]) -> StepResult:
        """Mark processed; the outcome comes from the send step."""
        outcome = str(ctx.output_of("send").get("outcome") or "closed")
        source = ctx.deps.sources.get(ctx.run.account)
        destination = "local"
        if source is not None:
            source.mark_processed(message_ref(ctx))
            destination = source.destination
        return StepResult(
            output={"outcome": outcome},
            run_updates={"outcome": outcome},
            events=[
                NewAuditEvent(
                    action="mailbox.marked_processed",
                    outcome="ok",
                    run_id=str(ctx.run.run_id),
                    email_ref=ctx.run.email_ref,
                    destination=destination,
                )
            ],
        )
