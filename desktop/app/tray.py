"""The tray icon: the queue count on the icon, a menu, and notifications for new complaints."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from desktop.app.icons import app_icon


class Tray(QObject):
    """A tray icon when the desktop has a tray; otherwise inert (``available`` is False).

    ``available`` can be forced (tests): the app then behaves as if there were a tray (closing
    the window keeps it running) even where no icon can be shown.

    Signals: ``open_requested()``, ``check_now_requested()``, ``quit_requested()``.
    """

    open_requested = Signal()
    check_now_requested = Signal()
    quit_requested = Signal()

    def __init__(self, parent: QObject | None = None, *, available: bool | None = None) -> None:
        super().__init__(parent)
        system_tray = QSystemTrayIcon.isSystemTrayAvailable()
        self.available = system_tray if available is None else available
        self.count = 0
        self.last_message: tuple[str, str] | None = None
        self._icon: QSystemTrayIcon | None = None
        if self.available and system_tray:
            self._icon = QSystemTrayIcon(app_icon(), self)
            menu = QMenu()
            menu.addAction("Open Inbox Triage", self.open_requested.emit)
            menu.addAction("Check for new email now", self.check_now_requested.emit)
            menu.addSeparator()
            menu.addAction("Quit", self.quit_requested.emit)
            self._menu = menu
            self._icon.setContextMenu(menu)
            self._icon.activated.connect(self._activated)
            self._icon.setToolTip("Inbox Triage")
            self._icon.show()

    def set_count(self, count: int) -> None:
        """Show how many emails wait for review."""
        self.count = count
        if self._icon is not None:
            self._icon.setIcon(app_icon(count or None))
            self._icon.setToolTip(f"Inbox Triage — {count} waiting for review" if count else "Inbox Triage")

    def notify(self, title: str, message: str) -> None:
        """A desktop notification (remembered for tests when there is no tray)."""
        self.last_message = (title, message)
        if self._icon is not None and QSystemTrayIcon.supportsMessages():
            self._icon.showMessage(title, message, QSystemTrayIcon.MessageIcon.Warning, 10_000)

    def hide(self) -> None:
        """Remove the icon (at quit)."""
        if self._icon is not None:
            self._icon.hide()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.open_requested.emit()
