"""Settings → CRM: log each email in HubSpot, Pipedrive or a webhook, or keep the built-in contacts only.

Saving validates the settings (``connectors.crm.settings``), stores the ``crm`` section through
:class:`connectors.crm.book.CrmBook` and hands the running engine fresh connectors. The token or
webhook secret goes to the keyring only (:class:`SecretField`). "Test connection" makes one real
request on a worker; "Disconnect" goes back to the built-in contacts and forgets the token.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from connectors.crm.book import SECTION, CrmBook
from connectors.crm.settings import DEFAULT_BASE_URLS, CrmSettings, crm_secret_name, crm_settings_from_json
from desktop.app.settings.fields import SecretField
from desktop.app.settings.framework import SettingsData, SettingsPage
from desktop.app.settings.pages.mail_accounts import secret_note, with_note
from desktop.app.settings.registry import register
from engine.errors import ConfigurationError

if TYPE_CHECKING:
    from engine.service import TriageService

CHOICES = (
    ("none", "None — the built-in contacts only"),
    ("hubspot", "HubSpot"),
    ("pipedrive", "Pipedrive"),
    ("webhook", "Webhook (Zapier, Make, n8n, Power Automate…)"),
)
HINTS = {
    "none": "Contacts and their emails are kept in this profile's database (the Contacts tab).",
    "hubspot": "Each email is logged as a note on the sender's contact (found by email address, or created). "
    "Create a private app with the contacts read and write scopes and paste its access token.",
    "pipedrive": "Each email is logged as a note on the sender's person. Your API token is under "
    "Personal preferences → API in Pipedrive.",
    "webhook": "Each email is sent as one JSON POST (sender, category and a one-line summary, never the "
    "message body) to the URL, signed with the shared secret.",
}
SIGNATURE_NOTE = (
    "How receivers check it: the header X-Inbox-Triage-Signature is sha256= followed by the hex "
    "HMAC-SHA256 of the raw request body, keyed with the shared secret. A repeated delivery carries the "
    "same Idempotency-Key header: act on each key once."
)
DOCS = Path(__file__).resolve().parents[4] / "docs" / "providers.md"


class CrmPage(SettingsPage):
    """Choose the CRM, its address and token; test; disconnect."""

    key = "crm"
    title = "CRM"
    section_keys = (SECTION,)
    #: The text of the last "Test connection" result (tests wait on it).
    result_shown = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.intro("Where each triaged email is logged against its sender, besides the built-in contacts.")
        form = self.form()
        self.form_layout = form
        self.kind = QComboBox(self)
        self.kind.setObjectName("crmKind")
        for value, label in CHOICES:
            self.kind.addItem(label, value)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.kind.setMaximumWidth(420)
        box = with_note(self, self.kind, "")
        self.hint = box.findChildren(QLabel)[0]
        form.addRow("CRM", box)
        self.name = QLineEdit(self)
        self.name.setObjectName("crmName")
        self.name.setPlaceholderText("shown in the audit log; the type when empty")
        form.addRow("Name", self.name)
        self.url_label = QLabel("Base URL", self)
        self.url = QLineEdit(self)
        self.url.setObjectName("crmUrl")
        form.addRow(self.url_label, self.url)
        self.timeout = QLineEdit(self)
        self.timeout.setObjectName("crmTimeout")
        self.timeout.setMaximumWidth(80)
        form.addRow("Timeout (seconds)", self.timeout)
        self.token_in_query = QCheckBox(
            "Send the token in the URL (not recommended: URLs end up in logs)", self
        )
        form.addRow("", self.token_in_query)
        self.secret_label = QLabel("API token", self)
        self.secret: SecretField | None = None
        self.signature = QLabel(self)
        self.signature.setObjectName("webhookSignature")
        self.signature.setWordWrap(True)
        self.signature.setOpenExternalLinks(True)
        form.addRow("Signature", self.signature)
        self._build_actions()
        self.current: CrmSettings | None = None
        self.has_secret = False

    def _build_actions(self) -> None:
        actions = QHBoxLayout()
        self.test_button = QPushButton("Test connection", self)
        self.test_button.clicked.connect(self.test_connection)
        actions.addWidget(self.test_button)
        self.disconnect_button = QPushButton("Disconnect", self)
        self.disconnect_button.setProperty("danger", True)
        self.disconnect_button.clicked.connect(self.disconnect_crm)
        actions.addWidget(self.disconnect_button)
        actions.addStretch(1)
        self.outer.addLayout(actions)
        self.result = QLabel(self)
        self.result.setObjectName("crmResult")
        self.result.setWordWrap(True)
        self.outer.addWidget(self.result)
        self.outer.addStretch(1)

    def bind(self, ctx: Any) -> None:
        """Add the keyring-only token input."""
        super().bind(ctx)
        self.secret = SecretField(ctx, crm_secret_name(""), self)
        self.secret.setObjectName("crmSecret")
        self.form_layout.insertRow(5, self.secret_label, self.secret)
        self.secret.stored.connect(self._secret_stored)

    # --- showing ------------------------------------------------------------------------------

    def load(self, data: SettingsData) -> None:
        """Show the connected CRM (or none)."""
        self.current = crm_settings_from_json(data.sections.get(SECTION))
        current = self.current
        self.kind.blockSignals(True)
        self.kind.setCurrentIndex(max(0, self.kind.findData(current.kind if current else "none")))
        self.kind.blockSignals(False)
        self.name.setText(current.name if current else "")
        self.url.setText(current.base_url if current else "")
        self.timeout.setText(f"{current.timeout_s:g}" if current else "30")
        self.token_in_query.setChecked(bool(current and current.token_in_query))
        self.result.clear()
        self._kind_changed()
        if current is not None and self.ctx is not None:
            self.ctx.call("Reading the CRM token", lambda s: _has_secret(s, current), done=self._secret_known)

    def _kind_changed(self) -> None:
        kind = str(self.kind.currentData())
        remote = kind != "none"
        self.hint.setText(HINTS[kind])
        for widget in (self.name, self.url, self.timeout, self.secret):
            if widget is not None:
                self.form_layout.setRowVisible(widget, remote)
        self.form_layout.setRowVisible(self.token_in_query, kind == "pipedrive")
        self.form_layout.setRowVisible(self.signature, kind == "webhook")
        self.url_label.setText("Webhook URL" if kind == "webhook" else "Base URL")
        self.secret_label.setText("Shared secret" if kind == "webhook" else "API token")
        connected = self.current is not None and self.current.kind == kind
        if self.current is not None and connected:
            self.url.setText(self.current.base_url)
        else:
            self.url.setText(DEFAULT_BASE_URLS.get(kind, ""))
        self.url.setPlaceholderText("https://hooks.zapier.com/hooks/catch/…" if kind == "webhook" else "")
        self.signature.setText(_signature_text())
        self.test_button.setEnabled(connected)
        self.disconnect_button.setEnabled(self.current is not None)
        self._update_secret_target()

    def _update_secret_target(self) -> None:
        kind = str(self.kind.currentData())
        name = self.name.text().strip() or kind
        saved = self.current is not None and self.current.kind == kind and self.current.name == name
        if self.secret is not None:
            self.secret.secret_name = crm_secret_name(name)
            self.secret.setEnabled(saved)
        if not saved:
            text = "Save the CRM first, then enter its token or secret."
        else:
            text = "Stored in the keyring." if self.has_secret else "Nothing is stored yet."
        secret_note(self.secret, text)

    def _secret_known(self, stored: bool) -> None:
        self.has_secret = stored
        self._update_secret_target()

    def _secret_stored(self, ok: bool) -> None:
        if ok:
            self._secret_known(True)

    # --- saving -------------------------------------------------------------------------------

    def validate(self) -> CrmSettings | None:
        """The CRM as typed (checked by the connector's rules), or None for the built-in contacts."""
        kind = str(self.kind.currentData())
        if kind == "none":
            return None
        try:
            timeout = float(self.timeout.text().strip().replace(",", "."))
        except ValueError as exc:
            raise ConfigurationError("CRM: the timeout must be between 1 and 300 seconds.") from exc
        return CrmSettings(
            kind=kind,
            name=self.name.text().strip(),
            base_url=self.url.text().strip(),
            timeout_s=timeout,
            token_in_query=kind == "pipedrive" and self.token_in_query.isChecked(),
        ).validate()

    def save(self, service: TriageService, value: CrmSettings | None) -> None:
        """Connect (or with None disconnect) and reconnect the engine."""
        from desktop.app.secrets import secret_store
        from desktop.wiring import reconnect

        book = CrmBook(service.settings, secret_store(service))
        if value is None:
            book.disconnect(actor=service.actor())
        else:
            book.connect(value, actor=service.actor())
        reconnect(service)

    def field_for(self, message: str) -> QWidget | None:
        """Which input a validation message is about."""
        if "URL" in message:
            return self.url
        if "timeout" in message:
            return self.timeout
        return None

    # --- actions ------------------------------------------------------------------------------

    def test_connection(self) -> None:
        """One real request to the saved CRM on a worker."""
        current = self.current
        if current is None or self.ctx is None:
            return
        self.result.setText("Testing…")
        self.ctx.call(
            "Test CRM",
            lambda s: probe(s, current),
            done=lambda r: self._show_text(("✓ " if r.ok else "✗ ") + r.message),
            error=lambda exc: self._show_text(f"✗ {exc}"),
        )

    def disconnect_crm(self) -> None:
        """Go back to the built-in contacts and forget the token (on a worker); reconnect the engine."""
        if self.current is None or self.ctx is None:
            return

        def op(service: TriageService) -> None:
            self.save(service, None)

        from desktop.app.context import AUDIT, SETTINGS

        self.ctx.call(
            "Disconnect CRM",
            op,
            done=lambda _r: self.show_saved("Disconnected: contacts are kept in the built-in CRM only."),
            error=lambda exc: self.show_error(str(exc)),
            changes=(SETTINGS, AUDIT),
        )

    def _show_text(self, text: str) -> None:
        self.result.setText(text)
        self.result_shown.emit(text)


def _signature_text() -> str:
    link = (
        f'<a href="{QUrl.fromLocalFile(str(DOCS)).toString()}">docs/providers.md</a>'
        if DOCS.is_file()
        else "docs/providers.md"
    )
    return f"{SIGNATURE_NOTE} Code to verify it: {link}, “Verifying the webhook signature”."


def _has_secret(service: TriageService, settings: CrmSettings) -> bool:
    from desktop.app.secrets import secret_store

    return CrmBook(service.settings, secret_store(service)).has_secret(settings)


def probe(service: TriageService, settings: CrmSettings) -> Any:
    """``test_connection()`` of the CRM through the audited client factory (on a worker)."""
    from connectors.crm import build_crm
    from desktop.app.secrets import secret_store
    from desktop.wiring import factory_for

    crm = build_crm(settings, factory_for(service, settings.host), secret_store(service))
    try:
        return crm.test_connection()  # type: ignore[attr-defined]  # every CRM connector defines it
    finally:
        crm.close()


register(CrmPage, after="ai_providers")
