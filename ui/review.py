"""Review staff's pane: the queue of cases waiting for them (by step and deadline, most urgent first),
the selected case's completeness check and its review opinions, and the steps they take — take for
review, approve, send back with reasons, record an opinion, archive; plus printing papers of many
cases in one batch after a real preview."""

from __future__ import annotations

import html
from datetime import date
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from kit_app import roles as R
from kit_app.dto import OfficerInfo
from kit_app.i18n import N_, _, language
from kit_app.services.review import QueueRow, ReviewService
from kit_app.timeutil import LOCAL_TZ, format_local, utcnow
from ui.models import RowsModel
from ui.panes import Pane, _table
from ui.services import Services
from ui.tasks import SYNC, TaskRunner, describe_error

SENDS_BACK = {"under_review": "return_to_investigation", "legal_review": "return_from_legal_review"}
STEP_LABELS = {"start_review": N_("Take for review"), "approve_review": N_("Approve the review"),
               "approve_legal_review": N_("Approve the legal review"), "archive": N_("Archive")}


def may_review(officer: OfficerInfo) -> bool:
    return bool({R.REVIEWER, R.AGENCY_HEAD, R.ADMIN} & set(officer.roles))


def checks_html(checks: list[Any]) -> str:
    """The completeness check as the detail pane shows it: each check ticked or crossed, what is
    missing under it."""
    e = html.escape
    rows = []
    for c in checks:
        mark, colour = ("✓", "#1f5f1f") if c.ok else ("✗", "#b3261e")
        rows.append(f"<tr><td style='color:{colour}'><b>{mark}</b></td><td>{e(c.label)}</td></tr>")
        rows += [f"<tr><td></td><td style='color:{colour}'>{e(d)}</td></tr>" for d in c.details]
    return f"<h4>{e(_('Completeness'))}</h4><table cellpadding='2'>{''.join(rows)}</table>"


class QueueModel(RowsModel):
    columns = (
        (N_("Case number"), lambda r: r.number),
        (N_("Party"), lambda r: r.party),
        (N_("Title"), lambda r: r.title),
        (N_("Stage"), lambda r: r.state_label + (" · " + _("central server") if r.remote else "")),
        (N_("Next step"), lambda r: r.step_label + (" " + _("(sent, waiting for the case's kit)")
                                                    if r.pending else "")),
        (N_("Deadline"), lambda r: f"{r.due_label} {r.due.isoformat()}" if r.due else "—"),
        (N_("Days left"), lambda r: "" if r.days_left is None else str(r.days_left)),
    )

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index.row()) if index.isValid() else None
        if role == Qt.ItemDataRole.ForegroundRole and row is not None and index.column() >= 5:
            if row.overdue:
                return QColor("#b3261e")
            if row.days_left is not None and row.days_left <= 3:
                return QColor("#8a5a00")
        return super().data(index, role)


class ReviewPane(Pane):
    def __init__(self, services: Services, runner: TaskRunner, officer: OfficerInfo,
                 parent: QWidget | None = None) -> None:
        super().__init__(services, runner, officer, parent)
        self.review = ReviewService(services.store)
        self.step = QComboBox()
        self.step.setObjectName("review_step_filter")
        self.step.addItem(_("Every step"), None)
        for step, text in STEP_LABELS.items():
            self.step.addItem(_(text), step)
        self.due = QComboBox()
        self.due.setObjectName("review_due_filter")
        for text, days in ((N_("Any deadline"), None), (N_("Due within 3 days"), 3), (N_("Due within 7 days"), 7),
                           (N_("Overdue"), -1)):
            self.due.addItem(_(text), days)
        self.step.currentIndexChanged.connect(lambda _i: self.refresh())
        self.due.currentIndexChanged.connect(lambda _i: self.refresh())
        self.print_btn = QPushButton(_("Print papers…"))
        self.print_btn.setObjectName("batch_print")
        self.print_btn.setToolTip(_("Papers of many cases in one batch (e.g. today's service receipts), previewed "
                                    "before printing"))
        self.print_btn.clicked.connect(self.batch_print)
        self.remote_btn = QPushButton(_("From the central server…"))
        self.remote_btn.setObjectName("review_remote")
        self.remote_btn.setToolTip(_("Sign in at the central server to review the cases other kits of your agency "
                                     "hold; the steps you take there reach their kits at their next sync"))
        self.remote_btn.clicked.connect(self.sign_in_remote)
        self.remote_token: str | None = None
        self.remote: list[QueueRow] = []
        self.count = QLabel()
        self.model = QueueModel(self)
        self.view = _table(self.model)
        self.view.setObjectName("review_queue")
        for col, width in enumerate((200, 190, 120, 110, 150, 170)):
            self.view.setColumnWidth(col, width)
        self.view.selectionModel().selectionChanged.connect(lambda *_a: self._selected())
        self.detail = QTextBrowser()
        self.detail.setObjectName("review_detail")
        self.act_btn = QPushButton(_("Approve"))
        self.act_btn.setObjectName("review_approve")
        self.back_btn = QPushButton(_("Send back…"))
        self.back_btn.setObjectName("review_send_back")
        self.opinion_btn = QPushButton(_("Record opinion…"))
        self.opinion_btn.setObjectName("review_opinion")
        self.file_btn = QPushButton(_("Case file…"))
        self.file_btn.setObjectName("review_case_file")
        self.act_btn.clicked.connect(self.approve)
        self.back_btn.clicked.connect(self.send_back)
        self.opinion_btn.clicked.connect(self.record_opinion)
        self.file_btn.clicked.connect(self.case_file)
        for b in (self.act_btn, self.back_btn, self.opinion_btn, self.file_btn):
            b.setEnabled(False)
        top = QHBoxLayout()
        top.addWidget(QLabel(_("Waiting for:")))
        top.addWidget(self.step)
        top.addWidget(self.due)
        top.addWidget(self.count, 1)
        top.addWidget(self.remote_btn)
        top.addWidget(self.print_btn)
        actions = QHBoxLayout()
        for b in (self.act_btn, self.back_btn, self.opinion_btn, self.file_btn):
            actions.addWidget(b)
        actions.addStretch(1)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addLayout(actions)
        rl.addWidget(self.detail, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        self.refresh()

    # ---------------------------------------------------------------- the queue
    def refresh(self) -> None:
        step, days = self.step.currentData(), self.due.currentData()
        officer = self.officer

        def load() -> list[QueueRow]:
            rows = self.review.queue(officer, step=step, due_within=None if days == -1 else days)
            rows = [r for r in rows if r.overdue] if days == -1 else rows
            # the cases of other kits, as the central server holds them, by the same filters
            others = [r for r in self.remote if (step is None or r.step == step) and (
                days is None or (r.overdue if days == -1 else r.days_left is not None and r.days_left <= days))]
            return sorted(rows + others, key=lambda r: (r.due is None, r.due or date.max, r.number))

        self.runner.run(load, self._got, self.fail)

    def _got(self, rows: list[QueueRow]) -> None:
        current = self.current()
        self.model.set_rows(rows)
        self.count.setText(_("{n} cases waiting").format(n=len(rows)))
        again = next((i for i, r in enumerate(rows) if current is not None and r.case_id == current.case_id), None)
        if again is not None:
            self.view.selectRow(again)
        else:
            self.detail.clear()
            self._buttons(None)

    def current(self) -> QueueRow | None:
        idx = self.view.selectionModel().selectedRows() if self.view.selectionModel() else []
        row: QueueRow | None = self.model.row_at(idx[0].row()) if idx else None
        return row

    def _buttons(self, row: QueueRow | None) -> None:
        self.act_btn.setEnabled(row is not None and not (row.remote and row.step == "archive"))
        self.act_btn.setText(_(STEP_LABELS[row.step]) if row is not None else _("Approve"))
        self.back_btn.setEnabled(row is not None and row.state in SENDS_BACK)
        self.opinion_btn.setEnabled(row is not None)
        self.file_btn.setEnabled(row is not None and not row.remote)

    def _selected(self) -> None:
        row = self.current()
        self._buttons(row)
        if row is None:
            return
        cid, officer = row.case_id, self.officer
        if row.remote:
            store, token = self.services.store, self.remote_token or ""

            def fetch() -> tuple[Any, Any]:
                from kit_app.sync import remote_review

                detail = remote_review.case(store, token, cid)
                return self.review.check_remote(detail), detail

            self.runner.run(fetch, lambda got: self._show_remote(cid, *got), self.fail, lane=SYNC)
            return

        def load() -> tuple[Any, Any]:
            return self.review.check(cid, officer), self.services.lifecycle.status(cid, officer)

        self.runner.run(load, lambda got: self._show(cid, *got), self.fail)

    def _show(self, case_id: str, checks: list[Any], status: Any) -> None:
        row = self.current()
        if row is None or row.case_id != case_id:
            return
        e = html.escape
        parts = [f"<h3>{e(status.number)} {e(status.party_name)} {e(status.title)}</h3>",
                 f"<p><b>{e(_('Stage'))}:</b> {e(status.state_label)}</p>",
                 checks_html(checks)]
        review_steps = {"start_review", "approve_review", "review_opinion", "return_to_investigation",
                        "refer_legal_review", "approve_legal_review", "return_from_legal_review", "archive"}
        opinions = [h for h in status.history if h.action in review_steps]
        if opinions:
            parts.append(f"<h4>{e(_('Review opinions and steps'))}</h4><table cellpadding='2'>")
            for h in opinions:
                parts.append(f"<tr><td style='color:#666;white-space:nowrap'>{e(format_local(h.at))}</td>"
                             f"<td>{e(h.action_label)}</td><td>{e(h.actor)}</td><td>{e(h.reason or '')}</td></tr>")
            parts.append("</table>")
        self.detail.setHtml("".join(parts))

    def _show_remote(self, case_id: str, checks: list[Any], detail: dict[str, Any]) -> None:
        row = self.current()
        if row is None or row.case_id != case_id:
            return
        e = html.escape
        steps = {a.id: (a.label if language() == "zh_CN" else a.label_en)
                 for a in self.services.lifecycle.procedure.actions.values()}
        elsewhere = _("Held by another kit: what you decide here is sent to it through the central server and "
                      "taken at its next sync.")
        parts = [f"<h3>{e(row.number)} {e(row.party)} {e(row.title)}</h3>",
                 f"<p><b>{e(_('Stage'))}:</b> {e(row.state_label)}</p>",
                 f"<p style='color:#555'>{e(elsewhere)}</p>",
                 checks_html(checks)]
        history = [h for h in (detail.get("case") or {}).get("history") or [] if isinstance(h, dict)]
        if history:
            parts.append(f"<h4>{e(_('Review opinions and steps'))}</h4><table cellpadding='2'>")
            for h in history:
                parts.append(f"<tr><td>{e(steps.get(str(h.get('action')), str(h.get('action'))))}</td>"
                             f"<td>{e(h.get('actor_name') or '')}</td><td>{e(h.get('reason') or '')}</td></tr>")
            parts.append("</table>")
        self.detail.setHtml("".join(parts))

    def sign_in_remote(self) -> None:
        """Sign in at the central server (the officer's own password) and add the cases other kits of
        the agency hold that wait for review."""
        password, ok = QInputDialog.getText(self, _("Central server"), _(
            "Your password at the central server (the session lasts 12 hours):"), QLineEdit.EchoMode.Password)
        if not ok or not password:
            return
        store, cert = self.services.store, self.officer.cert_no

        def fetch() -> tuple[str, list[dict[str, Any]]]:
            from kit_app.sync import remote_review

            token = remote_review.sign_in(store, cert, password)
            return token, remote_review.queue(store, token)

        def got(res: tuple[str, list[dict[str, Any]]]) -> None:
            self.remote_token = res[0]
            self.runner.run(lambda: self.review.remote_rows(res[1]), remote_rows, self.fail)

        def remote_rows(rows: list[QueueRow]) -> None:
            self.remote = rows
            self.status_message.emit(_("{n} cases of other kits wait for review at the central server.").format(
                n=len(rows)))
            self.refresh()

        self.runner.run(fetch, got, self.fail, lane=SYNC)

    def _send(self, row: QueueRow, action: str, reason: str | None, said: str) -> None:
        """A step on another kit's case: checked by the central server, then taken by that kit."""
        store, token, cid = self.services.store, self.remote_token or "", row.case_id

        def send() -> list[dict[str, Any]]:
            from kit_app.sync import remote_review

            remote_review.send_step(store, token, cid, action, reason)
            return remote_review.queue(store, token)

        def sent(rows: list[dict[str, Any]]) -> None:
            self.status_message.emit(said + " " + _("Sent to the case's kit: it takes the step at its next sync."))
            self.runner.run(lambda: self.review.remote_rows(rows), self._remote_again, self.fail)

        self.runner.run(send, sent, lambda exc: self.status_message.emit(describe_error(exc)), lane=SYNC)

    def _remote_again(self, rows: list[QueueRow]) -> None:
        self.remote = rows
        self.refresh()

    # ---------------------------------------------------------------- the steps
    def _act(self, work: Any, done_text: str) -> None:
        def done(_r: object) -> None:
            self.status_message.emit(done_text)
            self.data_changed.emit("cases")
            self.refresh()

        self.runner.run(work, done, lambda exc: self.status_message.emit(describe_error(exc)))

    def approve(self) -> None:
        row = self.current()
        if row is None:
            return
        officer, cid = self.officer, row.case_id
        if row.remote:
            self._send(row, row.step, None, _("{step}: {case}").format(step=_(STEP_LABELS[row.step]),
                                                                       case=row.number))
            return
        if row.step == "archive":
            work: Any = lambda: self.services.casefile.archive(cid, officer)  # noqa: E731 - the case file with it
        else:
            work = lambda: self.services.lifecycle.act(cid, row.step, officer)  # noqa: E731
        self._act(work, _("{step}: {case}").format(step=_(STEP_LABELS[row.step]), case=row.number))

    def send_back(self) -> None:
        row = self.current()
        if row is None or row.state not in SENDS_BACK:
            return
        reason, ok = QInputDialog.getMultiLineText(self, _("Send back"), _("What must be done (the reason is kept "
                                                                          "in the case):"))
        if ok and row.remote:
            self._send(row, SENDS_BACK[row.state], reason, _("Sent back: {case}").format(case=row.number))
        elif ok:
            officer, cid, action = self.officer, row.case_id, SENDS_BACK[row.state]
            self._act(lambda: self.services.lifecycle.act(cid, action, officer, reason=reason),
                      _("Sent back: {case}").format(case=row.number))

    def record_opinion(self) -> None:
        row = self.current()
        if row is None:
            return
        text, ok = QInputDialog.getMultiLineText(self, _("Record opinion"), _("The review opinion (kept in the case, "
                                                                             "never changed):"))
        if ok and row.remote:
            self._send(row, "review_opinion", text, _("Opinion recorded: {case}").format(case=row.number))
        elif ok:
            officer, cid = self.officer, row.case_id
            self._act(lambda: self.services.lifecycle.act(cid, "review_opinion", officer, reason=text),
                      _("Opinion recorded: {case}").format(case=row.number))

    def case_file(self) -> Any:
        from ui.casefile import show_case_file

        row = self.current()
        if row is None:
            return None
        self.casefile_progress = show_case_file(self, self.services, self.runner, self.officer, row.case_id,
                                                f"{row.number} {row.title}", self.status_message.emit)
        return self.casefile_progress

    def batch_print(self) -> BatchPrintDialog:
        dlg = BatchPrintDialog(self.services, self.runner, self.officer, self)
        dlg.show()
        self.batch_dialog = dlg
        return dlg

    def on_data_changed(self, what: str) -> None:
        if what == "cases":
            self.refresh()


class BatchPrintDialog(QDialog):
    """Papers of many cases: chosen by type and day of issue, ticked, previewed, then printed; each
    print is a custody event ``printed`` of the paper."""

    def __init__(self, services: Services, runner: TaskRunner, officer: OfficerInfo,
                 parent: QWidget | None = None) -> None:
        import forms

        super().__init__(parent)
        self.services, self.runner, self.officer = services, runner, officer
        self.setWindowTitle(_("Print papers of many cases"))
        self.resize(760, 520)
        self.type = QComboBox()
        self.type.setObjectName("batch_type")
        for d in sorted(forms.definitions().values(), key=lambda d: d.title):
            self.type.addItem(d.title, d.id)
        self.type.setCurrentIndex(max(0, self.type.findData("service_receipt")))
        self.only_day = QCheckBox(_("Issued on"))
        self.only_day.setChecked(True)
        today = utcnow().astimezone(LOCAL_TZ).date()  # the kit's local day, whatever the laptop's zone
        self.day = QDateEdit(QDate(today.year, today.month, today.day))
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        self.list = QListWidget()
        self.list.setObjectName("batch_documents")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.preview_btn = QPushButton(_("Preview and print…"))
        self.preview_btn.setObjectName("batch_preview")
        self.preview_btn.clicked.connect(self.preview)
        for w in (self.type, self.day):
            (w.currentIndexChanged if isinstance(w, QComboBox) else w.dateChanged).connect(lambda *_a: self.load())
        self.only_day.toggled.connect(lambda _c: self.load())
        row = QHBoxLayout()
        row.addWidget(self.type, 1)
        row.addWidget(self.only_day)
        row.addWidget(self.day)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.preview_btn)
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(self.list, 1)
        lay.addLayout(bottom)
        self.load()

    def load(self) -> None:
        doc_type = self.type.currentData()
        d = self.day.date()
        day = date(d.year(), d.month(), d.day()) if self.only_day.isChecked() else None

        def got(rows: list[dict[str, Any]]) -> None:
            self.list.clear()
            for r in rows:
                item = QListWidgetItem(f"{r['case_number']}  {r['party']}  {r['number'] or r['title']}  "
                                       f"{r['issued_local']}")
                item.setData(Qt.ItemDataRole.UserRole, r)
                item.setCheckState(Qt.CheckState.Checked)
                self.list.addItem(item)
            self.status.setText(_("{n} papers").format(n=len(rows)))

        self.runner.run(lambda: self.services.documents.find(doc_type, day), got,
                        lambda e: self.status.setText(describe_error(e)))

    def chosen(self) -> list[dict[str, Any]]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def preview(self) -> None:
        from ui.documents import choose_printer, print_batch
        from ui.printpreview import PrintPreview

        docs = self.chosen()
        if not docs:
            self.status.setText(_("Tick the papers to print."))
            return
        services = self.services

        def load() -> list[tuple[str, bytes]]:
            return [(d["id"], services.documents.pdf_path(d["id"]).read_bytes()) for d in docs]

        def loaded(got: list[tuple[str, bytes]]) -> None:
            titles = {d["id"]: f"{d['case_number']} {d['number'] or d['title']}" for d in docs}
            self.preview_dialog = PrintPreview(self, [(titles[i], pdf) for i, pdf in got], lambda printer: print_batch(
                self.services, self.runner, self.officer, got, printer, self.status.setText), choose_printer)
            self.preview_dialog.open()

        self.runner.run(load, loaded, lambda e: self.status.setText(describe_error(e)))


__all__ = ["BatchPrintDialog", "ReviewPane", "may_review"]
