"""Fixtures for engine tests: a migrated SQLite database and a controllable clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.storage import migrate
from engine.storage.db import Database, sqlite_url


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.current += timedelta(seconds=seconds)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A fresh, migrated SQLite database in a temporary folder."""
    database = Database(sqlite_url(tmp_path / "test.db"))
    migrate.upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    """A controllable clock starting on 2026-11-30 09:00 UTC."""
    return FakeClock()
