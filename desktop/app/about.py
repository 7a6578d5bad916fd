"""The About dialog: version, where the data and the logs are, where the guides are.

Everything a support person asks for first is on it, selectable, and "Copy details" puts it on the
clipboard in one go. The facts come from :func:`about_info` (no Qt needed); the dialog only shows them.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.app.style import set_role
from desktop.logging_setup import APP_NAME, app_version, is_frozen, log_dir

RESOURCES = Path(__file__).resolve().with_name("resources")
ICON_FILE = "inbox-triage.png"
#: The guides shipped with the app (in the bundle's ``docs`` folder, or the source tree's).
GUIDES = (("User guide", "desktop.md"), ("Command line", "cli.md"), ("Audit log", "audit-log.md"))
SELFTEST_HINT = "To check this computer's set-up, run: inbox-triage --selftest"


def app_icon_file() -> Path:
    """The app icon as a PNG (512 px)."""
    return RESOURCES / ICON_FILE


def docs_dir() -> Path:
    """The folder holding the guides: inside the installed app, or ``docs/`` of the source tree."""
    base = getattr(sys, "_MEIPASS", None)
    if is_frozen() and base is not None:
        return Path(base) / "docs"
    return Path(__file__).resolve().parents[2] / "docs"


def user_guide() -> Path:
    """The user guide of the desktop screens."""
    return docs_dir() / GUIDES[0][1]


@dataclass(frozen=True)
class AboutInfo:
    """What the About dialog says."""

    version: str
    how: str
    data_folder: Path
    log_folder: Path
    guides: tuple[tuple[str, Path], ...]
    system: str

    def as_text(self) -> str:
        """Everything, one fact a line (what "Copy details" copies)."""
        lines = [
            f"{APP_NAME} {self.version} ({self.how})",
            f"Data folder: {self.data_folder}",
            f"Log folder: {self.log_folder}",
            *(f"{label}: {path}" for label, path in self.guides),
            f"System: {self.system}",
        ]
        return "\n".join(lines)


def about_info(data_folder: Path) -> AboutInfo:
    """The facts for the profile open in ``data_folder``."""
    from PySide6 import __version__ as pyside_version

    docs = docs_dir()
    return AboutInfo(
        version=app_version(),
        how="installed app" if is_frozen() else "running from source",
        data_folder=data_folder,
        log_folder=log_dir(),
        guides=tuple((label, docs / name) for label, name in GUIDES),
        system=f"{platform.platform()}, Python {platform.python_version()}, Qt {pyside_version}",
    )


class AboutDialog(QDialog):
    """Version, data folder, log folder and guides, with buttons to open the folders and copy it all.

    ``copied()`` fires after the details were put on the clipboard.
    """

    copied = Signal()

    def __init__(self, info: AboutInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.info = info
        self.setObjectName("aboutDialog")
        self.setWindowTitle(f"About {APP_NAME}")
        layout = QVBoxLayout(self)
        layout.addLayout(self._header())
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields: dict[str, QLabel] = {}
        for label, value in (
            ("Data folder", str(info.data_folder)),
            ("Log folder", str(info.log_folder)),
            *((label, str(path)) for label, path in info.guides),
            ("System", info.system),
        ):
            self.fields[label] = self._value(value)
            form.addRow(f"{label}:", self.fields[label])
        layout.addLayout(form)
        hint = QLabel(SELFTEST_HINT, self)
        set_role(hint, "muted")
        hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(hint)
        layout.addWidget(self._buttons())

    def _header(self) -> QHBoxLayout:
        row = QHBoxLayout()
        icon = QLabel(self)
        pixmap = QPixmap(str(app_icon_file()))
        if not pixmap.isNull():
            icon.setPixmap(
                pixmap.scaled(
                    64, 64, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
                )
            )
        row.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        title = QLabel(APP_NAME, self)
        set_role(title, "heading")
        text.addWidget(title)
        self.version_label = QLabel(f"Version {self.info.version} ({self.info.how})", self)
        self.version_label.setObjectName("aboutVersion")
        self.version_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.addWidget(self.version_label)
        blurb = QLabel("Email triage for a small office: classify, draft, review, audit.", self)
        blurb.setWordWrap(True)
        set_role(blurb, "muted")
        text.addWidget(blurb)
        row.addLayout(text, 1)
        return row

    def _value(self, text: str) -> QLabel:
        label = QLabel(text, self)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setWordWrap(True)
        return label

    def _buttons(self) -> QDialogButtonBox:
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = QPushButton("Copy details", self)
        self.open_data_button = QPushButton("Open data folder", self)
        self.open_logs_button = QPushButton("Open log folder", self)
        for button in (self.copy_button, self.open_data_button, self.open_logs_button):
            box.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_details)
        self.open_data_button.clicked.connect(lambda: _open_folder(self.info.data_folder))
        self.open_logs_button.clicked.connect(lambda: _open_folder(self.info.log_folder))
        box.rejected.connect(self.reject)
        return box

    def copy_details(self) -> None:
        """Put every fact on the clipboard (for an email to support)."""
        clipboard = QGuiApplication.clipboard()
        clipboard.setText(self.info.as_text())
        self.copied.emit()


def _open_folder(folder: Path) -> bool:
    """Show ``folder`` in the file manager (creating it first, so there is something to show)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
