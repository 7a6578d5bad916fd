"""Inputs shared by settings pages; the secret field keeps secrets in the OS keyring only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from desktop.app.secrets import keyring_status, secret_store
from desktop.app.style import set_role
from desktop.app.tasks import describe_error

if TYPE_CHECKING:
    from desktop.app.context import AppContext
    from engine.service import TriageService


class SecretField(QWidget):
    """A password box whose value goes to the OS keyring under ``secret_name`` — and nowhere else.

    When no secure keyring exists the field says so plainly, stores nothing, and clears what was
    typed. ``stored(bool)`` reports each attempt.
    """

    stored = Signal(bool)

    def __init__(self, ctx: AppContext, secret_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.secret_name = secret_name
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.edit = QLineEdit(self)
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setObjectName(f"secret_{secret_name}")
        row.addWidget(self.edit, 1)
        self.button = QPushButton("Save in keyring", self)
        self.button.clicked.connect(self.save)
        row.addWidget(self.button)
        layout.addLayout(row)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        set_role(self.status, "muted")
        layout.addWidget(self.status)
        status = keyring_status()
        if not status.available:
            self._refuse(status.message)

    def save(self) -> None:
        """Store the typed secret in the keyring (on a worker)."""
        value = self.edit.text()
        if not value:
            self.status.setText("Type the secret first.")
            return
        name = self.secret_name

        def op(service: TriageService) -> None:
            secret_store(service).set(name, value)

        self._ctx.call("Save secret", op, done=lambda _r: self._done(), error=self._failed)

    def _done(self) -> None:
        self.edit.clear()
        self._set_status("Saved in the operating system's keyring.", "muted")
        self.stored.emit(True)

    def _failed(self, exc: BaseException) -> None:
        self._refuse(describe_error(exc))
        self.stored.emit(False)

    def _refuse(self, message: str) -> None:
        self.edit.clear()
        self._set_status(f"Not saved: {message}", "error")

    def _set_status(self, text: str, role: str) -> None:
        self.status.setText(text)
        set_role(self.status, role)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
