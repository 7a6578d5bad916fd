"""The task manager hands results and errors back on the GUI thread; the display helpers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
import shiboken6
from PySide6.QtWidgets import QWidget

from desktop.app import format as fmt
from desktop.app.context import AppContext
from desktop.app.tasks import TaskManager
from engine.service import TriageService

pytestmark = pytest.mark.gui


def test_results_arrive_on_the_gui_thread(qtbot) -> None:
    tasks = TaskManager()
    seen: list[tuple[str, bool]] = []
    worker_thread: list[str] = []

    def op() -> str:
        worker_thread.append(threading.current_thread().name)
        return "done"

    with qtbot.waitSignal(tasks.task_done, timeout=5_000):
        tasks.run(
            "op", op, done=lambda r: seen.append((r, threading.current_thread() is threading.main_thread()))
        )
    assert seen == [("done", True)]
    assert worker_thread and worker_thread[0] != threading.main_thread().name
    assert not tasks.busy


def test_an_unhandled_error_is_announced_not_dropped(qtbot) -> None:
    tasks = TaskManager()

    def boom() -> None:
        raise ValueError("the disk is full")

    with qtbot.waitSignal(tasks.failed, timeout=5_000) as failed:
        tasks.run("Export", boom)
    assert failed.args == ["Export", "the disk is full"]


def test_a_handled_error_goes_to_its_handler(qtbot) -> None:
    tasks = TaskManager()
    errors: list[BaseException] = []
    with qtbot.assertNotEmitted(tasks.failed), qtbot.waitSignal(tasks.task_done, timeout=5_000):
        tasks.run("x", lambda: 1 / 0, error=errors.append)
    assert isinstance(errors[0], ZeroDivisionError)


def test_a_result_for_a_widget_that_was_deleted_meanwhile_is_dropped(qtbot) -> None:
    """A page closed while its work runs must not be called back (its widgets are gone)."""
    tasks = TaskManager()
    context = AppContext(cast(TriageService, object()), tasks)
    release = threading.Event()
    shown: list[object] = []

    class Page(QWidget):
        def show_result(self, result: object) -> None:
            shown.append(result)
            self.setWindowTitle(str(result))  # would raise on a deleted widget

    page, kept = Page(), Page()
    context.call("slow", lambda _service: release.wait(5) and "read", done=page.show_result)
    context.call("quick", lambda _service: "also read", done=kept.show_result)
    shiboken6.delete(page)
    with qtbot.waitSignal(tasks.task_done, timeout=5_000):
        release.set()
    qtbot.waitUntil(lambda: not tasks.busy, timeout=5_000)
    assert shown == ["also read"]


def test_relative_times_and_labels() -> None:
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert fmt.waited(now - timedelta(hours=2, minutes=5), now) == "2 h"
    assert fmt.waited(now - timedelta(seconds=20), now) == "< 1 min"
    assert fmt.ago(now - timedelta(minutes=7), now) == "7 min ago"
    assert fmt.waited(now - timedelta(days=3), now) == "3 days"
    assert fmt.category_label("complaint") == "Complaint"
    assert fmt.category_colours("complaint")[0] == "#c62828"
    assert fmt.actor_label("user:Alice Smith") == "Alice Smith"
    assert fmt.actor_label("system") == "Inbox Triage"
    assert fmt.state_label("completed", "sent") == "Reply sent"
    assert (
        fmt.error_words("failed", "timed out", "timeout", "send")
        == "It took too long while sending the reply: timed out"
    )
    assert fmt.error_words("retrying", "503", "transient").startswith(
        "Could not reach the service; it will be tried again"
    )
    assert fmt.error_words("quarantined", "no headers", "quarantined") == "Quarantined: no headers"
    assert fmt.error_words("waiting_review", None, None) == ""
