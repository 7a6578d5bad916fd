"""Token use per AI provider per day, kept in the profile database (``token_usage`` table)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, select

from engine.ai.usage import TokenUsage
from engine.storage.db import Database
from engine.storage.models import TokenUsage as TokenUsageRow
from engine.storage.models import table_of
from engine.storage.statements import insert_ignore

_T = table_of(TokenUsageRow)
_ADD = (
    _T.update()
    .where(_T.c.day == bindparam("b_day"), _T.c.provider == bindparam("b_provider"))
    .values(
        calls=_T.c.calls + 1,
        input_tokens=_T.c.input_tokens + bindparam("b_in"),
        output_tokens=_T.c.output_tokens + bindparam("b_out"),
    )
)


class DatabaseTokenUsageLedger:
    """:class:`engine.ai.usage.TokenUsageLedger` over the database; safe from several threads."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, provider: str, day: date, *, input_tokens: int, output_tokens: int) -> None:
        """Add one answered request to ``provider``'s totals for ``day``."""
        with self._db.write() as conn:
            conn.execute(
                insert_ignore(_T, conn.dialect.name),
                {
                    "day": day.isoformat(),
                    "provider": provider,
                    "calls": 0,
                    "input_tokens": 0,
                    "output_tokens": 0,
                },
            )
            conn.execute(
                _ADD,
                {
                    "b_day": day.isoformat(),
                    "b_provider": provider,
                    "b_in": max(0, input_tokens),
                    "b_out": max(0, output_tokens),
                },
            )

    def usage(self, day: date) -> list[TokenUsage]:
        """Every provider's totals for ``day``, sorted by provider name."""
        with self._db.read() as conn:
            rows = conn.execute(
                select(_T).where(_T.c.day == day.isoformat()).order_by(_T.c.provider)
            ).fetchall()
        return [
            TokenUsage(r.provider, day, int(r.calls), int(r.input_tokens), int(r.output_tokens)) for r in rows
        ]
