"""What happens to an error nobody caught: it is logged, and the person is told, instead of the app vanishing.

:func:`install` sets :data:`sys.excepthook` and :data:`threading.excepthook`:

- every uncaught exception is written to the log with its traceback (secrets masked by the log's
  formatter);
- in the window (``gui``) a friendly dialog says something went wrong, where the log is, and offers
  the details and the log folder. Errors from worker threads reach the dialog through a queued
  signal, so it is always shown on the GUI thread; while one dialog is open, further errors are
  counted on it rather than stacking new dialogs;
- on the command line (``cli``) one line goes to stderr (``inbox-triage: unexpected error: …``),
  the traceback too with ``-v``.

:func:`enable_native_crash_log` makes a hard crash (a segfault in a native library) leave its
Python stack in ``native-crashes.log`` in the log folder.
"""

from __future__ import annotations

import faulthandler
import logging
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal

from desktop.logging_setup import CRASH_LOGGER, redact

log = logging.getLogger(CRASH_LOGGER)

Mode = Literal["gui", "cli"]

NATIVE_CRASH_LOG = "native-crashes.log"
TITLE = "Inbox Triage ran into a problem"


@dataclass(frozen=True)
class Crash:
    """One uncaught error, as the dialog and the one-line message show it."""

    summary: str
    details: str
    thread: str | None = None


def describe(kind: type[BaseException], value: BaseException | None, tb: TracebackType | None) -> Crash:
    """A one-line summary (type and message) and the full traceback, with secrets masked in both."""
    message = str(value).strip() if value is not None else ""
    summary = f"{kind.__name__}: {message.splitlines()[0]}" if message else kind.__name__
    details = "".join(traceback.format_exception(kind, value, tb))
    return Crash(summary=redact(summary), details=redact(details))


class CrashHandler:
    """The hooks :func:`install` sets; keeps the previous ones so :meth:`uninstall` can restore them."""

    def __init__(
        self,
        mode: Mode,
        *,
        log_file: Path | None,
        verbose: bool = False,
        stderr: IO[str] | None = None,
        present: Callable[[Crash], None] | None = None,
    ) -> None:
        self.mode = mode
        self.log_file = log_file
        self.verbose = verbose
        self._stderr = stderr
        self._present = present
        self._previous_excepthook = sys.excepthook
        self._previous_threading_hook = threading.excepthook
        #: The most recent uncaught error (for support tools and tests).
        self.last: Crash | None = None

    # --- hooks --------------------------------------------------------------------------------

    def excepthook(self, kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        """:data:`sys.excepthook`: log, then tell the person."""
        if issubclass(kind, KeyboardInterrupt):
            self._previous_excepthook(kind, value, tb)
            return
        self._handle(kind, value, tb, thread=None)

    def threading_hook(self, args: threading.ExceptHookArgs) -> None:
        """:data:`threading.excepthook`: the same for an exception that ended a thread."""
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else None
        self._handle(args.exc_type, args.exc_value, args.exc_traceback, thread=name)

    def install(self) -> None:
        """Become :data:`sys.excepthook` and :data:`threading.excepthook`."""
        self._previous_excepthook = sys.excepthook
        self._previous_threading_hook = threading.excepthook
        sys.excepthook = self.excepthook
        threading.excepthook = self.threading_hook

    def uninstall(self) -> None:
        """Put the previous hooks back (when they are still ours)."""
        if sys.excepthook == self.excepthook:
            sys.excepthook = self._previous_excepthook
        if threading.excepthook == self.threading_hook:
            threading.excepthook = self._previous_threading_hook

    # --- what happens -------------------------------------------------------------------------

    def _handle(
        self,
        kind: type[BaseException],
        value: BaseException | None,
        tb: TracebackType | None,
        *,
        thread: str | None,
    ) -> None:
        crash = describe(kind, value, tb)
        crash = Crash(crash.summary, crash.details, thread)
        self.last = crash
        where = f" in thread {thread}" if thread else ""
        exc_info = (kind, value, tb) if value is not None else None
        try:
            log.critical("uncaught error%s: %s", where, crash.summary, exc_info=exc_info)
        except Exception:  # noqa: BLE001 - the hook must never raise: a broken log is reported below
            self._write("inbox-triage: could not write the error to the log\n")
        if self.mode == "cli":
            self._tell_cli(crash)
        else:
            self._tell_gui(crash)

    def _tell_cli(self, crash: Crash) -> None:
        where = f" (details in {self.log_file})" if self.log_file else ""
        if self.verbose:
            self._write(crash.details)
        self._write(f"inbox-triage: unexpected error: {crash.summary}{where}\n")

    def _tell_gui(self, crash: Crash) -> None:
        self._write(crash.details)
        present = self._present or _qt_presenter(self.log_file)
        if present is not None:
            try:
                present(crash)
            except Exception:  # showing the dialog failed; the error is already logged
                log.exception("could not show the error dialog")

    def _write(self, text: str) -> None:
        stream = self._stderr if self._stderr is not None else sys.stderr
        if stream is None:  # a windowed app on Windows
            return
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):
            return


_handler: CrashHandler | None = None


def install(mode: Mode, *, log_file: Path | None, verbose: bool = False) -> CrashHandler:
    """Install the hooks for the window (``gui``) or the command line (``cli``); return the handler."""
    global _handler  # noqa: PLW0603 - one process-wide hook, replaced on a second call
    if _handler is not None:
        _handler.uninstall()
    _handler = CrashHandler(mode, log_file=log_file, verbose=verbose)
    _handler.install()
    return _handler


_native_log: IO[str] | None = None


def enable_native_crash_log(folder: Path) -> Path | None:
    """Let a native crash write its Python stack to ``folder/native-crashes.log``; return that path."""
    global _native_log  # noqa: PLW0603 - the file must stay open for the life of the process
    path = folder / NATIVE_CRASH_LOG
    try:
        folder.mkdir(parents=True, exist_ok=True)
        stream = path.open("a", encoding="utf-8")
    except OSError as exc:
        log.warning("native crashes will not be logged: %s", exc)
        return None
    if _native_log is not None:
        _native_log.close()
    _native_log = stream
    faulthandler.enable(file=stream, all_threads=True)
    return path


# --- the dialog (Qt is imported only when one is needed) -------------------------------------------

_bridge: Any = None


def _qt_presenter(log_file: Path | None) -> Callable[[Crash], None] | None:
    """A callable that shows the crash dialog on the GUI thread, or None when there is no QApplication."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return None
    global _bridge  # noqa: PLW0603 - one bridge per process, living on the GUI thread
    if _bridge is None:
        _bridge = _make_bridge(app)
    bridge = _bridge
    return lambda crash: bridge.crashed.emit(crash, str(log_file) if log_file else "")


def _make_bridge(app: Any) -> Any:
    """A QObject on the GUI thread whose queued ``crashed`` signal opens (or updates) the dialog."""
    from PySide6.QtCore import QObject, Qt, Signal

    class CrashBridge(QObject):
        """Carries crashes from any thread to the GUI thread."""

        crashed = Signal(object, str)

        def __init__(self) -> None:
            super().__init__()
            self.dialog: Any = None
            self.count = 0
            self.crashed.connect(self._show, Qt.ConnectionType.QueuedConnection)

        def _show(self, crash: Crash, log_file: str) -> None:
            try:
                self._open(crash, log_file)
            except Exception:  # a failing dialog must not feed the hook it serves
                log.exception("could not show the error dialog")

        def _open(self, crash: Crash, log_file: str) -> None:
            self.count += 1
            if self.dialog is not None and self.dialog.isVisible():
                self.dialog.setInformativeText(_informative(log_file, self.count))
                return
            self.count = 1
            self.dialog = crash_dialog(crash, Path(log_file) if log_file else None)
            self.dialog.open()

    bridge = CrashBridge()
    if bridge.thread() is not app.thread():
        bridge.moveToThread(app.thread())
    return bridge


def _informative(log_file: str | None, count: int = 1) -> str:
    text = (
        "Inbox Triage has written the details to its log, which helps support find the cause:\n"
        f"{log_file}\n\n"
        if log_file
        else "The details are below.\n\n"
    )
    text += "You can carry on working. If this keeps happening, quit and start Inbox Triage again."
    if count > 1:
        text += f"\n\nThis has happened {count} times since this message appeared."
    return text


def crash_dialog(crash: Crash, log_file: Path | None, parent: Any = None) -> Any:
    """The friendly message box for ``crash`` (not yet shown): summary, log location, details, log folder."""
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(TITLE)
    box.setText(f"Something unexpected went wrong.\n\n{crash.summary}")
    box.setInformativeText(_informative(str(log_file) if log_file else None))
    box.setDetailedText(crash.details)
    box.setObjectName("crashDialog")
    box.addButton(QMessageBox.StandardButton.Ok)
    if log_file is not None:
        folder = box.addButton("Open log folder", QMessageBox.ButtonRole.ActionRole)
        folder.setObjectName("openLogFolder")
        folder.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_file.parent))))
    box.setModal(False)
    return box
