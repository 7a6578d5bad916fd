"""The audit log's operations on the database: verify, export, anchor the head, purge by retention.

Chain rules, export layouts and the anchor signature live in :mod:`engine.audit`; this module
reads and writes the profile database around them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, and_, delete, func, select

from engine.audit.chain import format_ts
from engine.audit.event import GENESIS_HASH, AuditEvent, NewAuditEvent, user_actor
from engine.audit.export import ExportFooter, ExportFormat, ExportHeader, export_file
from engine.audit.retention import PurgeRecord
from engine.audit.signing import Anchor, AnchorSigner, verify_anchor
from engine.audit.verify import VerifyResult, verify_chain
from engine.durable.states import TERMINAL_STATES
from engine.errors import SecretStoreUnavailableError
from engine.storage import audit_repo
from engine.storage.db import Database
from engine.storage.models import (
    AuditAnchor,
    AuditEventRow,
    Correction,
    Draft,
    Email,
    EmailContent,
    Run,
    table_of,
)
from engine.storage.types import utcnow

_AN = table_of(AuditAnchor)
_EM = table_of(Email)
_EC = table_of(EmailContent)
_R = table_of(Run)
_D = table_of(Draft)
_COR = table_of(Correction)
_AU = table_of(AuditEventRow)

DAILY = "daily"
EXPORT = "export"


@dataclass(frozen=True)
class AuditVerification:
    """The chain's verification plus the check of every stored signed anchor."""

    chain: VerifyResult
    anchors_checked: int
    anchor_problem: str | None

    @property
    def ok(self) -> bool:
        """Whether the chain and every anchor verified."""
        return self.chain.ok and self.anchor_problem is None


@dataclass(frozen=True)
class ExportOutcome:
    """What an export wrote, and a warning when it could not be signed."""

    path: Path
    header: ExportHeader
    footer: ExportFooter
    warning: str | None


def stored_anchors(db: Database) -> list[Anchor]:
    """Every anchor recorded in the profile, oldest first."""
    with db.read() as conn:
        rows = conn.execute(select(_AN).order_by(_AN.c.id)).fetchall()
    return [Anchor(int(r.seq), r.head_hash, r.signed_at, r.public_key, r.signature) for r in rows]


def verify(db: Database) -> AuditVerification:
    """Recompute the whole chain (streaming) and check every stored anchor against it."""
    with db.read() as conn:
        chain = verify_chain(audit_repo.iter_events(conn))
        anchors = stored_anchors(db)
        problem = None
        for anchor in anchors:
            if not verify_anchor(anchor):
                problem = f"the signature of the anchor for event {anchor.seq} does not verify"
                break
            stored = conn.execute(select(_AU.c.hash).where(_AU.c.seq == anchor.seq)).scalar_one_or_none()
            if stored != anchor.head_hash:
                problem = (
                    f"event {anchor.seq} no longer has the hash signed on {anchor.signed_at} "
                    "(the log was rewritten after it was anchored)"
                )
                break
    return AuditVerification(chain=chain, anchors_checked=len(anchors), anchor_problem=problem)


def _record_anchor(conn: Connection, anchor: Anchor, reason: str) -> None:
    conn.execute(
        _AN.insert().values(
            seq=anchor.seq,
            head_hash=anchor.head_hash,
            signed_at=anchor.signed_at,
            public_key=anchor.public_key_b64,
            signature=anchor.signature_b64,
            reason=reason,
        )
    )


def sign_head(
    db: Database, signer: AnchorSigner, *, reason: str, now: datetime | None = None
) -> Anchor | None:
    """Sign the current head and store the anchor; None when the log is empty."""
    stamp = now or utcnow()
    with db.write() as conn:
        head = audit_repo.head(conn)
        if head is None:
            return None
        anchor = signer.sign_head(head.seq, head.hash, stamp)
        _record_anchor(conn, anchor, reason)
    return anchor


def anchor_daily(db: Database, signer: AnchorSigner, *, now: datetime | None = None) -> Anchor | None:
    """Sign the head once per UTC day (called by the scheduler); None when already done today."""
    stamp = now or utcnow()
    today = format_ts(stamp)[:10]
    with db.read() as conn:
        done = conn.execute(
            select(func.count())
            .select_from(_AN)
            .where(_AN.c.reason == DAILY, _AN.c.signed_at.like(f"{today}%"))
        ).scalar_one()
    if done:
        return None
    return sign_head(db, signer, reason=DAILY, now=stamp)


def export(
    db: Database,
    path: Path,
    fmt: ExportFormat,
    *,
    signer: AnchorSigner | None,
    actor: str,
    since: str | None = None,
    until: str | None = None,
    now: Callable[[], datetime] = utcnow,
) -> ExportOutcome:
    """Export the log (or the slice from ``since`` to ``until``) with the signed head.

    The export is itself recorded first, so the file carries its own export event when it reaches
    the head. Without a secure keyring the export is written unsigned and a warning says so.
    """
    stamp = now()
    anchor: Anchor | None = None
    warning: str | None = None
    with db.write() as conn:
        audit_repo.append(
            conn,
            [
                NewAuditEvent(
                    action="audit.exported",
                    outcome="ok",
                    actor=user_actor(actor),
                    destination="local",
                    detail={"format": fmt, "since": since, "until": until},
                )
            ],
            now=stamp,
        )
        # The head is read and signed in the same transaction as the export event, so the header's
        # head and the anchor always name the same event even while other workers append.
        head = audit_repo.head(conn)
        assert head is not None
        if signer is None:
            warning = "the export is not signed: no secure keyring is available on this computer"
        else:
            try:
                anchor = signer.sign_head(head.seq, head.hash, stamp)
            except SecretStoreUnavailableError as exc:
                warning = f"the export is not signed: {exc}"
            else:
                _record_anchor(conn, anchor, EXPORT)
    with db.read() as conn:
        window = audit_repo.seq_range_for_time(conn, since, until) if (since or until) else (1, head.seq)
        first, last = window if window else (None, None)
        if last is not None and last > head.seq:
            last = head.seq
        prev = None
        if first is not None and first > 1:
            prev = conn.execute(select(_AU.c.hash).where(_AU.c.seq == first - 1)).scalar_one_or_none()
        elif first == 1:
            prev = GENESIS_HASH
        header = ExportHeader.for_slice(
            exported_at=stamp,
            first_seq=first,
            last_seq=last,
            prev_hash_of_first=prev,
            head_seq=head.seq,
            head_hash=head.hash,
            anchor=anchor,
            since=since,
            until=until,
        )
        events: Iterator[AuditEvent] = (
            audit_repo.iter_events(conn, from_seq=first, to_seq=last) if first is not None else iter(())
        )
        footer = export_file(path, fmt, header, events)
    return ExportOutcome(path=path, header=header, footer=footer, warning=warning)


def purge(
    db: Database, *, retention_days: int, actor: str | None = None, now: datetime | None = None
) -> PurgeRecord:
    """Delete message content older than the retention period from finished runs; record the purge.

    What goes: raw bytes and bodies, subjects, draft texts and staff corrections' text. What
    stays: the run, its category and outcome, the CRM activity line and the whole audit chain.
    Runs still waiting for review keep their content until they are decided.
    """
    stamp = now or utcnow()
    cutoff = stamp - timedelta(days=retention_days)
    finished = select(_R.c.email_id).where(_R.c.state.in_(TERMINAL_STATES))
    old = and_(_EM.c.ingested_at < cutoff, _EM.c.content_purged_at.is_(None), _EM.c.id.in_(finished))
    with db.write() as conn:
        span = conn.execute(
            select(func.count(), func.min(_EM.c.ingested_at), func.max(_EM.c.ingested_at)).where(old)
        ).one()
        count = int(span[0])
        ids = select(_EM.c.id).where(old)
        if count:
            run_ids = select(_R.c.id).where(_R.c.email_id.in_(ids))
            conn.execute(_D.update().where(_D.c.run_id.in_(run_ids)).values(body="", subject=""))
            conn.execute(delete(_EC).where(_EC.c.email_id.in_(ids)))
            conn.execute(_EM.update().where(_EM.c.id.in_(ids)).values(subject=None, content_purged_at=stamp))
        conn.execute(delete(_COR).where(_COR.c.created_at < cutoff))
        record = PurgeRecord(
            messages=count,
            retention_days=retention_days,
            cutoff=cutoff,
            oldest=span[1] if count else None,
            newest=span[2] if count else None,
        )
        audit_repo.append(conn, [record.event(actor=user_actor(actor) if actor else "system")], now=stamp)
    return record
