"""A person's decisions on the review queue: approve (optionally edited), reject, undo, reclassify.

Each decision is one transaction: the decision row, the run's new state and the audit event
naming the person. An approval may take effect after an undo window: the run is not picked up
before ``effective_at``, and :func:`undo_approval` can still take it back until then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from engine.audit.event import NewAuditEvent, user_actor
from engine.categories import ALL_CATEGORIES, DataCategory
from engine.durable.states import RunState
from engine.errors import ConfigurationError, InvalidStateError, NotFoundError
from engine.storage import audit_repo
from engine.storage.db import Database
from engine.storage.models import Correction, Decision, Draft, Email, Run, table_of
from engine.storage.types import utcnow
from engine.triage.steps.send import APPROVE, REJECT

_R = table_of(Run)
_D = table_of(Draft)
_DEC = table_of(Decision)
_EM = table_of(Email)
_COR = table_of(Correction)


@dataclass(frozen=True)
class DraftEdit:
    """Changes a person made to the draft before approving (None = unchanged)."""

    body: str | None = None
    subject: str | None = None
    to: tuple[str, ...] | None = None


def _run_row(conn: Connection, run_id: int) -> object:
    row = conn.execute(
        select(_R, _EM.c.message_id, _EM.c.identity)
        .join(_EM, _EM.c.id == _R.c.email_id)
        .where(_R.c.id == run_id)
    ).first()
    if row is None:
        raise NotFoundError(f"there is no run {run_id}")
    return row


def _email_ref(row: object) -> str:
    return str(getattr(row, "message_id", None) or getattr(row, "identity", ""))


def _require_waiting(row: object, run_id: int) -> None:
    state = getattr(row, "state", None)
    if state != RunState.WAITING_REVIEW.value:
        raise InvalidStateError(f"run {run_id} is {state}, not waiting for review")


def approve(
    db: Database,
    run_id: int,
    *,
    actor: str,
    edit: DraftEdit | None = None,
    undo_s: float = 0.0,
    now: datetime | None = None,
) -> datetime:
    """Approve the draft (with edits); return when it takes effect (after the undo window)."""
    stamp = now or utcnow()
    effective = stamp + timedelta(seconds=max(0.0, undo_s))
    with db.write() as conn:
        row = _run_row(conn, run_id)
        _require_waiting(row, run_id)
        draft = conn.execute(select(_D).where(_D.c.run_id == run_id)).first()
        if draft is None:
            raise InvalidStateError(f"run {run_id} has no draft to approve; reject it or reclassify it")
        events: list[NewAuditEvent] = []
        edited = False
        if edit is not None:
            values: dict[str, object] = {}
            if edit.body is not None and edit.body != draft.body:
                if not edit.body.strip():
                    raise ConfigurationError("The reply is empty: write a reply or reject the email.")
                values["body"] = edit.body
            if edit.subject is not None and edit.subject != draft.subject:
                values["subject"] = edit.subject
            if edit.to is not None and list(edit.to) != list(draft.to_addrs):
                if not edit.to:
                    raise ConfigurationError("The reply has no recipient.")
                values["to_addrs"] = list(edit.to)
            if values:
                edited = True
                conn.execute(_D.update().where(_D.c.run_id == run_id).values(**values, updated_at=stamp))
                events.append(
                    NewAuditEvent(
                        action="draft.edited",
                        outcome="ok",
                        actor=user_actor(actor),
                        run_id=str(run_id),
                        email_ref=_email_ref(row),
                        data_categories=(DataCategory.DRAFT_REPLY.value,),
                        detail={"fields": sorted(values)},
                    )
                )
        conn.execute(
            _DEC.insert().values(
                run_id=run_id,
                decision=APPROVE,
                actor=actor,
                reason=None,
                edited=edited,
                decided_at=stamp,
                effective_at=effective,
            )
        )
        conn.execute(
            _R.update()
            .where(_R.c.id == run_id)
            .values(
                state=RunState.PENDING.value, next_attempt_at=effective, updated_at=stamp, waiting_since=None
            )
        )
        events.append(
            NewAuditEvent(
                action="review.approved",
                outcome="approved",
                actor=user_actor(actor),
                run_id=str(run_id),
                email_ref=_email_ref(row),
                detail={"edited": edited, "undo_window_s": int(undo_s)},
            )
        )
        audit_repo.append(conn, events, now=stamp)
    return effective


def reject(db: Database, run_id: int, *, actor: str, reason: str, now: datetime | None = None) -> None:
    """Reject the draft: nothing is sent and the run closes as rejected."""
    if not reason.strip():
        raise ConfigurationError("Give a reason for rejecting (it is kept in the audit log).")
    stamp = now or utcnow()
    with db.write() as conn:
        row = _run_row(conn, run_id)
        _require_waiting(row, run_id)
        conn.execute(
            _DEC.insert().values(
                run_id=run_id,
                decision=REJECT,
                actor=actor,
                reason=reason.strip(),
                edited=False,
                decided_at=stamp,
                effective_at=stamp,
            )
        )
        conn.execute(
            _R.update()
            .where(_R.c.id == run_id)
            .values(state=RunState.PENDING.value, next_attempt_at=None, updated_at=stamp, waiting_since=None)
        )
        audit_repo.append(
            conn,
            [
                NewAuditEvent(
                    action="review.rejected",
                    outcome="rejected",
                    actor=user_actor(actor),
                    run_id=str(run_id),
                    email_ref=_email_ref(row),
                    detail={"reason": reason.strip()[:300]},
                )
            ],
            now=stamp,
        )


def undo_approval(db: Database, run_id: int, *, actor: str, now: datetime | None = None) -> None:
    """Take back an approval whose undo window has not passed; the item returns to the queue."""
    stamp = now or utcnow()
    with db.write() as conn:
        row = _run_row(conn, run_id)
        decision = conn.execute(
            select(_DEC)
            .where(_DEC.c.run_id == run_id, _DEC.c.undone_at.is_(None))
            .order_by(_DEC.c.id.desc())
            .limit(1)
        ).first()
        if (
            decision is None
            or decision.decision != APPROVE
            or decision.effective_at <= stamp
            or getattr(row, "state", None) != RunState.PENDING.value
            or getattr(row, "lease_owner", None)
        ):
            raise InvalidStateError(
                f"run {run_id}: the approval can no longer be undone (the reply is on its way)"
            )
        conn.execute(_DEC.update().where(_DEC.c.id == decision.id).values(undone_at=stamp))
        conn.execute(
            _R.update()
            .where(_R.c.id == run_id)
            .values(
                state=RunState.WAITING_REVIEW.value,
                next_attempt_at=None,
                updated_at=stamp,
                waiting_since=stamp,
            )
        )
        audit_repo.append(
            conn,
            [
                NewAuditEvent(
                    action="review.approval_undone",
                    outcome="undone",
                    actor=user_actor(actor),
                    run_id=str(run_id),
                    email_ref=_email_ref(row),
                )
            ],
            now=stamp,
        )


def reclassify(
    db: Database,
    run_id: int,
    category: str,
    *,
    actor: str,
    training_text: tuple[str, str, str] | None,
    new_draft: tuple[str, str] | None,
    now: datetime | None = None,
) -> None:
    """Correct a waiting item's category; keep the correction to teach the local model.

    ``training_text`` is (subject, minimised body, sender) to learn from; ``new_draft`` is
    (body, template) re-rendered for the new category when the draft had not been edited.
    """
    if category not in ALL_CATEGORIES:
        raise ConfigurationError(
            f"Unknown category {category!r}; choose one of: {', '.join(ALL_CATEGORIES)}."
        )
    stamp = now or utcnow()
    with db.write() as conn:
        row = _run_row(conn, run_id)
        _require_waiting(row, run_id)
        previous = getattr(row, "category", None)
        conn.execute(
            _R.update().where(_R.c.id == run_id).values(category=category, confidence=1.0, updated_at=stamp)
        )
        if training_text is not None:
            subject, body, sender = training_text
            conn.execute(
                _COR.insert().values(
                    run_id=run_id,
                    subject=subject,
                    body=body,
                    sender=sender,
                    category=category,
                    actor=actor,
                    created_at=stamp,
                )
            )
        if new_draft is not None:
            body, template = new_draft
            conn.execute(
                _D.update()
                .where(_D.c.run_id == run_id)
                .values(body=body, template=template, updated_at=stamp)
            )
        audit_repo.append(
            conn,
            [
                NewAuditEvent(
                    action="review.reclassified",
                    outcome=category,
                    actor=user_actor(actor),
                    run_id=str(run_id),
                    email_ref=_email_ref(row),
                    data_categories=(DataCategory.CLASSIFICATION.value,),
                    detail={"from": previous, "to": category, "redrafted": new_draft is not None},
                )
            ],
            now=stamp,
        )


def retry_run(db: Database, run_id: int, *, actor: str, now: datetime | None = None) -> None:
    """Send a failed (or backing-off) run back to the runner from the step that failed."""
    stamp = now or utcnow()
    with db.write() as conn:
        row = _run_row(conn, run_id)
        state = getattr(row, "state", None)
        if state not in (RunState.FAILED.value, RunState.RETRYING.value):
            raise InvalidStateError(f"run {run_id} is {state}; only failed or retrying runs can be retried")
        conn.execute(
            _R.update()
            .where(_R.c.id == run_id)
            .values(
                state=RunState.PENDING.value,
                attempt=0,
                next_attempt_at=None,
                finished_at=None,
                updated_at=stamp,
                lease_owner=None,
                lease_expires_at=None,
                error=None,
                error_kind=None,
            )
        )
        audit_repo.append(
            conn,
            [
                NewAuditEvent(
                    action="run.retry_requested",
                    outcome="pending",
                    actor=user_actor(actor),
                    run_id=str(run_id),
                    email_ref=_email_ref(row),
                    detail={"previous_error_kind": getattr(row, "error_kind", None)},
                )
            ],
            now=stamp,
        )
