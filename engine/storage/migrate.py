"""Run Alembic migrations programmatically (no alembic.ini needed; works inside an installer bundle)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from engine.errors import StorageError
from engine.storage.db import Database

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    """The newest migration shipped with this version of the app."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(db: Database) -> str | None:
    """The migration the database is at (``None`` for an empty database)."""
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database) -> bool:
    """Bring the database to the newest schema; return whether anything was applied."""
    before = current_revision(db)
    target = head_revision()
    if before == target:
        return False
    config = alembic_config()
    try:
        with db.engine.connect() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()
    except SQLAlchemyError as exc:
        raise StorageError(f"could not upgrade the database from {before} to {target}: {exc}") from exc
    return True
