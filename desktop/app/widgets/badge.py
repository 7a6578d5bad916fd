"""Coloured category badges: a delegate for table cells and a label for headers."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter
from PySide6.QtWidgets import QLabel, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from desktop.app import format as fmt
from desktop.app.models.base import CATEGORY_ROLE

_PAD_X = 8
_PAD_Y = 3


class BadgeDelegate(QStyledItemDelegate):
    """Paints a cell's category (``CATEGORY_ROLE``) as a rounded, coloured pill."""

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        """Draw the selection background, then the pill."""
        category = index.data(CATEGORY_ROLE)
        if category is None:
            super().paint(painter, option, index)
            return
        style = option.widget.style() if option.widget is not None else None
        if style is not None:
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget)
        label = fmt.category_label(category)
        background, foreground = fmt.category_colours(category)
        metrics = QFontMetrics(option.font)
        width = metrics.horizontalAdvance(label) + 2 * _PAD_X
        height = metrics.height() + 2 * _PAD_Y
        rect = option.rect
        pill = QRectF(rect.x() + 6, rect.y() + (rect.height() - height) / 2, width, height)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(background))
        painter.drawRoundedRect(pill, height / 2, height / 2)
        painter.setPen(QColor(foreground))
        font = option.font
        font.setBold(True)
        painter.setFont(font)
        painter.drawText(pill, int(Qt.AlignmentFlag.AlignCenter), label)
        painter.restore()

    def sizeHint(  # noqa: N802
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        """Wide enough for the pill."""
        hint = super().sizeHint(option, index)
        category = index.data(CATEGORY_ROLE)
        if category is not None:
            metrics = QFontMetrics(option.font)
            hint.setWidth(metrics.horizontalAdvance(fmt.category_label(category)) + 2 * _PAD_X + 14)
        return hint


class CategoryBadge(QLabel):
    """A category pill as a label (for the review pane's header)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.set_category(None)

    def set_category(self, category: str | None) -> None:
        """Show ``category`` (hidden when None)."""
        self.setVisible(category is not None)
        if category is None:
            return
        background, foreground = fmt.category_colours(category)
        self.setText(fmt.category_label(category))
        self.setStyleSheet(
            f"QLabel {{ background: {background}; color: {foreground}; border-radius: 10px;"
            " padding: 2px 10px; font-weight: 600; }"
        )
