"""A table view set up the same way everywhere: whole rows, fixed row height, remembered columns."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from desktop.app.models.base import RowsModel
from desktop.app.style import ROW_HEIGHT
from desktop.app.widgets.badge import BadgeDelegate


def make_table(
    model: RowsModel[Any],
    *,
    name: str,
    multi_select: bool = False,
    stretch_column: int | None = None,
    parent: QWidget | None = None,
) -> QTableView:
    """A table over ``model``: row selection, badges in category columns, sensible widths.

    ``name`` becomes the object name, under which the column widths are remembered.
    """
    view = QTableView(parent)
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(
        QAbstractItemView.SelectionMode.ExtendedSelection
        if multi_select
        else QAbstractItemView.SelectionMode.SingleSelection
    )
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setShowGrid(False)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    vertical = view.verticalHeader()
    vertical.setVisible(False)
    vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    vertical.setDefaultSectionSize(ROW_HEIGHT)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setStretchLastSection(stretch_column is None)
    delegate = BadgeDelegate(view)
    for position, column in enumerate(model.columns):
        view.setColumnWidth(position, column.width)
        if column.category is not None:
            view.setItemDelegateForColumn(position, delegate)
    if stretch_column is not None:
        header.setSectionResizeMode(stretch_column, QHeaderView.ResizeMode.Stretch)
    return view


def selected_rows(view: QTableView) -> list[int]:
    """Row numbers selected in ``view``, in order."""
    selection = view.selectionModel()
    if selection is None:
        return []
    return sorted(index.row() for index in selection.selectedRows())
