"""The runner on a real PostgreSQL: migrations, several workers sharing runs, one audit chain."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from engine.audit.verify import verify_chain
from engine.durable.runner import Runner
from engine.storage import audit_repo, migrate
from engine.storage.db import Database
from tests.engine.conftest import FakeClock
from tests.engine.durable.toy import ToyDeps, create_runs, toy_workflow

pytestmark = pytest.mark.server


@pytest.fixture
def pg(postgres_database: str) -> Database:
    database = Database(postgres_database)
    migrate.upgrade(database)
    yield database  # type: ignore[misc]
    database.dispose()


def test_migrations_apply_and_are_idempotent(pg: Database) -> None:
    assert migrate.current_revision(pg) == migrate.head_revision()
    assert migrate.upgrade(pg) is False


def test_four_workers_share_runs_with_skip_locked(pg: Database, clock: FakeClock) -> None:
    deps = ToyDeps()
    ids = create_runs(pg, 120)
    runners = [Runner(pg, toy_workflow(), deps, install_id="pg", now=clock, claim_batch=4) for _ in range(4)]
    threads = [threading.Thread(target=r.run_until_idle) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert deps.executions == {f"s{i}": 120 for i in range(1, 5)}
    with pg.read() as conn:
        states = dict(conn.execute(text("SELECT state, COUNT(*) FROM runs GROUP BY state")).fetchall())
        checkpoints = conn.execute(text("SELECT COUNT(*) FROM step_checkpoints")).scalar_one()
        result = verify_chain(audit_repo.iter_events(conn))
    assert states == {"completed": len(ids)}
    assert checkpoints == 4 * len(ids)
    assert result.ok, result.problem
    assert result.count == 5 * len(ids)
