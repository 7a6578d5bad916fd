"""One task manager for all background work: operations run on a thread pool, results come back by signal.

An *operation* is a plain callable that never touches widgets (it calls the engine); its result
or its exception is delivered to callbacks on the GUI thread through a queued Qt signal. An
exception with no error callback is never dropped: it is re-emitted as :attr:`TaskManager.failed`,
which the main window shows.
"""

from __future__ import annotations

import itertools
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Worker threads: enough for a poll, a send and a long audit query side by side.
MAX_THREADS = 4


@dataclass
class _Pending:
    label: str
    done: Callable[[Any], None] | None
    error: Callable[[BaseException], None] | None


class _Job(QRunnable):
    """Runs one operation on a pool thread and reports through the manager's signal."""

    def __init__(self, manager: TaskManager, task_id: int, op: Callable[[], Any]) -> None:
        super().__init__()
        self._manager = manager
        self._task_id = task_id
        self._op = op
        self.setAutoDelete(True)

    def run(self) -> None:
        """Call the operation; hand its result or exception to the GUI thread."""
        try:
            result = self._op()
        except Exception as exc:  # noqa: BLE001 - delivered to the GUI thread, never dropped
            log.debug("task %s failed:\n%s", self._task_id, traceback.format_exc())
            self._manager.finished_on_worker.emit(self._task_id, False, exc)
            return
        self._manager.finished_on_worker.emit(self._task_id, True, result)


class TaskManager(QObject):
    """Runs operations off the GUI thread and calls back on it.

    ``failed(label, message)`` announces errors no caller handled; ``busy_changed(bool)``
    whether any operation is in flight (for a busy indicator and for tests).
    """

    finished_on_worker = Signal(int, bool, object)
    failed = Signal(str, str)
    busy_changed = Signal(bool)
    #: Emitted after a task's callback ran (task label): tests wait on it.
    task_done = Signal(str)

    def __init__(self, parent: QObject | None = None, *, max_threads: int = MAX_THREADS) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self.finished_on_worker.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @property
    def busy(self) -> bool:
        """Whether any operation is still running or waiting to be delivered."""
        return bool(self._pending)

    def labels(self) -> list[str]:
        """Labels of the operations in flight."""
        return [p.label for p in self._pending.values()]

    def run(
        self,
        label: str,
        op: Callable[[], T],
        *,
        done: Callable[[T], None] | None = None,
        error: Callable[[BaseException], None] | None = None,
    ) -> int:
        """Start ``op`` on a worker thread; return the task id.

        ``done(result)`` or ``error(exception)`` is called on the GUI thread. Without ``error``,
        a failure is announced by :attr:`failed` with ``label`` and the exception's message.
        """
        task_id = next(self._ids)
        was_busy = self.busy
        self._pending[task_id] = _Pending(label, done, error)
        if not was_busy:
            self.busy_changed.emit(True)
        self._pool.start(_Job(self, task_id, op))
        return task_id

    def wait_for_done(self, msecs: int = -1) -> bool:
        """Block until every worker finished (used at shutdown only); deliver what is pending."""
        finished = self._pool.waitForDone(msecs)
        return bool(finished)

    @Slot(int, bool, object)
    def _deliver(self, task_id: int, ok: bool, value: object) -> None:
        pending = self._pending.pop(task_id, None)
        if pending is None:
            return
        try:
            if ok:
                if pending.done is not None:
                    pending.done(value)
            else:
                assert isinstance(value, BaseException)
                if pending.error is not None:
                    pending.error(value)
                else:
                    self.failed.emit(pending.label, describe_error(value))
        finally:
            if not self._pending:
                self.busy_changed.emit(False)
            self.task_done.emit(pending.label)


def describe_error(exc: BaseException) -> str:
    """A one-line message for a person: the exception's text, or its type when it has none."""
    text = str(exc).strip()
    return text if text else type(exc).__name__
