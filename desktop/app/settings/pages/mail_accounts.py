"""Settings → Mail accounts: list, add and edit IMAP, SMTP and Microsoft 365 accounts; test; sign in.

Every field is checked by the account's own ``validate()`` (``connectors.accounts``) and by the
book's cross-account rules; each problem is shown in place on its input and nothing is saved
until all are fixed. Passwords go to the keyring only (:class:`SecretField`). "Test connection"
runs on a worker and shows each stage (dns, tcp, tls, login, folder); Microsoft 365's "Sign in"
shows the device code and the address to enter it at. After a save or a removal the running
engine is handed fresh connectors (:func:`desktop.wiring.reconnect`), so no restart is needed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from connectors.accounts import (
    PASSWORD,
    SECTION,
    Account,
    AccountBook,
    AccountConfigError,
    FieldProblem,
    GraphAccount,
    ImapAccount,
    SmtpAccount,
    account_from_json,
    book_problems,
    secret_name,
)
from desktop.app.settings.fields import SecretField
from desktop.app.settings.framework import SettingsData, SettingsPage
from desktop.app.settings.registry import register
from desktop.app.style import set_role

if TYPE_CHECKING:
    from connectors.graph.auth import DeviceCode
    from connectors.imap.diagnose import ConnectionTestResult
    from engine.service import TriageService

KIND_LABELS = {"imap": "IMAP", "smtp": "SMTP", "graph": "Microsoft 365"}


@dataclass(frozen=True)
class Spec:
    """One input of an account form: the dataclass field, its label, and the kind of input."""

    field: str
    label: str
    kind: str = "text"  # text | int | choice | bool
    choices: tuple[str, ...] = ()
    hint: str = ""


_NAME = Spec("name", "Name", hint="a short name, e.g. office")
_PROCESSED = Spec("processed", "Processed mail", "choice", ("flag", "move"))
_FIRST_SYNC = Spec("first_sync_days", "First check: days back", "int")
SPECS: dict[str, tuple[Spec, ...]] = {
    "imap": (
        _NAME,
        Spec("host", "Server", hint="imap.example.co.uk"),
        Spec("port", "Port", "int", hint="usual"),
        Spec("security", "Security", "choice", ("tls", "starttls", "none")),
        Spec("username", "Login name", hint="often the email address"),
        Spec("ca_file", "CA certificate", hint="only for a self-signed server: a .pem file"),
        Spec("folder", "Folder to watch"),
        _PROCESSED,
        Spec("processed_keyword", "Keyword to set", hint="$Triaged, or \\Seen"),
        Spec("processed_folder", "Move to folder", hint="used with 'move'; mail is never deleted"),
        _FIRST_SYNC,
        Spec("idle", "New mail at once (IDLE)", "bool"),
    ),
    "smtp": (
        _NAME,
        Spec("host", "Server", hint="smtp.example.co.uk"),
        Spec("port", "Port", "int", hint="usual"),
        Spec("security", "Security", "choice", ("starttls", "tls", "none")),
        Spec("username", "Login name", hint="empty: send without logging in"),
        Spec("ca_file", "CA certificate", hint="only for a self-signed server: a .pem file"),
        Spec("sent_account", "Sent copies in", hint="the IMAP account whose Sent folder keeps replies"),
        Spec("sent_folder", "Sent folder"),
        Spec("sent_copy", "Sent copies", "choice", ("append", "server")),
        Spec("login_from", "Log in as", hint="an IMAP account's login and password (optional)"),
    ),
    "graph": (
        _NAME,
        Spec("client_id", "Application (client) id", hint="from Entra ID, a GUID"),
        Spec("tenant", "Tenant", hint="your tenant id or domain, or organizations"),
        Spec("mailbox", "Mailbox", hint="the address, suggested at sign-in"),
        Spec("folder", "Folder to watch"),
        _PROCESSED,
        Spec("processed_category", "Outlook category"),
        Spec("processed_folder", "Move to folder", hint="used with 'move'; never Deleted Items"),
        _FIRST_SYNC,
        Spec("send", "Send replies from this mailbox", "bool"),
    ),
}

_BLANK: dict[str, Account] = {
    "imap": ImapAccount(name="", host="", username=""),
    "smtp": SmtpAccount(name="", host="", sent_account=""),
    "graph": GraphAccount(name="", client_id=""),
}


class AccountForm(QWidget):
    """The inputs of one kind of account, built from :data:`SPECS`."""

    def __init__(self, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.layout_ = QFormLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setHorizontalSpacing(14)
        self.layout_.setVerticalSpacing(8)
        self.inputs: dict[str, QWidget] = {}
        for spec in SPECS[kind]:
            widget = self._input(spec)
            widget.setObjectName(f"{kind}_{spec.field}")
            self.inputs[spec.field] = widget
            self.layout_.addRow(spec.label, widget)
        self.password: SecretField | None = None

    def _input(self, spec: Spec) -> QWidget:
        if spec.kind == "choice":
            combo = QComboBox(self)
            combo.addItems(list(spec.choices))
            combo.setMaximumWidth(220)
            return combo
        if spec.kind == "bool":
            return QCheckBox(self)
        edit = QLineEdit(self)
        edit.setPlaceholderText(spec.hint)
        if spec.kind == "int":
            edit.setMaximumWidth(90)
            edit.setToolTip(
                "Empty: the usual port for the security chosen" if spec.field == "port" else spec.hint
            )
        return edit

    def add_password(self, field: SecretField) -> None:
        """The keyring-only password input (IMAP and SMTP)."""
        self.password = field
        self.layout_.insertRow(5, "Password", field)

    def fill(self, account: Account) -> None:
        """Show ``account``'s values."""
        for spec in SPECS[self.kind]:
            value = getattr(account, spec.field)
            widget = self.inputs[spec.field]
            if isinstance(widget, QComboBox):
                widget.setCurrentIndex(max(0, widget.findText(str(value))))
            elif isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            elif isinstance(widget, QLineEdit):
                widget.setText("" if spec.kind == "int" and value == 0 else str(value))
        self.inputs["name"].setEnabled(not account.name)

    def read(self, base: Account) -> Account:
        """``base`` with the typed values; AccountConfigError for a number that is not one."""
        values: dict[str, Any] = {}
        problems = []
        for spec in SPECS[self.kind]:
            widget = self.inputs[spec.field]
            if isinstance(widget, QComboBox):
                values[spec.field] = widget.currentText()
            elif isinstance(widget, QCheckBox):
                values[spec.field] = widget.isChecked()
            elif isinstance(widget, QLineEdit):
                text = widget.text().strip()
                if spec.kind == "int":
                    try:
                        values[spec.field] = int(text or "0")
                    except ValueError:
                        problems.append(FieldProblem(spec.field, "a whole number"))
                else:
                    values[spec.field] = text
        if problems:
            raise AccountConfigError(problems)
        return dataclasses.replace(base, **values)


class MailAccountsPage(SettingsPage):
    """The accounts list, an editor for the selected (or new) account, Test and Sign in."""

    key = "mail_accounts"
    title = "Mail accounts"
    section_keys = (SECTION,)

    #: Emitted from the sign-in worker with (code, address, message); shown on the GUI thread.
    device_code = Signal(str, str, str)
    #: The text of the last "Test connection" or "Sign in" result (tests wait on it).
    result_shown = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.intro(
            "The mailboxes Inbox Triage watches and how replies go out. Add an IMAP or Microsoft 365 "
            "mailbox to watch; add an SMTP account to send replies (without one, replies go to the local "
            "outbox folder). Passwords are kept in the operating system's keyring only."
        )
        self.accounts: list[Account] = []
        self.list = QListWidget(self)
        self.list.setObjectName("mailAccountsList")
        self.list.setMaximumHeight(80)
        self.list.currentRowChanged.connect(self._selected)
        self.outer.addWidget(self.list)
        row = QHBoxLayout()
        self.add_buttons: dict[str, QPushButton] = {}
        for kind in ("imap", "smtp", "graph"):
            button = QPushButton(f"Add {KIND_LABELS[kind]}…", self)
            button.clicked.connect(lambda _c=False, k=kind: self.start_new(k))
            self.add_buttons[kind] = button
            row.addWidget(button)
        row.addStretch(1)
        self.remove_button = QPushButton("Remove…", self)
        self.remove_button.setProperty("danger", True)
        self.remove_button.clicked.connect(self.remove_selected)
        row.addWidget(self.remove_button)
        self.outer.addLayout(row)
        self.editing_title = QLabel(self)
        set_role(self.editing_title, "subheading")
        self.outer.addSpacing(6)
        self.outer.addWidget(self.editing_title)
        self.forms = {kind: AccountForm(kind, self) for kind in ("imap", "smtp", "graph")}
        self.stack = QStackedWidget(self)
        for form in self.forms.values():
            self.stack.addWidget(form)
        self.outer.addWidget(self.stack)
        actions = QHBoxLayout()
        self.test_button = QPushButton("Test connection", self)
        self.test_button.clicked.connect(self.test_connection)
        actions.addWidget(self.test_button)
        self.sign_in_button = QPushButton("Sign in to Microsoft 365", self)
        self.sign_in_button.clicked.connect(self.sign_in)
        actions.addWidget(self.sign_in_button)
        actions.addStretch(1)
        self.outer.addLayout(actions)
        self.result = QLabel(self)
        self.result.setObjectName("mailAccountsResult")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outer.addWidget(self.result)
        self.outer.addStretch(1)
        self.kind = "imap"
        self.original: Account | None = None
        self._select = ""
        self.confirm: Callable[[str], bool] = self._ask
        self.device_code.connect(self._show_device_code)

    def bind(self, ctx: Any) -> None:
        """Add the keyring-only password inputs (they need the context to save on a worker)."""
        super().bind(ctx)
        for kind in ("imap", "smtp"):
            self.forms[kind].add_password(SecretField(ctx, secret_name("", PASSWORD), self.forms[kind]))

    # --- showing ------------------------------------------------------------------------------

    def load(self, data: SettingsData) -> None:
        """List the stored accounts and edit the first (or start a new IMAP account)."""
        raw = data.sections.get(SECTION)
        items = raw.get("accounts", []) if isinstance(raw, dict) else []
        self.accounts = [account_from_json(item) for item in items if isinstance(item, dict)]
        self.list.blockSignals(True)
        self.list.clear()
        for account in self.accounts:
            self.list.addItem(describe(account))
        self.list.blockSignals(False)
        names = [a.name for a in self.accounts]
        if self.accounts:
            row = names.index(self._select) if self._select in names else 0
            self.list.setCurrentRow(row)
            self._selected(row)
        else:
            self.start_new("imap")

    def _selected(self, row: int) -> None:
        if 0 <= row < len(self.accounts):
            self._edit(self.accounts[row])

    def start_new(self, kind: str) -> None:
        """Show an empty form for a new account of ``kind``."""
        self.list.clearSelection()
        self._edit(_BLANK[kind], new=True)

    def _edit(self, account: Account, *, new: bool = False) -> None:
        self.clear_error()
        self.kind = account.kind
        self.original = None if new else account
        form = self.forms[self.kind]
        form.fill(account)
        if form.password is not None:
            form.password.secret_name = secret_name(account.name, PASSWORD)
            form.password.setEnabled(bool(account.name))
            secret_note(
                form.password,
                "Kept in the operating system's keyring only; type a new one to replace it."
                if account.name
                else "Save the account first, then its password.",
            )
        self.stack.setCurrentWidget(form)
        label = KIND_LABELS[self.kind]
        self.editing_title.setText(f"New {label} account" if new else f"{account.name} ({label})")
        self.test_button.setEnabled(not new)
        self.sign_in_button.setVisible(self.kind == "graph")
        self.sign_in_button.setEnabled(not new)
        self.remove_button.setEnabled(not new)
        self.result.clear()

    # --- saving -------------------------------------------------------------------------------

    def validate(self) -> Account:
        """The edited account, checked field by field and against the other accounts."""
        base = self.original or _BLANK[self.kind]
        account = self.forms[self.kind].read(base)
        others = [a for a in self.accounts if self.original is None or a.name != self.original.name]
        problems = account.validate() + book_problems([*others, account])
        if problems:
            raise AccountConfigError(problems)
        self._select = account.name
        return account

    def save(self, service: TriageService, value: Account) -> None:
        """Store the account (replacing the one being edited) and reconnect the engine."""
        from desktop.app.secrets import secret_store
        from desktop.wiring import reconnect

        book = AccountBook(service.settings, secret_store(service))
        book.add(value, actor=service.actor(), replace=self.original is not None)
        reconnect(service)

    def show_error(self, message: str) -> None:
        """Show every problem and mark each input it names."""
        super().show_error(message)
        form = self.forms[self.kind]
        for part in message.split("; "):
            widget = form.inputs.get(part.split(":", 1)[0].strip())
            if widget is not None and widget not in self._invalid:
                widget.setProperty("invalid", True)
                widget.style().unpolish(widget)
                widget.style().polish(widget)
                self._invalid.append(widget)

    def field_for(self, message: str) -> QWidget | None:
        """The input the first problem names (``field: message``)."""
        return self.forms[self.kind].inputs.get(message.split(":", 1)[0].strip())

    # --- actions ------------------------------------------------------------------------------

    def remove_selected(self) -> None:
        """Remove the account being edited, after asking."""
        account = self.original
        if account is None or self.ctx is None:
            return
        if not self.confirm(f"Remove the mail account {account.name!r} and forget its password?"):
            return
        name = account.name

        def op(service: TriageService) -> None:
            from desktop.app.secrets import secret_store
            from desktop.wiring import reconnect

            AccountBook(service.settings, secret_store(service)).remove(name, actor=service.actor())
            reconnect(service)

        from desktop.app.context import AUDIT, SETTINGS

        self.ctx.call(
            "Remove mail account",
            op,
            done=lambda _r: self.show_saved(f"Removed {name}."),
            error=lambda exc: self.show_error(str(exc)),
            changes=(SETTINGS, AUDIT),
        )

    def test_connection(self) -> None:
        """Try the saved account stage by stage on a worker and show each stage."""
        account = self.original
        if account is None or self.ctx is None:
            return
        self.result.setText(f"Testing {account.name}…")
        self.ctx.call(
            "Test connection",
            lambda s: run_test(s, account.name),
            done=self._show_result,
            error=lambda exc: self._show_text(f"Test failed: {exc}"),
        )

    def sign_in(self) -> None:
        """Microsoft 365: start the device-code sign-in on a worker; the code is shown here."""
        account = self.original
        if account is None or self.ctx is None:
            return
        self.result.setText("Asking Microsoft for a sign-in code…")
        self.ctx.call(
            "Sign in",
            lambda s: run_sign_in(s, account.name, self._emit_code),
            done=lambda who: self._show_text(f"Signed in as {who}; the sign-in is kept in the keyring."),
            error=lambda exc: self._show_text(f"Sign-in failed: {exc}"),
        )

    def _emit_code(self, code: DeviceCode) -> None:
        self.device_code.emit(code.user_code, code.verification_uri, code.message)

    def _show_device_code(self, code: str, uri: str, _message: str) -> None:
        self._show_text(
            f"Open {uri} in a browser and enter the code {code}, then sign in with the mailbox's "
            "account. This page updates when you are done."
        )

    def _show_result(self, result: ConnectionTestResult) -> None:
        lines = [
            f"{'✓' if stage.ok else '✗'} {stage.stage}: {stage.message} ({stage.elapsed_ms} ms)"
            for stage in result.stages
        ]
        lines.append(
            ("Everything worked." if result.ok else "Failed: ") + ("" if result.ok else result.message)
        )
        self._show_text("\n".join(lines))

    def _show_text(self, text: str) -> None:
        self.result.setText(text)
        self.result_shown.emit(text)

    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Remove mail account", question)
        return answer == QMessageBox.StandardButton.Yes


def with_note(parent: QWidget, widget: QWidget, note: str) -> QWidget:
    """``widget`` with a muted, wrapped explanation under it (one form row, no stray gaps)."""
    box = QWidget(parent)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(widget)
    label = QLabel(note, box)
    label.setWordWrap(True)
    set_role(label, "muted")
    layout.addWidget(label)
    return box


def secret_note(field: SecretField | None, text: str) -> None:
    """Say under a secret input whether its secret is stored — unless it is saying there is no keyring."""
    from desktop.app.secrets import keyring_status

    if field is not None and keyring_status().available:
        field.status.setText(text)
        set_role(field.status, "muted")
        field.status.style().unpolish(field.status)
        field.status.style().polish(field.status)


def describe(account: Account) -> str:
    """One line for the list: name, kind and where it connects."""
    if isinstance(account, GraphAccount):
        return f"{account.name} — Microsoft 365 {account.mailbox}".rstrip()
    sends = " — sends replies" if isinstance(account, SmtpAccount) else ""
    return f"{account.name} — {KIND_LABELS[account.kind]} {account.host}:{account.effective_port}{sends}"


def _kit(service: TriageService) -> Any:
    from desktop.app.secrets import secret_store
    from desktop.wiring import account_toolkit

    secrets = secret_store(service)
    accounts = AccountBook(service.settings, secrets).accounts()
    return AccountBook(service.settings, secrets), account_toolkit(
        accounts, secrets, http=getattr(service.connections, "http", None)
    )


def run_test(service: TriageService, name: str) -> ConnectionTestResult:
    """Test one account (on a worker)."""
    from connectors.accounts import test_connection

    book, kit = _kit(service)
    return test_connection(name, book, kit)


def run_sign_in(service: TriageService, name: str, show: Callable[[DeviceCode], None]) -> str:
    """Sign a Microsoft 365 account in by device code (on a worker); returns who signed in."""
    from connectors.accounts import sign_in

    book, kit = _kit(service)
    return sign_in(name, book, kit, show_device_code=show)


register(MailAccountsPage, after="connections")
