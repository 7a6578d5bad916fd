"""Leases: which worker owns a run for now.

A worker claims runs by writing its owner id and an expiry; every checkpoint is fenced on the
owner (a worker that lost its lease cannot record a result). A lease held by a process that no
longer exists on this computer is released at once, so a restart after a crash resumes
immediately instead of waiting for the expiry.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, Integer, and_, bindparam, or_, select, text, update

from engine.durable.states import CLAIMABLE_CONDITION, CLAIMABLE_STATES
from engine.storage.models import Run, table_of
from engine.storage.types import UTCDateTime

_R = table_of(Run)

#: How long a claim lasts without a checkpoint renewing it.
DEFAULT_LEASE_S = 300.0


def new_owner_id() -> str:
    """A lease owner id: ``host:pid:random`` (the random part tells two runners in one process apart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _owner_is_dead_local_process(owner: str) -> bool:
    try:
        host, pid_text, _ = owner.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    except OSError:  # pragma: no cover - e.g. Windows reports a missing pid this way
        return True
    return False


def release_dead_local_leases(conn: Connection) -> int:
    """Clear leases whose owner process on this computer has died; return how many."""
    rows = conn.execute(select(_R.c.lease_owner).where(_R.c.lease_owner.is_not(None)).distinct()).fetchall()
    dead = [r.lease_owner for r in rows if _owner_is_dead_local_process(str(r.lease_owner))]
    if not dead:
        return 0
    result = conn.execute(
        update(_R).where(_R.c.lease_owner.in_(dead)).values(lease_owner=None, lease_expires_at=None)
    )
    return int(result.rowcount or 0)


# The claimable runs in claim order. The condition repeats the partial index's word for word
# (with literal values), which is what lets a query use that index.
_DUE = or_(_R.c.next_attempt_at.is_(None), _R.c.next_attempt_at <= bindparam("now"))
_FREE = or_(_R.c.lease_owner.is_(None), _R.c.lease_expires_at < bindparam("now"))
_CANDIDATES = (
    select(_R.c.id).where(text(CLAIMABLE_CONDITION), _DUE, _FREE).order_by(_R.c.priority.desc(), _R.c.id)
)
_SQLITE_CANDIDATES = text(
    "SELECT id FROM runs INDEXED BY ix_runs_claimable"  # noqa: S608 - constants; the values are bound
    f" WHERE {CLAIMABLE_CONDITION}"
    " AND (next_attempt_at IS NULL OR next_attempt_at <= :now)"
    " AND (lease_owner IS NULL OR lease_expires_at < :now)"
    " ORDER BY priority DESC, id LIMIT :limit"
).bindparams(bindparam("now", type_=UTCDateTime()), bindparam("limit", type_=Integer()))


def claim(conn: Connection, *, owner: str, now: datetime, lease_s: float, limit: int) -> list[int]:
    """Claim up to ``limit`` runnable runs for ``owner``; return their ids in claim order.

    The candidates are read in order from the ``ix_runs_claimable`` partial index (named with
    ``INDEXED BY`` on SQLite, whose planner would otherwise prefer the state index and sort every
    pending run). On PostgreSQL the candidate rows are locked with ``FOR UPDATE SKIP LOCKED`` so several
    desktops sharing one database never claim the same run; on SQLite ``BEGIN IMMEDIATE``
    serialises claimers.
    """
    if conn.dialect.name == "sqlite":
        rows = conn.execute(_SQLITE_CANDIDATES, {"now": now, "limit": limit})
    else:
        rows = conn.execute(_CANDIDATES.limit(limit).with_for_update(skip_locked=True), {"now": now})
    ids = [int(r.id) for r in rows.fetchall()]
    if not ids:
        return []
    conn.execute(
        update(_R)
        .where(_R.c.id.in_(ids))
        .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_s))
    )
    return ids


def renew(conn: Connection, *, run_ids: Sequence[int], owner: str, expires_at: datetime) -> None:
    """Extend ``owner``'s leases on those of ``run_ids`` it still holds (runs claimed, not yet driven)."""
    conn.execute(
        update(_R)
        .where(_R.c.id.in_(list(run_ids)), _R.c.lease_owner == owner)
        .values(lease_expires_at=expires_at)
    )


def claim_one(conn: Connection, *, run_id: int, owner: str, now: datetime, lease_s: float) -> bool:
    """Claim a specific run if it is runnable and free; return whether it is now ours."""
    result = conn.execute(
        update(_R)
        .where(
            _R.c.id == run_id,
            _R.c.state.in_(CLAIMABLE_STATES),
            or_(_R.c.next_attempt_at.is_(None), _R.c.next_attempt_at <= now),
            or_(_R.c.lease_owner.is_(None), _R.c.lease_expires_at < now, _R.c.lease_owner == owner),
        )
        .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_s))
    )
    return bool(result.rowcount)


def release(conn: Connection, *, run_ids: list[int], owner: str) -> None:
    """Give back leases this owner still holds."""
    if run_ids:
        conn.execute(
            update(_R)
            .where(and_(_R.c.id.in_(run_ids), _R.c.lease_owner == owner))
            .values(lease_owner=None, lease_expires_at=None)
        )
