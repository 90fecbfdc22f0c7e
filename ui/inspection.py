"""The on-site inspection in the window: starting one for a source, and the workspace that walks
the officer through it — the team's confirmations, the opening steps, every checklist item with
what to check, how, its legal basis and the photos it needs — always showing the progress and
what to do next, and ending it (compliant, with an order to correct, or proposed for filing) when
nothing required is missing.

Everything recorded is written at once by the core (``kit_app.services.inspections``), so after a
crash or power cut the workspace opens where the inspection stopped.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSplitter,
    QStackedWidget,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from forms import inspection as F
from kit_app import roles as R
from kit_app.dto import OfficerInfo, SourceRow
from kit_app.i18n import _, language
from kit_app.services.inspections import (
    ANSWERS,
    ORIGINS,
    STEP_FIELDS,
    STEPS,
    InspectionStatus,
    ItemState,
    step_field_label,
)
from kit_app.timeutil import format_local
from ui.dialogs import TaskDialog
from ui.services import Services
from ui.tasks import TaskRunner, describe_error

ENDINGS = (("finish_compliant", "compliant"), ("finish_with_order", "correction_order"), ("propose_filing", "case"))


def _text(zh: str, en: str) -> str:
    return zh if language() == "zh_CN" else en


class StartInspectionDialog(TaskDialog):
    """Where the inspection comes from, the team and the recorder."""

    started = Signal(object)  # CaseDetail

    def __init__(self, services: Services, runner: TaskRunner, officer: OfficerInfo, source: SourceRow,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.runner, self.officer, self.source = services, runner, officer, source
        self.setWindowTitle(_("Start an on-site inspection"))
        self.setMinimumWidth(520)
        self.origin = QComboBox()
        self.origin.setObjectName("origin")
        for key, text in ORIGINS.items():
            self.origin.addItem(_(text), key)
        self.origin.setCurrentIndex(self.origin.findData("routine"))
        self.ref = QLineEdit()
        self.ref.setObjectName("origin_ref")
        self.ref.setPlaceholderText(_("for example: 2026年第四季度双随机抽查 第12号（抽取记录 SJ-…）"))
        self.team = QListWidget()
        self.team.setObjectName("team")
        self.team.setMaximumHeight(120)
        self.recorder = QComboBox()
        self.recorder.setObjectName("recorder")
        self.place = QLineEdit(source.address or "")
        form = QFormLayout()
        form.addRow(_("Party"), QLabel(f"{source.name}　{source.credit_code or ''}"))
        form.addRow(_("Comes from"), self.origin)
        form.addRow(_("Task, draw record or complaint number"), self.ref)
        form.addRow(_("Lead officer"), QLabel(f"{officer.name}（{officer.cert_no}）"))
        form.addRow(_("Other officers"), self.team)
        form.addRow(_("Recorder"), self.recorder)
        form.addRow(_("Place"), self.place)
        self.lay_out(form, on_ok=self._submit)
        self.team.itemChanged.connect(lambda _i: self._fill_recorders())
        self.runner.run(self.services.officers.list, self._fill)

    def _fill(self, officers: list[OfficerInfo]) -> None:
        for o in officers:
            if o.id == self.officer.id or not o.active or R.OFFICER not in o.roles:
                continue
            item = QListWidgetItem(f"{o.name}（{o.cert_no}）")
            item.setData(Qt.ItemDataRole.UserRole, o)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.team.addItem(item)
        self._fill_recorders()

    def chosen(self) -> list[OfficerInfo]:
        return [self.team.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.team.count())
                if self.team.item(i).checkState() == Qt.CheckState.Checked]

    def _fill_recorders(self) -> None:
        keep = self.recorder.currentData()
        self.recorder.clear()
        for o in [*self.chosen(), self.officer]:
            self.recorder.addItem(o.name, o.id)
        i = self.recorder.findData(keep)
        self.recorder.setCurrentIndex(max(i, 0))

    def _submit(self) -> None:
        team = [o.id for o in self.chosen()]
        origin, ref, rec, place = self.origin.currentData(), self.ref.text(), self.recorder.currentData(), \
            self.place.text()
        src = self.source
        self.submit_task(lambda: self.services.inspections.start(
            actor=self.officer, party=src.name, source_id=src.id, origin=origin, team=team, recorder=rec,
            origin_ref=ref, place=place), lambda c: (self.started.emit(c), self.accept()))


class InspectionWorkspace(QDialog):
    """Walks the inspection: each step and item on the left, what to do with it on the right."""

    changed = Signal()
    capture_requested = Signal(str)  # the case: the window shows the devices, capturing to it

    def __init__(self, services: Services, runner: TaskRunner, officer: OfficerInfo, case_id: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.runner, self.officer, self.case_id = services, runner, officer, case_id
        self.setObjectName("inspection_workspace")
        self.setWindowTitle(_("On-site inspection"))
        self.resize(1180, 760)
        self.status: InspectionStatus | None = None
        self.evidence: list[dict[str, Any]] = []
        self._capture_for: str | None = None  # the item a photo or reading is being taken for
        self._seen: set[str] = set()  # evidence there before it
        self.header = QLabel()
        self.header.setObjectName("header")
        self.header.setStyleSheet("font-size: 16px; font-weight: bold;")
        self.progress = QProgressBar()
        self.progress.setObjectName("progress")
        self.progress.setFormat(_("%v / %m required items"))
        self.next = QLabel()
        self.next.setObjectName("next_step")
        self.next.setWordWrap(True)
        self.next.setStyleSheet("font-size: 14px; color: #0d47a1;")
        self.end_btn = QPushButton(_("End the inspection"))
        self.end_btn.setObjectName("end_inspection")
        menu = QMenu(self)
        self.end_actions: dict[str, Any] = {}
        for action_id, _outcome in ENDINGS:
            act = menu.addAction(action_id)
            act.triggered.connect(lambda _c=False, a=action_id: self.end(a))
            self.end_actions[action_id] = act
        self.end_btn.setMenu(menu)
        self.record_btn = QPushButton(_("Draft the inspection record"))
        self.record_btn.setObjectName("draft_record")
        self.record_btn.clicked.connect(self.draft)
        top = QHBoxLayout()
        top.addWidget(self.header, 1)
        top.addWidget(self.record_btn)
        top.addWidget(self.end_btn)

        self.tree = QTreeWidget()
        self.tree.setObjectName("steps")
        self.tree.setHeaderHidden(True)
        self.tree.currentItemChanged.connect(lambda *_a: self._show_current())
        self.pages = QStackedWidget()
        self.step_page = self._step_page()
        self.item_page = self._item_page()
        self.team_page = self._team_page()
        for p in (self.team_page, self.step_page, self.item_page):
            self.pages.addWidget(p)
        split = QSplitter()
        split.addWidget(self.tree)
        split.addWidget(self.pages)
        split.setSizes([420, 760])
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.warning = QLabel()
        self.warning.setObjectName("number_warning")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #b26a00;")
        self.warning.hide()
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.progress)
        lay.addWidget(self.next)
        lay.addWidget(self.warning)
        lay.addWidget(split, 1)
        lay.addWidget(self.message)
        self.refresh()
        self.runner.run(lambda: services.inspections.number_warning(case_id), self._warn, lambda _e: None)

    def _warn(self, text: str | None) -> None:
        self.warning.setText(text or "")
        self.warning.setVisible(bool(text))

    # ------------------------------------------------------------ pages
    def _team_page(self) -> QWidget:
        page = QWidget()
        self.team_list = QLabel()
        self.team_list.setObjectName("team_list")
        self.team_list.setTextFormat(Qt.TextFormat.RichText)
        self.confirm_btn = QPushButton(_("Confirm an officer's presence…"))
        self.confirm_btn.setObjectName("confirm_presence")
        self.confirm_btn.clicked.connect(self.confirm)
        v = QVBoxLayout(page)
        v.addWidget(QLabel(_("Every officer of the team confirms being present with their own password.")))
        v.addWidget(self.team_list)
        v.addWidget(self.confirm_btn)
        v.addStretch(1)
        return page

    def _step_page(self) -> QWidget:
        page = QWidget()
        self.step_title = QLabel()
        self.step_title.setStyleSheet("font-size: 15px; font-weight: bold;")
        self.step_done = QLabel()
        self.step_done.setObjectName("step_done")
        self.step_form = QFormLayout()
        self.step_inputs: dict[str, QLineEdit] = {}
        holder = QWidget()
        holder.setLayout(self.step_form)
        self.step_evidence = QComboBox()
        self.step_evidence.setObjectName("step_evidence")
        self.step_btn = QPushButton(_("Record it now"))
        self.step_btn.setObjectName("record_step")
        self.step_btn.clicked.connect(self.record_step)
        v = QVBoxLayout(page)
        v.addWidget(self.step_title)
        v.addWidget(self.step_done)
        v.addWidget(holder)
        v.addWidget(QLabel(_("Photo or clip of it (optional)")))
        v.addWidget(self.step_evidence)
        v.addWidget(self.step_btn)
        v.addStretch(1)
        return page

    def _item_page(self) -> QWidget:
        page = QWidget()
        self.item_text = QTextBrowser()
        self.item_text.setObjectName("item_text")
        self.item_text.setMaximumHeight(230)
        self.answers = QButtonGroup(self)
        row = QHBoxLayout()
        self.answer_buttons: dict[str, QRadioButton] = {}
        for key, text in ANSWERS.items():
            b = QRadioButton(_(text))
            b.setObjectName(f"answer_{key}")
            self.answers.addButton(b)
            self.answer_buttons[key] = b
            row.addWidget(b)
        row.addStretch(1)
        self.note = QPlainTextEdit()
        self.note.setObjectName("note")
        self.note.setMaximumHeight(70)
        self.note.setPlaceholderText(_("What was seen, measured or said"))
        self.item_evidence = QListWidget()
        self.item_evidence.setObjectName("item_evidence")
        self.item_evidence.setMaximumHeight(110)
        self.save_btn = QPushButton(_("Save the answer"))
        self.save_btn.setObjectName("save_answer")
        self.save_btn.clicked.connect(self.save_answer)
        self.finding_box = QWidget()
        fl = QFormLayout(self.finding_box)
        self.violation = QComboBox()
        self.violation.setObjectName("violation")
        self.violation_info = QLabel()
        self.violation_info.setObjectName("violation_info")
        self.violation_info.setWordWrap(True)
        self.violation_info.setStyleSheet("color: #555;")
        self.violation.currentIndexChanged.connect(self._show_violation)
        self.finding = QPlainTextEdit()
        self.finding.setObjectName("finding")
        self.finding.setMaximumHeight(70)
        self.finding_btn = QPushButton(_("Record the finding"))
        self.finding_btn.setObjectName("record_finding")
        self.finding_btn.clicked.connect(self.record_finding)
        fl.addRow(_("Violation"), self.violation)
        fl.addRow("", self.violation_info)
        fl.addRow(_("What was found"), self.finding)
        fl.addRow("", self.finding_btn)
        v = QVBoxLayout(page)
        v.addWidget(self.item_text)
        v.addLayout(row)
        v.addWidget(QLabel(_("Notes")))
        v.addWidget(self.note)
        self.capture_btn = QPushButton(_("Take a photo or reading…"))
        self.capture_btn.setObjectName("capture_here")
        self.capture_btn.setToolTip(_("Shows the devices, capturing to this inspection; what is taken is ticked "
                                      "here for this item."))
        self.capture_btn.clicked.connect(self.capture)
        self.import_btn = QPushButton(_("Import photos…"))
        self.import_btn.setObjectName("import_here")
        self.import_btn.setToolTip(_("Photos and videos from a camera's card or a folder, imported into this "
                                     "inspection and ticked here for this item."))
        self.import_btn.clicked.connect(self.import_files)
        self.logger_btn = QPushButton(_("Data logger…"))
        self.logger_btn.setObjectName("logger_here")
        self.logger_btn.setToolTip(_("Read the enterprise's data logger and compare it with the portable analyzer; "
                                     "the record read is ticked here for this item."))
        self.logger_btn.clicked.connect(self.read_logger)
        self.logger_btn.hide()
        head = QHBoxLayout()
        head.addWidget(QLabel(_("Evidence for this item")), 1)
        head.addWidget(self.logger_btn)
        head.addWidget(self.import_btn)
        head.addWidget(self.capture_btn)
        v.addLayout(head)
        v.addWidget(self.item_evidence)
        v.addWidget(self.save_btn)
        v.addWidget(self.finding_box)
        v.addStretch(1)
        return page

    # ------------------------------------------------------------ loading
    def refresh(self) -> None:
        cid = self.case_id

        def work() -> tuple[InspectionStatus, list[dict[str, Any]], Any]:
            return (self.services.inspections.status(cid), self.services.evidence.list_for_case(cid),
                    self.services.lifecycle.status(cid, self.officer))

        self.runner.run(work, self._show, lambda e: self.message.setText(describe_error(e)))

    def _show(self, got: tuple[InspectionStatus, list[dict[str, Any]], Any]) -> None:
        st, evidence, life = got
        self.status, self.evidence = st, evidence
        self.header.setText(_("{party} ({number}) · {stage}").format(
            party=st.party_name, number=st.number, stage=life.state_label))
        self.progress.setMaximum(max(st.required, 1))
        self.progress.setValue(st.answered_required)
        self.next.setText(_("Next: {step}").format(step=st.next_step))
        for action_id, _outcome in ENDINGS:
            a = next((x for x in life.actions if x.id == action_id), None)
            act = self.end_actions[action_id]
            act.setText(a.label if a else action_id)
            act.setEnabled(bool(a and a.allowed))
            act.setToolTip(a.why_not or "" if a else "")
        self.end_btn.setEnabled(life.state == "inspecting")
        current = self.tree.currentItem()
        key = current.data(0, Qt.ItemDataRole.UserRole) if current else None
        self._fill_tree(st)
        # after each thing recorded, on to the next thing to do (or stay, when all is done); while
        # evidence is being taken for an item, back to that item, the new evidence ticked
        if self._capture_for is not None:
            self._select(("item", self._capture_for))
        else:
            self._select(self._first_open(st) or key or ("team", ""))

    @staticmethod
    def _first_open(st: InspectionStatus) -> tuple[str, str] | None:
        """The next thing to do, in the order the core lists what is missing."""
        if sum(1 for m in st.team if m["confirmed"]) < 2:
            return ("team", "")
        done = {x["step"] for x in st.steps}
        for step in STEPS:
            if step not in done and step != "party_absent" and not (
                    step == "representative_identified" and "party_absent" in done):
                return ("step", step)
        found = {f["item_id"] for f in st.findings}
        for x in st.items:
            if x.answer == "non_compliant" and x.item.id not in found:
                return ("item", x.item.id)
        return next((("item", x.item.id) for x in st.items if x.item.required and not x.answer), None)

    def _fill_tree(self, st: InspectionStatus) -> None:
        self.tree.blockSignals(True)
        self.tree.clear()
        confirmed = sum(1 for m in st.team if m["confirmed"])
        team = QTreeWidgetItem([_("Team ({n} of {total} confirmed)").format(n=confirmed, total=len(st.team))])
        team.setData(0, Qt.ItemDataRole.UserRole, ("team", ""))
        self.tree.addTopLevelItem(team)
        opening = QTreeWidgetItem([_("Opening steps")])
        self.tree.addTopLevelItem(opening)
        done = {x["step"]: x for x in st.steps}
        alternatives = {"representative_identified": "party_absent", "party_absent": "representative_identified"}
        for step, text in STEPS.items():
            other_done = alternatives.get(step) in done
            mark = "✓ " if step in done else "· " if other_done else "○ "
            child = QTreeWidgetItem([mark + _(text)])
            child.setData(0, Qt.ItemDataRole.UserRole, ("step", step))
            opening.addChild(child)
        by_list: dict[str, list[ItemState]] = {}
        for x in st.items:
            by_list.setdefault(x.checklist, []).append(x)
        for cid, xs in by_list.items():
            cl = F.checklists()[cid]
            answered = sum(1 for x in xs if x.answer)
            node = QTreeWidgetItem([f"{_text(cl.title, cl.title_en)}（{answered}/{len(xs)}）"])
            self.tree.addTopLevelItem(node)
            for x in xs:
                mark = {"compliant": "✓", "non_compliant": "✗", "not_applicable": "—", "could_not_check": "?"}.get(
                    x.answer or "", "○" if x.item.required else "·")
                child = QTreeWidgetItem([f"{mark} {_text(x.item.check, x.item.check_en)}"])
                child.setData(0, Qt.ItemDataRole.UserRole, ("item", x.item.id))
                child.setToolTip(0, _text(x.item.check, x.item.check_en))
                node.addChild(child)
        self.tree.expandAll()
        self.tree.blockSignals(False)

    def _select(self, key: tuple[str, str]) -> None:
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for node in [top, *[top.child(j) for j in range(top.childCount())]]:
                if node.data(0, Qt.ItemDataRole.UserRole) == tuple(key):
                    self.tree.setCurrentItem(node)
                    self._show_current()
                    return

    def _show_current(self) -> None:
        node = self.tree.currentItem()
        key = node.data(0, Qt.ItemDataRole.UserRole) if node else None
        st = self.status
        if not key or st is None:
            return
        kind, ident = key
        if kind == "team":
            rows = "".join(f"<li>{'✓' if m['confirmed'] else '○'} {escape(m['name'])}（{escape(m['cert_no'])}）"
                           + (" · " + escape(_("recorder")) if m["recorder"] else "") + "</li>" for m in st.team)
            self.team_list.setText(f"<ul>{rows}</ul>")
            self.pages.setCurrentWidget(self.team_page)
        elif kind == "step":
            self._show_step(st, ident)
        else:
            self._show_item(st, ident)

    def _show_step(self, st: InspectionStatus, step: str) -> None:
        self.current_step = step
        self.step_title.setText(_(STEPS[step]))
        done = [x for x in st.steps if x["step"] == step]
        from kit_app.timeutil import format_local

        self.step_done.setText(_("Recorded at {time}").format(time=format_local(done[-1]["at"])) if done
                               else _("Not recorded yet."))
        while self.step_form.rowCount():
            self.step_form.removeRow(0)
        self.step_inputs = {}
        for f in STEP_FIELDS.get(step, ()):
            w = QLineEdit()
            w.setObjectName(f"step_{f}")
            if done:
                w.setText(str(done[-1]["details"].get(f, "")))
            self.step_form.addRow(step_field_label(f), w)
            self.step_inputs[f] = w
        self.step_evidence.clear()
        self.step_evidence.addItem(_("none"), None)
        for e in self.evidence:
            if e.get("kind") in ("photo", "video"):
                self.step_evidence.addItem(f"{e.get('kind')}　{e.get('original_name') or e.get('id')}", e["id"])
        self.pages.setCurrentWidget(self.step_page)

    def _show_item(self, st: InspectionStatus, item_id: str) -> None:
        x = next(x for x in st.items if x.item.id == item_id)
        self.current_item = x
        it = x.item
        photos = "、".join(it.photos) if it.photos else _("none named")
        required = _("required") if it.required else _("optional")
        reading = ("<p>" + escape(_("An instrument reading is its evidence: take one with Take a photo or "
                                    "reading.")) + "</p>") if it.reading else ""
        how, basis, shots = _("How"), _("Legal basis"), _("Photos to take")
        self.item_text.setHtml(
            f"<h3>{escape(_text(it.check, it.check_en))}</h3><p><i>{escape(required)}</i></p>"
            f"<p><b>{escape(how)}:</b> {escape(_text(it.how, it.how_en))}</p>"
            f"<p><b>{escape(basis)}:</b> {escape(it.basis)}</p>"
            f"<p><b>{escape(shots)}:</b> {escape(photos)}</p>{reading}")
        self.logger_btn.setVisible(x.checklist == "online_monitoring" and it.reading)  # online data against site
        self.answers.setExclusive(False)
        for key, b in self.answer_buttons.items():
            b.setChecked(key == x.answer)
        self.answers.setExclusive(True)
        self.note.setPlainText(x.note or "")
        self.item_evidence.clear()
        taken = {e["id"] for e in self.evidence} - self._seen if self._capture_for == it.id else set()
        for e in self.evidence:
            li = QListWidgetItem(evidence_label(e))
            li.setData(Qt.ItemDataRole.UserRole, e["id"])
            li.setFlags(li.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            ticked = e["id"] in x.evidence_ids or e["id"] in taken
            li.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
            self.item_evidence.addItem(li)
        self.violation.clear()
        cat = F.catalogue()
        for vid in (*it.violations, *[v for v in cat.violations if v not in it.violations]):
            v = cat.violations[vid]
            self.violation.addItem(f"{_text(v.title, v.title_en)}（{v.breaches}）", vid)
        has_finding = any(f["item_id"] == it.id for f in st.findings)
        self.finding_box.setVisible(x.answer == "non_compliant")
        self.finding_btn.setText(_("Record another finding") if has_finding else _("Record the finding"))
        self.pages.setCurrentWidget(self.item_page)

    def _show_violation(self) -> None:
        """The penalty the suggested violation carries, and how its amount is set (the catalogue)."""
        cat = F.catalogue()
        v = cat.violations.get(self.violation.currentData() or "")
        how = cat.discretion.rstrip("。") + "。"
        self.violation_info.setText(_("Penalty: {basis}: {penalty}. {discretion}").format(
            basis=v.penalty_basis, penalty=v.penalty.rstrip("。"), discretion=how) if v else "")

    # ------------------------------------------------------------ acting
    def _run(self, fn: Any, done_text: str) -> None:
        def done(_r: object) -> None:
            self.message.setText(done_text)
            self.changed.emit()
            self.refresh()

        self.runner.run(fn, done, lambda e: self.message.setText(describe_error(e)))

    def confirm(self) -> None:
        st = self.status
        if st is None:
            return
        waiting = [m for m in st.team if not m["confirmed"]]
        if not waiting:
            self.message.setText(_("Every officer has confirmed."))
            return
        m = waiting[0]
        pw, ok = QInputDialog.getText(self, _("Confirm presence"), _("{name}, enter your password:").format(
            name=m["name"]), QLineEdit.EchoMode.Password)
        if ok:
            cid, cert = self.case_id, m["cert_no"]
            self._run(lambda: self.services.inspections.confirm(cid, cert, pw),
                      _("{name} confirmed.").format(name=m["name"]))

    def record_step(self) -> None:
        step, cid, officer = self.current_step, self.case_id, self.officer
        details = {k: w.text() for k, w in self.step_inputs.items()}
        evidence = self.step_evidence.currentData()
        self._run(lambda: self.services.inspections.record_step(cid, officer, step, details, evidence_id=evidence),
                  _("Recorded: {step}.").format(step=_(STEPS[step])))

    def capture(self) -> None:
        """Take a photo or reading for the item shown: what arrives next is ticked for it."""
        self._capture_for = self.current_item.item.id
        self._seen = {e["id"] for e in self.evidence}
        self.message.setText(_("Take the photo or reading in the Devices pane; it is ticked here for this item."))
        self.capture_requested.emit(self.case_id)

    def read_logger(self) -> None:
        """The data logger dialog for this inspection: what it keeps is ticked for the item shown."""
        from ui.logger_dialog import LoggerDialog

        self._capture_for = self.current_item.item.id
        self._seen = {e["id"] for e in self.evidence}
        dlg = LoggerDialog(self.services.evidence, self.runner, self.officer, self.case_id,
                           self.windowTitle(), self)
        dlg.finished.connect(lambda _code: (self.refresh(), self.changed.emit()))
        dlg.open()

    def import_files(self, paths: list[Path] | None = None) -> None:
        """Import files for the item shown (a file dialog unless ``paths``): imported, ticked for it."""
        from ui.evidence import import_with_progress

        if paths is None:
            files, _f = QFileDialog.getOpenFileNames(self, _("Choose evidence files"), str(Path.home()))
            paths = [Path(f) for f in files]
        if not paths:
            return
        self._capture_for = self.current_item.item.id
        self._seen = {e["id"] for e in self.evidence}
        import_with_progress(self, self.runner, self.services.evidence, self.case_id, self.officer, paths,
                             self.message.setText, lambda _r: (self.refresh(), self.changed.emit()))

    def evidence_added(self) -> None:
        """New evidence of the case (a photo or reading just taken): shown, ticked for the item."""
        self.refresh()

    def _checked_evidence(self) -> list[str]:
        ev = self.item_evidence
        return [ev.item(i).data(Qt.ItemDataRole.UserRole) for i in range(ev.count())
                if ev.item(i).checkState() == Qt.CheckState.Checked]

    def save_answer(self) -> None:
        x = self.current_item
        answer = next((k for k, b in self.answer_buttons.items() if b.isChecked()), None)
        if answer is None:
            self.message.setText(_("Choose an answer first."))
            return
        evidence = self._checked_evidence()
        cid, officer, note = self.case_id, self.officer, self.note.toPlainText()
        self._capture_for = None
        self._run(lambda: self.services.inspections.answer(cid, officer, x.item.id, answer, note=note,
                                                           evidence_ids=evidence),
                  _("Answer saved."))

    def record_finding(self) -> None:
        x = self.current_item
        cid, officer, text, vid = self.case_id, self.officer, self.finding.toPlainText(), self.violation.currentData()
        evidence = self._checked_evidence()
        self._run(lambda: self.services.inspections.add_finding(cid, officer, text, item_id=x.item.id,
                                                                violation_id=vid, evidence_ids=evidence),
                  _("Finding recorded."))

    def end(self, action_id: str) -> None:
        cid, officer = self.case_id, self.officer
        self._run(lambda: self.services.lifecycle.act(cid, action_id, officer), _("The inspection has ended."))

    def draft(self) -> Any:
        """The 现场检查（勘察）笔录 in the document editor, drafted from the inspection: checked,
        previewed and issued like every document."""
        from ui.documents import DocumentEditor

        editor = DocumentEditor(self.services, self.runner, self.officer, self.case_id, "inspection_record", self)
        editor.show()
        self.editor = editor
        return editor


def evidence_label(e: dict[str, Any]) -> str:
    """An evidence item as the officer recognises it: kind, name and when it was taken."""
    from ui.evidence import KIND_LABELS

    when = (e.get("captured_at") or e.get("imported_at") or "")
    local = format_local(datetime.fromisoformat(when)) if when else ""
    name = e.get("description") or e.get("original_name") or ""
    return "　".join(x for x in (_(KIND_LABELS.get(e["kind"], e["kind"])), name, local) if x)


def start_inspection(parent: QWidget, services: Services, runner: TaskRunner, officer: OfficerInfo,
                     source: SourceRow, on_started: Any) -> StartInspectionDialog:
    dlg = StartInspectionDialog(services, runner, officer, source, parent)
    dlg.started.connect(lambda c: on_started(c))
    dlg.open()
    return dlg


__all__ = ["InspectionWorkspace", "StartInspectionDialog", "start_inspection"]
