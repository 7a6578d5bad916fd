"""Daily housekeeping: the audit head is signed and retention applied once per day."""

from __future__ import annotations

from collections import Counter

from engine import audit_ops
from engine.audit.signing import verify_anchor
from engine.maintenance import run_daily
from engine.storage.db import Database
from tests.engine.conftest import FakeClock
from tests.engine.durable.toy import ToyDeps, create_runs, toy_workflow
from tests.support.memory_keyring import MemoryKeyring  # noqa: F401  (the fixture's type)


def _actions(db: Database) -> Counter[str]:
    from engine.queries import Queries

    return Counter(e.action for e in Queries(db).audit_events(limit=10_000))


def test_runs_once_per_day_and_signs_the_head(db: Database, clock: FakeClock, memory_keyring: object) -> None:
    from connectors.secrets import KeyringSecretStore
    from engine.durable.runner import Runner

    create_runs(db, 3)
    Runner(db, toy_workflow(), ToyDeps(), install_id="t", now=clock).run_until_idle()
    secrets = KeyringSecretStore()
    first = run_daily(db, secrets=secrets, retention_days=90, now=clock())
    assert first is not None and first.anchor is not None and first.warning is None
    assert verify_anchor(first.anchor)
    assert run_daily(db, secrets=secrets, retention_days=90, now=clock()) is None
    clock.advance(86_400)
    assert run_daily(db, secrets=secrets, retention_days=90, now=clock()) is not None
    assert _actions(db)["retention.purged"] == 2
    assert len(audit_ops.stored_anchors(db)) == 2
    assert audit_ops.verify(db).ok


def test_without_a_keyring_it_warns_and_still_purges(
    db: Database, clock: FakeClock, no_keyring: object
) -> None:
    from connectors.secrets import KeyringSecretStore
    from engine.durable.runner import Runner

    create_runs(db, 1)
    Runner(db, toy_workflow(), ToyDeps(), install_id="t", now=clock).run_until_idle()
    report = run_daily(db, secrets=KeyringSecretStore(), retention_days=30, now=clock())
    assert report is not None and report.anchor is None
    assert report.warning and "keyring" in report.warning.lower()
    assert _actions(db)["retention.purged"] == 1
