"""The status bar's poll line: last and next check, the last error, and "Check now"."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from desktop.app import format as fmt
from desktop.app.style import set_role

_REFRESH_MS = 15_000


class PollStatus(QWidget):
    """Shows when mail was last and will next be checked, and any poll error."""

    check_now = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.setSpacing(12)
        self.error = QLabel(self)
        self.error.setObjectName("pollError")
        set_role(self.error, "error")
        layout.addWidget(self.error, 1)
        self.label = QLabel("Not checked yet", self)
        self.label.setObjectName("pollStatus")
        layout.addWidget(self.label)
        self.button = QPushButton("Check now", self)
        self.button.setObjectName("checkNowButton")
        self.button.clicked.connect(self.check_now)
        layout.addWidget(self.button)
        self.last: datetime | None = None
        self.next: datetime | None = None
        self.running = False
        self.enabled = True
        self._timer = QTimer(self)
        self._timer.setInterval(_REFRESH_MS)
        self._timer.timeout.connect(self.redraw)
        self._timer.start()

    def update_state(
        self,
        *,
        last: datetime | None,
        next_poll: datetime | None,
        running: bool,
        error: str | None,
        enabled: bool = True,
    ) -> None:
        """New facts from the poll controller."""
        self.last, self.next, self.running, self.enabled = last, next_poll, running, enabled
        self.error.setText(f"Last check failed: {error}" if error else "")
        self.error.setToolTip(error or "")
        self.redraw()

    def redraw(self) -> None:
        """Rewrite the line (relative times age)."""
        now = datetime.now(UTC)
        if self.running:
            text = "Checking for new email…"
        else:
            parts = [f"Last checked {fmt.ago(self.last, now)}" if self.last else "Not checked yet"]
            if not self.enabled:
                parts.append("automatic checks are off")
            elif self.next is not None:
                parts.append(f"next at {fmt.local_time(self.next, now)}")
            text = " · ".join(parts)
        self.label.setText(text)
        self.button.setEnabled(not self.running)
