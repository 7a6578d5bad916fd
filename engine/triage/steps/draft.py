"""Step 5, *draft*: a reply from the category's template (or an AI provider when configured)."""

from __future__ import annotations

from dataclasses import dataclass

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
from engine.triage.steps.minimise import minimised_body

_D = table_of(Draft)


def reference_for(run_id: int) -> str:
    """The short reference a customer can quote back (stable per run)."""
    return make_reference(run_id)


def first_name(email: ParsedEmail) -> str:
    """The sender's display name for the greeting (templates pick the first name)."""
    return email.sender.name if email.sender and email.sender.name else ""


@dataclass(frozen=True)
class _TemplateDraft:
    subject: str
    body: str


class DraftStep:
    """Write the draft reply staff will review; none for spam and notifications.

    The category's template is always rendered; when the draft chain has AI providers, the
    first valid answer replaces it (placeholders restored locally). Either way the draft is
    checked for links, addresses and phone numbers that are not in the thread or the facts page.
    """

    name = "draft"
    retry = LocalStep.retry

    def __init__(self, *, remote_timeout_s: float | None = None) -> None:
        self.local = remote_timeout_s is None
        self.timeout_s = LocalStep.timeout_s if remote_timeout_s is None else remote_timeout_s

    def execute(self, ctx: StepContext[TriageDeps]) -> StepResult:
        """Draft a reply and store it as the run's draft, with anything a reviewer must look at."""
        category = ctx.run.category or "other"
        settings = ctx.deps.settings()
        policy = settings.policies.get(category)
        email = parsed_email(ctx)
        recipient = email.reply_address
        if category in NO_REPLY_CATEGORIES or (policy and policy.mode == "no_reply") or recipient is None:
            return _skipped(ctx, "no sender address" if recipient is None else "no reply for this category")
        office = settings.office
        signature = office.signature or office.office_name
        rendered = settings.templates.render(
            category,
            sender_name=first_name(email),
            subject=email.subject,
            reference=reference_for(ctx.run.run_id),
            office_name=office.office_name,
            signature=signature,
        )
        if rendered is None:
            return _skipped(ctx, "no template for this category")
        outcome = settings.draft_chain.draft(
            email,
            minimised_body(ctx),
            category=category,
            facts=office.facts,
            style="",
            signature=signature,
            template_draft=_TemplateDraft(reply_subject(email.subject), rendered.body),
            run_id=str(ctx.run.run_id),
            email_ref=ctx.run.email_ref,
        )
        findings = list(ctx.output_of("classify").get("review_reasons") or []) + list(outcome.review_reasons)
        source = "template" if outcome.provider is None else f"provider:{outcome.provider}"
        to = [recipient.formatted()]
        run_id = ctx.run.run_id
        now = ctx.now()
        row = {
            "run_id": run_id,
            "to_addrs": to,
            "subject": outcome.subject or reply_subject(email.subject),
            "body": outcome.body,
            "template": rendered.template,
            "source": source,
            "findings": findings or None,
            "created_at": now,
            "updated_at": now,
        }

        return StepResult(
            output={
                "drafted": True,
                "template": rendered.template,
                "source": source,
                "flags": list(outcome.flags),
            },
            writes=((insert_ignore(_D, ctx.db.engine.dialect.name), row),),
            events=[
                *outcome.events,
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
                    detail={"template": rendered.template, "source": source, "flags": list(outcome.flags)},
                ),
            ],
        )


def _skipped(ctx: StepContext[TriageDeps], reason: str) -> StepResult:
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
