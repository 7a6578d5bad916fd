"""Settings → Your name and office: who acts (the audit log's actor), reply-from, signature, facts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLineEdit, QPlainTextEdit, QWidget

from desktop.app.settings.framework import SettingsData, SettingsPage
from engine.settings import OfficeSettings

if TYPE_CHECKING:
    from engine.service import TriageService


class OfficePage(SettingsPage):
    """Your name, the office's name and address, the signature and the facts page."""

    key = "office"
    title = "Your name and office"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.intro(
            "Your name is recorded in the audit log for everything you approve, reject or change. "
            "Replies are sent from the reply-from address and end with the signature."
        )
        form = self.form()
        self.user_name = QLineEdit(self)
        self.user_name.setObjectName("userName")
        form.addRow("Your name", self.user_name)
        self.office_name = QLineEdit(self)
        self.office_name.setObjectName("officeName")
        form.addRow("Office name", self.office_name)
        self.reply_from = QLineEdit(self)
        self.reply_from.setObjectName("replyFrom")
        self.reply_from.setPlaceholderText("hello@example.co.uk")
        form.addRow("Reply-from address", self.reply_from)
        self.reply_from_name = QLineEdit(self)
        self.reply_from_name.setPlaceholderText("shown as the sender's name; the office name when empty")
        form.addRow("Reply-from name", self.reply_from_name)
        self.message_id_domain = QLineEdit(self)
        self.message_id_domain.setObjectName("messageIdDomain")
        form.addRow("Message-ID domain", self.message_id_domain)
        self.signature = QPlainTextEdit(self)
        self.signature.setObjectName("signature")
        self.signature.setFixedHeight(90)
        form.addRow("Signature", self.signature)
        self.facts = QPlainTextEdit(self)
        self.facts.setObjectName("facts")
        self.facts.setPlaceholderText("Opening hours, delivery times, prices… (kept for drafting replies)")
        self.facts.setFixedHeight(110)
        form.addRow("Facts about the office", self.facts)
        self.outer.addStretch(1)

    def load(self, data: SettingsData) -> None:
        """Fill the form."""
        office = data.office
        self.user_name.setText(office.user_name)
        self.office_name.setText(office.office_name)
        self.reply_from.setText(office.reply_from)
        self.reply_from_name.setText(office.reply_from_name)
        self.message_id_domain.setText(office.message_id_domain)
        self.signature.setPlainText(office.signature)
        self.facts.setPlainText(office.facts)

    def validate(self) -> OfficeSettings:
        """The office section, validated by the engine's rules."""
        return OfficeSettings(
            office_name=self.office_name.text().strip(),
            user_name=self.user_name.text().strip(),
            reply_from=self.reply_from.text().strip(),
            reply_from_name=self.reply_from_name.text().strip(),
            signature=self.signature.toPlainText().rstrip(),
            facts=self.facts.toPlainText().strip(),
            message_id_domain=self.message_id_domain.text().strip(),
        ).validate()

    def save(self, service: TriageService, value: OfficeSettings) -> None:
        """Store it (the change is audited under the name just entered)."""
        service.settings.save_office(value, actor=value.user_name)

    def field_for(self, message: str) -> QWidget | None:
        """Which input a validation message names."""
        prefixes = {
            "Office name": self.office_name,
            "Your name": self.user_name,
            "Reply-from address": self.reply_from,
            "Message-ID domain": self.message_id_domain,
        }
        for prefix, widget in prefixes.items():
            if message.startswith(prefix):
                return widget
        return None
