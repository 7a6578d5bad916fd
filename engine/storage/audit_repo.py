"""Reading and appending audit events in the database.

Appends happen inside the caller's writer transaction, so an event commits together with the
step result or decision it records. On PostgreSQL an advisory transaction lock serialises
appenders (SQLite's ``BEGIN IMMEDIATE`` already does).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select

from engine.audit.chain import seal
from engine.audit.event import GENESIS_HASH, AuditEvent, NewAuditEvent
from engine.storage.db import TRANSACTION_CACHE_KEYS
from engine.storage.models import AuditEventRow, table_of
from engine.storage.types import utcnow

#: Arbitrary constant naming the advisory lock that serialises audit appends on PostgreSQL.
_PG_AUDIT_LOCK = 0x1A0D17

_T = table_of(AuditEventRow)


@dataclass(frozen=True)
class AuditHead:
    """The newest event's sequence number and hash."""

    seq: int
    hash: str


_HEAD_QUERY = select(_T.c.seq, _T.c.hash).order_by(_T.c.seq.desc()).limit(1)
_INSERT = insert(_T)
_LOCK = select(func.pg_advisory_xact_lock(_PG_AUDIT_LOCK))

#: ``Connection.info`` key of the head this transaction last wrote (it holds the writer lock).
_HEAD_CACHE = "audit_head"
TRANSACTION_CACHE_KEYS.add(_HEAD_CACHE)


def forget_cached_head(conn: Connection) -> None:
    """Drop the head this transaction cached (after rolling back to a savepoint)."""
    conn.info.pop(_HEAD_CACHE, None)


def head(conn: Connection) -> AuditHead | None:
    """The chain's head, or None when the log is empty."""
    row = conn.execute(_HEAD_QUERY).first()
    if row is None:
        return None
    return AuditHead(seq=int(row.seq), hash=str(row.hash))


def append(
    conn: Connection, events: Sequence[NewAuditEvent], *, now: datetime | None = None
) -> list[AuditEvent]:
    """Chain and insert ``events`` in the caller's transaction; return them sealed.

    The first append of a transaction takes the appenders' lock (PostgreSQL) and reads the head;
    later appends in the same transaction reuse the head they wrote (nobody else can append
    while this transaction holds the lock).
    """
    if not events:
        return []
    current: AuditHead | None = conn.info.get(_HEAD_CACHE)
    if current is None:
        if conn.dialect.name == "postgresql":
            conn.execute(_LOCK)
        current = head(conn)
    seq = current.seq if current else 0
    prev = current.hash if current else GENESIS_HASH
    ts = now or utcnow()
    sealed: list[AuditEvent] = []
    for event in events:
        seq += 1
        chained = seal(event, seq=seq, ts=ts, prev_hash=prev)
        sealed.append(chained)
        prev = chained.hash
    conn.execute(_INSERT, [to_row(e) for e in sealed])
    conn.info[_HEAD_CACHE] = AuditHead(seq=seq, hash=prev)
    return sealed


def to_row(event: AuditEvent) -> dict[str, object]:
    """Column values for one sealed event."""
    return {
        "seq": event.seq,
        "ts": event.ts,
        "run_id": event.run_id,
        "email_ref": event.email_ref,
        "actor": event.actor,
        "action": event.action,
        "data_categories": json.dumps(list(event.data_categories), separators=(",", ":"), ensure_ascii=False),
        "destination": event.destination,
        "outcome": event.outcome,
        "detail": json.dumps(event.detail, separators=(",", ":"), ensure_ascii=False, sort_keys=True),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def from_row(row: object) -> AuditEvent:
    """An AuditEvent from a database row (as stored — no checks; verification recomputes)."""
    r = row._mapping  # type: ignore[attr-defined]
    return AuditEvent(
        seq=int(r["seq"]),
        ts=str(r["ts"]),
        run_id=r["run_id"],
        email_ref=r["email_ref"],
        actor=str(r["actor"]),
        action=str(r["action"]),
        data_categories=tuple(json.loads(r["data_categories"])),
        destination=str(r["destination"]),
        outcome=str(r["outcome"]),
        detail=json.loads(r["detail"]),
        prev_hash=str(r["prev_hash"]),
        hash=str(r["hash"]),
    )


def iter_events(
    conn: Connection,
    *,
    from_seq: int = 1,
    to_seq: int | None = None,
    batch: int = 5000,
) -> Iterator[AuditEvent]:
    """Stream events in sequence order in batches (constant memory for a million events)."""
    next_seq = from_seq
    while True:
        query = select(_T).where(_T.c.seq >= next_seq).order_by(_T.c.seq).limit(batch)
        if to_seq is not None:
            query = query.where(_T.c.seq <= to_seq)
        rows = conn.execute(query).fetchall()
        if not rows:
            return
        for row in rows:
            yield from_row(row)
        next_seq = int(rows[-1].seq) + 1


def seq_range_for_time(conn: Connection, since: str | None, until: str | None) -> tuple[int, int] | None:
    """First and last seq whose ``ts`` lies in [since, until) (RFC 3339 strings compare in order)."""
    query = select(func.min(_T.c.seq), func.max(_T.c.seq))
    if since:
        query = query.where(_T.c.ts >= since)
    if until:
        query = query.where(_T.c.ts < until)
    row = conn.execute(query).first()
    if row is None or row[0] is None:
        return None
    return int(row[0]), int(row[1])
