"""Approving replies with a few seconds to change one's mind, then sending them.

:class:`ApprovalTracker` records approvals through the engine with an undo window
(``TriageService.approve(..., undo_s=...)``: the run is not picked up before the window ends),
keeps a timer per batch, and when the window has passed drives those runs so the reply goes out
straight away instead of waiting for the next poll. Undo inside the window takes the approvals
back. It touches no widgets: the review tab and the undo bar listen to its signals.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.app.context import AUDIT, CONTACTS, QUEUE, RUNS, AppContext
from desktop.app.tasks import describe_error

if TYPE_CHECKING:
    from engine.review import DraftEdit
    from engine.service import TriageService

#: Seconds an approval can be taken back before the reply goes out.
DEFAULT_UNDO_S = 5.0
#: Extra milliseconds after the window before the runner is asked to send (clock granularity).
_SEND_MARGIN_MS = 60
_CHANGES = (QUEUE, RUNS, AUDIT, CONTACTS)
#: Longest a send waits on its worker for the engine's clock to reach the window's end.
_MAX_CATCH_UP_S = 2.0


@dataclass(frozen=True)
class Approval:
    """One item to approve: its run, who it goes to (for messages) and the staff's edits."""

    run_id: int
    recipient: str
    edit: DraftEdit | None = None


@dataclass
class Batch:
    """Approvals made together; they are sent or undone together."""

    batch_id: int
    approvals: list[Approval]
    effective_at: datetime
    refused: dict[int, str] = field(default_factory=dict)

    @property
    def run_ids(self) -> list[int]:
        """Runs approved in this batch (those the engine accepted)."""
        return [a.run_id for a in self.approvals if a.run_id not in self.refused]

    def describe(self) -> str:
        """``Reply to Margaret Hollis`` or ``3 replies``."""
        accepted = [a for a in self.approvals if a.run_id not in self.refused]
        if len(accepted) == 1:
            return f"Reply to {accepted[0].recipient}"
        return f"{len(accepted)} replies"


@dataclass(frozen=True)
class SendOutcome:
    """What happened to each run of a batch once the runner drove it."""

    sent: list[int]
    failed: dict[int, str]
    waiting: list[int]


class ApprovalTracker(QObject):
    """Approve → (undo window) → send, for single items and bulk approvals.

    Signals: ``pending(Batch)`` once the engine recorded the approvals; ``sent(Batch, SendOutcome)``
    after the runner drove them; ``undone(Batch, dict)`` after an undo (run → reason it could not
    be undone); ``failed(str)`` when nothing could be approved.
    """

    pending = Signal(object)
    sent = Signal(object, object)
    undone = Signal(object, object)
    failed = Signal(str)

    def __init__(self, ctx: AppContext, *, undo_s: float = DEFAULT_UNDO_S, parent: QObject | None = None):
        super().__init__(parent)
        self._ctx = ctx
        self.undo_s = undo_s
        self._ids = itertools.count(1)
        self._timers: dict[int, QTimer] = {}
        self.batches: dict[int, Batch] = {}

    def approve(self, approvals: Sequence[Approval]) -> None:
        """Record the approvals (on a worker), then start the undo window."""
        items = list(approvals)
        undo_s = self.undo_s

        def op(service: TriageService) -> Batch:
            refused: dict[int, str] = {}
            latest = datetime.now(UTC)
            for item in items:
                try:
                    latest = max(latest, service.approve(item.run_id, edit=item.edit, undo_s=undo_s))
                except Exception as exc:  # noqa: BLE001 - reported per item to the user
                    refused[item.run_id] = describe_error(exc)
            return Batch(next(self._ids), items, latest, refused)

        self._ctx.call("Approve", op, done=self._recorded, changes=_CHANGES)

    def undo(self, batch_id: int) -> None:
        """Take back a batch still inside its window."""
        batch = self.batches.pop(batch_id, None)
        timer = self._timers.pop(batch_id, None)
        if timer is not None:
            timer.stop()
            timer.deleteLater()
        if batch is None:
            return
        run_ids = batch.run_ids

        def op(service: TriageService) -> dict[int, str]:
            problems: dict[int, str] = {}
            for run_id in run_ids:
                try:
                    service.undo_approval(run_id)
                except Exception as exc:  # noqa: BLE001 - reported per item to the user
                    problems[run_id] = describe_error(exc)
            return problems

        self._ctx.call(
            "Undo approval", op, done=lambda problems: self.undone.emit(batch, problems), changes=_CHANGES
        )

    def latest(self) -> Batch | None:
        """The most recent batch still inside its window."""
        return self.batches[max(self.batches)] if self.batches else None

    def _recorded(self, batch: Batch) -> None:
        if not batch.run_ids:
            reasons = "; ".join(sorted(set(batch.refused.values())))
            self.failed.emit(f"Nothing was approved: {reasons}")
            return
        self.batches[batch.batch_id] = batch
        self.pending.emit(batch)
        delay_ms = max(0, int((batch.effective_at - datetime.now(UTC)).total_seconds() * 1000))
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.timeout.connect(lambda: self._send(batch.batch_id))
        self._timers[batch.batch_id] = timer
        timer.start(delay_ms + _SEND_MARGIN_MS)

    def _send(self, batch_id: int) -> None:
        batch = self.batches.pop(batch_id, None)
        timer = self._timers.pop(batch_id, None)
        if timer is not None:
            timer.deleteLater()
        if batch is None:
            return
        run_ids = batch.run_ids

        def op(service: TriageService) -> SendOutcome:
            return drive_and_report(service, run_ids)

        self._ctx.call("Send", op, done=lambda outcome: self.sent.emit(batch, outcome), changes=_CHANGES)


def drive_and_report(service: TriageService, run_ids: Sequence[int]) -> SendOutcome:
    """Drive each run now and report whether its reply went out. Runs on a worker."""
    runner = service.runner()
    sent: list[int] = []
    failed: dict[int, str] = {}
    waiting: list[int] = []
    for run_id in run_ids:
        runner.drive(run_id)
        run = service.queries.run(run_id)
        due = run.next_attempt_at
        if run.state == "pending" and due is not None:
            # The timer fired a hair before the engine's clock reached the end of the window.
            wait_s = (due - service.now()).total_seconds()
            if 0 < wait_s <= _MAX_CATCH_UP_S:
                time.sleep(wait_s)
                runner.drive(run_id)
                run = service.queries.run(run_id)
        if run.state == "completed" and run.outcome == "sent":
            sent.append(run_id)
        elif run.state == "failed":
            failed[run_id] = run.error or "the reply could not be sent"
        else:
            waiting.append(run_id)
    return SendOutcome(sent=sent, failed=failed, waiting=waiting)
