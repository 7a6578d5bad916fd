"""Queries.audit_page: keyset pages by seq, structured filters, and the progressive text search."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.audit.event import NewAuditEvent, user_actor
from engine.queries import AuditFilter, Queries
from engine.storage import audit_repo, migrate
from engine.storage.db import Database, sqlite_url

START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def queries(tmp_path: Path) -> Iterator[Queries]:
    """600 events over 6 days; every 50th mentions "needle"; every 3rd is Bob's approval."""
    db = Database(sqlite_url(tmp_path / "audit.db"))
    migrate.upgrade(db)
    for day in range(6):
        batch = [
            NewAuditEvent(
                action="review.approved" if i % 3 == 0 else "email.classified",
                outcome="ok",
                actor=user_actor("Bob") if i % 3 == 0 else "system",
                run_id=str(day * 100 + i),
                detail={"note": "needle" if (day * 100 + i) % 50 == 0 else "hay"},
            )
            for i in range(100)
        ]
        with db.write() as conn:
            audit_repo.append(conn, batch, now=START + timedelta(days=day))
    yield Queries(db)
    db.dispose()


def collect(queries: Queries, filters: AuditFilter, **kwargs: object) -> list[int]:
    seqs: list[int] = []
    before: int | None = None
    while True:
        page = queries.audit_page(filters, before_seq=before, **kwargs)  # type: ignore[arg-type]
        seqs.extend(e.seq for e in page.events)
        if page.next_before is None:
            return seqs
        before = page.next_before


def test_pages_by_seq_newest_first_cover_the_log_once(queries: Queries) -> None:
    seqs = collect(queries, AuditFilter(), limit=70)
    assert seqs == list(range(600, 0, -1))
    assert queries.audit_head() is not None
    assert queries.audit_head()[0] == 600  # type: ignore[index]


def test_structured_filters(queries: Queries) -> None:
    bob = collect(queries, AuditFilter(actor="user:Bob"), limit=64)
    assert len(bob) == 204
    assert bob == sorted(bob, reverse=True)
    day3 = AuditFilter(since="2026-01-03T00:00:00.000000Z", until="2026-01-04T00:00:00.000000Z")
    assert collect(queries, day3) == list(range(300, 200, -1))
    both = collect(queries, AuditFilter(actions=("review.approved",), run_id="201"))
    assert len(both) == 0
    assert collect(queries, AuditFilter(run_id="203")) == [204]
    assert queries.audit_actors() == ["system", "user:Bob"]


def test_text_search_returns_progressively_and_finds_everything(queries: Queries) -> None:
    first = queries.audit_page(AuditFilter(text="NEEDLE"), limit=200, window=40, budget_s=0.0)
    assert first.next_before is not None
    assert first.scanned_to == first.next_before
    found = collect(queries, AuditFilter(text="NEEDLE"), limit=5, window=40, budget_s=0.0)
    expected = [seq for seq in range(600, 0, -1) if (seq - 1) % 50 == 0]
    assert found == expected


def test_text_search_escapes_wildcards_and_matches_run_ids(queries: Queries) -> None:
    assert collect(queries, AuditFilter(text="%")) == []
    assert collect(queries, AuditFilter(text="_")) == []
    assert collect(queries, AuditFilter(text="599")) == [600]


def test_an_empty_log(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "empty.db"))
    migrate.upgrade(db)
    page = Queries(db).audit_page(AuditFilter(text="x"))
    assert (page.events, page.next_before) == ([], None)
    assert Queries(db).audit_head() is None
    db.dispose()
