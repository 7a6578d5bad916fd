"""Run Alembic migrations programmatically (no alembic.ini needed; works inside an installer bundle).

Alembic costs about 0.3 s to import, so a database already at :data:`HEAD` is recognised with one
plain query and Alembic is only imported when there is something to migrate.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError

from engine.errors import StorageError
from engine.storage.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

#: The newest migration shipped with this version (a test checks it matches the scripts).
HEAD = "0002"


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged migration scripts."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    """The newest migration among the shipped scripts (imports Alembic)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(db: Database) -> str | None:
    """The migration the database is at (``None`` for an empty database)."""
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


def upgrade(db: Database) -> bool:
    """Bring the database to the newest schema; return whether anything was applied."""
    try:
        before = current_revision(db)
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot open the database: {exc}") from exc
    if before == HEAD:
        return False
    from alembic import command

    config = alembic_config()
    try:
        with db.engine.connect() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()
    except SQLAlchemyError as exc:
        raise StorageError(f"could not upgrade the database from {before} to {HEAD}: {exc}") from exc
    return True
