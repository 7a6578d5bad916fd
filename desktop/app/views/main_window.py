"""The main window: a stack of the opening screen, the first-run choice, and the tabs.

The window owns layout only. The tabs are created by the application controller once the
profile is open (:meth:`MainWindow.install`), and every signal between the window, the tabs, the
poller and the tray is connected in one place, :mod:`desktop.app.application`.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QMainWindow, QStackedWidget, QTabWidget, QVBoxLayout, QWidget

from desktop.app.icons import app_icon
from desktop.app.style import MARGIN
from desktop.app.views.opening import OpeningPage, WelcomePage
from desktop.app.views.status import PollStatus
from desktop.app.widgets.banner import Banner

DEFAULT_SIZE = (1240, 780)
MINIMUM_SIZE = (900, 600)


class MainWindow(QMainWindow):
    """Inbox Triage's window.

    ``close_requested(QCloseEvent)`` lets the controller decide between hiding to the tray and
    quitting; ``first_painted()`` fires once, when the window has been drawn for the first time;
    ``about_requested()`` when Help → About (F1) is chosen.
    """

    close_requested = Signal(object)
    first_painted = Signal()
    about_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Inbox Triage")
        self.setWindowIcon(app_icon())
        self.resize(*DEFAULT_SIZE)
        self.setMinimumSize(*MINIMUM_SIZE)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.error_banner = Banner(central)
        self.error_banner.setObjectName("errorBanner")
        banner_box = QVBoxLayout()
        banner_box.setContentsMargins(MARGIN, 6, MARGIN, 0)
        banner_box.addWidget(self.error_banner)
        layout.addLayout(banner_box)
        self.stack = QStackedWidget(central)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.opening = OpeningPage(self.stack)
        self.stack.addWidget(self.opening)
        self.welcome = WelcomePage(self.stack)
        self.stack.addWidget(self.welcome)
        self.tabs = QTabWidget(self.stack)
        self.tabs.setObjectName("mainTabs")
        self.tabs.setDocumentMode(True)
        self.stack.addWidget(self.tabs)
        self.poll_status = PollStatus(self)
        self.statusBar().addPermanentWidget(self.poll_status, 1)
        self.statusBar().setSizeGripEnabled(False)
        self.about_action = QAction("&About Inbox Triage", self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.setShortcut(QKeySequence.StandardKey.HelpContents)
        self.about_action.triggered.connect(self.about_requested)
        self.menuBar().addMenu("&Help").addAction(self.about_action)
        self._painted = False
        self.installEventFilter(self)

    # --- pages --------------------------------------------------------------------------------

    def show_opening(self, text: str = "Opening your profile…", *, busy: bool = True) -> None:
        """The "opening" screen."""
        self.opening.set_message(text, busy=busy)
        self.stack.setCurrentWidget(self.opening)
        self.poll_status.setVisible(False)

    def show_welcome(self) -> None:
        """The first-run choice."""
        self.stack.setCurrentWidget(self.welcome)
        self.poll_status.setVisible(False)

    def show_tabs(self) -> None:
        """The working tabs."""
        self.stack.setCurrentWidget(self.tabs)
        self.poll_status.setVisible(True)

    def install(self, pages: list[tuple[QWidget, str]]) -> None:
        """Replace the tabs with ``pages`` (widget, title)."""
        while self.tabs.count():
            widget = self.tabs.widget(0)
            self.tabs.removeTab(0)
            if widget is not None:
                widget.deleteLater()
        for widget, title in pages:
            self.tabs.addTab(widget, title)

    def set_tab_title(self, widget: QWidget, title: str) -> None:
        """Retitle one tab (e.g. "Review (12)")."""
        index = self.tabs.indexOf(widget)
        if index >= 0:
            self.tabs.setTabText(index, title)

    def show_error(self, message: str) -> None:
        """Show an error at the top of the window until dismissed."""
        self.error_banner.show_message(message, "error")

    # --- events -------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        """Let the controller decide (tray or quit)."""
        self.close_requested.emit(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """Announce the first paint once."""
        if not self._painted and watched is self and event.type() == QEvent.Type.Paint:
            self._painted = True
            self.removeEventFilter(self)
            self.first_painted.emit()
        return False
