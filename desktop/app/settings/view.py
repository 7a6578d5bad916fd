"""The Settings tab: the list of pages on the left, the page on the right, Save and Revert below.

Loading reads every section on a worker; Save validates on the GUI thread (an invalid value is
refused in place with the engine's message and nothing is stored) and stores on a worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.app.context import AUDIT, SETTINGS, AppContext
from desktop.app.settings import registry
from desktop.app.settings.data import load_settings_data
from desktop.app.settings.framework import SettingsData, SettingsPage
from desktop.app.style import MARGIN
from desktop.app.tasks import describe_error
from engine.errors import ConfigurationError

if TYPE_CHECKING:
    from engine.service import TriageService


class SettingsTab(QWidget):
    """Every registered page. ``loaded()`` after the data arrived, ``saved(str)`` with a page key."""

    kinds = frozenset({SETTINGS})
    loaded = Signal()
    saved = Signal(str)
    save_failed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.data: SettingsData | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.nav = QListWidget(self)
        self.nav.setObjectName("settingsNav")
        self.nav.setFixedWidth(220)
        layout.addWidget(self.nav)
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, MARGIN)
        self.stack = QStackedWidget(self)
        right.addWidget(self.stack, 1)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(MARGIN * 2, 0, MARGIN * 2, 0)
        buttons.addStretch(1)
        self.revert_button = QPushButton("Revert", self)
        self.revert_button.clicked.connect(self.revert)
        buttons.addWidget(self.revert_button)
        self.save_button = QPushButton("Save", self)
        self.save_button.setObjectName("settingsSave")
        self.save_button.setProperty("primary", True)
        self.save_button.clicked.connect(self.save_current)
        buttons.addWidget(self.save_button)
        right.addLayout(buttons)
        layout.addLayout(right, 1)
        self.pages: dict[str, SettingsPage] = {}
        for page_class in registry.pages():
            page = page_class()
            page.bind(ctx)
            scroll = QScrollArea(self.stack)
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            scroll.setWidget(page)
            self.stack.addWidget(scroll)
            self.nav.addItem(page.title)
            item = self.nav.item(self.nav.count() - 1)
            if item is not None:
                item.setSizeHint(QSize(200, 36))
            self.pages[page.key] = page
        self.nav.currentRowChanged.connect(self._page_chosen)
        self.nav.setCurrentRow(0)

    @property
    def current(self) -> SettingsPage:
        """The page shown."""
        return list(self.pages.values())[max(0, self.nav.currentRow())]

    def show_page(self, key: str) -> None:
        """Switch to the page with ``key``."""
        keys = list(self.pages)
        if key in keys:
            self.nav.setCurrentRow(keys.index(key))

    def _page_chosen(self, row: int) -> None:
        self.stack.setCurrentIndex(row)
        read_only = self.current.read_only
        self.save_button.setVisible(not read_only)
        self.revert_button.setVisible(not read_only)

    def refresh(self) -> None:
        """Read every section again and refill the pages."""
        keys = sorted({k for page in self.pages.values() for k in page.section_keys})
        self.ctx.call("Reading settings", lambda s: load_settings_data(s, keys), done=self._loaded)

    def _loaded(self, data: SettingsData) -> None:
        self.data = data
        for page in self.pages.values():
            page.load(data)
        self.loaded.emit()

    def revert(self) -> None:
        """Throw away unsaved edits on the current page."""
        if self.data is not None:
            self.current.clear_error()
            self.current.load(self.data)

    def save_current(self) -> None:
        """Validate the current page in place; store it on a worker when valid."""
        page = self.current
        try:
            value = page.validate()
        except ConfigurationError as exc:
            page.show_error(str(exc))
            self.save_failed.emit(str(exc))
            return
        page.clear_error()

        def op(service: TriageService) -> None:
            page.save(service, value)

        def failed(exc: BaseException) -> None:
            page.show_error(describe_error(exc))
            self.save_failed.emit(describe_error(exc))

        def done(_: None) -> None:
            page.show_saved()
            self.saved.emit(page.key)

        self.ctx.call(f"Save {page.title}", op, done=done, error=failed, changes=(SETTINGS, AUDIT))
