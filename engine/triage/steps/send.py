"""Step 7, *send*: the approved (or policy auto-sent) reply goes out at most once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import getaddresses
from typing import Any

from sqlalchemy import Connection, select

from engine.audit.event import SYSTEM_ACTOR, NewAuditEvent, user_actor
from engine.categories import DataCategory
from engine.durable.step import StepContext, StepResult
from engine.errors import InvalidStateError
from engine.mail.model import Address
from engine.mail.reply import build_reply
from engine.ports import MessageRef, OutgoingReply
from engine.storage.models import Decision, Draft, table_of
from engine.triage.deps import TriageDeps
from engine.triage.email_data import parsed_email
from engine.triage.steps.base import RemoteStep
from engine.triage.steps.route import AUTO_SEND, CLOSE

_D = table_of(Draft)
_DEC = table_of(Decision)

APPROVE = "approve"
REJECT = "reject"


@dataclass(frozen=True)
class ActiveDecision:
    """The decision the send step acts on."""

    decision: str
    actor: str
    reason: str | None


def active_decision(ctx: StepContext[TriageDeps]) -> ActiveDecision | None:
    """The newest decision on this run that was not undone."""
    with ctx.db.read() as conn:
        row = conn.execute(
            select(_DEC.c.decision, _DEC.c.actor, _DEC.c.reason)
            .where(_DEC.c.run_id == ctx.run.run_id, _DEC.c.undone_at.is_(None))
            .order_by(_DEC.c.id.desc())
            .limit(1)
        ).first()
    return None if row is None else ActiveDecision(str(row.decision), str(row.actor), row.reason)


def message_ref(ctx: StepContext[TriageDeps]) -> MessageRef:
    """Where the original message lives in its mailbox."""
    info = ctx.run
    return MessageRef(
        account=info.account,
        folder=info.folder,
        uidvalidity=info.uidvalidity,
        uid=info.uid,
        source_key=info.source_key,
        message_id=info.message_id,
    )


class SendStep(RemoteStep):
    """Send the reply if approved; record a rejection otherwise."""

    name = "send"

    def local_for(self, outputs: Mapping[str, Mapping[str, Any]]) -> bool:
        """Nothing leaves the machine when the route closed the run without a reply."""
        return outputs.get("route", {}).get("route") == CLOSE

    def execute(self, ctx: StepContext[TriageDeps]) -> StepResult:
        """Send once (reconciling with the Sent folder/outbox before any retry)."""
        route = ctx.output_of("route").get("route")
        run_id = str(ctx.run.run_id)
        if route == CLOSE:
            return StepResult(
                output={"sent": False, "outcome": "no_reply"},
                events=[
                    NewAuditEvent(
                        action="send.skipped", outcome="no_reply", run_id=run_id, email_ref=ctx.run.email_ref
                    )
                ],
            )
        if route == AUTO_SEND:
            actor = SYSTEM_ACTOR
        else:
            decision = active_decision(ctx)
            if decision is None:
                raise InvalidStateError(
                    f"run {run_id}: no decision recorded; it should be waiting for review"
                )
            if decision.decision == REJECT:
                return StepResult(
                    output={"sent": False, "outcome": "rejected"},
                    events=[
                        NewAuditEvent(
                            action="send.skipped",
                            outcome="rejected",
                            run_id=run_id,
                            email_ref=ctx.run.email_ref,
                        )
                    ],
                )
            actor = user_actor(decision.actor)
        reply = self._build(ctx)
        sender = ctx.deps.sender
        receipt = ctx.effect(
            "send",
            destination=sender.destination,
            perform=lambda: sender.send(reply),
            reconcile=lambda: sender.find_sent(reply),
        )
        source = ctx.deps.sources.get(ctx.run.account)
        if source is not None:
            source.mark_answered(message_ref(ctx))
        sent_at = ctx.now()
        run_key = ctx.run.run_id

        def apply(conn: Connection) -> None:
            conn.execute(
                _D.update()
                .where(_D.c.run_id == run_key)
                .values(sent_at=sent_at, sent_message_id=reply.message_id)
            )

        return StepResult(
            output={
                "sent": True,
                "outcome": "sent",
                "message_id": reply.message_id,
                "external_id": receipt.external_id,
            },
            apply=apply,
            events=[
                NewAuditEvent(
                    action="reply.sent",
                    outcome="sent",
                    actor=actor,
                    run_id=run_id,
                    email_ref=ctx.run.email_ref,
                    data_categories=(
                        DataCategory.EMAIL_ADDRESS.value,
                        DataCategory.NAME.value,
                        DataCategory.DRAFT_REPLY.value,
                    ),
                    destination=receipt.destination,
                    detail={"message_id": reply.message_id},
                )
            ],
        )

    def _build(self, ctx: StepContext[TriageDeps]) -> OutgoingReply:
        with ctx.db.read() as conn:
            draft = conn.execute(select(_D).where(_D.c.run_id == ctx.run.run_id)).first()
        if draft is None:
            raise InvalidStateError(f"run {ctx.run.run_id}: there is no draft to send")
        office = ctx.deps.settings().office
        if not office.reply_from:
            from engine.errors import ConfigurationError

            raise ConfigurationError(
                "Settings → Office: set the reply-from address before replies can be sent."
            )
        recipients = [Address(name, addr) for name, addr in getaddresses(list(draft.to_addrs)) if "@" in addr]
        if not recipients:
            raise InvalidStateError(f"run {ctx.run.run_id}: the draft has no valid recipient")
        return build_reply(
            parsed_email(ctx),
            body_text=draft.body,
            from_address=Address(office.reply_from_name or office.office_name, office.reply_from),
            idempotency_key=ctx.idempotency_key("send"),
            message_id_domain=office.message_id_domain,
            to=recipients,
            subject=draft.subject,
        )
