"""Table models shared by the views: column definitions, custom roles, and lazy paging.

:class:`RowsModel` shows a list of row objects through :class:`Column` definitions.
:class:`PagedModel` adds ``canFetchMore``/``fetchMore``: each page is fetched by a background task
and appended when it arrives, so a view over a million rows reads only what it shows. A
generation counter drops pages that arrive after the model was reset (a new filter).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

if TYPE_CHECKING:
    from desktop.app.context import AppContext
    from engine.service import TriageService

R = TypeVar("R")

#: The row object behind an index.
ROW_ROLE = Qt.ItemDataRole.UserRole + 1
#: The row's stable key (run id, audit seq, contact id).
KEY_ROLE = Qt.ItemDataRole.UserRole + 2
#: The category name a badge delegate paints.
CATEGORY_ROLE = Qt.ItemDataRole.UserRole + 3

AnyIndex = QModelIndex | QPersistentModelIndex

_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


@dataclass(frozen=True)
class Column(Generic[R]):
    """One column: its title, the text of a row in it, and optional tooltip and alignment."""

    title: str
    text: Callable[[R], str]
    tooltip: Callable[[R], str] | None = None
    align: Qt.AlignmentFlag = _LEFT
    category: Callable[[R], str | None] | None = None
    width: int = 120


class RowsModel(QAbstractTableModel, Generic[R]):
    """A read-only table of row objects."""

    def __init__(
        self, columns: Sequence[Column[R]], key: Callable[[R], object], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._key = key
        self.rows: list[R] = []

    # --- Qt interface ---------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        """Rows loaded so far."""
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        """Number of columns."""
        return 0 if parent.isValid() else len(self.columns)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles."""
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self.columns):
            return self.columns[section].title
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Text, tooltip, alignment and custom roles of one cell."""
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.tooltip(row) if column.tooltip else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(column.align.value)
        if role == ROW_ROLE:
            return row
        if role == KEY_ROLE:
            return self._key(row)
        if role == CATEGORY_ROLE:
            return column.category(row) if column.category else None
        return None

    # --- rows -----------------------------------------------------------------------------------

    def set_rows(self, rows: Sequence[R]) -> None:
        """Replace every row."""
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def append_rows(self, rows: Sequence[R]) -> None:
        """Add rows at the end."""
        if not rows:
            return
        first = len(self.rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self.rows.extend(rows)
        self.endInsertRows()

    def row_at(self, row: int) -> R | None:
        """The row object at ``row`` (None when out of range)."""
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def key_of(self, row: R) -> object:
        """A row's stable key."""
        return self._key(row)

    def index_of_key(self, key: object) -> int:
        """Position of the row with ``key`` (-1 when not loaded)."""
        for position, row in enumerate(self.rows):
            if self._key(row) == key:
                return position
        return -1


class PagedModel(RowsModel[R]):
    """A table that fetches its rows page by page on worker threads.

    Subclasses implement :meth:`fetch_page`. ``loading_changed(bool)`` tells the view to show a
    busy hint; ``page_loaded(int)`` (rows in the page) fires after each page lands — tests wait
    on it; ``load_failed(str)`` carries the error of a page that could not be read.
    """

    loading_changed = Signal(bool)
    page_loaded = Signal(int)
    load_failed = Signal(str)

    page_size = 200

    def __init__(
        self,
        ctx: AppContext,
        columns: Sequence[Column[R]],
        key: Callable[[R], object],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(columns, key, parent)
        self._ctx = ctx
        self._generation = 0
        self._exhausted = False
        self._loading = False

    @property
    def loading(self) -> bool:
        """Whether a page is being fetched."""
        return self._loading

    def fetch_page(self, service: TriageService, after: R | None, limit: int) -> list[R]:
        """Rows following ``after`` (the last loaded row; None for the first page). Runs on a worker."""
        raise NotImplementedError

    def reload(self) -> None:
        """Forget every row and fetch the first page again (after a filter change or new data)."""
        self._generation += 1
        self._exhausted = False
        self._set_loading(False)
        self.set_rows([])
        self.fetchMore(QModelIndex())

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008, N802
        """Whether more rows may exist and none are being fetched."""
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008, N802
        """Start fetching the next page in the background."""
        if not self.canFetchMore(parent):
            return
        generation = self._generation
        after = self.rows[-1] if self.rows else None
        limit = self.page_size
        self._set_loading(True)
        self._ctx.call(
            f"Loading {type(self).__name__}",
            lambda service: self.fetch_page(service, after, limit),
            done=lambda rows: self._landed(generation, rows, limit),
            error=lambda exc: self._failed(generation, exc),
        )

    def _landed(self, generation: int, rows: list[R], limit: int) -> None:
        if generation != self._generation:
            return
        self._exhausted = len(rows) < limit
        self.append_rows(rows)
        self._set_loading(False)
        self.page_loaded.emit(len(rows))

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._exhausted = True
        self._set_loading(False)
        self.load_failed.emit(str(exc) or type(exc).__name__)

    def _set_loading(self, loading: bool) -> None:
        if loading != self._loading:
            self._loading = loading
            self.loading_changed.emit(loading)
