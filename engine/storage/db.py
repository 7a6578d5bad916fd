"""The database handle: one SQLAlchemy engine configured for durability, with read and write scopes.

SQLite (the embedded default): WAL mode, ``synchronous=FULL`` (an audit record must survive a
power cut), foreign keys on, a busy timeout, and ``BEGIN IMMEDIATE`` for writers so two writers
never deadlock on a lock upgrade. PostgreSQL (a shared office database): the same code, with
``FOR UPDATE SKIP LOCKED`` where workers claim runs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry

from engine.errors import StorageError
from engine.storage.write_lock import WriterLock

#: Milliseconds a writer waits for another writer's transaction before giving up.
BUSY_TIMEOUT_MS = 10_000

_WRITE_OPTION = "inbox_triage_write"

#: ``Connection.info`` keys whose values are only valid inside the current transaction.
TRANSACTION_CACHE_KEYS: set[str] = set()


def sqlite_url(path: Path) -> str:
    """SQLAlchemy URL of a SQLite database file."""
    return f"sqlite+pysqlite:///{path}"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # The driver must not open transactions on its own; we issue BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(_WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


class Database:
    """Owns the SQLAlchemy engine and hands out transactions.

    ``write()`` opens a writer transaction (``BEGIN IMMEDIATE`` on SQLite); ``read()`` a reader
    that never blocks the writer in WAL mode. Both commit on success and roll back on error.
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        else:
            kwargs["pool_pre_ping"] = True
        try:
            self.engine = create_engine(url, **kwargs)
        except (SQLAlchemyError, ImportError) as exc:
            raise StorageError(f"cannot open database {url!r}: {exc}") from exc
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self.is_postgres = self.engine.dialect.name == "postgresql"
        self._writer_lock: WriterLock | None = None
        if self.is_sqlite:
            _configure_sqlite(self.engine)
            database = self.engine.url.database
            if database and database != ":memory:" and not database.startswith("file:"):
                self._writer_lock = WriterLock(Path(database + "-writer.lock"))

        @event.listens_for(self.engine, "begin")
        def _forget_transaction_caches(connection: Connection) -> None:
            for key in TRANSACTION_CACHE_KEYS:
                connection.info.pop(key, None)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A writer transaction; commits when the block ends without an exception.

        On a SQLite file, writers (of every process) first queue on :class:`WriterLock`.
        """
        if self._writer_lock is None:
            with self.engine.connect().execution_options(**{_WRITE_OPTION: True}) as conn, conn.begin():
                yield conn
            return
        with (
            self._writer_lock.held(),
            self.engine.connect().execution_options(**{_WRITE_OPTION: True}) as conn,
            conn.begin(),
        ):
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (a consistent snapshot in WAL mode)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        """Close every pooled connection (and the writer lock file)."""
        self.engine.dispose()
        if self._writer_lock is not None:
            self._writer_lock.close()
