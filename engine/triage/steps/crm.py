"""Step 4, *log to CRM*: the local CRM always; a remote CRM too when one is connected."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from engine.audit.event import LOCAL, NewAuditEvent
from engine.categories import DataCategory
from engine.crm.local import add_activity, one_line_summary, upsert_contact
from engine.durable.retry import RetryPolicy
from engine.durable.step import StepContext, StepResult
from engine.ports import CrmActivity, CrmClient
from engine.triage.deps import TriageDeps
from engine.triage.email_data import parsed_email
from engine.triage.steps.base import RemoteStep

_CRM_DATA = (
    DataCategory.EMAIL_ADDRESS.value,
    DataCategory.NAME.value,
    DataCategory.CLASSIFICATION.value,
    DataCategory.SUBJECT.value,
)


class CrmStep:
    """Record the contact and one activity for this email."""

    name = "crm"
    timeout_s = RemoteStep.timeout_s
    retry = RetryPolicy()

    def __init__(self, *, remote: CrmClient | None) -> None:
        self._remote = remote
        self.local = remote is None

    def execute(self, ctx: StepContext[TriageDeps]) -> StepResult:
        """Log locally (and remotely, at most once, when a CRM is connected)."""
        email = parsed_email(ctx)
        category = ctx.run.category or "other"
        sender_email = email.sender.email if email.sender else ""
        sender_name = email.sender.name if email.sender else ""
        summary = one_line_summary(category, email.subject)
        occurred = email.date or ctx.run.received_at or ctx.now()
        run_id = ctx.run.run_id
        events: list[NewAuditEvent] = []
        remote_ref: dict[str, Any] | None = None
        if self._remote is not None and sender_email:
            remote_ref = self._log_remote(
                ctx,
                self._remote,
                email_address=sender_email,
                name=sender_name,
                category=category,
                summary=summary,
                subject=email.subject,
            )
            events.append(
                NewAuditEvent(
                    action="crm.remote_logged",
                    outcome="ok",
                    actor=f"provider:{self._remote.name}",
                    run_id=str(run_id),
                    email_ref=ctx.run.email_ref,
                    data_categories=_CRM_DATA,
                    destination=self._remote.destination,
                    detail={"crm": self._remote.name, "external_id": str(remote_ref["external_id"])[:200]},
                )
            )

        def apply(conn: Connection) -> None:
            if not sender_email:
                return
            contact_id = upsert_contact(conn, email=sender_email, name=sender_name, seen_at=occurred)
            add_activity(
                conn,
                run_id=run_id,
                contact_id=contact_id,
                category=category,
                summary=summary,
                occurred_at=occurred,
                remote=remote_ref,
            )

        events.append(
            NewAuditEvent(
                action="crm.logged",
                outcome="ok" if sender_email else "skipped_no_sender",
                run_id=str(run_id),
                email_ref=ctx.run.email_ref,
                data_categories=_CRM_DATA if sender_email else (),
                destination=LOCAL,
            )
        )
        return StepResult(
            output={"logged": bool(sender_email), "remote": remote_ref}, apply=apply, events=events
        )

    def _log_remote(self, ctx: StepContext[TriageDeps], crm: CrmClient, **fields: str) -> dict[str, Any]:
        activity = CrmActivity(
            idempotency_key=ctx.idempotency_key("crm"),
            run_id=str(ctx.run.run_id),
            email_address=fields["email_address"],
            contact_name=fields["name"],
            company="",
            category=fields["category"],
            summary=fields["summary"],
            subject=fields["subject"],
            message_id=ctx.run.message_id,
            occurred_at=ctx.run.received_at or ctx.now(),
        )
        receipt = ctx.effect(
            "crm",
            destination=crm.destination,
            perform=lambda: crm.log_activity(activity),
            reconcile=lambda: crm.find_activity(activity),
        )
        return {"crm": crm.name, "external_id": receipt.external_id, "destination": receipt.destination}
