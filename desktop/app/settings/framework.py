"""The settings framework: what a page is, and the data every page loads from.

A page is a widget with a ``title`` and a ``key``. :meth:`SettingsPage.load` fills it from a
:class:`SettingsData` read on a worker; :meth:`SettingsPage.validate` (GUI thread) turns the
inputs into a value or raises :class:`engine.errors.ConfigurationError` with a message that says
what to fix — the page shows it in place and nothing is saved; :meth:`SettingsPage.save` stores the
value and runs on a worker, so it must not touch widgets. Read-only pages (status, privacy facts)
set ``read_only``. Connector pages list the raw settings sections they need in ``section_keys``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from desktop.app.style import MARGIN, SPACING, set_role
from desktop.app.widgets.banner import Banner
from engine.errors import ConfigurationError

if TYPE_CHECKING:
    from desktop.app.context import AppContext
    from desktop.app.secrets import KeyringStatus
    from engine.service import TriageService
    from engine.settings import OfficeSettings, Policy, RetentionSettings, ScheduleSettings


@dataclass(frozen=True)
class ServiceStatus:
    """One configured connection as Settings describes it."""

    role: str
    name: str
    destination: str
    detail: str = ""


@dataclass(frozen=True)
class SettingsData:
    """Everything the pages show, read together on a worker."""

    office: OfficeSettings
    policies: dict[str, Policy]
    retention: RetentionSettings
    schedule: ScheduleSettings
    default_templates: dict[str, str]
    services: list[ServiceStatus]
    keyring: KeyringStatus
    demo: bool
    sections: dict[str, Any] = field(default_factory=dict)

    @property
    def allowed_hosts(self) -> list[str]:
        """The hosts the app may reach: every configured service's destination that is not local."""
        return sorted({s.destination for s in self.services if s.destination and s.destination != "local"})


class SettingsPage(QWidget):
    """Base class of a settings page. Subclasses set ``key`` and ``title`` and override the hooks."""

    key: ClassVar[str] = ""
    title: ClassVar[str] = ""
    read_only: ClassVar[bool] = False
    section_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.outer = QVBoxLayout(self)
        self.outer.setContentsMargins(MARGIN * 2, MARGIN, MARGIN * 2, MARGIN)
        self.outer.setSpacing(SPACING)
        heading = QLabel(self.title, self)
        set_role(heading, "heading")
        self.outer.addWidget(heading)
        self.message = Banner(self)
        self.message.setObjectName(f"{self.key}Message")
        self.outer.addWidget(self.message)
        self._invalid: list[QWidget] = []
        self.ctx: AppContext | None = None

    # --- hooks --------------------------------------------------------------------------------

    def bind(self, ctx: AppContext) -> None:
        """Receive the open profile's context (GUI thread, once, before ``load``); pages that run
        work on a worker or keep secrets (``SecretField``) build those parts here."""
        self.ctx = ctx

    def load(self, data: SettingsData) -> None:
        """Fill the inputs from ``data`` (GUI thread)."""
        raise NotImplementedError

    def validate(self) -> Any:
        """The value to save, or ConfigurationError saying what to fix (GUI thread)."""
        raise NotImplementedError

    def save(self, service: TriageService, value: Any) -> None:
        """Store ``value`` (runs on a worker: no widgets here)."""
        raise NotImplementedError

    def field_for(self, message: str) -> QWidget | None:
        """The input a validation message is about (to mark it), if any."""
        return None

    # --- helpers for subclasses ---------------------------------------------------------------

    def intro(self, text: str) -> QLabel:
        """A muted explanatory paragraph under the heading."""
        label = QLabel(text, self)
        label.setWordWrap(True)
        set_role(label, "muted")
        self.outer.addWidget(label)
        return label

    def form(self) -> QFormLayout:
        """A form layout added to the page."""
        form = QFormLayout()
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(8)
        self.outer.addLayout(form)
        return form

    def show_error(self, message: str) -> None:
        """Refuse in place: show the message and mark the input it is about."""
        self.clear_error()
        self.message.show_message(message, "error")
        widget = self.field_for(message)
        if widget is not None:
            widget.setProperty("invalid", True)
            widget.style().unpolish(widget)
            widget.style().polish(widget)
            widget.setFocus()
            self._invalid.append(widget)

    def show_saved(self, text: str = "Saved.") -> None:
        """Confirm a save."""
        self.clear_error()
        self.message.show_message(text, "ok")

    def clear_error(self) -> None:
        """Remove the error mark from every input."""
        for widget in self._invalid:
            widget.setProperty("invalid", False)
            widget.style().unpolish(widget)
            widget.style().polish(widget)
        self._invalid.clear()
        self.message.hide()


def whole_number(text: str, message: str) -> int:
    """``text`` as an int, or ConfigurationError(``message``)."""
    try:
        return int(text.strip())
    except ValueError as exc:
        raise ConfigurationError(message) from exc
