"""The right-hand side of the Review tab: one email, why it was classified so, its history, and the reply.

The pane only displays and collects input; it emits what the person asked for and the Review
tab carries it out. Flags (possible prompt injection, links or addresses not in the thread)
are shown in a warning strip above everything else.
"""

from __future__ import annotations

from email.utils import formataddr, getaddresses

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.app import format as fmt
from desktop.app.style import MARGIN, SPACING, set_role
from desktop.app.widgets.badge import CategoryBadge
from desktop.app.widgets.banner import Banner
from desktop.app.widgets.safe_view import SafeEmailView
from engine.audit.event import AuditEvent
from engine.categories import ALL_CATEGORIES
from engine.queries import QueueItemDetail, RunSummary
from engine.review import DraftEdit

APPROVE_SHORTCUT = "Ctrl+Return"

_FLAG_WORDS = {
    "prompt_injection": "it looks like it tries to instruct an AI",
    "injection": "it looks like it tries to instruct an AI",
    "foreign_link": "the draft contains a link that is not in the email thread",
    "foreign_address": "the draft contains an address that is not in the email thread",
}


def flag_words(flag: str) -> str:
    """A flag or finding in plain words."""
    return _FLAG_WORDS.get(flag, flag.replace("_", " "))


def addresses_text(addresses: tuple[str, ...]) -> str:
    """Recipients as one editable line."""
    return ", ".join(addresses)


def parse_addresses(text: str) -> tuple[str, ...]:
    """The recipients typed in the To field (``Name <a@b>`` or bare addresses, comma-separated)."""
    return tuple(formataddr((name, addr)) for name, addr in getaddresses([text]) if addr)


class DraftEditor(QFrame):
    """To, Subject and the reply's body, with the loaded values to tell what was edited."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_role(self, "card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(MARGIN, MARGIN, MARGIN, MARGIN)
        layout.setSpacing(SPACING)
        title = QLabel("Reply", self)
        set_role(title, "subheading")
        layout.addWidget(title)
        form = QFormLayout()
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(6)
        self.to_edit = QLineEdit(self)
        self.to_edit.setObjectName("draftTo")
        self.subject_edit = QLineEdit(self)
        self.subject_edit.setObjectName("draftSubject")
        form.addRow("To", self.to_edit)
        form.addRow("Subject", self.subject_edit)
        layout.addLayout(form)
        self.body_edit = QPlainTextEdit(self)
        self.body_edit.setObjectName("draftBody")
        self.body_edit.setTabChangesFocus(True)
        layout.addWidget(self.body_edit, 1)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        set_role(self.note, "muted")
        layout.addWidget(self.note)
        self._loaded: tuple[str, str, str] = ("", "", "")

    def load(self, to: tuple[str, ...], subject: str, body: str, note: str = "") -> None:
        """Show a draft."""
        self._loaded = (addresses_text(to), subject, body)
        self.to_edit.setText(self._loaded[0])
        self.subject_edit.setText(subject)
        self.body_edit.setPlainText(body)
        self.note.setText(note)
        self.note.setVisible(bool(note))

    def edit(self) -> DraftEdit | None:
        """The person's changes (None when the draft is untouched)."""
        to_text, subject, body = self.to_edit.text(), self.subject_edit.text(), self.body_edit.toPlainText()
        loaded_to, loaded_subject, loaded_body = self._loaded
        changed_to = parse_addresses(to_text) if to_text.strip() != loaded_to.strip() else None
        changed_subject = subject if subject != loaded_subject else None
        changed_body = body if body != loaded_body else None
        if changed_to is None and changed_subject is None and changed_body is None:
            return None
        return DraftEdit(body=changed_body, subject=changed_subject, to=changed_to)

    def set_editable(self, editable: bool) -> None:
        """Allow or prevent editing (no draft, or a decision in flight)."""
        for widget in (self.to_edit, self.subject_edit):
            widget.setReadOnly(not editable)
        self.body_edit.setReadOnly(not editable)


class EmailTabs(QTabWidget):
    """The email itself (plain or sanitised HTML), the reasons, and the step history."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDocumentMode(True)
        email_page = QWidget(self)
        layout = QVBoxLayout(email_page)
        layout.setContentsMargins(0, 6, 0, 0)
        toggles = QHBoxLayout()
        self.plain_button = QRadioButton("Plain text", email_page)
        self.html_button = QRadioButton("Formatted (safe)", email_page)
        self.html_button.setToolTip("Formatting only: no images, scripts or links are loaded")
        self.plain_button.setChecked(True)
        group = QButtonGroup(email_page)
        group.addButton(self.plain_button)
        group.addButton(self.html_button)
        toggles.addWidget(self.plain_button)
        toggles.addWidget(self.html_button)
        toggles.addStretch(1)
        self.attachments = QLabel(email_page)
        set_role(self.attachments, "muted")
        toggles.addWidget(self.attachments)
        layout.addLayout(toggles)
        self.body = SafeEmailView(email_page)
        self.body.setObjectName("emailBody")
        layout.addWidget(self.body, 1)
        self.addTab(email_page, "Email")
        self.reasons = QListWidget(self)
        self.reasons.setObjectName("reasons")
        self.addTab(self.reasons, "Why this category")
        self.history = QListWidget(self)
        self.history.setObjectName("history")
        self.addTab(self.history, "History")
        self._text = ""
        self._html: str | None = None
        self.plain_button.toggled.connect(lambda _checked: self._render())

    def load(self, detail: QueueItemDetail) -> None:
        """Show one item's body, reasons and history."""
        self._text = detail.body_text or ""
        if detail.content_purged:
            self._text = "The content of this email was deleted by the retention policy."
        self._html = detail.body_html
        self.html_button.setEnabled(bool(self._html))
        if not self._html:
            self.plain_button.setChecked(True)
        self._render()
        files = [name for name, _type, _size in detail.attachments]
        self.attachments.setText(f"Attachments: {', '.join(files)}" if files else "")
        self.reasons.clear()
        source = detail.classification_source
        if source:
            self.reasons.addItem(f"Decided by: {source.replace('_', ' ')}")
        for reason in detail.reasons or ("No reasons were recorded.",):
            self.reasons.addItem(f"• {reason}")
        self.history.clear()
        for event in detail.history:
            self.history.addItem(history_line(event))

    def _render(self) -> None:
        if self.html_button.isChecked() and self._html:
            self.body.show_html(self._html)
        else:
            self.body.show_plain(self._text)


def history_line(event: AuditEvent) -> str:
    """One step of an email's history: ``14:05:02  email.classified — enquiry (Inbox Triage)``."""
    return f"{fmt.audit_time(event.ts)}   {event.action} — {event.outcome}   ({fmt.actor_label(event.actor)})"


class ItemHeader(QWidget):
    """Subject, badge, confidence, sender, recipients and times."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        top = QHBoxLayout()
        self.badge = CategoryBadge(self)
        top.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        self.subject = QLabel(self)
        self.subject.setWordWrap(True)
        self.subject.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        set_role(self.subject, "heading")
        top.addWidget(self.subject, 1)
        self.confidence = QLabel(self)
        set_role(self.confidence, "muted")
        top.addWidget(self.confidence, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        self.meta = QLabel(self)
        self.meta.setWordWrap(True)
        self.meta.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        set_role(self.meta, "muted")
        layout.addWidget(self.meta)

    def load(self, detail: QueueItemDetail, now_text: str) -> None:
        """Show the item's summary line."""
        s = detail.summary
        self.badge.set_category(s.category)
        self.subject.setText(s.subject or "(no subject)")
        sure = fmt.confidence_text(s.confidence)
        self.confidence.setText(f"{sure} sure" if sure else "")
        sender = formataddr((s.sender_name or "", s.sender or "")) if s.sender else "(unknown sender)"
        parts = [f"From {sender}"]
        if detail.to:
            parts.append(f"to {', '.join(detail.to)}")
        parts.append(f"received {now_text}")
        self.meta.setText(" · ".join(parts))


class ReviewPane(QStackedWidget):
    """One selected item (or a summary of several) with the decision buttons.

    Signals: ``approve_requested()`` (the tab reads :meth:`current_edit` / the selection),
    ``reject_requested(run_id, reason)``, ``reclassify_requested(run_id, category)``.
    """

    approve_requested = Signal()
    reject_requested = Signal(int, str)
    reclassify_requested = Signal(int, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.detail: QueueItemDetail | None = None
        self.empty = QLabel("Select an email on the left to review it.", self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        set_role(self.empty, "muted")
        self.addWidget(self.empty)
        self.single = self._build_single()
        self.addWidget(self.single)
        self.multi = self._build_multi()
        self.addWidget(self.multi)
        self.setCurrentWidget(self.empty)

    # --- building ---------------------------------------------------------------------------------

    def _build_single(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(MARGIN, MARGIN, MARGIN, MARGIN)
        layout.setSpacing(SPACING)
        self.header = ItemHeader(page)
        layout.addWidget(self.header)
        self.flags = Banner(page, closable=False)
        self.flags.setObjectName("flagsBanner")
        layout.addWidget(self.flags)
        self.splitter = QSplitter(Qt.Orientation.Vertical, page)
        self.splitter.setObjectName("reviewSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.tabs = EmailTabs(self.splitter)
        self.editor = DraftEditor(self.splitter)
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(self.editor)
        self.splitter.setSizes([330, 300])
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self._build_actions(page))
        layout.addWidget(self._build_reject_row(page))
        return page

    def _build_actions(self, page: QWidget) -> QWidget:
        row = QWidget(page)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        self.reclassify_button = QToolButton(row)
        self.reclassify_button.setText("Change category")
        self.reclassify_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.category_menu = QMenu(self.reclassify_button)
        for category in ALL_CATEGORIES:
            action = QAction(fmt.category_label(category), self.category_menu)
            action.setData(category)
            action.triggered.connect(lambda _checked=False, c=category: self._reclassify(c))
            self.category_menu.addAction(action)
        self.reclassify_button.setMenu(self.category_menu)
        layout.addWidget(self.reclassify_button)
        self.reject_button = QPushButton("Reject…", row)
        self.reject_button.setProperty("danger", True)
        self.reject_button.clicked.connect(self.open_reject)
        layout.addWidget(self.reject_button)
        layout.addStretch(1)
        self.approve_button = QPushButton("Approve && send", row)
        self.approve_button.setObjectName("approveButton")
        self.approve_button.setProperty("primary", True)
        self.approve_button.setToolTip(f"Send this reply ({QKeySequence(APPROVE_SHORTCUT).toString()})")
        self.approve_button.clicked.connect(self.approve_requested)
        layout.addWidget(self.approve_button)
        return row

    def _build_reject_row(self, page: QWidget) -> QWidget:
        self.reject_row = QFrame(page)
        set_role(self.reject_row, "card")
        layout = QHBoxLayout(self.reject_row)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(QLabel("Why reject it?", self.reject_row))
        self.reject_reason = QLineEdit(self.reject_row)
        self.reject_reason.setObjectName("rejectReason")
        self.reject_reason.setPlaceholderText("e.g. answered by phone — kept in the audit log")
        self.reject_reason.returnPressed.connect(self._confirm_reject)
        layout.addWidget(self.reject_reason, 1)
        self.reject_confirm = QPushButton("Reject", self.reject_row)
        self.reject_confirm.setProperty("danger", True)
        self.reject_confirm.clicked.connect(self._confirm_reject)
        layout.addWidget(self.reject_confirm)
        cancel = QPushButton("Cancel", self.reject_row)
        cancel.clicked.connect(self.reject_row.hide)
        layout.addWidget(cancel)
        self.reject_error = QLabel(self.reject_row)
        set_role(self.reject_error, "error")
        layout.addWidget(self.reject_error)
        self.reject_row.hide()
        return self.reject_row

    def _build_multi(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(MARGIN * 2, MARGIN * 2, MARGIN * 2, MARGIN * 2)
        self.multi_title = QLabel(page)
        set_role(self.multi_title, "heading")
        layout.addWidget(self.multi_title)
        hint = QLabel("Each reply goes out as drafted. Items without a draft are left in the queue.", page)
        set_role(hint, "muted")
        layout.addWidget(hint)
        self.multi_list = QListWidget(page)
        layout.addWidget(self.multi_list, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        self.approve_all_button = QPushButton(page)
        self.approve_all_button.setObjectName("approveAllButton")
        self.approve_all_button.setProperty("primary", True)
        self.approve_all_button.clicked.connect(self.approve_requested)
        row.addWidget(self.approve_all_button)
        layout.addLayout(row)
        return page

    # --- showing ----------------------------------------------------------------------------------

    def show_empty(self, text: str = "Select an email on the left to review it.") -> None:
        """Nothing selected."""
        self.detail = None
        self.empty.setText(text)
        self.setCurrentWidget(self.empty)

    def show_detail(self, detail: QueueItemDetail, received_text: str) -> None:
        """One item, ready for a decision."""
        self.detail = detail
        self.header.load(detail, received_text)
        flags = list(detail.summary.flags) + list(detail.draft.findings if detail.draft else ())
        if flags:
            words = "; ".join(flag_words(f) for f in dict.fromkeys(flags))
            self.flags.show_message(f"Check carefully before sending: {words}.", "warning")
        else:
            self.flags.hide()
        self.tabs.load(detail)
        draft = detail.draft
        if draft is None:
            self.editor.load((), "", "", "No reply was drafted: change the category or reject the email.")
        else:
            self.editor.load(draft.to, draft.subject, draft.body)
        self.editor.set_editable(draft is not None)
        self.approve_button.setEnabled(draft is not None)
        self.reject_row.hide()
        self.reject_reason.clear()
        self.reject_error.clear()
        self.setCurrentWidget(self.single)

    def show_several(self, rows: list[RunSummary]) -> None:
        """A summary of several selected items for bulk approval."""
        self.detail = None
        self.multi_title.setText(f"{len(rows)} emails selected")
        self.multi_list.clear()
        for row in rows:
            sender = row.sender_name or row.sender or ""
            self.multi_list.addItem(f"{fmt.category_label(row.category)} · {sender} — {row.subject or ''}")
        self.approve_all_button.setText(f"Approve && send all {len(rows)}")
        self.setCurrentWidget(self.multi)

    def current_edit(self) -> DraftEdit | None:
        """What the person changed in the draft of the item shown."""
        return self.editor.edit() if self.detail is not None else None

    def open_reject(self) -> None:
        """Ask for the reason inline."""
        if self.detail is None:
            return
        self.reject_row.show()
        self.reject_reason.setFocus()

    def _confirm_reject(self) -> None:
        reason = self.reject_reason.text().strip()
        if not reason:
            self.reject_error.setText("Give a reason (it is kept in the audit log).")
            return
        if self.detail is not None:
            self.reject_requested.emit(self.detail.summary.run_id, reason)

    def _reclassify(self, category: str) -> None:
        if self.detail is not None:
            self.reclassify_requested.emit(self.detail.summary.run_id, category)
