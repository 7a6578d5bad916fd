"""The application controller: opens the profile off the GUI thread and wires everything together.

All the signal connections between the main window, its tabs, the poller, the tray and the
single-instance listener are made here, in :meth:`AppController._wire` and
:meth:`AppController._wire_profile`, so the widgets stay ignorant of each other.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QDialog

from desktop.app.layout_memory import LayoutMemory
from desktop.app.single_instance import SingleInstance
from desktop.app.tasks import TaskManager, describe_error
from desktop.app.tray import Tray
from desktop.app.views.main_window import MainWindow

if TYPE_CHECKING:
    from desktop.app.context import AppContext
    from desktop.app.polling import PollController
    from desktop.app.views.review import ReviewTab
    from engine.service import PollReport, TriageService

WELCOME_DONE = "welcome_done"


@dataclass
class AppOptions:
    """How the app starts.

    ``demo``: first create a fresh demo profile in ``profile_root`` (which must be empty);
    ``undo_s``: seconds an approval can be undone; ``poll``: start the schedule;
    ``tray``: force the tray on/off (None = when the desktop has one);
    ``startup_mark``: a file to write the time of the first paint to (for the start-up benchmark).
    """

    profile_root: Path
    demo: bool = False
    undo_s: float = 5.0
    poll: bool = True
    tray: bool | None = None
    startup_mark: Path | None = None


@dataclass(frozen=True)
class Opened:
    """What opening a profile found out (computed on a worker)."""

    service: TriageService
    demo: bool
    first_run: bool
    office_name: str


def open_profile(root: Path, *, create_demo: bool) -> Opened:
    """Create the demo profile if asked, open and migrate the database, load the classifier."""
    from desktop.wiring import create_demo_profile, is_demo, open_service

    if create_demo:
        create_demo_profile(root)
    service = open_service(root)
    try:
        service.resume()
        service.classifier()
        demo = is_demo(service.profile)
        first_run = not demo and not service.connections.sources and service.queries.count_runs() == 0
        office = service.settings.office().office_name
    except BaseException:
        service.close()
        raise
    return Opened(service=service, demo=demo, first_run=first_run, office_name=office)


class AppController(QObject):
    """Owns the window, the task manager, the open profile, the poller and the tray.

    ``ready()`` fires when a profile is open and its tabs are installed (tests wait on it).
    """

    ready = Signal()
    open_failed = Signal(str)

    def __init__(self, options: AppOptions, *, instance: SingleInstance | None = None) -> None:
        super().__init__()
        self.options = options
        self.started = time.monotonic()
        self.tasks = TaskManager(self)
        self.window = MainWindow()
        self.memory = LayoutMemory(options.profile_root)
        self.tray = Tray(self, available=options.tray)
        self.instance = instance
        self.ctx: AppContext | None = None
        self.poller: PollController | None = None
        self.review: ReviewTab | None = None
        self.activity: Any = None
        self.audit: Any = None
        self.contacts: Any = None
        self.tabs: list[Any] = []
        self.settings_tab: Any = None
        self._stale: set[int] = set()
        self._quitting = False
        self._notified_runs: set[int] = set()
        self._wire()

    # --- start and stop -----------------------------------------------------------------------

    def start(self) -> None:
        """Show the window straight away, then open the profile in the background."""
        self.memory.restore_window(self.window)
        opening = "Preparing the demo mailbox…" if self.options.demo else "Opening your profile…"
        self.window.show_opening(opening)
        self.window.show()
        self._open(self.options.profile_root, create_demo=self.options.demo)

    def _open(self, root: Path, *, create_demo: bool) -> None:
        self.tasks.run(
            "Open profile",
            lambda: open_profile(root, create_demo=create_demo),
            done=self._opened,
            error=self._open_error,
        )

    def _open_error(self, exc: BaseException) -> None:
        message = f"The profile could not be opened: {describe_error(exc)}"
        self.window.show_opening(message, busy=False)
        self.open_failed.emit(message)

    def shutdown(self) -> None:
        """Save the layout, stop polling, wait for running work and close the profile."""
        if self._quitting:
            return
        self._quitting = True
        self.memory.save(self.window)
        if self.poller is not None:
            self.poller.shutdown()
        self.tasks.wait_for_done(10_000)
        if self.ctx is not None:
            self.ctx.service.close()
        self.tray.hide()
        if self.instance is not None:
            self.instance.close()
        self.window.hide()

    def quit(self) -> None:
        """Shut down and leave the event loop."""
        self.shutdown()
        app = QApplication.instance()
        if app is not None:
            app.quit()

    # --- wiring -------------------------------------------------------------------------------

    def _wire(self) -> None:
        w = self.window
        self.tasks.failed.connect(lambda label, message: w.show_error(f"{label}: {message}"))
        w.close_requested.connect(self._close_requested)
        w.first_painted.connect(self._first_painted)
        w.welcome.try_demo.connect(self.try_demo)
        w.welcome.connect_mailbox.connect(self.connect_mailbox)
        w.poll_status.check_now.connect(self.check_now)
        w.about_requested.connect(self.show_about)
        w.tabs.currentChanged.connect(self._tab_shown)
        self.tray.open_requested.connect(self.bring_forward)
        self.tray.check_now_requested.connect(self.check_now)
        self.tray.quit_requested.connect(self.quit)
        if self.instance is not None:
            self.instance.activate_requested.connect(self.bring_forward)

    def _opened(self, opened: Opened) -> None:
        from desktop.app.context import AppContext
        from desktop.app.polling import PollController

        self.ctx = AppContext(opened.service, self.tasks, demo=opened.demo, parent=self)
        self.poller = PollController(opened.service, parent=self)
        self._build_tabs()
        self._wire_profile()
        self.window.setWindowTitle(_title(opened))
        self.memory.restore_children(self.window)
        if opened.first_run and not self.memory.flag(WELCOME_DONE):
            self.window.show_welcome()
        else:
            self.window.show_tabs()
        if self.review is not None:
            self.review.queue_loaded.connect(self._first_queue, Qt.ConnectionType.SingleShotConnection)
        self.refresh_all()
        if self.options.poll and not opened.first_run:
            self.poller.start()
        self._update_status()
        self.ready.emit()

    def _build_tabs(self) -> None:
        from desktop.app.settings.view import SettingsTab
        from desktop.app.views.activity import ActivityTab
        from desktop.app.views.audit import AuditTab
        from desktop.app.views.contacts import ContactsTab
        from desktop.app.views.review import ReviewTab

        ctx = self.ctx
        assert ctx is not None
        self.review = ReviewTab(ctx, undo_s=self.options.undo_s)
        self.activity = ActivityTab(ctx)
        self.audit = AuditTab(ctx)
        self.contacts = ContactsTab(ctx)
        self.settings_tab = SettingsTab(ctx)
        self.tabs = [self.review, self.activity, self.audit, self.contacts, self.settings_tab]
        titles = ("Review", "Activity", "Audit log", "Contacts", "Settings")
        self.window.install(list(zip(self.tabs, titles, strict=True)))

    def _wire_profile(self) -> None:
        ctx, poller, review = self.ctx, self.poller, self.review
        assert ctx is not None
        assert poller is not None
        assert review is not None
        ctx.changed.connect(self._data_changed)
        ctx.error.connect(self.window.show_error)
        review.count_changed.connect(self._queue_count)
        review.open_activity.connect(self.show_run_activity)
        self.activity.review_requested.connect(self.show_in_review)
        self.contacts.run_requested.connect(self.show_run_activity)
        self.settings_tab.saved.connect(self._settings_saved)
        poller.started.connect(self._update_status)
        poller.finished.connect(self._polled)
        poller.failed.connect(lambda _message: self._update_status())
        poller.schedule_changed.connect(self._update_status)

    # --- reactions ----------------------------------------------------------------------------

    def refresh_all(self) -> None:
        """Reload every tab (hidden ones when they are next shown)."""
        from desktop.app.context import EVERYTHING

        self._data_changed(EVERYTHING)

    def _data_changed(self, changes: frozenset[str]) -> None:
        current: Any = self.window.tabs.currentWidget()
        for position, tab in enumerate(self.tabs):
            if not changes & tab_kinds(tab):
                continue
            always = tab is current or tab is self.review
            if always:
                tab.refresh()
            else:
                self._stale.add(position)

    def _tab_shown(self, index: int) -> None:
        if index in self._stale and 0 <= index < len(self.tabs):
            self._stale.discard(index)
            self.tabs[index].refresh()

    def _queue_count(self, count: int) -> None:
        if self.review is not None:
            self.window.set_tab_title(self.review, f"Review ({count})" if count else "Review")
        self.tray.set_count(count)

    def _polled(self, report: PollReport) -> None:
        from desktop.app.context import EVERYTHING

        self._update_status()
        self._data_changed(EVERYTHING)
        new_runs = list(report.ingest.new_run_ids or ())
        if new_runs and self.ctx is not None:
            self.ctx.call(
                "New complaints", lambda s: new_complaints(s, new_runs), done=self._announce_complaints
            )

    def _announce_complaints(self, complaints: list[tuple[int, str, str]]) -> None:
        fresh = [c for c in complaints if c[0] not in self._notified_runs]
        self._notified_runs.update(c[0] for c in fresh)
        if not fresh:
            return
        if len(fresh) == 1:
            _run_id, sender, subject = fresh[0]
            self.tray.notify(f"New complaint from {sender}", subject)
        else:
            self.tray.notify(f"{len(fresh)} new complaints", "They are at the top of the review queue.")

    def _update_status(self) -> None:
        poller = self.poller
        if poller is None or self.ctx is None:
            return
        next_poll = poller.next_poll()
        self.window.poll_status.update_state(
            last=poller.last_poll,
            next_poll=next_poll,
            running=poller.running,
            error=poller.last_error,
            enabled=next_poll is not None or poller.running,
        )

    def show_run_activity(self, run_id: int) -> None:
        """Show one run in the Activity tab."""
        self.window.tabs.setCurrentWidget(self.activity)
        self.activity.show_run(run_id)

    def show_in_review(self, run_id: int) -> None:
        """Show one queue item in the Review tab."""
        if self.review is not None:
            self.window.tabs.setCurrentWidget(self.review)
            self.review.select_run(run_id)

    def _settings_saved(self, key: str) -> None:
        if key == "schedule" and self.poller is not None:
            self.poller.reschedule()
        if key == "mail_accounts" and self.poller is not None and self.options.poll:
            self.poller.start()  # the first account of a new profile: start checking (no-op if running)
        if key == "office" and self.settings_tab.data is not None and self.ctx is not None:
            self.ctx.call(
                "Reading the office name",
                lambda s: s.settings.office().office_name,
                done=lambda name: self.window.setWindowTitle(
                    f"Inbox Triage — {'demo: ' if self.ctx and self.ctx.demo else ''}{name}"
                ),
            )

    def check_now(self) -> None:
        """Poll now."""
        if self.poller is not None:
            self.poller.check_now()
            self.window.poll_status.update_state(
                last=self.poller.last_poll,
                next_poll=self.poller.next_poll(),
                running=True,
                error=None,
            )

    def show_about(self) -> QDialog:
        """Open the About dialog (version, data and log folders) on the open profile."""
        from desktop.app.about import AboutDialog, about_info

        root = self.ctx.service.profile.root if self.ctx is not None else self.options.profile_root
        dialog = AboutDialog(about_info(root), self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def bring_forward(self) -> None:
        """Show and raise the window (tray click, second launch)."""
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    def _close_requested(self, event: QCloseEvent) -> None:
        if self.tray.available and not self._quitting:
            event.ignore()
            self.memory.save(self.window)
            self.window.hide()
            self.tray.notify("Inbox Triage is still running", "It keeps checking for email; quit from here.")
            return
        event.accept()
        self.quit()

    def _first_painted(self) -> None:
        self._mark("painted")

    def _first_queue(self) -> None:
        self._mark("ready")

    def _mark(self, what: str) -> None:
        mark = self.options.startup_mark
        if mark is not None:
            with mark.open("a", encoding="utf-8") as out:
                out.write(f"{what} {time.time():.6f}\n")

    # --- first run ----------------------------------------------------------------------------

    def try_demo(self) -> None:
        """Open a fresh demo profile in a temporary folder instead of this (empty) profile."""
        root = Path(tempfile.mkdtemp(prefix="inbox-triage-demo-"))
        self._close_profile()
        self.window.show_opening("Preparing the demo mailbox…")
        self.memory = LayoutMemory(root)
        self._open(root, create_demo=True)

    def connect_mailbox(self) -> None:
        """Go to Settings → Mail accounts, where mail accounts are set up."""
        self.memory.set_flag(WELCOME_DONE)
        self.window.show_tabs()
        if self.settings_tab is not None:
            self.window.tabs.setCurrentWidget(self.settings_tab)
            pages = self.settings_tab.pages
            self.settings_tab.show_page("mail_accounts" if "mail_accounts" in pages else "connections")

    def _close_profile(self) -> None:
        if self.poller is not None:
            self.poller.shutdown()
            self.poller = None
        ctx = self.ctx
        if ctx is not None:
            ctx.close()
        self.ctx = None
        self.review = None
        self.tabs = []
        self.settings_tab = None
        self.window.install([])
        if ctx is not None:
            service = ctx.service
            self.tasks.run("Close profile", service.close)


def tab_kinds(tab: object) -> frozenset[str]:
    """The kinds of data a tab shows (its ``kinds`` attribute)."""
    return frozenset(getattr(tab, "kinds", frozenset()))


def new_complaints(service: TriageService, run_ids: list[int]) -> list[tuple[int, str, str]]:
    """Among ``run_ids``, the complaints waiting for review: (run, sender, subject). Runs on a worker."""
    found: list[tuple[int, str, str]] = []
    for run_id in run_ids:
        run = service.queries.run(run_id)
        if run.category == "complaint" and run.state == "waiting_review":
            found.append((run_id, run.sender_name or run.sender or "someone", run.subject or ""))
    return found


def _title(opened: Opened) -> str:
    if opened.demo:
        return f"Inbox Triage — demo: {opened.office_name}"
    return f"Inbox Triage — {opened.office_name}"
