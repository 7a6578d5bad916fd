"""All runs for the Activity view, paged lazily, newest first, filtered by state and text in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from desktop.app import format as fmt
from desktop.app.models.base import RIGHT, Column, PagedModel
from engine.queries import RunSummary

if TYPE_CHECKING:
    from desktop.app.context import AppContext
    from engine.service import TriageService


def _now() -> datetime:
    return datetime.now(UTC)


def _status(row: RunSummary) -> str:
    words = fmt.error_words(row.state, row.error, row.error_kind)
    return words or fmt.state_label(row.state, row.outcome)


RUN_COLUMNS: list[Column[RunSummary]] = [
    Column("#", lambda r: str(r.run_id), align=RIGHT, width=50),
    Column("State", lambda r: fmt.state_label(r.state, r.outcome), width=150),
    Column("Category", lambda r: fmt.category_label(r.category), category=lambda r: r.category, width=110),
    Column("From", lambda r: r.sender_name or r.sender or "", tooltip=lambda r: r.sender or "", width=170),
    Column("Subject", lambda r: r.subject or "(no subject)", tooltip=lambda r: r.subject or "", width=260),
    Column("Updated", lambda r: fmt.local_time(r.updated_at, _now()), width=90),
    Column("Details", _status, tooltip=_status, width=320),
]


class RunsModel(PagedModel[RunSummary]):
    """Runs in the chosen states matching the search text."""

    page_size = 200

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(ctx, RUN_COLUMNS, key=lambda r: r.run_id, parent=parent)
        self.states: tuple[str, ...] = ()
        self.text: str | None = None

    def set_filter(self, states: Sequence[str], text: str | None) -> None:
        """Show runs in ``states`` (all when empty) matching ``text``, from the newest."""
        self.states = tuple(states)
        self.text = text.strip() if text and text.strip() else None
        self.reload()

    def fetch_page(self, service: TriageService, after: RunSummary | None, limit: int) -> list[RunSummary]:
        """The next page by offset (runs number in the thousands, not millions)."""
        offset = len(self.rows) if after is not None else 0
        return service.queries.runs(states=self.states, text=self.text, limit=limit, offset=offset)
