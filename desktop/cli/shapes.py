"""The JSON shapes of ``--json`` outputs. Field names are a contract (docs/cli.md): extend, never rename."""

from __future__ import annotations

from typing import Any

from desktop.cli.output import to_jsonable
from engine.audit.event import AuditEvent
from engine.audit.export_format import event_to_json
from engine.queries import ActivityRow, ContactRow, QueueItemDetail, RunSummary
from engine.settings import Policy


def run_json(run: RunSummary) -> dict[str, Any]:
    """One run (``runs list``, ``queue list``)."""
    return {
        "run_id": run.run_id,
        "state": run.state,
        "step": run.step,
        "category": run.category,
        "confidence": None if run.confidence is None else round(run.confidence, 4),
        "message_id": run.message_id,
        "from": run.sender,
        "from_name": run.sender_name,
        "subject": run.subject,
        "received_at": to_jsonable(run.received_at),
        "waiting_since": to_jsonable(run.waiting_since),
        "next_attempt_at": to_jsonable(run.next_attempt_at),
        "attempt": run.attempt,
        "error": run.error,
        "error_kind": run.error_kind,
        "outcome": run.outcome,
        "flags": list(run.flags),
        "account": run.account,
    }


def audit_json(event: AuditEvent) -> dict[str, Any]:
    """One audit event with every chained field (the same members as an export's event records)."""
    return event_to_json(event)


def queue_item_json(item: QueueItemDetail) -> dict[str, Any]:
    """``queue show``: the run plus the email, reasons, draft, decisions and step history."""
    data = run_json(item.summary)
    data.update(
        {
            "to": list(item.to),
            "cc": list(item.cc),
            "body_text": item.body_text,
            "has_html": item.body_html is not None,
            "attachments": [{"filename": a[0], "content_type": a[1], "size": a[2]} for a in item.attachments],
            "reasons": list(item.reasons),
            "classification_source": item.classification_source,
            "content_purged": item.content_purged,
            "draft": None
            if item.draft is None
            else {
                "to": list(item.draft.to),
                "subject": item.draft.subject,
                "body": item.draft.body,
                "template": item.draft.template,
                "source": item.draft.source,
                "findings": list(item.draft.findings),
                "sent_at": to_jsonable(item.draft.sent_at),
                "sent_message_id": item.draft.sent_message_id,
            },
            "decisions": [to_jsonable(d) for d in item.decisions],
            "history": [audit_json(e) for e in item.history],
        }
    )
    return data


def policy_json(policy: Policy) -> dict[str, Any]:
    """One category's policy."""
    return {
        "category": policy.category,
        "mode": policy.mode,
        "threshold": policy.threshold,
        "template": policy.template,
    }


def contact_json(contact: ContactRow) -> dict[str, Any]:
    """One local CRM contact."""
    return {
        "contact_id": contact.contact_id,
        "email": contact.email,
        "name": contact.name,
        "company": contact.company,
        "first_seen": to_jsonable(contact.first_seen),
        "last_seen": to_jsonable(contact.last_seen),
        "activity_count": contact.activity_count,
    }


def activity_json(activity: ActivityRow) -> dict[str, Any]:
    """One local CRM activity (names its run)."""
    return {
        "activity_id": activity.activity_id,
        "run_id": activity.run_id,
        "contact_email": activity.contact_email,
        "contact_name": activity.contact_name,
        "category": activity.category,
        "summary": activity.summary,
        "occurred_at": to_jsonable(activity.occurred_at),
        "remote": activity.remote,
    }
