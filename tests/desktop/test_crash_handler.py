"""Uncaught errors are logged and shown (a dialog in the window, one line on the command line), never lost."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop import crash_handler
from desktop.crash_handler import Crash, CrashHandler, describe

REPO = Path(__file__).resolve().parents[2]
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def _raised(exc: BaseException) -> ExcInfo:
    try:
        raise exc
    except BaseException as caught:
        return type(caught), caught, caught.__traceback__


def test_describe_gives_one_line_and_the_traceback_with_secrets_masked() -> None:
    crash = describe(*_raised(ValueError("login failed with password=hunter2\nsecond line")))
    assert crash.summary == "ValueError: login failed with password=***"
    assert "Traceback (most recent call last)" in crash.details
    assert "hunter2" not in crash.details
    assert describe(*_raised(KeyError())).summary == "KeyError"


def test_on_the_command_line_an_uncaught_error_is_one_line_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    err = io.StringIO()
    handler = CrashHandler("cli", log_file=Path("/logs/inbox-triage-cli.log"), stderr=err)
    with caplog.at_level(logging.CRITICAL, logger="inbox_triage.crash"):
        handler.excepthook(*_raised(RuntimeError("the disk is full")))
    assert err.getvalue() == (
        "inbox-triage: unexpected error: RuntimeError: the disk is full "
        "(details in /logs/inbox-triage-cli.log)\n"
    )
    [record] = caplog.records
    assert record.levelno == logging.CRITICAL and record.exc_info is not None
    assert handler.last is not None and handler.last.summary == "RuntimeError: the disk is full"


def test_verbose_command_line_prints_the_traceback_too() -> None:
    err = io.StringIO()
    CrashHandler("cli", log_file=None, verbose=True, stderr=err).excepthook(*_raised(OSError("no route")))
    lines = err.getvalue().splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[-1] == "inbox-triage: unexpected error: OSError: no route"


def test_ctrl_c_goes_to_the_previous_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[type[BaseException]] = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, value, tb: seen.append(kind))
    err = io.StringIO()
    CrashHandler("cli", log_file=None, stderr=err).excepthook(*_raised(KeyboardInterrupt()))
    assert seen == [KeyboardInterrupt]
    assert err.getvalue() == ""


def test_a_thread_that_dies_is_reported_with_its_name(caplog: pytest.LogCaptureFixture) -> None:
    original_sys, original_threading = sys.excepthook, threading.excepthook
    err = io.StringIO()
    handler = CrashHandler("cli", log_file=None, stderr=err)
    handler.install()
    try:
        assert sys.excepthook == handler.excepthook
        assert threading.excepthook == handler.threading_hook

        def work() -> None:
            raise LookupError("no such account")

        thread = threading.Thread(target=work, name="poller")
        with caplog.at_level(logging.CRITICAL, logger="inbox_triage.crash"):
            thread.start()
            thread.join()
    finally:
        handler.uninstall()
    assert sys.excepthook == original_sys and threading.excepthook == original_threading
    assert err.getvalue() == "inbox-triage: unexpected error: LookupError: no such account\n"
    assert "in thread poller" in caplog.records[0].getMessage()
    assert handler.last is not None and handler.last.thread == "poller"


def test_install_replaces_an_earlier_handler_and_uninstall_restores_the_original() -> None:
    original = sys.excepthook
    first = crash_handler.install("cli", log_file=None)
    second = crash_handler.install("gui", log_file=None)
    try:
        assert sys.excepthook == second.excepthook
        assert second.mode == "gui"
    finally:
        second.uninstall()
        first.uninstall()
    assert sys.excepthook == original


def test_in_the_window_the_error_is_handed_to_the_presenter_and_printed() -> None:
    shown: list[Crash] = []
    err = io.StringIO()
    handler = CrashHandler("gui", log_file=Path("/logs/inbox-triage.log"), stderr=err, present=shown.append)
    handler.excepthook(*_raised(ZeroDivisionError("division by zero")))
    assert [c.summary for c in shown] == ["ZeroDivisionError: division by zero"]
    assert "Traceback (most recent call last)" in err.getvalue()


def _crash_dialogs() -> list[QMessageBox]:
    return [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.objectName() == "crashDialog" and w.isVisible()
    ]


@pytest.mark.gui
@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")  # offscreen platform
def test_the_window_shows_one_friendly_dialog_and_counts_repeats_from_any_thread(
    qtbot, tmp_path: Path
) -> None:
    log_file = tmp_path / "inbox-triage.log"
    handler = CrashHandler("gui", log_file=log_file, stderr=io.StringIO())
    handler.excepthook(*_raised(ValueError("bad header")))
    qtbot.waitUntil(lambda: len(_crash_dialogs()) == 1, timeout=5_000)
    [dialog] = _crash_dialogs()
    try:
        assert dialog.windowTitle() == "Inbox Triage ran into a problem"
        assert "ValueError: bad header" in dialog.text()
        assert str(log_file) in dialog.informativeText()
        assert "Traceback" in dialog.detailedText()
        assert any(b.text() == "Open log folder" for b in dialog.buttons())

        handler.install()
        try:
            thread = threading.Thread(target=lambda: 1 / 0, name="worker")
            thread.start()
            thread.join()
        finally:
            handler.uninstall()
        qtbot.waitUntil(lambda: "2 times" in dialog.informativeText(), timeout=5_000)
        assert len(_crash_dialogs()) == 1
    finally:
        dialog.close()


def test_an_uncaught_error_from_the_entry_point_is_one_line_and_logged(tmp_path: Path) -> None:
    code = (
        "import sys, desktop.cli.main as cli, desktop.__main__ as entry\n"
        "def boom(args):\n"
        "    raise RuntimeError('the office printer caught fire token=abc123secret')\n"
        "cli.run_cli = boom\n"
        "sys.exit(entry.main(['--profile', sys.argv[1], 'queue', 'list']))\n"
    )
    env = {**os.environ, "INBOX_TRIAGE_LOG_DIR": str(tmp_path / "logs")}
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "p")],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
    )
    log_file = tmp_path / "logs" / "inbox-triage-cli.log"
    assert done.returncode == 1
    assert done.stderr == (
        "inbox-triage: unexpected error: RuntimeError: the office printer caught fire token=*** "
        f"(details in {log_file})\n"
    )
    log = log_file.read_text(encoding="utf-8")
    assert "CRITICAL" in log and "Traceback (most recent call last)" in log and "in boom" in log
    assert "abc123secret" not in log


def test_a_native_crash_leaves_its_python_stack_in_the_log_folder(tmp_path: Path) -> None:
    code = (
        "import faulthandler, sys\n"
        "from pathlib import Path\n"
        "from desktop.crash_handler import enable_native_crash_log\n"
        "print(enable_native_crash_log(Path(sys.argv[1])), flush=True)\n"
        "def inside_the_app():\n"
        "    faulthandler._sigsegv()\n"
        "inside_the_app()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "logs")],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert done.returncode != 0
    path = tmp_path / "logs" / crash_handler.NATIVE_CRASH_LOG
    assert done.stdout.strip() == str(path)
    text = path.read_text(encoding="utf-8")
    assert "Fatal Python error: Segmentation fault" in text
    assert "inside_the_app" in text
