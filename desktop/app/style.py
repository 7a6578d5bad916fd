"""The look: Fusion style, a calm light palette, readable sizes and a little style sheet."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = "#1f6feb"
TEXT_MUTED = "#5f6b7a"
ERROR = "#b42318"
WARNING_BG = "#fff4e5"
WARNING_BORDER = "#f0b35a"
ERROR_BG = "#fdecea"
ERROR_BORDER = "#e8a19a"
INFO_BG = "#e8f1fd"
INFO_BORDER = "#9cc1f0"
OK_BG = "#e7f5ec"
OK_BORDER = "#8cc9a4"

#: Row height of every table (pixels at 96 dpi).
ROW_HEIGHT = 30
#: Outer margin and spacing of pages.
MARGIN = 12
SPACING = 8

_SHEET = f"""
QTabWidget::pane {{ border: 0; border-top: 1px solid #d0d7de; }}
QTabBar::tab {{ padding: 7px 16px; margin-right: 2px; border: 0; color: #39424e; }}
QTabBar::tab:selected {{ color: #0d1117; border-bottom: 2px solid {ACCENT}; font-weight: 600; }}
QTableView {{ border: 1px solid #d0d7de; gridline-color: #eef1f4;
              selection-background-color: #dbe9fb; selection-color: #0d1117; }}
QHeaderView::section {{ background: #f6f8fa; border: 0; border-bottom: 1px solid #d0d7de;
    border-right: 1px solid #eef1f4; padding: 5px 6px; font-weight: 600; color: #39424e; }}
QLineEdit, QPlainTextEdit, QTextEdit, QTextBrowser, QComboBox, QSpinBox, QDoubleSpinBox, QDateEdit {{
    border: 1px solid #c7ced6; border-radius: 4px; padding: 3px 5px; background: #ffffff; }}
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus {{ border: 1px solid {ACCENT}; }}
QLineEdit[invalid="true"], QPlainTextEdit[invalid="true"] {{
    border: 1px solid {ERROR}; background: #fff8f7; }}
QPushButton {{ padding: 5px 14px; border: 1px solid #c7ced6; border-radius: 5px; background: #f6f8fa; }}
QPushButton:hover {{ background: #eef1f4; }}
QPushButton:disabled {{ color: #9aa4ae; }}
QPushButton[primary="true"] {{
    background: {ACCENT}; color: white; border: 1px solid #1a5fcc; font-weight: 600; }}
QPushButton[primary="true"]:hover {{ background: #1a5fcc; }}
QPushButton[primary="true"]:disabled {{ background: #9dbcf0; border-color: #9dbcf0; color: #f4f7fb; }}
QPushButton[danger="true"] {{ color: {ERROR}; }}
QToolButton {{ padding: 4px 10px; border: 1px solid #c7ced6; border-radius: 5px; background: #f6f8fa; }}
QLabel[role="heading"] {{ font-size: 15pt; font-weight: 600; color: #0d1117; }}
QLabel[role="subheading"] {{ font-size: 11pt; font-weight: 600; color: #24292f; }}
QLabel[role="muted"] {{ color: {TEXT_MUTED}; }}
QLabel[role="error"] {{ color: {ERROR}; }}
QFrame[role="card"] {{ background: #ffffff; border: 1px solid #d0d7de; border-radius: 6px; }}
QListWidget#settingsNav {{
    border: 0; border-right: 1px solid #d0d7de; background: #f6f8fa; padding-top: 6px; }}
QListWidget#settingsNav::item {{ padding-left: 12px; }}
QLineEdit:disabled, QComboBox:disabled {{ background: #f0f2f4; color: #8c959f; }}
QListWidget#settingsNav::item:selected {{ background: #dbe9fb; color: #0d1117; }}
QStatusBar {{ border-top: 1px solid #d0d7de; background: #f6f8fa; }}
QSplitter::handle {{ background: #e3e7eb; }}
"""


def apply(app: QApplication) -> None:
    """Give the application its style, palette, font and style sheet."""
    app.setStyle("Fusion")
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, QColor("#f6f8fa"))
    palette.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor("#fafbfc"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#0d1117"))
    palette.setColor(QPalette.ColorRole.WindowText, QColor("#0d1117"))
    palette.setColor(QPalette.ColorRole.Button, QColor("#f6f8fa"))
    palette.setColor(QPalette.ColorRole.ButtonText, QColor("#0d1117"))
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#dbe9fb"))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#0d1117"))
    palette.setColor(QPalette.ColorRole.ToolTipBase, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.ToolTipText, QColor("#0d1117"))
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor("#8c959f"))
    app.setPalette(palette)
    font = QFont(app.font())
    if font.pointSizeF() < 10:
        font.setPointSizeF(10)
    app.setFont(font)
    app.setStyleSheet(_SHEET)


def set_role(widget: object, role: str) -> None:
    """Tag a label or frame with a style role (heading, muted, error, card)."""
    setter = getattr(widget, "setProperty", None)
    if setter is not None:
        setter("role", role)
