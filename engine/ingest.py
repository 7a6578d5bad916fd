"""Accepting mail: store each new message durably and create its one run, exactly once.

A batch from a source is written in one transaction together with the source's new cursor, so
a crash either keeps the whole batch (and the cursor) or none of it. A message whose identity or
Message-ID is already known creates nothing (``ON CONFLICT DO NOTHING``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from engine.audit.event import NewAuditEvent
from engine.categories import DataCategory
from engine.durable.states import RunState
from engine.mail.parse import peek_message_id
from engine.ports import FetchedBatch, MailSource, RawMessage
from engine.storage import audit_repo
from engine.storage.db import Database
from engine.storage.models import Email, EmailContent, Run, SyncState, table_of
from engine.storage.statements import insert_ignore
from engine.storage.types import utcnow

_EM = table_of(Email)
_EC = table_of(EmailContent)
_R = table_of(Run)
_SS = table_of(SyncState)

TRIAGE_WORKFLOW = "triage"

_INSERT_CONTENT = _EC.insert()
_INSERT_RUN = _R.insert().returning(_R.c.id)


@dataclass
class IngestReport:
    """What one ingest pass did."""

    fetched: int = 0
    new_runs: int = 0
    duplicates: int = 0
    batches: int = 0
    new_run_ids: list[int] | None = None

    def merge(self, other: IngestReport) -> None:
        """Add another report's counts."""
        self.fetched += other.fetched
        self.new_runs += other.new_runs
        self.duplicates += other.duplicates
        self.batches += other.batches
        if other.new_run_ids:
            self.new_run_ids = (self.new_run_ids or []) + other.new_run_ids


def store_message(
    conn: Connection, message: RawMessage, *, now: datetime, workflow: str = TRIAGE_WORKFLOW
) -> int | None:
    """Store one message and create its run; return the run id, or None for a duplicate."""
    message_id = peek_message_id(message.raw)
    dialect = conn.dialect.name
    email_id = conn.execute(
        insert_ignore(_EM, dialect, "id"),
        {
            "identity": message.identity(),
            "account": message.account,
            "folder": message.folder,
            "uidvalidity": message.uidvalidity,
            "uid": message.uid,
            "source_key": message.source_key,
            "message_id": message_id,
            "received_at": message.received_at,
            "ingested_at": now,
            "size": len(message.raw),
        },
    ).scalar_one_or_none()
    if email_id is None:
        return None
    conn.execute(_INSERT_CONTENT, {"email_id": email_id, "raw": message.raw})
    run_id = conn.execute(
        _INSERT_RUN,
        {
            "email_id": email_id,
            "workflow": workflow,
            "state": RunState.PENDING.value,
            "step_index": 0,
            "attempt": 0,
            "priority": 0,
            "created_at": now,
            "updated_at": now,
        },
    ).scalar_one()
    audit_repo.append(
        conn,
        [
            NewAuditEvent(
                action="email.received",
                outcome="stored",
                run_id=str(run_id),
                email_ref=message_id or message.identity(),
                data_categories=(
                    DataCategory.EMAIL_ADDRESS.value,
                    DataCategory.NAME.value,
                    DataCategory.SUBJECT.value,
                    DataCategory.MESSAGE_BODY.value,
                ),
                detail={"account": message.account, "folder": message.folder, "size": len(message.raw)},
            )
        ],
        now=now,
    )
    return int(run_id)


def save_cursor(conn: Connection, account: str, folder: str, cursor: dict[str, Any], now: datetime) -> None:
    """Remember where a source stopped (in the same transaction as the messages)."""
    exists = conn.execute(
        select(_SS.c.account).where(_SS.c.account == account, _SS.c.folder == folder)
    ).first()
    if exists:
        conn.execute(
            _SS.update()
            .where(_SS.c.account == account, _SS.c.folder == folder)
            .values(cursor=cursor, updated_at=now)
        )
    else:
        conn.execute(_SS.insert().values(account=account, folder=folder, cursor=cursor, updated_at=now))


def load_cursor(db: Database, account: str, folder: str = "*") -> dict[str, Any] | None:
    """The cursor a source saved last time, or None before its first sync."""
    with db.read() as conn:
        value = conn.execute(
            select(_SS.c.cursor).where(_SS.c.account == account, _SS.c.folder == folder)
        ).scalar_one_or_none()
    return dict(value) if isinstance(value, dict) else None


def ingest_batch(
    db: Database, batch: FetchedBatch, *, account: str, now: Callable[[], datetime] = utcnow
) -> IngestReport:
    """Store a batch and the source's cursor atomically."""
    report = IngestReport(fetched=len(batch.messages), batches=1, new_run_ids=[])
    with db.write() as conn:
        stamp = now()
        for message in batch.messages:
            run_id = store_message(conn, message, now=stamp)
            if run_id is None:
                report.duplicates += 1
            else:
                report.new_runs += 1
                assert report.new_run_ids is not None
                report.new_run_ids.append(run_id)
        save_cursor(conn, account, "*", batch.cursor, stamp)
    return report


def ingest_source(
    db: Database,
    source: MailSource,
    *,
    now: Callable[[], datetime] = utcnow,
    on_batch: Callable[[IngestReport], None] | None = None,
) -> IngestReport:
    """Fetch everything new from ``source`` and store it, batch by batch."""
    total = IngestReport(new_run_ids=[])
    cursor = load_cursor(db, source.account)
    batches: Iterable[FetchedBatch] = source.fetch(cursor)
    for batch in batches:
        report = ingest_batch(db, batch, account=source.account, now=now)
        total.merge(report)
        if on_batch is not None:
            on_batch(report)
    return total
