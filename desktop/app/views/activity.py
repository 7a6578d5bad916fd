"""The Activity tab: every run with its state; failed ones say why in plain words and can be retried.

The table pages lazily (newest first) and filters by state and text in SQL. Below it, the
selected run's status, its Retry button when it failed, and its whole timeline from the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.app import format as fmt
from desktop.app.context import AUDIT, QUEUE, RUNS, AppContext
from desktop.app.models.base import ROW_ROLE
from desktop.app.models.runs import RunsModel
from desktop.app.style import MARGIN, SPACING, set_role
from desktop.app.views.review_pane import history_line
from desktop.app.widgets.banner import Banner
from desktop.app.widgets.table import make_table
from engine.audit.event import AuditEvent
from engine.queries import AuditFilter, RunSummary

if TYPE_CHECKING:
    from engine.service import TriageService

#: (label, states) of the state filter.
STATE_FILTERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("All emails", ()),
    ("Needs attention (failed, retrying)", ("failed", "retrying")),
    ("Waiting for review", ("waiting_review",)),
    ("Quarantined", ("quarantined",)),
    ("Done", ("completed",)),
    ("In progress", ("pending", "retrying")),
)
_SEARCH_DELAY_MS = 250


@dataclass(frozen=True)
class RunDetail:
    """A run and its timeline (read together on a worker)."""

    run: RunSummary
    timeline: list[AuditEvent]


def load_run_detail(service: TriageService, run_id: int) -> RunDetail:
    """The run's summary and its audit events, oldest first."""
    timeline = service.queries.audit_events(AuditFilter(run_id=str(run_id)), limit=1000, newest_first=False)
    return RunDetail(service.queries.run(run_id), timeline)


def failed_step(timeline: list[AuditEvent]) -> str | None:
    """The step named by the run's latest failure or retry event, if any."""
    for event in reversed(timeline):
        if event.action in ("run.failed", "step.retry_scheduled"):
            step = event.detail.get("step")
            return str(step) if step else None
    return None


class RunDetailPanel(QFrame):
    """One run: its state in plain words, Retry for failures, and its timeline."""

    retry_requested = Signal(int)
    review_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_role(self, "card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(MARGIN, MARGIN, MARGIN, MARGIN)
        top = QHBoxLayout()
        self.title = QLabel("Select an email to see what happened to it.", self)
        self.title.setWordWrap(True)
        set_role(self.title, "subheading")
        top.addWidget(self.title, 1)
        self.retry_button = QPushButton("Retry", self)
        self.retry_button.setObjectName("retryButton")
        self.retry_button.setProperty("primary", True)
        self.retry_button.clicked.connect(self._retry)
        top.addWidget(self.retry_button)
        self.review_button = QPushButton("Open in Review", self)
        self.review_button.clicked.connect(self._review)
        top.addWidget(self.review_button)
        layout.addLayout(top)
        self.status = QLabel(self)
        self.status.setObjectName("runStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status)
        self.timeline = QListWidget(self)
        self.timeline.setObjectName("runTimeline")
        layout.addWidget(self.timeline, 1)
        self.run: RunSummary | None = None
        self.show_run(None)

    def show_run(self, detail: RunDetail | None) -> None:
        """Show a run (or the hint when None)."""
        self.run = detail.run if detail else None
        self.retry_button.setVisible(bool(self.run and self.run.state in ("failed", "retrying")))
        self.review_button.setVisible(bool(self.run and self.run.state == "waiting_review"))
        self.timeline.clear()
        if detail is None:
            self.title.setText("Select an email to see what happened to it.")
            self.status.clear()
            return
        run = detail.run
        sender = run.sender or "unknown sender"
        self.title.setText(f"#{run.run_id} · {run.subject or '(no subject)'} — {sender}")
        words = fmt.error_words(run.state, run.error, run.error_kind, failed_step(detail.timeline))
        status = fmt.state_label(run.state, run.outcome)
        if run.category:
            status += f" · {fmt.category_label(run.category)}"
        self.status.setText(f"{status}\n{words}" if words else status)
        role = "error" if run.state in ("failed", "quarantined") else ""
        set_role(self.status, role)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        for event in detail.timeline:
            self.timeline.addItem(history_line(event))

    def _retry(self) -> None:
        if self.run is not None:
            self.retry_requested.emit(self.run.run_id)

    def _review(self) -> None:
        if self.run is not None:
            self.review_requested.emit(self.run.run_id)


class ActivityTab(QWidget):
    """All runs, with filters, the selected run's detail and Retry.

    ``detail_loaded(int)`` fires when a run's detail arrived; ``review_requested(int)`` asks the
    window to show that run in the Review tab.
    """

    kinds = frozenset({RUNS})
    detail_loaded = Signal(int)
    review_requested = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = RunsModel(ctx, self)
        self._token = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(MARGIN, MARGIN, MARGIN, MARGIN)
        layout.setSpacing(SPACING)
        layout.addLayout(self._filters())
        self.banner = Banner(self)
        self.banner.setObjectName("activityBanner")
        layout.addWidget(self.banner)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.setObjectName("activitySplitter")
        splitter.setChildrenCollapsible(False)
        self.table = make_table(self.model, name="activityTable", stretch_column=6)
        splitter.addWidget(self.table)
        self.detail = RunDetailPanel(splitter)
        splitter.addWidget(self.detail)
        splitter.setSizes([420, 240])
        layout.addWidget(splitter, 1)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(_SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self.state_filter.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.detail.retry_requested.connect(self.retry)
        self.detail.review_requested.connect(self.review_requested)

    def _filters(self) -> QHBoxLayout:
        row = QHBoxLayout()
        title = QLabel("Activity", self)
        set_role(title, "heading")
        row.addWidget(title)
        row.addSpacing(16)
        self.state_filter = QComboBox(self)
        self.state_filter.setObjectName("stateFilter")
        for label, _states in STATE_FILTERS:
            self.state_filter.addItem(label)
        row.addWidget(self.state_filter)
        self.search = QLineEdit(self)
        self.search.setObjectName("activitySearch")
        self.search.setPlaceholderText("Search sender or subject")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(260)
        row.addWidget(self.search)
        row.addStretch(1)
        return row

    def refresh(self) -> None:
        """Reload the list (and the run shown)."""
        self.apply_filter()
        if self.detail.run is not None:
            self.show_run(self.detail.run.run_id)

    def apply_filter(self) -> None:
        """Apply the state filter and search text now."""
        _label, states = STATE_FILTERS[max(0, self.state_filter.currentIndex())]
        self.model.set_filter(states, self.search.text())

    def set_state_filter(self, states: tuple[str, ...]) -> None:
        """Choose the state filter showing ``states``."""
        for position, (_label, candidate) in enumerate(STATE_FILTERS):
            if candidate == states:
                self.state_filter.setCurrentIndex(position)
                return

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        run = current.data(ROW_ROLE) if current.isValid() else None
        if isinstance(run, RunSummary):
            self.show_run(run.run_id)

    def show_run(self, run_id: int) -> None:
        """Load and show one run's detail."""
        self._token += 1
        token = self._token
        self.ctx.call(
            "Opening the run",
            lambda s: load_run_detail(s, run_id),
            done=lambda detail: self._detail_arrived(token, detail),
        )

    def _detail_arrived(self, token: int, detail: RunDetail) -> None:
        if token == self._token:
            self.detail.show_run(detail)
            self.detail_loaded.emit(detail.run.run_id)

    def retry(self, run_id: int) -> None:
        """Send a failed run back to the runner and drive it now."""

        def op(service: TriageService) -> RunSummary:
            service.retry(run_id)
            service.runner().drive(run_id)
            return service.queries.run(run_id)

        def after(run: RunSummary) -> None:
            words = fmt.error_words(run.state, run.error, run.error_kind)
            if run.state == "failed":
                self.banner.show_message(f"Retried, but it failed again. {words}", "error")
            else:
                self.banner.show_message(f"Retried: {fmt.state_label(run.state, run.outcome).lower()}.", "ok")
            self.show_run(run_id)

        self.ctx.call("Retry", op, done=after, changes=(QUEUE, RUNS, AUDIT))
