"""The audit log as a lazily paged table over a million events.

Pages are read by seq (keyset), never by offset, so the thousandth page costs what the first one
does. A free-text search arrives progressively: :meth:`engine.queries.Queries.audit_page` returns
after a short time with what it found and where it stopped, and the model asks for the rest by
itself until a page is full or the log is exhausted, reporting progress as it goes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QObject, Signal

from desktop.app import format as fmt
from desktop.app.models.base import RIGHT, AnyIndex, Column, PagedModel
from engine.audit.event import AuditEvent
from engine.queries import AuditFilter

if TYPE_CHECKING:
    from desktop.app.context import AppContext
    from engine.queries import AuditPage
    from engine.service import TriageService


def _data(event: AuditEvent) -> str:
    return ", ".join(c.replace("_", " ") for c in event.data_categories)


AUDIT_COLUMNS: list[Column[AuditEvent]] = [
    Column("Seq", lambda e: str(e.seq), align=RIGHT, width=70),
    Column("Time", lambda e: fmt.audit_time(e.ts), tooltip=lambda e: e.ts, width=150),
    Column("Action", lambda e: e.action, width=170),
    Column("Actor", lambda e: fmt.actor_label(e.actor), tooltip=lambda e: e.actor, width=130),
    Column("Outcome", lambda e: e.outcome, width=100),
    Column("Run", lambda e: e.run_id or "", align=RIGHT, width=60),
    Column("Email", lambda e: e.email_ref or "", tooltip=lambda e: e.email_ref or "", width=220),
    Column("Data", _data, tooltip=_data, width=200),
    Column("Destination", lambda e: e.destination, width=110),
]


class AuditModel(PagedModel[AuditEvent]):
    """Audit events matching a filter, newest first (or from a chosen seq downwards).

    ``search_progress(int, bool)``: the lowest seq a text search has examined and whether it is
    finished — the view shows "searching…" until it is.
    """

    search_progress = Signal(int, bool)
    page_size = 200

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(ctx, AUDIT_COLUMNS, key=lambda e: e.seq, parent=parent)
        self.filters = AuditFilter()
        self._next_before: int | None = None
        self._start_before: int | None = None

    def set_filter(self, filters: AuditFilter, *, start_at_seq: int | None = None) -> None:
        """Show events matching ``filters``, newest first (from ``start_at_seq`` downwards when given)."""
        self.filters = filters
        self._start_before = start_at_seq + 1 if start_at_seq is not None else None
        self.reload()

    @property
    def searching(self) -> bool:
        """Whether a free-text search is still scanning."""
        return self.loading and bool(self.filters.text)

    def reload(self) -> None:
        """Start again from the newest matching event (or the chosen seq)."""
        self._next_before = self._start_before
        super().reload()

    def fetch_page(self, service: TriageService, after: AuditEvent | None, limit: int) -> list[AuditEvent]:
        """Not used: pages carry their own cursor (see :meth:`fetchMore`)."""
        raise NotImplementedError

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008, N802
        """Fetch the next keyset page in the background."""
        if self.canFetchMore(parent):
            self._request(self.page_size)

    def _request(self, wanted: int) -> None:
        generation = self._generation
        filters = self.filters
        before = self._next_before
        self._set_loading(True)
        self._ctx.call(
            "Reading the audit log",
            lambda service: service.queries.audit_page(filters, before_seq=before, limit=wanted),
            done=lambda page: self._page_landed(generation, page, wanted),
            error=lambda exc: self._failed(generation, exc),
        )

    def _page_landed(self, generation: int, page: AuditPage, wanted: int) -> None:
        if generation != self._generation:
            return
        self._next_before = page.next_before
        self._exhausted = page.next_before is None
        self.append_rows(page.events)
        remaining = wanted - len(page.events)
        if self.filters.text:
            self.search_progress.emit(page.scanned_to, self._exhausted)
            if not self._exhausted and remaining > 0:
                # The scan paused on its time budget: go on until the page is full.
                self.page_loaded.emit(len(page.events))
                self._request(remaining)
                return
        self._set_loading(False)
        self.page_loaded.emit(len(page.events))
