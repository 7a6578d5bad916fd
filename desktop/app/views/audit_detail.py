"""One audit event in full (every field and both hashes), and the timeline of its run."""

from __future__ import annotations

import json
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.app import format as fmt
from desktop.app.style import MARGIN, set_role
from desktop.app.views.review_pane import history_line
from engine.audit.event import AuditEvent

_FIELDS: tuple[tuple[str, Callable[[AuditEvent], str]], ...] = (
    ("Seq", lambda e: str(e.seq)),
    ("Time (UTC)", lambda e: e.ts),
    ("Action", lambda e: e.action),
    ("Outcome", lambda e: e.outcome),
    ("Actor", lambda e: e.actor),
    ("Run", lambda e: e.run_id or "—"),
    ("Email", lambda e: e.email_ref or "—"),
    ("Data", lambda e: ", ".join(e.data_categories) or "none"),
    ("Destination", lambda e: e.destination),
    ("Detail", lambda e: json.dumps(e.detail, ensure_ascii=False, sort_keys=True)),
    ("Previous hash", lambda e: e.prev_hash),
    ("Hash", lambda e: e.hash),
)


class AuditEventPanel(QFrame):
    """The selected event's fields next to its run's timeline; ``timeline_requested(run_id)``."""

    timeline_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_role(self, "card")
        outer = QHBoxLayout(self)
        outer.setContentsMargins(MARGIN, MARGIN, MARGIN, MARGIN)
        outer.setSpacing(16)
        left = QVBoxLayout()
        self.form = QFormLayout()
        self.form.setHorizontalSpacing(12)
        self.form.setVerticalSpacing(3)
        self.values: dict[str, QLabel] = {}
        for name, _getter in _FIELDS:
            value = QLabel("", self)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(True)
            self.values[name] = value
            caption = QLabel(name, self)
            set_role(caption, "muted")
            self.form.addRow(caption, value)
        left.addLayout(self.form)
        left.addStretch(1)
        outer.addLayout(left, 1)
        right = QVBoxLayout()
        top = QHBoxLayout()
        self.timeline_title = QLabel("Timeline of this email", self)
        set_role(self.timeline_title, "subheading")
        top.addWidget(self.timeline_title, 1)
        self.timeline_button = QPushButton("Filter to this run", self)
        self.timeline_button.setObjectName("showTimelineButton")
        self.timeline_button.clicked.connect(self._timeline)
        top.addWidget(self.timeline_button)
        right.addLayout(top)
        self.timeline = QListWidget(self)
        self.timeline.setObjectName("auditTimeline")
        right.addWidget(self.timeline, 1)
        outer.addLayout(right, 1)
        self.current: AuditEvent | None = None
        self.show_event(None)

    def show_event(self, event: AuditEvent | None) -> None:
        """Show an event's fields (blank when None)."""
        self.current = event
        for name, getter in _FIELDS:
            self.values[name].setText(getter(event) if event is not None else "")
        self.timeline_button.setEnabled(bool(event and event.run_id))
        self.timeline.clear()
        if event is None or not event.run_id:
            self.timeline_title.setText("Timeline of this email")

    def show_timeline(self, run_id: str, events: list[AuditEvent]) -> None:
        """The run's events, oldest first, the selected one marked."""
        if self.current is None or self.current.run_id != run_id:
            return
        self.timeline_title.setText(f"Timeline of run {run_id} ({len(events)} events)")
        self.timeline.clear()
        for event in events:
            marker = "▶ " if event.seq == self.current.seq else "   "
            self.timeline.addItem(f"{marker}{history_line(event)}")
            if event.seq == self.current.seq:
                self.timeline.setCurrentRow(self.timeline.count() - 1)

    def _timeline(self) -> None:
        if self.current is not None and self.current.run_id:
            self.timeline_requested.emit(self.current.run_id)


def describe_event(event: AuditEvent) -> str:
    """One line for messages: ``event 57 (review.approved by Alice)``."""
    return f"event {event.seq} ({event.action} by {fmt.actor_label(event.actor)})"
