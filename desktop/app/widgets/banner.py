"""A message strip above a page: information, success, warning or error, with optional action."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from desktop.app import style

_KINDS = {
    "info": (style.INFO_BG, style.INFO_BORDER),
    "ok": (style.OK_BG, style.OK_BORDER),
    "warning": (style.WARNING_BG, style.WARNING_BORDER),
    "error": (style.ERROR_BG, style.ERROR_BORDER),
}


class Banner(QFrame):
    """A dismissible one-line (wrapping) message with an optional action button."""

    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None, *, closable: bool = True) -> None:
        super().__init__(parent)
        self.kind = "info"
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        layout.setSpacing(10)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label, 1)
        self.action = QPushButton(self)
        self.action.hide()
        layout.addWidget(self.action)
        self._action_callback: Callable[[], None] | None = None
        self.action.clicked.connect(self._run_action)
        self.close_button = QToolButton(self)
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Dismiss")
        self.close_button.setVisible(closable)
        self.close_button.clicked.connect(self.dismiss)
        layout.addWidget(self.close_button)
        self.hide()

    @property
    def text(self) -> str:
        """The message shown."""
        return self.label.text()

    def show_message(
        self,
        text: str,
        kind: str = "info",
        *,
        action: str | None = None,
        on_action: Callable[[], None] | None = None,
    ) -> None:
        """Show ``text`` styled as ``kind`` (info, ok, warning, error)."""
        self.kind = kind
        background, border = _KINDS.get(kind, _KINDS["info"])
        self.setStyleSheet(
            f"Banner {{ background: {background}; border: 1px solid {border}; border-radius: 6px; }}"
            " QToolButton { border: 0; background: transparent; }"
        )
        self.label.setText(text)
        self._action_callback = on_action
        self.action.setVisible(action is not None)
        if action is not None:
            self.action.setText(action)
        self.show()

    def dismiss(self) -> None:
        """Hide the banner."""
        self.hide()
        self.dismissed.emit()

    def _run_action(self) -> None:
        if self._action_callback is not None:
            self._action_callback()
