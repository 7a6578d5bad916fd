"""The Review tab: the queue on the left, the selected email and its reply on the right.

J/K move through the queue, Ctrl+Enter approves (every selected item at once when several are
selected), and an approval can be undone for a few seconds before the reply goes out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QStackedWidget, QVBoxLayout, QWidget

from desktop.app import format as fmt
from desktop.app.approvals import Approval, ApprovalTracker, Batch, SendOutcome
from desktop.app.context import AUDIT, QUEUE, RUNS, AppContext
from desktop.app.models.queue import QueueModel
from desktop.app.style import MARGIN, SPACING, set_role
from desktop.app.views.review_pane import APPROVE_SHORTCUT, ReviewPane
from desktop.app.widgets.banner import Banner
from desktop.app.widgets.table import make_table, selected_rows
from desktop.app.widgets.undo_bar import UndoBar
from engine.queries import QueueItemDetail, RunSummary

if TYPE_CHECKING:
    from engine.service import TriageService

#: The queue shows at most this many items (complaints and the longest-waiting first).
QUEUE_LIMIT = 500


class ReviewTab(QWidget):
    """Queue + review pane + undo bar. ``count_changed(int)`` after every reload of the queue.

    ``queue_loaded`` and ``detail_loaded`` fire when data arrived (tests wait on them).
    """

    kinds = frozenset({QUEUE})
    count_changed = Signal(int)
    queue_loaded = Signal()
    detail_loaded = Signal(int)
    open_activity = Signal(int)

    def __init__(self, ctx: AppContext, *, undo_s: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.tracker = ApprovalTracker(ctx, undo_s=undo_s, parent=self)
        self.model = QueueModel(self)
        self._detail_token = 0
        self._pending_selection: list[int] | None = None
        self._build()
        self._connect()

    # --- layout -------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(MARGIN, MARGIN, MARGIN, 0)
        layout.setSpacing(SPACING)
        top = QHBoxLayout()
        self.title = QLabel("Review queue", self)
        set_role(self.title, "heading")
        top.addWidget(self.title)
        self.count_label = QLabel(self)
        set_role(self.count_label, "muted")
        top.addWidget(self.count_label)
        top.addStretch(1)
        keys = QLabel("J / K to move · Ctrl+Enter to approve · select several to approve together", self)
        set_role(keys, "muted")
        top.addWidget(keys)
        layout.addLayout(top)
        self.banner = Banner(self)
        self.banner.setObjectName("reviewBanner")
        layout.addWidget(self.banner)
        self.undo_bar = UndoBar(self)
        layout.addWidget(self.undo_bar)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("queueSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.queue_stack = QStackedWidget(self.splitter)
        self.table = make_table(self.model, name="queueTable", multi_select=True, stretch_column=2)
        self.queue_stack.addWidget(self.table)
        self.empty = QLabel(self.queue_stack)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        set_role(self.empty, "muted")
        self.queue_stack.addWidget(self.empty)
        self.pane = ReviewPane(self.splitter)
        self.splitter.addWidget(self.queue_stack)
        self.splitter.addWidget(self.pane)
        self.splitter.setStretchFactor(0, 5)
        self.splitter.setStretchFactor(1, 6)
        self.splitter.setSizes([640, 600])
        layout.addWidget(self.splitter, 1)

    def _connect(self) -> None:
        selection = self.table.selectionModel()
        selection.selectionChanged.connect(lambda *_: self._selection_changed())
        self.pane.approve_requested.connect(self.approve_selected)
        self.pane.reject_requested.connect(self.reject)
        self.pane.reclassify_requested.connect(self.reclassify)
        self.undo_bar.undo_clicked.connect(self.tracker.undo)
        self.tracker.pending.connect(self._approved)
        self.tracker.sent.connect(self._sent)
        self.tracker.undone.connect(self._undone)
        self.tracker.failed.connect(lambda message: self.banner.show_message(message, "error"))
        for key, step in (("J", 1), ("K", -1)):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda s=step: self.step_selection(s))
        approve = QShortcut(QKeySequence(APPROVE_SHORTCUT), self)
        approve.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        approve.activated.connect(self.approve_selected)
        approve_enter = QShortcut(QKeySequence("Ctrl+Enter"), self)
        approve_enter.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        approve_enter.activated.connect(self.approve_selected)

    # --- loading ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the queue (keeping the selection where possible)."""
        if self._pending_selection is None:
            self._pending_selection = self.selected_ids()
        self.ctx.call("Loading the review queue", _read_queue, done=self._loaded)

    def _loaded(self, loaded: LoadedQueue) -> None:
        rows = loaded.rows
        previous = self._pending_selection or []
        old_row = selected_rows(self.table)[0] if selected_rows(self.table) else 0
        self._pending_selection = None
        self.model.set_rows(rows)
        self.count_label.setText(_count_text(loaded))
        if rows:
            self.queue_stack.setCurrentWidget(self.table)
        else:
            self.empty.setText(
                "Nothing is waiting for review.\n\nNew email is checked on the schedule set in Settings."
            )
            self.queue_stack.setCurrentWidget(self.empty)
        kept = [self.model.index_of_key(run_id) for run_id in previous]
        kept = [row for row in kept if row >= 0]
        if kept:
            self.select_rows(kept)
        elif rows:
            self.select_rows([min(old_row, len(rows) - 1)])
        else:
            self.pane.show_empty("Nothing is waiting for review.")
        self.count_changed.emit(loaded.total)
        self.queue_loaded.emit()

    def selected_ids(self) -> list[int]:
        """Run ids of the selected rows."""
        return [r.run_id for r in self.selected_summaries()]

    def selected_summaries(self) -> list[RunSummary]:
        """The selected queue rows."""
        rows = (self.model.row_at(i) for i in selected_rows(self.table))
        return [r for r in rows if r is not None]

    def select_rows(self, rows: list[int]) -> None:
        """Select these rows (the first becomes current)."""
        selection = self.table.selectionModel()
        selection.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for row in rows:
            selection.select(self.model.index(row, 0), flags)
        if rows:
            current = self.model.index(rows[0], 0)
            selection.setCurrentIndex(current, QItemSelectionModel.SelectionFlag.NoUpdate)
            self.table.scrollTo(self.model.index(rows[0], 0))

    def select_run(self, run_id: int) -> None:
        """Select the item of ``run_id`` when it is in the queue."""
        row = self.model.index_of_key(run_id)
        if row >= 0:
            self.select_rows([row])

    def step_selection(self, step: int) -> None:
        """Select the next (J) or previous (K) item."""
        if not self.model.rows:
            return
        rows = selected_rows(self.table)
        current = self.table.currentIndex().row() if self.table.currentIndex().isValid() else -1
        start = current if current >= 0 else (rows[0] if rows else -1)
        target = max(0, min(len(self.model.rows) - 1, start + step))
        self.select_rows([target])

    def _selection_changed(self) -> None:
        rows = self.selected_summaries()
        self._detail_token += 1
        if not rows:
            self.pane.show_empty()
        elif len(rows) > 1:
            self.pane.show_several(rows)
        else:
            token = self._detail_token
            run_id = rows[0].run_id
            self.ctx.call(
                "Opening the email",
                lambda s: s.queries.queue_item(run_id),
                done=lambda detail: self._detail_arrived(token, detail),
            )

    def _detail_arrived(self, token: int, detail: QueueItemDetail) -> None:
        if token != self._detail_token:
            return
        received = fmt.local_time(detail.summary.received_at, datetime.now(UTC))
        self.pane.show_detail(detail, received)
        self.detail_loaded.emit(detail.summary.run_id)

    # --- decisions ----------------------------------------------------------------------------

    def approve_selected(self) -> None:
        """Approve the item shown (with its edits) or every selected item as drafted."""
        rows = self.selected_summaries()
        if not rows:
            return
        if len(rows) == 1:
            detail = self.pane.detail
            if detail is None or detail.summary.run_id != rows[0].run_id or detail.draft is None:
                return
            approvals = [Approval(rows[0].run_id, _recipient(rows[0]), self.pane.current_edit())]
        else:
            approvals = [Approval(r.run_id, _recipient(r)) for r in rows]
        self.banner.hide()
        self.tracker.approve(approvals)

    def reject(self, run_id: int, reason: str) -> None:
        """Reject an item (nothing is sent) and close its run straight away."""

        def op(service: TriageService) -> None:
            service.reject(run_id, reason=reason)
            service.runner().drive(run_id)

        def after(_: None) -> None:
            self.banner.show_message("Rejected: nothing was sent; the reason is in the audit log.", "ok")

        self.ctx.call("Reject", op, done=after, changes=(QUEUE, RUNS, AUDIT))

    def reclassify(self, run_id: int, category: str) -> None:
        """Correct the category (the local model learns from it) and reload the item."""

        def after(_: object) -> None:
            label = fmt.category_label(category)
            self.banner.show_message(f"Category changed to {label}; the local model learns from it.", "ok")
            self._pending_selection = [run_id]

        self.ctx.call(
            "Change category",
            lambda s: s.reclassify(run_id, category),
            done=after,
            changes=(QUEUE, RUNS, AUDIT),
        )

    # --- approval feedback --------------------------------------------------------------------

    def _approved(self, batch: Batch) -> None:
        self.undo_bar.show_batch(batch)
        if batch.refused:
            reasons = "; ".join(f"#{run_id}: {why}" for run_id, why in batch.refused.items())
            self.banner.show_message(f"Some items could not be approved — {reasons}", "warning")

    def _sent(self, batch: Batch, outcome: SendOutcome) -> None:
        self.undo_bar.show_batch(self.tracker.latest())
        if outcome.failed:
            first = next(iter(outcome.failed))
            reasons = "; ".join(outcome.failed.values())
            self.banner.show_message(
                f"{len(outcome.failed)} repl{'y' if len(outcome.failed) == 1 else 'ies'} could not be sent: "
                f"{reasons}",
                "error",
                action="Open in Activity",
                on_action=lambda: self.open_activity.emit(first),
            )
        elif outcome.sent:
            self.banner.show_message(f"{batch.describe()} sent.", "ok")
        elif outcome.waiting:
            self.banner.show_message(f"{batch.describe()} will be sent on the next check.", "info")

    def _undone(self, batch: Batch, problems: dict[int, str]) -> None:
        self.undo_bar.show_batch(self.tracker.latest())
        if problems:
            self.banner.show_message("Too late to undo: " + "; ".join(problems.values()), "warning")
        else:
            self.banner.show_message("Approval undone; the email is back in the queue.", "info")
            self._pending_selection = batch.run_ids


def _recipient(row: RunSummary) -> str:
    return row.sender_name or row.sender or f"item {row.run_id}"


@dataclass(frozen=True)
class LoadedQueue:
    """The first :data:`QUEUE_LIMIT` queue rows, and how many wait in all (and are complaints)."""

    rows: list[RunSummary]
    total: int
    complaints: int


def _read_queue(service: TriageService) -> LoadedQueue:
    queries = service.queries
    return LoadedQueue(
        rows=queries.queue(limit=QUEUE_LIMIT),
        total=queries.queue_count(),
        complaints=queries.queue_count(category="complaint"),
    )


def _count_text(loaded: LoadedQueue) -> str:
    if not loaded.total:
        return "nothing waiting"
    text = f"{loaded.total:,} waiting"
    if loaded.complaints:
        text += f" · {loaded.complaints:,} complaint{'s' if loaded.complaints != 1 else ''} first"
    if loaded.total > len(loaded.rows):
        text += f" · first {len(loaded.rows):,} shown"
    return text
