"""The local CRM: contacts (paged, searchable) and one contact's activities."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from desktop.app import format as fmt
from desktop.app.models.base import RIGHT, Column, PagedModel, RowsModel
from engine.queries import ActivityRow, ContactRow

if TYPE_CHECKING:
    from desktop.app.context import AppContext
    from engine.service import TriageService


def _now() -> datetime:
    return datetime.now(UTC)


CONTACT_COLUMNS: list[Column[ContactRow]] = [
    Column("Name", lambda c: c.name or "—", width=230),
    Column("Email", lambda c: c.email, width=240),
    Column("Company", lambda c: c.company or "", width=220),
    Column("Last seen", lambda c: fmt.local_time(c.last_seen, _now()), width=150),
    Column("Emails", lambda c: str(c.activity_count), align=RIGHT, width=70),
]

ACTIVITY_COLUMNS: list[Column[ActivityRow]] = [
    Column("When", lambda a: fmt.local_time(a.occurred_at, _now()), width=110),
    Column("Category", lambda a: fmt.category_label(a.category), category=lambda a: a.category, width=110),
    Column("Summary", lambda a: a.summary, tooltip=lambda a: a.summary, width=420),
    Column("Run", lambda a: str(a.run_id), align=RIGHT, width=60),
]


class ContactsModel(PagedModel[ContactRow]):
    """Contacts, most recently seen first, filtered by name, email or company."""

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(ctx, CONTACT_COLUMNS, key=lambda c: c.contact_id, parent=parent)
        self.text: str | None = None

    def set_text(self, text: str | None) -> None:
        """Filter by ``text`` and reload."""
        self.text = text.strip() if text and text.strip() else None
        self.reload()

    def fetch_page(self, service: TriageService, after: ContactRow | None, limit: int) -> list[ContactRow]:
        """The next page of contacts."""
        offset = len(self.rows) if after is not None else 0
        return service.queries.contacts(text=self.text, limit=limit, offset=offset)


class ActivitiesModel(RowsModel[ActivityRow]):
    """One contact's activities (filled by the view from a background query)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(ACTIVITY_COLUMNS, key=lambda a: a.activity_id, parent=parent)
