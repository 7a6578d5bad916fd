"""The strip that says "Reply to X approved — sending in 4 s" with an Undo button."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from desktop.app import style
from desktop.app.approvals import Batch

_TICK_MS = 250


class UndoBar(QFrame):
    """Shows the newest pending batch and counts down to its send; ``undo_clicked(batch_id)``."""

    undo_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("undoBar")
        self.setStyleSheet(
            f"#undoBar {{ background: {style.OK_BG}; border: 1px solid {style.OK_BORDER};"
            " border-radius: 6px; }"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 8, 6)
        self.label = QLabel(self)
        layout.addWidget(self.label, 1)
        self.undo_button = QPushButton("Undo", self)
        self.undo_button.setToolTip("Take the approval back; the item returns to the queue")
        self.undo_button.clicked.connect(self._undo)
        layout.addWidget(self.undo_button)
        self._batch: Batch | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(_TICK_MS)
        self._timer.timeout.connect(self._tick)
        self.hide()

    @property
    def batch(self) -> Batch | None:
        """The batch shown."""
        return self._batch

    def show_batch(self, batch: Batch | None) -> None:
        """Count down for ``batch`` (hide when None)."""
        self._batch = batch
        if batch is None:
            self._timer.stop()
            self.hide()
            return
        self._tick()
        self._timer.start()
        self.show()

    def _tick(self) -> None:
        batch = self._batch
        if batch is None:
            return
        left = (batch.effective_at - datetime.now(UTC)).total_seconds()
        if left <= 0:
            self.label.setText(f"{batch.describe()} approved — sending…")
            self.undo_button.setEnabled(False)
            self._timer.stop()
            return
        self.undo_button.setEnabled(True)
        self.label.setText(f"{batch.describe()} approved — sending in {math.ceil(left)} s")

    def _undo(self) -> None:
        if self._batch is not None:
            self.undo_clicked.emit(self._batch.batch_id)
