"""Settings → Privacy: how long email content is kept, where data may go, and where secrets live."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QWidget

from desktop.app.settings.framework import SettingsData, SettingsPage, whole_number
from desktop.app.style import set_role
from engine.settings import RetentionSettings

if TYPE_CHECKING:
    from engine.service import TriageService

LOCAL_ONLY = "Local only — nothing leaves this computer."


class PrivacyPage(SettingsPage):
    """Retention (editable), the egress allow-list and the keyring status (read-only)."""

    key = "privacy"
    title = "Privacy"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = self.form()
        self.retention = QLineEdit(self)
        self.retention.setObjectName("retentionDays")
        self.retention.setMaximumWidth(90)
        form.addRow("Keep email content for (days)", self.retention)
        hint = QLabel(
            "After this, subjects, bodies and drafts of finished emails are deleted (Audit log → Purge). "
            "The audit log itself is kept, and records each purge.",
            self,
        )
        hint.setWordWrap(True)
        set_role(hint, "muted")
        form.addRow("", hint)
        self.section("Where the app may connect")
        self.hosts = QListWidget(self)
        self.hosts.setObjectName("allowedHosts")
        self.hosts.setMaximumHeight(80)
        self.outer.addWidget(self.hosts)
        self.hosts_note = self.note(
            "Computed from the accounts and services you configure; any other address is refused before a "
            "connection is made, and every connection is recorded in the audit log."
        )
        self.section("AI providers and redaction")
        self.providers = self.note("")
        self.providers.setObjectName("providersNote")
        self.section("Passwords and keys")
        self.keyring = self.note("")
        self.keyring.setObjectName("keyringStatus")
        self.outer.addStretch(1)

    def section(self, text: str) -> QLabel:
        """A sub-heading."""
        label = QLabel(text, self)
        set_role(label, "subheading")
        self.outer.addSpacing(8)
        self.outer.addWidget(label)
        return label

    def note(self, text: str) -> QLabel:
        """A wrapped paragraph."""
        label = QLabel(text, self)
        label.setWordWrap(True)
        self.outer.addWidget(label)
        return label

    def load(self, data: SettingsData) -> None:
        """Fill the retention field and the read-only facts."""
        self.retention.setText(str(data.retention.days))
        self.hosts.clear()
        for host in data.allowed_hosts or [LOCAL_ONLY]:
            self.hosts.addItem(host)
        providers = [s for s in data.services if s.role == "AI provider"]
        redacted = [p for p in providers if not p.detail.endswith("redaction OFF")]
        unredacted = [p for p in providers if p.detail.endswith("redaction OFF")]
        if providers:
            parts = []
            if redacted:
                parts.append(
                    "Before any text goes to these providers, personal details are replaced by placeholders: "
                    + ", ".join(f"{p.name} ({p.destination})" for p in redacted)
                    + "."
                )
            if unredacted:
                parts.append(
                    "Redaction is OFF for "
                    + ", ".join(f"{p.name} ({p.destination})" for p in unredacted)
                    + ": email text goes there as written."
                )
            self.providers.setText(" ".join(parts))
        else:
            self.providers.setText(
                "No AI provider is configured: emails are classified and drafted on this computer, "
                "and no email text is sent anywhere."
            )
        keyring = data.keyring
        if keyring.available:
            self.keyring.setText(
                f"{keyring.message} The audit log's exports are signed with the office's key."
            )
            set_role(self.keyring, "")
        else:
            self.keyring.setText(
                f"{keyring.message} Audit exports are written unsigned, and passwords cannot be saved."
            )
            set_role(self.keyring, "error")
        self.keyring.style().unpolish(self.keyring)
        self.keyring.style().polish(self.keyring)

    def validate(self) -> RetentionSettings:
        """The retention period, validated by the engine's rules."""
        days = whole_number(self.retention.text(), "Retention: keep message content between 1 and 3650 days.")
        return RetentionSettings(days=days).validate()

    def save(self, service: TriageService, value: RetentionSettings) -> None:
        """Store the retention period."""
        service.settings.save_retention(value, actor=service.actor())

    def field_for(self, message: str) -> QWidget | None:
        """Every message on this page is about the retention field."""
        return self.retention if message.startswith("Retention") else None
