"""What every view gets: the open profile's engine, the task manager, and a "data changed" signal.

Views never call the engine on the GUI thread: they hand an operation to :meth:`AppContext.call`,
which runs it on a worker and calls back with the result. Operations that change data name what
they changed, and :attr:`AppContext.changed` tells every view to refresh those parts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Signal

from desktop.app.tasks import TaskManager, describe_error

if TYPE_CHECKING:
    from engine.service import TriageService

T = TypeVar("T")

#: Names of the kinds of data a view can show; ``changed`` carries a set of them.
QUEUE = "queue"
RUNS = "runs"
AUDIT = "audit"
CONTACTS = "contacts"
SETTINGS = "settings"
EVERYTHING = frozenset({QUEUE, RUNS, AUDIT, CONTACTS, SETTINGS})


class AppContext(QObject):
    """The open profile as views see it.

    ``changed(frozenset)`` names what changed; ``error(str)`` carries a message for the user
    (the main window shows it); ``notice(str)`` a short confirmation for the status bar.
    """

    changed = Signal(object)
    error = Signal(str)
    notice = Signal(str)

    def __init__(
        self, service: TriageService, tasks: TaskManager, *, demo: bool = False, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.tasks = tasks
        self.demo = demo
        self.closed = False

    def close(self) -> None:
        """Stop delivering results: the views that asked for them are going away."""
        self.closed = True

    def call(
        self,
        label: str,
        op: Callable[[TriageService], T],
        *,
        done: Callable[[T], None] | None = None,
        error: Callable[[BaseException], None] | None = None,
        changes: Iterable[str] = (),
    ) -> int:
        """Run ``op(service)`` on a worker; then ``done(result)``, and announce ``changes``.

        Without ``error``, a failure is reported as ``"<label>: <message>"`` on :attr:`error`.
        Data may have changed even when an operation fails half-way, so ``changes`` are
        announced either way.
        """
        service = self.service
        changed = frozenset(changes)

        def finished(result: T) -> None:
            if self.closed:
                return
            if done is not None and receiver_alive(done):
                done(result)
            if changed:
                self.changed.emit(changed)

        def failed(exc: BaseException) -> None:
            if self.closed:
                return
            if error is not None:
                if receiver_alive(error):
                    error(exc)
            else:
                self.error.emit(f"{label}: {describe_error(exc)}")
            if changed:
                self.changed.emit(changed)

        return self.tasks.run(label, lambda: op(service), done=finished, error=failed)

    def announce(self, *changes: str) -> None:
        """Tell views that data changed outside an operation (a poll, a send)."""
        self.changed.emit(frozenset(changes) or EVERYTHING)


def receiver_alive(callback: Callable[..., object]) -> bool:
    """False when ``callback`` is a method of a widget Qt has already deleted (a closed dialog or
    page whose work finished after it went away): its result has nobody to show it to."""
    owner = getattr(callback, "__self__", None)
    return not isinstance(owner, QObject) or shiboken6.isValid(owner)
