"""Qt table models: thin adapters over rows (DTOs) fetched by services in the worker."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from kit_app.dto import CaseRow, ProjectRow, SourceRow
from kit_app.i18n import N_, _
from kit_app.services.cases import status_label
from kit_app.services.lifecycle import CaseStatus, DeadlineInfo
from kit_app.services.projects import STATUS_LABELS as PROJECT_STATUS
from kit_app.timeutil import format_local
from ui.deadlines import deadline_colour, deadline_text
from ui.tasks import TaskRunner

Index = QModelIndex | QPersistentModelIndex
Column = tuple[str, Callable[[Any], Any]]


class RowsModel(QAbstractTableModel):
    """Rows of one DTO type shown through a column spec. Never holds ORM objects."""

    columns: Sequence[Column] = ()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[Any] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> Any:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            if 0 <= section < len(self.columns):
                return _(self.columns[section][0])
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self.rows)):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            value = self.columns[index.column()][1](self.rows[index.row()])
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.UserRole:
            return self.rows[index.row()]
        return None


class SourceTableModel(RowsModel):
    """Pollution sources: search results, or the whole table browsed in name order.

    Browsing never loads the table: it fetches pages by keyset as the view scrolls (canFetchMore /
    fetchMore), each page in the database worker.
    """

    PAGE = 200
    columns = (
        (N_("Name"), lambda r: ("★ " if r.key_monitored else "") + r.name),
        (N_("Credit code"), lambda r: r.credit_code),
        (N_("County"), lambda r: r.county),
        (N_("Industry"), lambda r: r.industry),
        (N_("Address"), lambda r: r.address),
    )
    pageLoaded = Signal(int)

    def __init__(self, runner: TaskRunner, browse: Callable[..., list[tuple[SourceRow, tuple[str, int]]]],
                 parent: Any = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._browse = browse
        self._cursor: tuple[str, int] | None = None
        self._exhausted = True
        self._loading = False
        self._generation = 0

    def start_browsing(self) -> None:
        self._generation += 1
        self._cursor = None
        self._exhausted = False
        self._loading = False
        self.set_rows([])
        self.fetchMore(QModelIndex())

    def show_results(self, rows: Sequence[SourceRow]) -> None:
        self._generation += 1
        self._exhausted = True
        self._loading = False
        self.set_rows(rows)

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008, N802
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008, N802
        if not self.canFetchMore(parent):
            return
        self._loading = True
        gen, after = self._generation, self._cursor
        self._runner.run(lambda: self._browse(after=after, limit=self.PAGE),
                         lambda page: self._append(gen, page))

    def _append(self, gen: int, page: list[tuple[SourceRow, tuple[str, int]]]) -> None:
        if gen != self._generation:
            return  # the user searched meanwhile: a stale page
        self._loading = False
        if len(page) < self.PAGE:
            self._exhausted = True
        if page:
            first = len(self.rows)
            self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
            self.rows.extend(r for r, _k in page)
            self.endInsertRows()
            self._cursor = page[-1][1]
        self.pageLoaded.emit(len(self.rows))


def _project_status(r: ProjectRow) -> str:
    return _(PROJECT_STATUS.get(r.status, r.status))


class ProjectTableModel(RowsModel):
    columns = (
        (N_("Project"), lambda r: r.name),
        (N_("Developer"), lambda r: r.developer),
        (N_("County"), lambda r: r.county),
        (N_("EIA approval"), lambda r: r.eia_approval_no),
        (N_("Approved on"), lambda r: r.eia_approval_date),
        (N_("Status"), _project_status),
        (N_("Accepted on"), lambda r: r.acceptance_date),
    )


class CaseTableModel(RowsModel):
    columns = (
        (N_("Case number"), lambda r: r.number),
        (N_("Title"), lambda r: r.title),
        (N_("Party"), lambda r: r.party_name),
        (N_("Status"), lambda r: status_label(r.status)),
        (N_("Officers"), lambda r: "、".join(r.officers)),
        (N_("Opened"), lambda r: format_local(r.opened_at)),
        (N_("Sync"), lambda r: sync_label(r.waiting)),
    )


def sync_label(waiting: int | None) -> str:
    """A case's sync state: synced only when the server's receipts cover all of it."""
    if waiting is None:
        return _("Local only")
    return _("Synced") if waiting == 0 else _("{n} waiting").format(n=waiting)


__all__ = ["CaseRow", "CaseTableModel", "ProjectTableModel", "RowsModel", "SourceTableModel"]


class DeadlineModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[CaseStatus, DeadlineInfo]] = []
        self.headers = [_("Due"), _("Deadline"), _("Case"), _("Party"), _("Stage")]

    def set_rows(self, rows: list[tuple[CaseStatus, DeadlineInfo]]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        st, d = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return [deadline_text(d), d.label, st.number, st.party_name, st.state_label][index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and (colour := deadline_colour(d)):
            return QColor(colour)
        if role == Qt.ItemDataRole.ToolTipRole:
            return d.basis
        return None


def image_of(data: bytes | None) -> Any:
    """A picture (QImage) from its bytes: an empty image when there are none."""
    from PySide6.QtGui import QImage

    return QImage.fromData(data) if data else QImage()
