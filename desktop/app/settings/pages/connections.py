"""Settings → Mail and connections: what this profile reads from and writes to (status only).

Account settings pages for IMAP, Microsoft 365, AI providers and CRMs plug in next to this one
when their connectors are wired; until then this page says plainly what is configured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from desktop.app.settings.framework import SettingsData, SettingsPage
from desktop.app.style import set_role

if TYPE_CHECKING:
    from engine.service import TriageService


def account_pages_available() -> bool:
    """Whether a settings page for real mail accounts is registered."""
    from desktop.app.settings.registry import has_page

    return has_page("mail_accounts")


class ConnectionsPage(SettingsPage):
    """A read-only summary: mail in, replies out, CRM, AI providers."""

    key = "connections"
    title = "Mail and connections"
    read_only = True

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = self.intro("")
        self.summary.setObjectName("connectionsSummary")
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(18)
        self.grid.setVerticalSpacing(10)
        self.outer.addLayout(self.grid)
        self.note = QLabel(self)
        self.note.setObjectName("accountsNote")
        self.note.setWordWrap(True)
        self.outer.addSpacing(10)
        self.outer.addWidget(self.note)
        self.outer.addStretch(1)
        self._cells: list[QLabel] = []

    def load(self, data: SettingsData) -> None:
        """Describe the configured services."""
        for cell in self._cells:
            cell.deleteLater()
        self._cells.clear()
        mail_in = [s for s in data.services if s.role == "Mail in"]
        if mail_in:
            names = ", ".join(s.name.lower() if s.name == "Demo mailbox" else s.name for s in mail_in)
            self.summary.setText(
                f"Mail accounts: {names} / local outbox." if data.demo else f"Mail from {names}."
            )
        else:
            self.summary.setText("Mail accounts: none connected yet — replies go to the local outbox.")
        for line, service in enumerate(data.services):
            texts = (service.role, service.name, service.detail or service.destination)
            for column, text in enumerate(texts):
                cell = QLabel(text, self)
                cell.setWordWrap(column == 2)
                if column == 0:
                    set_role(cell, "muted")
                self.grid.addWidget(cell, line, column)
                self._cells.append(cell)
        self.grid.setColumnStretch(2, 1)
        if account_pages_available():
            self.note.setText("Add or change mail accounts on the Mail accounts page.")
        else:
            self.note.setText(
                "Connecting an IMAP or Microsoft 365 mailbox, an AI provider or an outside CRM is not "
                "available in this version yet: those settings arrive with the mail connectors. Until then "
                "Inbox Triage works with the demo mailbox and keeps replies in the local outbox folder."
            )

    def validate(self) -> Any:
        """Nothing to save here."""
        return None

    def save(self, service: TriageService, value: Any) -> None:
        """Nothing to save here."""
