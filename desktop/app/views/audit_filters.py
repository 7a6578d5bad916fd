"""The audit log's filter bar: date range, action, actor, email address, run, and free text."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from PySide6.QtCore import QDate, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QGridLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from desktop.app import format as fmt
from engine.audit.chain import format_ts
from engine.queries import AuditFilter

_TEXT_DELAY_MS = 300
ANY = ""


def _local_midnight(day: date) -> str:
    return format_ts(datetime.combine(day, time(0, 0)).astimezone().astimezone(UTC))


def day_start_utc(day: QDate) -> str:
    """Local midnight at the start of ``day``, as an audit time stamp (UTC)."""
    return _local_midnight(date(day.year(), day.month(), day.day()))


def day_end_utc(day: QDate) -> str:
    """Local midnight at the end of ``day`` (exclusive bound), as an audit time stamp."""
    return _local_midnight(date(day.year(), day.month(), day.day()) + timedelta(days=1))


class AuditFilterBar(QWidget):
    """Builds an :class:`engine.queries.AuditFilter` from the inputs; ``changed()`` when it changes.

    Typing in the text fields waits a moment before announcing, so each keystroke does not start
    a query; combo boxes and dates announce at once.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._build_inputs()
        self._lay_out()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(_TEXT_DELAY_MS)
        self._connect()

    def _build_inputs(self) -> None:
        self.search = QLineEdit(self)
        self.search.setObjectName("auditSearch")
        self.search.setPlaceholderText("Search everything: action, actor, email, details…")
        self.search.setClearButtonEnabled(True)
        self.since_on = QCheckBox("From", self)
        self.since = QDateEdit(QDate.currentDate().addDays(-30), self)
        self.until_on = QCheckBox("to", self)
        self.until = QDateEdit(QDate.currentDate(), self)
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("d MMM yyyy")
            edit.setEnabled(False)
        self.action = QComboBox(self)
        self.action.setObjectName("auditAction")
        self.action.addItem("Any action", ANY)
        self.actor = QComboBox(self)
        self.actor.setObjectName("auditActor")
        self.actor.addItem("Anyone", ANY)
        self.email = QLineEdit(self)
        self.email.setObjectName("auditEmail")
        self.email.setPlaceholderText("Sender's email address")
        self.email.setClearButtonEnabled(True)
        self.run = QLineEdit(self)
        self.run.setObjectName("auditRun")
        self.run.setPlaceholderText("Run #")
        self.clear_button = QPushButton("Clear filters", self)

    def _lay_out(self) -> None:
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(6)
        grid.addWidget(self.search, 0, 0, 1, 7)
        grid.addWidget(self.clear_button, 0, 7)
        grid.addWidget(self.since_on, 1, 0)
        grid.addWidget(self.since, 1, 1)
        grid.addWidget(self.until_on, 1, 2)
        grid.addWidget(self.until, 1, 3)
        grid.addWidget(self.action, 1, 4)
        grid.addWidget(self.actor, 1, 5)
        grid.addWidget(self.email, 1, 6)
        grid.addWidget(self.run, 1, 7)
        for column, stretch in ((4, 2), (5, 2), (6, 3), (7, 1)):
            grid.setColumnStretch(column, stretch)

    def _connect(self) -> None:
        self._timer.timeout.connect(self.changed)
        for line in (self.search, self.email, self.run):
            line.textChanged.connect(lambda _t: self._timer.start())
        self.since_on.toggled.connect(self.since.setEnabled)
        self.until_on.toggled.connect(self.until.setEnabled)
        for box in (self.since_on, self.until_on):
            box.toggled.connect(lambda _on: self.changed.emit())
        for edit in (self.since, self.until):
            edit.dateChanged.connect(lambda _d: self._date_changed())
        for combo in (self.action, self.actor):
            combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.clear_button.clicked.connect(self._clear_clicked)

    def _clear_clicked(self) -> None:
        self.clear()

    def _date_changed(self) -> None:
        if self.since_on.isChecked() or self.until_on.isChecked():
            self.changed.emit()

    def filters(self) -> AuditFilter:
        """The filter the inputs describe."""
        action = self.action.currentData()
        actor = self.actor.currentData()
        return AuditFilter(
            since=day_start_utc(self.since.date()) if self.since_on.isChecked() else None,
            until=day_end_utc(self.until.date()) if self.until_on.isChecked() else None,
            actions=(action,) if action else (),
            actor=actor or None,
            run_id=self.run.text().strip().lstrip("#") or None,
            email_address=self.email.text().strip() or None,
            text=self.search.text().strip() or None,
        )

    def set_choices(self, actions: list[str], actors: list[str]) -> None:
        """Fill the action and actor menus (keeping the current choice)."""
        for combo, values, label in ((self.action, actions, str), (self.actor, actors, fmt.actor_label)):
            current = combo.currentData()
            combo.blockSignals(True)
            while combo.count() > 1:
                combo.removeItem(1)
            for value in values:
                combo.addItem(label(value), value)
            position = combo.findData(current)
            combo.setCurrentIndex(max(0, position))
            combo.blockSignals(False)

    def show_run(self, run_id: str) -> None:
        """Filter to one run's events (its whole timeline), nothing else."""
        self.clear(announce=False)
        self.run.setText(run_id)
        self._timer.stop()
        self.changed.emit()

    def clear(self, announce: bool = True) -> None:
        """Reset every filter."""
        widgets = (self.search, self.email, self.run, self.since_on, self.until_on, self.action, self.actor)
        for widget in widgets:
            widget.blockSignals(True)
        self.search.clear()
        self.email.clear()
        self.run.clear()
        self.since_on.setChecked(False)
        self.until_on.setChecked(False)
        self.since.setEnabled(False)
        self.until.setEnabled(False)
        self.action.setCurrentIndex(0)
        self.actor.setCurrentIndex(0)
        for widget in widgets:
            widget.blockSignals(False)
        self._timer.stop()
        if announce:
            self.changed.emit()
