"""The main window's panes: Sources (search and detail), Projects, Cases."""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from kit_app import roles as R
from kit_app.dto import OfficerInfo, ProjectRow, SourceDetail, SourceRow
from kit_app.i18n import _
from kit_app.services.cases import status_label
from kit_app.services.lifecycle import CaseStatus, DeadlineInfo
from kit_app.services.projects import STATUS_LABELS as PROJECT_STATUS
from kit_app.services.sources import CATEGORY_LABELS
from kit_app.timeutil import format_local
from ui.dialogs import AcceptanceDialog, NewCaseDialog
from ui.evidence import EvidencePanel
from ui.models import CaseTableModel, DeadlineModel, ProjectTableModel, SourceTableModel
from ui.services import Services
from ui.tasks import TaskRunner, describe_error


def _table(model: object) -> QTableView:
    view = QTableView()
    view.setModel(model)  # type: ignore[arg-type]
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(26)
    view.horizontalHeader().setStretchLastSection(True)
    view.setWordWrap(False)
    return view


def _e(v: object) -> str:
    return html.escape("" if v is None else str(v))


class Pane(QWidget):
    """Base of the panes: services, runner, the logged-in officer and a status line."""

    status_message = Signal(str)
    data_changed = Signal(str)  # "cases", "sources", "projects"
    capture_requested = Signal(str)  # a case: the window shows the devices, capturing to it

    def __init__(self, services: Services, runner: TaskRunner, officer: OfficerInfo,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.officer = officer

    def fail(self, exc: BaseException) -> None:
        self.status_message.emit(describe_error(exc))

    def on_data_changed(self, what: str) -> None:
        """Refresh what ``what`` ("cases", "sources", "projects") touched; panes override it."""

    def open_workspace(self, case_id: str) -> Any:
        """The inspection workspace of a case, wired to the window: what it records refreshes the
        panes, and taking a photo or reading for an item shows the devices."""
        from ui.inspection import InspectionWorkspace

        ws = InspectionWorkspace(self.services, self.runner, self.officer, case_id, self)
        ws.changed.connect(lambda: self.data_changed.emit("cases"))
        ws.capture_requested.connect(self.capture_requested)
        ws.show()
        self.workspace = ws
        return ws


class SourcesPane(Pane):
    """Search-as-you-type over the source table, with the selected source's details."""

    def __init__(self, services: Services, runner: TaskRunner, officer: OfficerInfo,
                 parent: QWidget | None = None) -> None:
        super().__init__(services, runner, officer, parent)
        self.search = QLineEdit()
        self.search.setObjectName("source_search")
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText(
            _("Search by name, credit code, permit number, address or pinyin initials (e.g. nnsqx)"))
        self.count = QLabel()
        self.count.setObjectName("result_count")
        self.model = SourceTableModel(runner, services.sources.browse, self)
        self.model.pageLoaded.connect(lambda n: self._show_count())
        self.view = _table(self.model)
        self.view.setObjectName("source_table")
        hh = self.view.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in enumerate((300, 170, 80, 170)):
            self.view.setColumnWidth(col, width)
        self.view.selectionModel().selectionChanged.connect(self._selected)
        self.view.doubleClicked.connect(lambda _i: self.new_case())

        self.detail = QTextBrowser()
        self.detail.setObjectName("source_detail")
        self.detail.setOpenLinks(False)
        self.new_case_btn = QPushButton(_("New case for this source…"))
        self.new_case_btn.setObjectName("new_case_for_source")
        self.new_case_btn.setEnabled(False)
        self.new_case_btn.setVisible(R.can(officer, "case.create"))
        self.new_case_btn.clicked.connect(self.new_case)
        self.inspect_btn = QPushButton(_("Start an on-site inspection…"))
        self.inspect_btn.setObjectName("start_inspection")
        self.inspect_btn.setEnabled(False)
        self.inspect_btn.setVisible(R.can(officer, "case.create"))
        self.inspect_btn.clicked.connect(self.start_inspection)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.detail)
        buttons = QHBoxLayout()
        buttons.addWidget(self.inspect_btn)
        buttons.addWidget(self.new_case_btn)
        rl.addLayout(buttons)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.view)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)

        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.count)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)

        self._total: int | None = None  # until counted
        self._seq = 0
        self._current: SourceDetail | None = None
        self.detail.setHtml(f"<p style='color:#777'>{_e(self._hint())}</p>")
        self._timer = QTimer(self, singleShot=True, interval=120)
        self._timer.timeout.connect(self._run_search)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self.refresh()

    # ---------------------------------------------------------------- search
    def refresh(self) -> None:
        self.runner.run(self.services.sources.count, self._got_total, self.fail)
        self._run_search()

    def _got_total(self, n: int) -> None:
        self._total = n
        self._show_count()
        if self._current is None:  # nothing shown yet: say what to do (on a new data dir, where data comes from)
            self.detail.setHtml(f"<p style='color:#777'>{_e(self._hint())}</p>")

    def _hint(self) -> str:
        if self._total is None or self._total:
            return _("Select a pollution source to see its details.")
        return _("There is no base data yet. An administrator imports it with File → Import pollution sources…, "
                 "or it arrives with the first sync once the kit is enrolled with the central server.")

    def _show_count(self, results: int | None = None, ms: float | None = None) -> None:
        if results is None:
            counted = f"{self._total:,}" if self._total is not None else ""
            self.count.setText(_("{n} pollution sources").format(n=counted) if counted else "")
        else:
            self.count.setText(_("{n} found in {ms} ms").format(n=results, ms=f"{ms:.0f}"))

    def _run_search(self) -> None:
        q = self.search.text().strip()
        self._seq += 1
        seq = self._seq
        if not q:
            self.model.start_browsing()
            self._show_count()
            return

        def work() -> tuple[list[SourceRow], float]:
            t = time.perf_counter()
            rows = [h.row for h in self.services.search.search(q, limit=200)]
            return rows, (time.perf_counter() - t) * 1000

        self.runner.run(work, lambda res: self._results(seq, *res), self.fail)

    def _results(self, seq: int, rows: list[SourceRow], ms: float) -> None:
        if seq != self._seq:
            return  # typing went on: a newer search is under way
        self.model.show_results(rows)
        self._show_count(len(rows), ms)
        if rows:
            self.view.selectRow(0)

    # ---------------------------------------------------------------- detail
    def _selected(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        idx = self.view.selectionModel().selectedRows()
        row = self.model.row_at(idx[0].row()) if idx else None
        self.new_case_btn.setEnabled(row is not None)
        self.inspect_btn.setEnabled(row is not None)
        if row is None:
            return
        self.runner.run(lambda: self.services.sources.get(row.id), self._show_detail, self.fail)

    def selected_row(self) -> SourceRow | None:
        idx = self.view.selectionModel().selectedRows()
        return self.model.row_at(idx[0].row()) if idx else None

    def _show_detail(self, d: SourceDetail) -> None:
        sel = self.selected_row()
        if sel is None or sel.id != d.id:
            return
        self._current = d
        cats = "、".join(_(CATEGORY_LABELS[c]) for c in d.categories) or "—"
        coords = f"{d.longitude:.6f}, {d.latitude:.6f}" if d.longitude is not None and d.latitude is not None else "—"
        rows = [
            (_("Credit code"), d.credit_code), (_("Permit number"), d.permit_no),
            (_("County"), f"{d.city or ''}{d.county or ''}"), (_("Address"), d.address),
            (_("Industry"), d.industry), (_("Legal representative"), d.legal_rep),
            (_("Phone"), d.contact_phone), (_("Longitude, latitude"), coords),
            (_("Pollution categories"), cats),
            (_("Key monitored"), _("Yes") if d.key_monitored else _("No")),
            (_("Online monitoring MN"), "<br>".join(_e(m) for m in d.mn_codes) or "—"),
        ]
        mn_label = _("Online monitoring MN")
        body = "".join(
            f"<tr><td style='color:#666;padding-right:12px;white-space:nowrap'>{_e(k)}</td>"
            f"<td>{v if k == mn_label else _e(v or '—')}</td></tr>"
            for k, v in rows
        )
        none_text = _("None")
        none = f"<li style='color:#777'>{_e(none_text)}</li>"
        projects = "".join(
            f"<li>{_e(p.name)} — {_e(_(PROJECT_STATUS.get(p.status, p.status)))}"
            f"{(' ' + _e(p.eia_approval_no)) if p.eia_approval_no else ''}</li>"
            for p in d.projects
        ) or none
        cases = "".join(
            f"<li>{_e(c.number)} {_e(c.title)} — {_e(status_label(c.status))}, "
            f"{_e(format_local(c.opened_at))}</li>"
            for c in d.cases
        ) or none
        origin = ""
        if d.origin_project_id:
            origin_text = _("Became a pollution source through the completion acceptance of a construction project.")
            origin = f"<p style='color:#555'>{_e(origin_text)}</p>"
        projects_title, cases_title = _("Construction projects"), _("Cases")
        self.detail.setHtml(
            f"<h2 style='margin-bottom:4px'>{_e(d.name)}{' ★' if d.key_monitored else ''}</h2>{origin}"
            f"<table cellspacing='0' cellpadding='3'>{body}</table>"
            f"<h3>{_e(projects_title)}</h3><ul>{projects}</ul>"
            f"<h3>{_e(cases_title)}</h3><ul>{cases}</ul>"
        )

    def new_case(self) -> None:
        row = self.selected_row()
        if row is None or not R.can(self.officer, "case.create"):
            return
        dlg = NewCaseDialog(self.services, self.runner, self.officer, source=row, parent=self)
        dlg.created.connect(lambda c: (self.status_message.emit(
            _("Opened case {number}.").format(number=c.number)), self.data_changed.emit("cases")))
        dlg.open()

    def start_inspection(self) -> Any:
        """Start an inspection of the selected source, then open its workspace."""
        from ui.inspection import start_inspection

        row = self.selected_row()
        if row is None or not R.can(self.officer, "case.create"):
            return None

        def started(case: Any) -> None:
            self.status_message.emit(_("Inspection {number} started.").format(number=case.number))
            self.data_changed.emit("cases")
            self.open_workspace(case.id)

        self.start_dialog = start_inspection(self, self.services, self.runner, self.officer, row, started)
        return self.start_dialog

    def on_data_changed(self, what: str) -> None:
        if what in ("cases", "projects") and (row := self.selected_row()) is not None:
            self.runner.run(lambda: self.services.sources.get(row.id), self._show_detail, self.fail)
        if what == "sources":
            self.refresh()


class ProjectsPane(Pane):
    def __init__(self, services: Services, runner: TaskRunner, officer: OfficerInfo,
                 parent: QWidget | None = None) -> None:
        super().__init__(services, runner, officer, parent)
        self.filter = QLineEdit()
        self.filter.setObjectName("project_filter")
        self.filter.setClearButtonEnabled(True)
        self.filter.setPlaceholderText(_("Filter by project, developer or approval number"))
        self.status = QComboBox()
        self.status.addItem(_("All statuses"), None)
        for key, label in PROJECT_STATUS.items():
            self.status.addItem(_(label), key)
        self.accept_btn = QPushButton(_("Record completion acceptance…"))
        self.accept_btn.setObjectName("accept_project")
        self.accept_btn.setEnabled(False)
        self.accept_btn.setVisible(R.can(officer, "project.accept"))
        self.accept_btn.clicked.connect(self.record_acceptance)
        self.model = ProjectTableModel(self)
        self.view = _table(self.model)
        self.view.setObjectName("project_table")
        for col, width in enumerate((330, 230, 80, 150, 95, 120)):
            self.view.setColumnWidth(col, width)
        self.view.selectionModel().selectionChanged.connect(self._selected)
        self.history = QTextBrowser()
        self.history.setMaximumHeight(150)
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.status)
        top.addWidget(self.accept_btn)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.view, 1)
        lay.addWidget(QLabel(_("History")))
        lay.addWidget(self.history)
        self._timer = QTimer(self, singleShot=True, interval=150)
        self._timer.timeout.connect(self.refresh)
        self.filter.textChanged.connect(lambda _t: self._timer.start())
        self.status.currentIndexChanged.connect(lambda _i: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        text, status = self.filter.text().strip(), self.status.currentData()
        self.runner.run(lambda: self.services.projects.find(text=text, status=status, limit=5000),
                        self.model.set_rows, self.fail)

    def selected(self) -> ProjectRow | None:
        idx = self.view.selectionModel().selectedRows()
        return self.model.row_at(idx[0].row()) if idx else None

    def _selected(self, *_a: object) -> None:
        p = self.selected()
        self.accept_btn.setEnabled(p is not None and p.status != "accepted")
        if p is None:
            self.history.clear()
            return
        self.runner.run(lambda: self.services.projects.history(p.id), self._show_history, self.fail)

    def _show_history(self, events: list) -> None:  # type: ignore[type-arg]
        labels = {
            "imported": _("Imported into the base data"),
            "accepted": _("Completion acceptance recorded"),
            "converted_to_source": _("Became a new pollution source"),
            "linked_to_source": _("Linked to the developer's pollution source"),
        }
        self.history.setHtml("<br>".join(
            f"{_e(format_local(e.at))}　{_e(labels.get(e.kind, e.kind))}"
            f"{('　' + _e(e.officer_name)) if e.officer_name else ''}"
            f"{('　' + _e(e.detail.get('source_name'))) if e.detail.get('source_name') else ''}"
            for e in events))

    def record_acceptance(self) -> None:
        p = self.selected()
        if p is None:
            return
        dlg = AcceptanceDialog(self.services, self.runner, self.officer, p, parent=self)

        def recorded(result: tuple[ProjectRow, str, bool]) -> None:
            _p, _sid, created = result
            self.status_message.emit(
                _("Acceptance recorded: a new pollution source was created.") if created
                else _("Acceptance recorded: linked to the developer's pollution source."))
            self.data_changed.emit("projects")
            self.data_changed.emit("sources")

        dlg.recorded.connect(recorded)
        dlg.open()

    def on_data_changed(self, what: str) -> None:
        if what == "projects":
            self.refresh()


class CasesPane(Pane):
    def __init__(self, services: Services, runner: TaskRunner, officer: OfficerInfo,
                 parent: QWidget | None = None) -> None:
        super().__init__(services, runner, officer, parent)
        self.filter = QLineEdit()
        self.filter.setClearButtonEnabled(True)
        self.filter.setPlaceholderText(_("Filter by number, title or party"))
        self.new_btn = QPushButton(_("New case…"))
        self.new_btn.setObjectName("new_case")
        self.new_btn.setVisible(R.can(officer, "case.create"))
        self.new_btn.clicked.connect(self.new_case)
        self.docs_btn = QPushButton(_("Documents…"))
        self.docs_btn.setObjectName("case_documents_button")
        self.docs_btn.setToolTip(_("Write, issue and print the case's enforcement documents"))
        self.docs_btn.setEnabled(False)
        self.docs_btn.clicked.connect(self.open_documents)
        self.procedure_btn = QPushButton(_("Procedure…"))
        self.procedure_btn.setObjectName("case_procedure_button")
        self.procedure_btn.setToolTip(_("Where the case stands, its deadlines and the next steps"))
        self.procedure_btn.setEnabled(False)
        self.procedure_btn.clicked.connect(lambda: self.open_procedure())
        self.inspection_btn = QPushButton(_("Inspection…"))
        self.inspection_btn.setObjectName("case_inspection_button")
        self.inspection_btn.setToolTip(_("The on-site inspection: steps, checklists, findings"))
        self.inspection_btn.setEnabled(False)
        self.inspection_btn.clicked.connect(lambda: self.open_inspection())
        self.casefile_btn = QPushButton(_("Case file…"))
        self.casefile_btn.setObjectName("case_file_button")
        self.casefile_btn.setToolTip(_("The case file (案卷): contents, papers in archive order, page numbers; "
                                       "preview and print"))
        self.casefile_btn.setEnabled(False)
        self.casefile_btn.clicked.connect(self.open_case_file)
        self.pack_btn = QPushButton(_("Court pack…"))
        self.pack_btn.setObjectName("court_pack_button")
        self.pack_btn.setToolTip(_("A zip for the court: the case file, every original, custody, receipts and a "
                                   "verifier anyone can run"))
        self.pack_btn.setEnabled(False)
        self.pack_btn.clicked.connect(lambda: self.export_court_pack())
        self.model = CaseTableModel(self)
        self.view = _table(self.model)
        self.view.setObjectName("case_table")
        for col, width in enumerate((230, 190, 220, 70, 120, 140, 100)):
            self.view.setColumnWidth(col, width)
        self.evidence = EvidencePanel(services.evidence, runner, officer, services.officers.list,
                                      lambda cid: services.cases.overview(cid)
                                      | {"procedure": services.lifecycle.status(cid)})
        self.evidence.status_message.connect(self.status_message)
        self.view.selectionModel().selectionChanged.connect(self._case_selected)
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.inspection_btn)
        top.addWidget(self.procedure_btn)
        top.addWidget(self.docs_btn)
        top.addWidget(self.casefile_btn)
        top.addWidget(self.pack_btn)
        top.addWidget(self.new_btn)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(self.evidence)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 2)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        self._timer = QTimer(self, singleShot=True, interval=150)
        self._timer.timeout.connect(self.refresh)
        self.filter.textChanged.connect(lambda _t: self._timer.start())
        self.refresh()

    def refresh(self) -> None:
        text = self.filter.text().strip()
        self.runner.run(lambda: self.services.cases.find(text=text), self._got_cases, self.fail)

    def _got_cases(self, rows: list) -> None:  # type: ignore[type-arg]
        selected = self.evidence.case_id
        self.model.set_rows(rows)
        for i, r in enumerate(rows):
            if r.id == selected:
                self.view.selectRow(i)
                self.evidence.refresh_overview()
                return
        self.evidence.set_case(None, "")

    def _case_selected(self, *_a: object) -> None:
        idx = self.view.selectionModel().selectedRows()
        row = self.model.row_at(idx[0].row()) if idx else None
        if row is None or row.id != self.evidence.case_id:
            self.evidence.set_case(row.id if row else None, f"{row.number} {row.title}" if row else "")
        self.docs_btn.setEnabled(row is not None)
        self.casefile_btn.setEnabled(row is not None)
        self.pack_btn.setEnabled(row is not None)
        self.procedure_btn.setEnabled(row is not None)
        self.inspection_btn.setEnabled(row is not None and row.kind == "inspection")

    def open_inspection(self, case_id: str | None = None) -> Any:
        """The inspection workspace of ``case_id`` (else of the selected case)."""
        if case_id is None:
            idx = self.view.selectionModel().selectedRows()
            row = self.model.row_at(idx[0].row()) if idx else None
            if row is None or row.kind != "inspection":
                return None
            case_id = row.id
        return self.open_workspace(case_id)

    def open_procedure(self, case_id: str | None = None, title: str = "") -> Any:
        """The procedure dialog of ``case_id`` (else of the selected case)."""
        from ui.procedure import CaseProcedureDialog

        if case_id is None:
            idx = self.view.selectionModel().selectedRows()
            row = self.model.row_at(idx[0].row()) if idx else None
            if row is None:
                return None
            case_id, title = row.id, f"{row.number} {row.title}"
        dlg = CaseProcedureDialog(self.services, self.runner, self.officer, case_id, title, self)
        dlg.changed.connect(lambda: self.data_changed.emit("cases"))
        dlg.show()
        self.procedure_dialog = dlg
        return dlg

    def _selected(self) -> Any:
        idx = self.view.selectionModel().selectedRows()
        return self.model.row_at(idx[0].row()) if idx else None

    def open_case_file(self) -> Any:
        from ui.casefile import show_case_file

        row = self._selected()
        if row is None:
            return None
        self.casefile_progress = show_case_file(self, self.services, self.runner, self.officer, row.id,
                                                f"{row.number} {row.title}", self.status_message.emit)
        return self.casefile_progress

    def export_court_pack(self, target: Path | None = None) -> Any:
        from ui.casefile import export_court_pack

        row = self._selected()
        if row is None:
            return None
        self.pack_progress = export_court_pack(self, self.services, self.runner, self.officer, row.id, row.number,
                                               self.status_message.emit, target)
        if self.pack_progress is not None:
            self.pack_progress.finished.connect(lambda _r=0: self.evidence.refresh())
        return self.pack_progress

    def open_documents(self) -> Any:
        from ui.documents import CaseDocumentsDialog

        idx = self.view.selectionModel().selectedRows()
        row = self.model.row_at(idx[0].row()) if idx else None
        if row is None:
            return None
        dlg = CaseDocumentsDialog(self.services, self.runner, self.officer, row.id, f"{row.number} {row.title}", self)
        dlg.finished.connect(lambda _r: self.evidence.refresh())
        dlg.show()
        self.documents_dialog = dlg
        return dlg

    def new_case(self, source: SourceRow | None = None) -> NewCaseDialog:
        dlg = NewCaseDialog(self.services, self.runner, self.officer, source=source, parent=self)
        dlg.created.connect(lambda c: (self.status_message.emit(
            _("Opened case {number}.").format(number=c.number)), self.data_changed.emit("cases")))
        dlg.open()
        return dlg

    def on_data_changed(self, what: str) -> None:
        if what == "cases":
            self.refresh()
        if what == "evidence" and self.evidence.case_id:
            self.evidence.refresh()


class DeadlinesPane(Pane):
    """The deadlines of the officer's cases (every open case for reviewers and agency heads),
    most urgent first; a double click opens the case's procedure."""

    open_case = Signal(str, str)  # case id, title

    def __init__(self, services: Services, runner: TaskRunner, officer: OfficerInfo,
                 parent: QWidget | None = None) -> None:
        super().__init__(services, runner, officer, parent)
        self.model = DeadlineModel(self)
        self.view = QTableView()
        self.view.setObjectName("deadline_table")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.verticalHeader().hide()
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.doubleClicked.connect(self._open)
        self.summary = QLabel()
        self.summary.setObjectName("deadline_summary")
        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addWidget(self.view, 1)
        self.refresh()

    def refresh(self) -> None:
        officer = self.officer
        self.runner.run(lambda: self.services.lifecycle.my_deadlines(officer), self._show, self.fail)

    def _show(self, rows: list[tuple[CaseStatus, DeadlineInfo]]) -> None:
        self.model.set_rows(rows)
        overdue = sum(1 for _s, d in rows if d.overdue)
        soon = sum(1 for _s, d in rows if not d.overdue and d.kind == "due" and d.days_left <= 3)
        self.summary.setText(_("Open deadlines: {n} — overdue: {overdue}, due within three days: {soon}.").format(
            n=len(rows), overdue=overdue, soon=soon) if rows else _("No open deadline on your cases."))
        self.urgent.emit(overdue + soon)

    urgent = Signal(int)  # overdue or due within three days

    def _open(self, index: QModelIndex) -> None:
        st, _d = self.model.rows[index.row()]
        self.open_case.emit(st.case_id, f"{st.number} {st.title}")

    def on_data_changed(self, what: str) -> None:
        if what in ("cases", "evidence", "documents"):
            self.refresh()


PaneFactory = Callable[[Services, TaskRunner, OfficerInfo], Pane]
__all__ = ["CasesPane", "DeadlinesPane", "Pane", "ProjectsPane", "SourcesPane"]
