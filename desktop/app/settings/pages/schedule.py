"""Settings → Schedule: how often to check for email, and only in working hours if wanted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QLineEdit, QWidget

from desktop.app.settings.framework import SettingsData, SettingsPage, whole_number
from engine.settings import ScheduleSettings

if TYPE_CHECKING:
    from engine.service import TriageService

DAYS = (
    ("mon", "Mon"),
    ("tue", "Tue"),
    ("wed", "Wed"),
    ("thu", "Thu"),
    ("fri", "Fri"),
    ("sat", "Sat"),
    ("sun", "Sun"),
)


class SchedulePage(SettingsPage):
    """Automatic checks on/off, the interval, and working hours."""

    key = "schedule"
    title = "Schedule"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.intro(
            "Inbox Triage checks the mailbox on this schedule while it runs (also from the tray). "
            "“Check now” in the status bar always works."
        )
        form = self.form()
        self.enabled = QCheckBox("Check for new email automatically", self)
        self.enabled.setObjectName("scheduleEnabled")
        form.addRow("", self.enabled)
        self.minutes = QLineEdit(self)
        self.minutes.setObjectName("pollMinutes")
        self.minutes.setMaximumWidth(90)
        form.addRow("Every (minutes)", self.minutes)
        self.working_hours = QCheckBox("Only during working hours", self)
        self.working_hours.setObjectName("workingHoursOnly")
        form.addRow("", self.working_hours)
        hours = QHBoxLayout()
        hours.setSpacing(10)
        self.start = QLineEdit(self)
        self.start.setObjectName("hoursStart")
        self.start.setPlaceholderText("08:00")
        self.start.setMaximumWidth(80)
        self.end = QLineEdit(self)
        self.end.setObjectName("hoursEnd")
        self.end.setPlaceholderText("18:00")
        self.end.setMaximumWidth(80)
        hours.addWidget(self.start)
        hours.addWidget(QLabel("until", self))
        hours.addWidget(self.end)
        hours.addStretch(1)
        form.addRow("From", hours)
        days = QHBoxLayout()
        self.days: dict[str, QCheckBox] = {}
        for key, label in DAYS:
            box = QCheckBox(label, self)
            self.days[key] = box
            days.addWidget(box)
        days.addStretch(1)
        form.addRow("On", days)
        self.working_hours.toggled.connect(self._hours_enabled)
        self.outer.addStretch(1)

    def _hours_enabled(self, on: bool) -> None:
        for widget in (self.start, self.end, *self.days.values()):
            widget.setEnabled(on)

    def load(self, data: SettingsData) -> None:
        """Fill the form."""
        schedule = data.schedule
        self.enabled.setChecked(schedule.enabled)
        self.minutes.setText(str(schedule.poll_minutes))
        self.working_hours.setChecked(schedule.working_hours_only)
        self.start.setText(schedule.start)
        self.end.setText(schedule.end)
        for key, box in self.days.items():
            box.setChecked(key in schedule.days)
        self._hours_enabled(schedule.working_hours_only)

    def validate(self) -> ScheduleSettings:
        """The schedule, validated by the engine's rules."""
        minutes = whole_number(
            self.minutes.text(), "Schedule: poll every 1 to 1440 minutes (a whole number)."
        )
        return ScheduleSettings(
            enabled=self.enabled.isChecked(),
            poll_minutes=minutes,
            working_hours_only=self.working_hours.isChecked(),
            start=self.start.text().strip(),
            end=self.end.text().strip(),
            days=tuple(key for key, box in self.days.items() if box.isChecked()),
        ).validate()

    def save(self, service: TriageService, value: ScheduleSettings) -> None:
        """Store the schedule (the poller applies it once saved)."""
        service.settings.save_schedule(value, actor=service.actor())

    def field_for(self, message: str) -> QWidget | None:
        """Which input a validation message names."""
        if "poll every" in message:
            return self.minutes
        if "working hours start" in message:
            return self.start
        if "working hours end" in message or "end after" in message:
            return self.end
        if "days" in message:
            return self.days["mon"]
        return None
