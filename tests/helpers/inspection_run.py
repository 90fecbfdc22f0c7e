"""A whole on-site inspection driven through the real application, as an officer would do it, with
every click and typed field counted — shared by the end-to-end test and the input benchmark.

Two officers (李明 logs in; 韦芳 confirms with her password), a 双随机 task, the checklists, a photo
from the simulated camera and a reading from the simulated water-quality probe taken at their
checklist item, a finding, the inspection record and a Q&A transcript the party refuses to sign
(with a witness), a 责令改正 served on the spot, the photo and readings records, the proposal to file
and its approval by the agency head (黄志远). Documents are compared with what the app filled in.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox, QPlainTextEdit, QWidget

from ui.datefields import DatePicker

PARTY_FILTER = "s.cat_water = 1 AND s.key_monitored = 1 AND a.code = '450103'"  # 青秀区, where 李明 works
TASK = "2026年第四季度双随机抽查 第12号（抽取记录 SJ-450103-2026-4-012）"
TAKEN_AT = "ww_standard"  # the item where the photo and the reading are taken: the effluent meets its standard


@dataclass
class Inputs:
    """What the officer did with mouse and keyboard."""

    clicks: int = 0
    typed: int = 0  # fields typed into (a password, a name, a note…)
    steps: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"clicks": self.clicks, "typed_fields": self.typed, "total": self.clicks + self.typed}


@dataclass
class Paper:
    """A document as the app filled it in, and as it was issued."""

    doc_type: str
    filled: dict[str, Any]
    issued: dict[str, Any]

    def counts(self) -> tuple[int, int]:
        """(fields filled automatically, fields on the issued paper): every non-empty leaf — a line
        of a table, a question and its answer — is a field a hand-written form would need."""
        auto = dict(_leaves(self.filled))
        final = dict(_leaves(self.issued))
        return sum(1 for k, v in final.items() if auto.get(k) == v), len(final)

    def by_hand(self) -> list[str]:
        """The fields the officer wrote (or changed)."""
        auto = dict(_leaves(self.filled))
        return [k for k, v in _leaves(self.issued) if auto.get(k) != v]


def _leaves(v: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(v, dict):
        for k, x in v.items():
            if k not in ("image", "evidence_id", "photo", "photo_label"):  # not written by a hand
                yield from _leaves(x, f"{path}.{k}")
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from _leaves(x, f"{path}[{i}]")
    elif v not in (None, ""):
        yield path, _WHEN.sub(r"\1T\2", v) if isinstance(v, str) else v  # as typed, or as stored


_WHEN = re.compile(r"^(\d{4}-\d\d-\d\d) (\d\d:\d\d)")


class Officer:
    """Clicks and types through the real widgets, counting each input; waits as a person would."""

    def __init__(self, inputs: Inputs | None = None) -> None:
        self.inputs = inputs or Inputs()

    def wait(self, cond: Callable[[], Any], what: str | Callable[[], str], timeout: float = 15.0) -> Any:
        """``cond()`` once true; else TimeoutError saying what was awaited (``what()`` read at the end)."""
        end = time.monotonic() + timeout
        if os.environ.get("KIT_SCENARIO_TRACE"):
            print(f"[{time.strftime('%X')}] waiting: {what() if callable(what) else what}", file=sys.stderr, flush=True)
        while True:
            QApplication.processEvents()
            got = cond()
            if got:
                return got
            if time.monotonic() > end:
                raise TimeoutError(f"waited {timeout:.0f} s for: {what() if callable(what) else what}")
            time.sleep(0.01)

    def click(self, w: QWidget, n: int = 1) -> None:
        assert w.isEnabled(), f"{w.objectName() or w} is disabled"
        QTest.mouseClick(w, Qt.MouseButton.LeftButton)
        self.inputs.clicks += n

    def type(self, w: QLineEdit | QPlainTextEdit | DatePicker, text: str, fields: int = 1) -> None:
        w.setFocus()
        if isinstance(w, DatePicker):
            w.set_value(text)  # picked from its calendar, or typed
        elif isinstance(w, QPlainTextEdit):
            w.setPlainText(text)
        else:
            w.setText(text)  # as an input method commits it (key events carry no CJK text)
        self.inputs.typed += fields

    def choose(self, combo: Any, data: Any) -> None:
        """Open a drop-down and pick: two clicks."""
        i = combo.findData(data)
        if i < 0:
            i = combo.findText(str(data))
        assert i >= 0, f"{data!r} is not offered"
        combo.setCurrentIndex(i)
        self.inputs.clicks += 2

    def tick(self, n: int = 1) -> None:
        """A row picked, a box ticked, a window brought forward, a menu entry: done by the caller."""
        self.inputs.clicks += n

    @contextmanager
    def answering_dialogs(self, passwords: dict[str, str]) -> Iterator[None]:
        """The confirmations of issuing (Yes) and presence (a password typed, OK) are real inputs."""
        import ui.documents
        import ui.inspection

        def question(*_a: Any, **_k: Any) -> QMessageBox.StandardButton:
            self.inputs.clicks += 1
            return QMessageBox.StandardButton.Yes

        def password(_parent: Any, _title: str, label: str, *_a: Any) -> tuple[str, bool]:
            self.inputs.typed += 1
            self.inputs.clicks += 1
            name = next(n for n in passwords if n in label)
            return passwords[name], True

        saved = ui.documents.QMessageBox.question, ui.inspection.QInputDialog.getText
        ui.documents.QMessageBox.question = question  # type: ignore[method-assign]
        ui.inspection.QInputDialog.getText = password  # type: ignore[method-assign]
        try:
            yield
        finally:
            ui.documents.QMessageBox.question, ui.inspection.QInputDialog.getText = saved  # type: ignore[method-assign]


def set_up(data_dir: Path, camera: str, probe: str, gps: str) -> dict[str, Any]:
    """What the kit has before the day starts (not counted): its devices and a block of numbers for
    the orders to correct; the party of the task."""
    from devices.registry import DeviceConfig, DeviceConfigs
    from kit_app.db import open_store
    from kit_app.services.documents import DocumentService
    from kit_app.timeutil import LOCAL_TZ, utcnow

    DeviceConfigs(data_dir).save([
        DeviceConfig(name="卫星定位", driver="serial", port=gps, protocol="nmea", model="UM980", serial="G-1",
                     options={"autostart": True}),
        DeviceConfig(name="执法记录相机", driver="camera", port=camera, model="KIT-CAM SIM", serial="C-9",
                     options={"autostart": True}),
        DeviceConfig(name="水质 pH 计", driver="serial", port=probe, protocol="modbus", model="generic-ph", unit=1,
                     serial="PH-07", calibrated="2026-11-02", options={"interval": 0.5}),
    ])
    store = open_store(data_dir)
    try:
        year = utcnow().astimezone(LOCAL_TZ).year
        DocumentService(store).numbers.add_block(agency_code="450103", doc_type="order_to_correct", year=year,
                                         prefix="青环责改", first=1, last=50)
        with store.engine.connect() as c:
            name, address = c.exec_driver_sql(
                "SELECT s.name, s.address FROM sources s JOIN agencies a ON a.id = s.county_id "
                f"WHERE {PARTY_FILTER} ORDER BY s.name LIMIT 1").one()
    finally:
        store.close()
    return {"party": name, "address": address}


def log_in(o: Officer, kit: Any, cert: str) -> Any:
    o.wait(lambda: kit.login is not None and kit.login.isVisible(), "the login")
    o.type(kit.login.cert, cert)
    o.type(kit.login.password, "demo1234")
    from PySide6.QtWidgets import QDialogButtonBox

    o.click(kit.login.buttons.button(QDialogButtonBox.StandardButton.Ok))
    return o.wait(lambda: kit.window is not None and kit.window.isVisible() and kit.window, "the main window")


def issue(o: Officer, ed: Any, papers: list[Paper], fill: Callable[[Any], None] | None = None) -> Any:
    """Let the editor fill itself in, complete what the officer must, issue, and keep both payloads."""
    o.wait(lambda: not ed._loading, f"{ed.defn.id} filled in")
    filled = ed.payload()
    if fill is not None:
        fill(ed)
    o.wait(lambda: ed.issue_btn.isEnabled(), lambda: f"{ed.defn.id} ready: {ed.status.text()}")
    got: list[Any] = []
    ed.issued.connect(got.append)
    o.click(ed.issue_btn)
    o.wait(lambda: got, lambda: f"{ed.defn.id} issued ({ed.status.text()})", timeout=30)
    papers.append(Paper(ed.defn.id, filled, ed.services.documents.get(got[0].id)["payload"]))
    o.click(ed.close_btn)
    return got[0]


def run(kit: Any, party: str, o: Officer) -> dict[str, Any]:
    """The inspection, from the login to the approved filing. Returns the case and the papers."""
    papers: list[Paper] = []
    with o.answering_dialogs({"韦芳": "demo1234"}):
        w = log_in(o, kit, "45010320231")
        # the 双随机 task names the party: find it, start the inspection
        o.type(w.sources.search, party)
        m = w.sources.model
        row = o.wait(lambda: next((r + 1 for r in range(m.rowCount()) if m.row_at(r).name == party), 0),
                     "the party found") - 1
        w.sources.view.selectRow(row)
        o.tick()
        o.wait(lambda: w.sources.inspect_btn.isEnabled(), "start inspection enabled")
        o.click(w.sources.inspect_btn)
        dlg = o.wait(lambda: getattr(w.sources, "start_dialog", None), "the start dialog")
        o.wait(lambda: dlg.team.count() > 0, "the officers listed")
        o.choose(dlg.origin, "random")
        o.type(dlg.ref, TASK)
        wf = next(i for i in range(dlg.team.count()) if "韦芳" in dlg.team.item(i).text())
        dlg.team.item(wf).setCheckState(Qt.CheckState.Checked)
        o.tick()
        from PySide6.QtWidgets import QDialogButtonBox

        o.click(dlg.buttons.button(QDialogButtonBox.StandardButton.Ok))
        ws = o.wait(lambda: getattr(w.sources, "workspace", None), "the workspace", timeout=20)
        o.wait(lambda: ws.status is not None and ws.pages.currentWidget() is ws.team_page, "the team page")
        case_id = ws.case_id
        o.click(ws.confirm_btn)  # 韦芳 types her password
        # the opening steps, each recorded with its time
        for step in ("certificates_shown", "purpose_stated", "rights_explained"):
            o.wait(lambda s=step: ws.pages.currentWidget() is ws.step_page and ws.current_step == s, step)
            o.click(ws.step_btn)
        o.wait(lambda: getattr(ws, "current_step", "") == "recusal_asked", "recusal")
        o.type(ws.step_inputs["answer"], "不申请回避")
        o.click(ws.step_btn)
        o.wait(lambda: getattr(ws, "current_step", "") == "representative_identified", "representative")
        for k, v in (("name", "陆振华"), ("position", "环保主管"), ("phone", "0771-5551234"),
                     ("id_no", "450103198503150017"), ("relation", "员工")):
            o.type(ws.step_inputs[k], v)
        o.click(ws.step_btn)
        # every required checklist item, in order: the workspace goes to the next one itself
        while True:
            st = o.wait(lambda: ws.status if ws.pages.currentWidget() is ws.item_page else None, "an item")
            if st.answered_required == st.required and not st.missing:
                break
            x = ws.current_item
            item_id = x.item.id
            assert not x.answer, f"the workspace stays on {item_id}, answered: {st.missing}"
            if item_id == TAKEN_AT:
                take_evidence(o, w, ws)
                o.click(ws.answer_buttons["non_compliant"])
                o.type(ws.note, "总排口外排废水 pH 值现场检测低于排放标准限值")
                o.click(ws.save_btn)
                o.wait(lambda: ws.finding_box.isVisible() and ws.violation.currentData() == "water_exceed",
                       "the suggested violation")
                o.type(ws.finding, "总排口外排废水 pH 值现场检测结果为 5.2，低于《污水综合排放标准》规定的 6～9")
                o.click(ws.finding_btn)
                o.wait(lambda: ws.status is not None and any(f["item_id"] == TAKEN_AT for f in ws.status.findings),
                       "the finding")
            else:
                o.click(ws.answer_buttons["compliant"])
                o.click(ws.save_btn)
                o.wait(lambda i=item_id: ws.status is not None and any(
                    s.item.id == i and s.answer for s in ws.status.items), f"{item_id} saved")
        # the inspection record, drafted; the party reads it and refuses to sign before a witness
        o.click(ws.record_btn)
        ed = o.wait(lambda: getattr(ws, "editor", None), "the record editor")

        def refuse(ed: Any) -> None:
            box = ed.fields["party_signing"].widget
            o.choose(box.status, "refused")
            o.type(box.reason, "对检测结果有异议")
            o.type(box.witness, "覃海燕")
            o.type(box.witness_unit, "长湖路社区居委会工作人员")

        issue(o, ed, papers, refuse)
        # the inspection ends with the proposal to file (the End menu, its entry)
        ws.end_actions["propose_filing"].trigger()
        o.tick(2)
        o.wait(lambda: ws.services.lifecycle.status(case_id).state == "filing", "the proposal to file")
        w.activateWindow()
        o.tick()  # back to the main window
        w.nav.setCurrentRow(2)
        o.tick()
        o.wait(lambda: any(w.cases.model.row_at(r).id == case_id for r in range(w.cases.model.rowCount())),
               "the case listed")
        w.cases.view.selectRow(next(r for r in range(w.cases.model.rowCount()) if w.cases.model.row_at(r).id
                                    == case_id))
        o.tick()
        o.click(w.cases.docs_btn)
        docs = o.wait(lambda: getattr(w.cases, "documents_dialog", None), "the documents")

        def new(doc_type: str) -> Any:
            o.choose(docs.type, doc_type)
            o.click(docs.new_btn)
            return docs.editors[-1]

        def answers(ed: Any) -> None:
            qa = ed.fields["qa"].value()
            said = {"看清楚": "看清楚了。", "回避": "不申请。", "补充": "没有。"}
            for row in qa:
                row["a"] = next((a for k, a in said.items() if k in row["q"]), "按实际情况回答。")
            text = "\n".join(f"问：{r['q']}\n答：{r['a']}" for r in qa)
            o.type(ed.fields["qa"].widget, text, fields=len(qa))
            o.type(ed.fields["end_time"].widget, ed.fields["start_time"].value()[:-2] + "59")
            box = ed.fields["party_signing"].widget
            o.choose(box.status, "refused")
            o.type(box.reason, "不愿签字")
            o.type(box.witness, "覃海燕")

        issue(o, new("interview_record"), papers, answers)

        def order(ed: Any) -> None:
            o.type(ed.fields["order"].widget, "立即停止超标排放水污染物，查明原因并修复废水处理设施，确保外排废水稳定达标。")
            o.type(ed.fields["deadline"].widget, "2026-12-15")

        issue(o, new("order_to_correct"), papers, order)
        issue(o, new("service_receipt"), papers, lambda ed: o.choose(ed.fields["method"].widget, "直接送达"))
        issue(o, new("photo_evidence"), papers)
        issue(o, new("readings_record"), papers, lambda ed: o.type(ed.fields["place"].widget, "厂区废水总排口"))
        issue(o, new("case_approval"), papers)
        docs.close()
        o.tick()
        # the agency head approves the filing
        from PySide6.QtGui import QAction

        w.findChild(QAction, "logout").trigger()
        o.tick(2)
        head = log_in(o, kit, "45010320001")
        head.nav.setCurrentRow(2)
        o.tick()
        o.wait(lambda: any(head.cases.model.row_at(r).id == case_id for r in range(head.cases.model.rowCount())),
               "the case listed for the head")
        head.cases.view.selectRow(next(r for r in range(head.cases.model.rowCount())
                                       if head.cases.model.row_at(r).id == case_id))
        o.tick()
        o.click(head.cases.procedure_btn)
        proc = o.wait(lambda: getattr(head.cases, "procedure_dialog", None), "the procedure")
        btn = o.wait(lambda: proc.buttons.get("approve_filing"), "approve filing offered")
        o.click(btn)
        act = o.wait(lambda: _action_dialog(proc), "the action dialog")
        o.click(act.buttons.button(QDialogButtonBox.StandardButton.Ok))
        o.wait(lambda: head.services.lifecycle.status(case_id).state == "investigating", "the case filed")
    return {"case_id": case_id, "papers": papers, "window": head}


def _action_dialog(parent: QWidget) -> Any:
    from ui.procedure import ActionDialog

    found = parent.findChildren(ActionDialog)
    return found[-1] if found else None


def take_evidence(o: Officer, w: Any, ws: Any) -> None:
    """At the item: a photo from the camera and a reading session from the probe, ticked for it."""
    o.click(ws.capture_btn)
    pane = w.devices
    o.wait(lambda: w.stack.currentWidget() is pane and pane.case.currentData() == ws.case_id,
           "the devices, capturing to the inspection")

    def select(name: str) -> None:
        row = next(i for i, c in enumerate(pane.hub.configs) if c.name == name)
        pane.table.selectRow(row)
        o.tick()

    select("执法记录相机")
    o.wait(lambda: pane.camera.photo_btn.isEnabled() and pane.camera.preview.painted >= 5, "the camera's picture")
    before = len(ws.evidence)
    o.click(pane.camera.photo_btn)
    o.wait(lambda: len(ws.evidence) == before + 1, "the photo saved and listed")
    select("水质 pH 计")
    o.click(pane.connect_btn)
    o.wait(lambda: pane.instrument.values.rowCount() >= 1 and pane.instrument.record_btn.isEnabled(),
           "the probe's values")
    o.click(pane.instrument.record_btn)
    o.wait(lambda: pane.worker is not None and pane.worker.session.recorded_count() >= 4, "four readings")
    o.click(pane.instrument.record_btn)
    o.wait(lambda: len(ws.evidence) == before + 2, "the readings saved and listed")
    ws.activateWindow()
    o.tick()  # back to the inspection
    o.wait(lambda: sum(1 for i in range(ws.item_evidence.count())
                       if ws.item_evidence.item(i).checkState() == Qt.CheckState.Checked) == 2,
           "the photo and the reading ticked for the item")
