"""The app's icon (the same artwork as the installers' icon) with an optional count badge."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPen, QPixmap

_SIZE = 64


#: The artwork packaging/make_icons.py draws for the installers (an envelope with a tick).
ARTWORK = Path(__file__).with_name("resources") / "inbox-triage.png"


def app_pixmap(count: int | None = None, size: int = _SIZE) -> QPixmap:
    """The app's artwork at ``size``; a red badge with ``count`` when given."""
    artwork = QPixmap(str(ARTWORK)) if ARTWORK.exists() else QPixmap()
    if artwork.isNull():
        pixmap = _drawn_envelope(size)
    else:
        pixmap = artwork.scaled(
            size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / _SIZE
    if count:
        text = str(count) if count < 100 else "99+"
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#d1242f"))
        diameter = 30 * s
        painter.drawEllipse(QRectF(size - diameter, 0, diameter, diameter))
        font = QFont()
        font.setBold(True)
        font.setPixelSize(int((17 if len(text) < 3 else 12) * s))
        painter.setFont(font)
        painter.setPen(QColor("#ffffff"))
        badge = QRectF(size - diameter, 0, diameter, diameter)
        painter.drawText(badge, int(Qt.AlignmentFlag.AlignCenter), text)
    painter.end()
    return pixmap


def _drawn_envelope(size: int) -> QPixmap:
    """A blue rounded square with a white envelope (when the artwork file is missing)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / _SIZE
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#1f6feb"))
    painter.drawRoundedRect(QRectF(2 * s, 2 * s, 60 * s, 60 * s), 13 * s, 13 * s)
    painter.setPen(QPen(QColor("#ffffff"), 4 * s))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(QRectF(13 * s, 19 * s, 38 * s, 27 * s), 3 * s, 3 * s)
    flap = QPainterPath()
    flap.moveTo(14 * s, 21 * s)
    flap.lineTo(32 * s, 35 * s)
    flap.lineTo(50 * s, 21 * s)
    painter.drawPath(flap)
    painter.end()
    return pixmap


def app_icon(count: int | None = None) -> QIcon:
    """The window and tray icon."""
    icon = QIcon()
    for size in (16, 32, 64):
        icon.addPixmap(app_pixmap(count, size))
    return icon
