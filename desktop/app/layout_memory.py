"""Remembering the window: geometry, splitter positions and column widths, per profile.

Kept with ``QSettings`` in ``window.ini`` inside the profile folder, so two profiles (say, the
office and a demo) each keep their own layout. Widgets are found by object name.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter, QTableView, QWidget

FILE_NAME = "window.ini"


class _RestoreWhenShown(QObject):
    """Restores a splitter's state when it is first shown at its real size.

    Restored earlier, the sizes would be redistributed when the splitter gets its final width.
    """

    def __init__(self, splitter: QSplitter, state: QByteArray) -> None:
        super().__init__(splitter)
        self._state = state
        if splitter.isVisible():
            splitter.restoreState(state)
            return
        splitter.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """Restore on the first Show."""
        if event.type() == QEvent.Type.Show and isinstance(watched, QSplitter):
            watched.removeEventFilter(self)
            watched.restoreState(self._state)
        return False


class LayoutMemory:
    """Saves and restores the layout of a window and its named splitters and tables."""

    def __init__(self, profile_root: Path) -> None:
        self.settings = QSettings(str(Path(profile_root) / FILE_NAME), QSettings.Format.IniFormat)

    def restore_window(self, window: QMainWindow) -> bool:
        """Put the window where it was; False when nothing was saved yet."""
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            return bool(window.restoreGeometry(geometry))
        return False

    def restore_children(self, root: QWidget) -> None:
        """Restore every named splitter and table header under ``root``."""
        for splitter in root.findChildren(QSplitter):
            state = self.settings.value(f"splitters/{splitter.objectName()}")
            if splitter.objectName() and isinstance(state, QByteArray):
                _RestoreWhenShown(splitter, state)
        for table in root.findChildren(QTableView):
            state = self.settings.value(f"columns/{table.objectName()}")
            if table.objectName() and isinstance(state, QByteArray):
                table.horizontalHeader().restoreState(state)

    def save(self, window: QMainWindow) -> None:
        """Store the window's geometry and every named splitter and table header."""
        self.settings.setValue("window/geometry", window.saveGeometry())
        for splitter in window.findChildren(QSplitter):
            if splitter.objectName():
                self.settings.setValue(f"splitters/{splitter.objectName()}", splitter.saveState())
        for table in window.findChildren(QTableView):
            if table.objectName():
                self.settings.setValue(f"columns/{table.objectName()}", table.horizontalHeader().saveState())
        self.settings.sync()

    def flag(self, key: str) -> bool:
        """A remembered yes/no (e.g. the first-run choice was made)."""
        return str(self.settings.value(f"flags/{key}", "false")).lower() == "true"

    def set_flag(self, key: str, value: bool = True) -> None:
        """Remember a yes/no."""
        self.settings.setValue(f"flags/{key}", "true" if value else "false")
        self.settings.sync()
