"""Statements built once and reused: SQLAlchemy memoises a statement object's cache key, so reusing
the object (with values passed as parameters) keeps per-email overhead low on the hot path."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite


@cache
def insert_ignore(table: Table, dialect: str, returning: str | None = None) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for ``table`` on ``dialect`` (optionally RETURNING a column)."""
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).on_conflict_do_nothing()
    if returning is not None:
        statement = statement.returning(table.c[returning])
    return statement


@cache
def update_by(table: Table, column: str) -> Any:
    """``UPDATE table SET ... WHERE column = :b_key`` (values passed as parameters)."""
    return table.update().where(table.c[column] == bindparam("b_key"))


@cache
def select_by(table: Table, column: str, *wanted: str) -> Any:
    """``SELECT wanted... FROM table WHERE column = :b_key``."""
    from sqlalchemy import select

    return select(*(table.c[name] for name in wanted)).where(table.c[column] == bindparam("b_key"))
