"""The screens before the tabs: "Opening your profile…" and the first-run choice."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from desktop.app.style import set_role


class OpeningPage(QWidget):
    """Shown while the profile opens (database migrations, classifier loading) on a worker."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        title = QLabel("Inbox Triage", self)
        set_role(title, "heading")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        self.message = QLabel("Opening your profile…", self)
        self.message.setObjectName("openingMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        set_role(self.message, "muted")
        layout.addWidget(self.message)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setFixedWidth(280)
        self.progress.setFixedHeight(6)
        layout.addWidget(self.progress, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(3)

    def set_message(self, text: str, *, busy: bool = True) -> None:
        """Say what is happening (an error stops the progress bar)."""
        self.message.setText(text)
        self.progress.setVisible(busy)


class _Choice(QPushButton):
    """A large button with a title and an explanation."""

    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(320, 150)
        self.setStyleSheet("QPushButton { text-align: left; padding: 18px; border-radius: 8px; }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        heading = QLabel(title, self)
        set_role(heading, "subheading")
        layout.addWidget(heading)
        body = QLabel(text, self)
        body.setWordWrap(True)
        set_role(body, "muted")
        layout.addWidget(body, 1)
        for label in (heading, body):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)


class WelcomePage(QWidget):
    """First start: try the bundled demo mailbox, or connect the office's own."""

    try_demo = Signal()
    connect_mailbox = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        title = QLabel("Welcome to Inbox Triage", self)
        set_role(title, "heading")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        lead = QLabel(
            "It sorts the office's email, drafts replies for you to check, and keeps a tamper-evident "
            "record of everything it does. How would you like to start?",
            self,
        )
        lead.setWordWrap(True)
        lead.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lead.setFixedWidth(620)
        lead.setMinimumHeight(lead.heightForWidth(620))
        set_role(lead, "muted")
        layout.addWidget(lead, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(24)
        row = QHBoxLayout()
        row.addStretch(1)
        self.demo_button = _Choice(
            "Try the demo mailbox",
            "52 sample emails to a small print studio, triaged on this computer. Nothing leaves it: "
            "approved replies are written to a local outbox folder.",
            self,
        )
        self.demo_button.setObjectName("tryDemoButton")
        self.demo_button.clicked.connect(self.try_demo)
        row.addWidget(self.demo_button)
        row.addSpacing(20)
        self.connect_button = _Choice(
            "Connect your mailbox",
            "Set up the office's own mail account, your name and the reply policies in Settings.",
            self,
        )
        self.connect_button.setObjectName("connectMailboxButton")
        self.connect_button.clicked.connect(self.connect_mailbox)
        row.addWidget(self.connect_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(3)
