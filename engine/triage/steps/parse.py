"""Step 1, *ingest*: parse the stored bytes; quarantine what cannot be understood."""

from __future__ import annotations

from typing import Any

from engine.audit.event import NewAuditEvent
from engine.categories import DataCategory
from engine.durable.step import StepContext, StepResult
from engine.mail.model import ParsedEmail
from engine.mail.parse import parse_message
from engine.storage.models import Email, EmailContent, table_of
from engine.storage.statements import update_by
from engine.triage.email_data import parsed_to_json, raw_bytes, remember_parsed
from engine.triage.steps.base import LocalStep

_EM = table_of(Email)
_EC = table_of(EmailContent)


class ParseStep(LocalStep):
    """Parse RFC 822 bytes safely and store the readable form."""

    name = "parse"

    def execute(self, ctx: StepContext[Any]) -> StepResult:
        """Parse the message; a message that cannot be understood ends the run as quarantined."""
        result = parse_message(raw_bytes(ctx))
        run_id = str(ctx.run.run_id)
        if not isinstance(result, ParsedEmail):
            return StepResult(
                output={"quarantined": True, "reason": result.reason},
                quarantine=result.reason,
                events=[
                    NewAuditEvent(
                        action="email.quarantined",
                        outcome="quarantined",
                        run_id=run_id,
                        email_ref=ctx.run.email_ref,
                        detail={"reason": result.reason[:300]},
                    )
                ],
            )
        email = result
        remember_parsed(ctx, email)
        email_id = ctx.run.email_id

        writes = (
            (
                update_by(_EM, "id"),
                {
                    "b_key": email_id,
                    "sender_email": email.sender.email if email.sender else None,
                    "sender_name": email.sender.name if email.sender else None,
                    "subject": email.subject,
                    "sent_date": email.date,
                },
            ),
            (
                update_by(_EC, "email_id"),
                {
                    "b_key": email_id,
                    "body_text": email.body_text,
                    "body_html": email.body_html,
                    "parsed": parsed_to_json(email),
                },
            ),
        )

        categories = [
            DataCategory.EMAIL_ADDRESS.value,
            DataCategory.NAME.value,
            DataCategory.SUBJECT.value,
            DataCategory.MESSAGE_BODY.value,
        ]
        if email.attachments:
            categories.append(DataCategory.ATTACHMENT_METADATA.value)
        return StepResult(
            output={
                "attachments": len(email.attachments),
                "html": email.body_html is not None,
                "defects": len(email.defects),
                "auto_submitted": email.auto_submitted,
            },
            writes=writes,
            events=[
                NewAuditEvent(
                    action="email.parsed",
                    outcome="ok",
                    run_id=run_id,
                    email_ref=ctx.run.email_ref,
                    data_categories=tuple(categories),
                    detail={"attachments": len(email.attachments), "defects": len(email.defects)},
                )
            ],
        )
