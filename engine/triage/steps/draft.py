"""Step 5, *draft*: a reply from the category's template (or an AI provider when configured)."""

from __future__ import annotations

from sqlalchemy import Connection

from engine.audit.event import NewAuditEvent
from engine.categories import NO_REPLY_CATEGORIES, DataCategory
from engine.drafting.reference import make_reference
from engine.durable.step import StepContext, StepResult
from engine.mail.model import ParsedEmail
from engine.mail.reply import reply_subject
from engine.storage.models import Draft, table_of
from engine.storage.statements import insert_ignore
from engine.triage.deps import TriageDeps
from engine.triage.email_data import parsed_email
from engine.triage.steps.base import LocalStep

_D = table_of(Draft)


def reference_for(run_id: int) -> str:
    """The short reference a customer can quote back (stable per run)."""
    return make_reference(run_id)


def first_name(email: ParsedEmail) -> str:
    """The sender's display name for the greeting (templates pick the first name)."""
    return email.sender.name if email.sender and email.sender.name else ""


class DraftStep(LocalStep):
    """Write the draft reply staff will review; none for spam and notifications."""

    name = "draft"

    def execute(self, ctx: StepContext[TriageDeps]) -> StepResult:
        """Render the template for the run's category and store it as the run's draft."""
        category = ctx.run.category or "other"
        settings = ctx.deps.settings()
        policy = settings.policies.get(category)
        email = parsed_email(ctx)
        recipient = email.reply_address
        if category in NO_REPLY_CATEGORIES or (policy and policy.mode == "no_reply") or recipient is None:
            reason = "no sender address" if recipient is None else "no reply for this category"
            return StepResult(
                output={"drafted": False, "reason": reason},
                events=[
                    NewAuditEvent(
                        action="draft.skipped",
                        outcome="skipped",
                        run_id=str(ctx.run.run_id),
                        email_ref=ctx.run.email_ref,
                        detail={"reason": reason},
                    )
                ],
            )
        office = settings.office
        draft = settings.templates.render(
            category,
            sender_name=first_name(email),
            subject=email.subject,
            reference=reference_for(ctx.run.run_id),
            office_name=office.office_name,
            signature=office.signature or office.office_name,
        )
        if draft is None:
            return StepResult(output={"drafted": False, "reason": "no template"})
        to = [recipient.formatted()]
        subject = reply_subject(email.subject)
        run_id = ctx.run.run_id
        now = ctx.now()

        def apply(conn: Connection) -> None:
            conn.execute(
                insert_ignore(_D, conn.dialect.name),
                {
                    "run_id": run_id,
                    "to_addrs": to,
                    "subject": subject,
                    "body": draft.body,
                    "template": draft.template,
                    "source": "template",
                    "findings": None,
                    "created_at": now,
                    "updated_at": now,
                },
            )

        return StepResult(
            output={"drafted": True, "template": draft.template, "source": "template"},
            apply=apply,
            events=[
                NewAuditEvent(
                    action="draft.created",
                    outcome="ok",
                    run_id=str(run_id),
                    email_ref=ctx.run.email_ref,
                    data_categories=(
                        DataCategory.NAME.value,
                        DataCategory.SUBJECT.value,
                        DataCategory.DRAFT_REPLY.value,
                    ),
                    detail={"template": draft.template, "source": "template"},
                )
            ],
        )
