"""Migrations: the shipped head, upgrading an empty and an old profile, the schema matching the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from engine.storage import migrate
from engine.storage.db import Database, sqlite_url
from engine.storage.models import Base


def test_head_constant_matches_the_scripts() -> None:
    assert migrate.head_revision() == migrate.HEAD


def test_empty_database_is_migrated_once(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "new.db"))
    assert migrate.current_revision(db) is None
    assert migrate.upgrade(db) is True
    assert migrate.current_revision(db) == migrate.HEAD
    assert migrate.upgrade(db) is False
    with db.read() as conn:
        assert "runs" in inspect(conn).get_table_names()
    db.dispose()


def test_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_durability_pragmas(db: Database) -> None:
    with db.write() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 10_000
        assert conn.execute(text("SELECT 1")).scalar_one() == 1


def test_a_profile_from_the_first_release_upgrades_in_place(tmp_path: Path) -> None:
    """A database created by the first schema, holding a triaged email, opens after an upgrade."""
    from alembic import command

    db = Database(sqlite_url(tmp_path / "old.db"))
    config = migrate.alembic_config()
    with db.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.commit()
    with db.write() as conn:
        conn.execute(
            text(
                "INSERT INTO emails (id, identity, account, folder, message_id, ingested_at, size, subject) "
                "VALUES (1, 'demo/INBOX/key/a', 'demo', 'INBOX', '<a@example.org>', "
                "'2026-01-05 09:00:00', 10, 'Hi')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO runs (id, email_id, workflow, state, step_index, attempt, priority, category, "
                "created_at, updated_at) VALUES (1, 1, 'triage', 'waiting_review', 6, 0, 0, 'enquiry', "
                "'2026-01-05 09:00:00', '2026-01-05 09:00:00')"
            )
        )
    migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.HEAD
    with db.read() as conn:
        row = conn.execute(text("SELECT state, category FROM runs WHERE id = 1")).one()
        subject = conn.execute(text("SELECT subject FROM emails WHERE id = 1")).scalar_one()
        indexes = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
    assert "ix_runs_claimable" in indexes  # 0002
    assert tuple(row) == ("waiting_review", "enquiry")
    assert subject == "Hi"
    db.dispose()
