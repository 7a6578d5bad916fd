"""The Contacts tab: the local CRM's contacts, and each one's activities."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QSplitter, QVBoxLayout, QWidget

from desktop.app.context import CONTACTS, AppContext
from desktop.app.models.base import ROW_ROLE
from desktop.app.models.contacts import ActivitiesModel, ContactsModel
from desktop.app.style import MARGIN, SPACING, set_role
from desktop.app.widgets.table import make_table
from engine.queries import ActivityRow, ContactRow

_SEARCH_DELAY_MS = 250
ACTIVITY_LIMIT = 500


class ContactsTab(QWidget):
    """Contacts (searchable) above the selected contact's activities.

    ``activities_loaded(int)`` fires with the contact id when its activities arrived;
    ``run_requested(int)`` asks to show a run in Activity (double-click an activity).
    """

    kinds = frozenset({CONTACTS})
    activities_loaded = Signal(int)
    run_requested = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = ContactsModel(ctx, self)
        self.activities = ActivitiesModel(self)
        self._token = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(MARGIN, MARGIN, MARGIN, MARGIN)
        layout.setSpacing(SPACING)
        row = QHBoxLayout()
        title = QLabel("Contacts", self)
        set_role(title, "heading")
        row.addWidget(title)
        hint = QLabel("kept on this computer by the built-in CRM", self)
        set_role(hint, "muted")
        row.addWidget(hint)
        row.addStretch(1)
        self.search = QLineEdit(self)
        self.search.setObjectName("contactSearch")
        self.search.setPlaceholderText("Search name, email or company")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(280)
        row.addWidget(self.search)
        layout.addLayout(row)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.setObjectName("contactsSplitter")
        splitter.setChildrenCollapsible(False)
        self.table = make_table(self.model, name="contactsTable", stretch_column=1)
        splitter.addWidget(self.table)
        lower = QWidget(splitter)
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, SPACING, 0, 0)
        self.activities_title = QLabel("Select a contact to see their emails.", lower)
        set_role(self.activities_title, "subheading")
        lower_layout.addWidget(self.activities_title)
        self.activity_table = make_table(self.activities, name="contactActivitiesTable", stretch_column=2)
        lower_layout.addWidget(self.activity_table, 1)
        splitter.addWidget(lower)
        splitter.setSizes([380, 280])
        layout.addWidget(splitter, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(_SEARCH_DELAY_MS)
        self._timer.timeout.connect(lambda: self.model.set_text(self.search.text()))
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.activity_table.doubleClicked.connect(self._activity_opened)

    def refresh(self) -> None:
        """Reload the contacts."""
        self.model.set_text(self.search.text())

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        contact = current.data(ROW_ROLE) if current.isValid() else None
        if isinstance(contact, ContactRow):
            self.show_contact(contact)

    def show_contact(self, contact: ContactRow) -> None:
        """Load one contact's activities."""
        self._token += 1
        token = self._token
        contact_id = contact.contact_id
        self.activities_title.setText(f"Emails from {contact.name or contact.email}")
        self.ctx.call(
            "Loading activities",
            lambda s: s.queries.activities(contact_id=contact_id, limit=ACTIVITY_LIMIT),
            done=lambda rows: self._arrived(token, contact_id, rows),
        )

    def _arrived(self, token: int, contact_id: int, rows: list[ActivityRow]) -> None:
        if token != self._token:
            return
        self.activities.set_rows(rows)
        self.activities_loaded.emit(contact_id)

    def _activity_opened(self, index: QModelIndex) -> None:
        activity = self.activities.row_at(index.row())
        if activity is not None:
            self.run_requested.emit(activity.run_id)
