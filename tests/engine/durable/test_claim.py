"""Claiming runs: the order, what is skipped, and that it reads the partial index (no sort)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text, update

from engine.durable import leases
from engine.storage.db import Database
from engine.storage.models import Run, table_of
from tests.engine.conftest import FakeClock
from tests.engine.durable.toy import create_runs

_R = table_of(Run)


def test_claims_by_priority_then_age_skipping_leased_and_not_yet_due(db: Database, clock: FakeClock) -> None:
    first, urgent, leased, later, retry_due, retry_later, done = create_runs(db, 7)
    now = clock()
    with db.write() as conn:
        conn.execute(update(_R).where(_R.c.id == urgent).values(priority=5))
        conn.execute(
            update(_R).where(_R.c.id == leased).values(lease_owner="x", lease_expires_at=now + timedelta(60))
        )
        conn.execute(
            update(_R)
            .where(_R.c.id == retry_due)
            .values(state="retrying", next_attempt_at=now - timedelta(seconds=1))
        )
        conn.execute(
            update(_R)
            .where(_R.c.id == retry_later)
            .values(state="retrying", next_attempt_at=now + timedelta(minutes=5))
        )
        conn.execute(update(_R).where(_R.c.id == done).values(state="completed"))
    with db.write() as conn:
        claimed = leases.claim(conn, owner="me", now=now, lease_s=60, limit=10)
    assert claimed == [urgent, first, later, retry_due]
    with db.write() as conn:
        assert leases.claim(conn, owner="other", now=now, lease_s=60, limit=10) == []


def test_the_claim_query_reads_the_claimable_index_in_order(db: Database, clock: FakeClock) -> None:
    create_runs(db, 50)
    sql = str(leases._SQLITE_CANDIDATES)
    with db.read() as conn:
        plan = [
            str(row[-1])
            for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + sql.replace(":now", "?").replace(":limit", "?"),
                ("2026-01-01", "2026-01-01", 10),
            )
        ]
        indexes = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
    assert "ix_runs_claimable" in indexes
    assert any("ix_runs_claimable" in step for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan
