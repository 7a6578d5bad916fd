"""Polling from the desktop: the shared :class:`desktop.scheduling.PollScheduler` behind Qt signals.

The scheduler calls back on its own thread; this bridge re-emits those calls as Qt signals, which
Qt queues to the GUI thread. After a poll it signs the audit head once a day when a keyring exists.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from desktop.scheduling import PollScheduler
from desktop.worker_processes import poll_in_processes

if TYPE_CHECKING:
    from engine.service import PollReport, TriageService

log = logging.getLogger(__name__)


class PollController(QObject):
    """Runs polls on the schedule (and on "Check now") and reports them.

    ``started()`` when a poll begins, ``finished(PollReport)`` when it ended, ``failed(str)``
    with the reason when it raised; ``schedule_changed()`` after the schedule was re-applied.
    """

    started = Signal()
    finished = Signal(object)
    failed = Signal(str)
    schedule_changed = Signal()

    def __init__(self, service: TriageService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self.running = False
        self._scheduler = PollScheduler(
            self._poll,
            service.settings.schedule,
            on_error=lambda exc: self.failed.emit(str(exc) or type(exc).__name__),
            on_polled=self.finished.emit,
        )
        self._started = False

    @property
    def last_poll(self) -> datetime | None:
        """When the last successful poll finished (local time)."""
        return self._scheduler.last_poll

    @property
    def last_error(self) -> str | None:
        """The last poll's error, cleared by the next successful poll."""
        return self._scheduler.last_error

    def start(self) -> None:
        """Start polling on the schedule (the first poll runs straight away when enabled)."""
        if not self._started:
            self._scheduler.start()
            self._started = True

    def check_now(self) -> None:
        """Poll as soon as possible (skipped when one is running)."""
        if not self._started:
            self.start()
        self._scheduler.check_now()

    def next_poll(self) -> datetime | None:
        """When the next scheduled poll runs (None when polling is off)."""
        return self._scheduler.next_poll() if self._started else None

    def reschedule(self) -> None:
        """Apply a changed schedule."""
        if self._started:
            self._scheduler.reschedule()
        self.schedule_changed.emit()

    def shutdown(self) -> None:
        """Stop scheduling without waiting for a running poll (the engine resumes it next start)."""
        self._scheduler.shutdown(wait=False)

    def _poll(self) -> PollReport:
        self.running = True
        self.started.emit()
        try:
            # A big backlog (a first sync) is triaged in several processes; see extra_processes.
            report = poll_in_processes(self._service, None)
            self._anchor_daily()
            return report
        finally:
            self.running = False

    def _anchor_daily(self) -> None:
        from desktop.app.secrets import keyring_status, secret_store
        from engine import audit_ops
        from engine.audit.signing import AnchorSigner

        if not keyring_status().available:
            return
        signer = AnchorSigner(secret_store(self._service))
        audit_ops.anchor_daily(self._service.db, signer, now=self._service.now())
