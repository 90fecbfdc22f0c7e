"""The data logger dialog, driven offscreen against the shipped logger simulator over TCP: read,
see the records, compare with the analyzer's session, issue the cross-check record."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog
from pytestqt.qtbot import QtBot

from kit_app.dto import OfficerInfo
from tests.helpers.logger import MN, analyzer_readings, logger_sim
from ui.evidence import EvidencePanel
from ui.logger_dialog import LoggerDialog, _qt
from ui.services import Services
from ui.tasks import TaskRunner

pytestmark = pytest.mark.gui


def test_read_compare_and_issue(qtbot: QtBot, services: Services, runner: TaskRunner, officer: OfficerInfo,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    case = services.inspections.start(actor=officer, party="某热电厂", origin="alarm", team=["45010320232"],
                                      origin_ref="二氧化硫在线数据长期贴近限值")
    services.evidence.add_readings(case.id, officer, analyzer_readings(15, {"a21026": 50.0}), protocol="hj212",
                                   port="/dev/ttyUSB1", instrument={"model": "崂应 3012H", "serial": "A1",
                                                                    "calibrated": "2026-10-01"})
    panel = EvidencePanel(services.evidence, runner, officer, services.officers.list)
    qtbot.addWidget(panel)
    panel.set_case(case.id, case.number)
    assert panel.logger_btn.isVisible() or not panel.isVisible()
    dlg = LoggerDialog(services.evidence, runner, officer, case.id, case.number)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: len(dlg.present) == 1, timeout=5000)  # the case's other officer, present by default
    assert "min" in dlg.estimate.text()  # at 9,600 baud a day of minute data is a matter of minutes
    with logger_sim("--cap", "a21026=50", tcp=True) as url:
        dlg.tcp.setChecked(True)
        dlg.address.setText(url.removeprefix("socket://"))
        dlg.mn.setText(MN)
        dlg.begin.setDateTime(_qt(datetime.now(UTC) - timedelta(hours=2)))
        dlg.read_btn.click()
        qtbot.waitUntil(lambda: "evidence" in dlg.status.text(), timeout=30000)
    assert MN in dlg.status.text() and dlg.read_btn.isEnabled()
    assert dlg.records.rowCount() >= 115 * 5  # a row per minute and pollutant
    items = services.evidence.list_for_case(case.id)
    [kept] = [i for i in items if i["media_type"] == "application/x-kit-hj212-exchange+jsonl"]
    assert {o["cert_no"] for o in kept["officers"]} == {"45010320231", "45010320232"}  # both officers present

    dlg.limits.setText("a21026=50")
    dlg.check_btn.click()
    qtbot.waitUntil(lambda: dlg.results.rowCount() == 8, timeout=20000)
    results = {dlg.results.item(r, 0).text(): dlg.results.item(r, 1).text() for r in range(8)}
    assert sum(1 for v in results.values() if v == "Suspicious") == 2, results
    assert "Suspected" in dlg.verdict.text() and dlg.issue_btn.isEnabled()
    if os.environ.get("KIT_SCREENSHOTS"):
        dlg.grab().save(str(Path(os.environ["KIT_SCREENSHOTS"]) / "logger_dialog.png"))

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("1#锅炉废气排放口", True)))
    dlg.issue_btn.click()
    qtbot.waitUntil(lambda: "issued" in dlg.status.text(), timeout=30000)
    assert "finding" in dlg.status.text()
    docs = [i for i in services.evidence.list_for_case(case.id) if i["kind"] == "document"]
    assert any("在线监控数据比对记录" in (i["description"] or i["original_name"] or "") for i in docs), docs


def test_mistakes_stay_in_the_dialog(qtbot: QtBot, services: Services, runner: TaskRunner,
                                     officer: OfficerInfo) -> None:
    case = services.cases.create(party="某热电厂", title="数采仪", actor=officer)
    dlg = LoggerDialog(services.evidence, runner, officer, case.id, case.number)
    qtbot.addWidget(dlg)
    dlg.tcp.setChecked(True)
    dlg.address.setText("nowhere")
    dlg.read_btn.click()
    assert "HOST:PORT" in dlg.status.text()
    dlg.address.setText("127.0.0.1:1")
    dlg.mn.setText(MN)
    dlg.read_btn.click()
    qtbot.waitUntil(lambda: "cannot open" in dlg.status.text(), timeout=10000)
    assert dlg.read_btn.isEnabled()
    dlg.limits.setText("a21026")
    dlg.check_btn.click()
    assert "code=value" in dlg.verdict.text()


def test_stopping_a_long_read_keeps_what_came(qtbot: QtBot, services: Services, runner: TaskRunner,
                                              officer: OfficerInfo) -> None:
    """A day of minute data at 9,600 baud takes a quarter of an hour: the officer stops it; the
    records read so far are kept as evidence, and the record says the reading ended early."""
    case = services.cases.create(party="某热电厂", title="数采仪", actor=officer)
    dlg = LoggerDialog(services.evidence, runner, officer, case.id, case.number)
    qtbot.addWidget(dlg)
    dlg.show()
    assert "14 min" in dlg.estimate.text()  # 24 h of minute data at 9,600 baud
    with logger_sim("--baud", "9600") as port:
        dlg.port.setEditText(port)
        dlg.mn.setText(MN)
        dlg.kinds["hour"].setChecked(False)
        dlg.read_btn.click()
        qtbot.waitUntil(lambda: dlg.records.rowCount() == 0 and dlg.cancel_btn.isEnabled(), timeout=5000)
        qtbot.wait(2500)  # some minutes arrive
        dlg.cancel_btn.click()
        qtbot.waitUntil(lambda: "evidence" in dlg.status.text(), timeout=15000)
    assert "ended early" in dlg.status.text() and "stopped" in dlg.status.text()
    assert 0 < dlg.records.rowCount() < 1440 * 5
    [kept] = [i for i in services.evidence.list_for_case(case.id)
              if i["media_type"] == "application/x-kit-hj212-exchange+jsonl"]
    assert any("ended early" in w for w in kept["warnings"])


def test_the_inspection_item_on_online_data_reads_the_logger(qtbot: QtBot, services: Services, runner: TaskRunner,
                                                              officer: OfficerInfo) -> None:
    """The checklist item 自动监测数据与现场监测、生产工况相符 offers the data logger; what it keeps is ticked
    for the item. Other items do not offer it."""
    from sqlalchemy import select

    from kit_app.db.models import Source
    from ui.inspection import InspectionWorkspace

    with services.store.session() as s:
        src = s.scalars(select(Source).where(Source.key_monitored, Source.cat_air).order_by(Source.name)).first()
        assert src is not None
        src_id, src_name = src.id, src.name
    case = services.inspections.start(actor=officer, party=src_name, source_id=src_id, origin="alarm",
                                      team=["45010320232"], origin_ref="在线监控报警")
    ws = InspectionWorkspace(services, runner, officer, case.id)
    qtbot.addWidget(ws)
    ws.show()
    qtbot.waitUntil(lambda: ws.status is not None, timeout=5000)
    ws._select(("item", "om_installed"))
    assert not ws.logger_btn.isVisible()
    ws._select(("item", "om_consistency"))
    assert ws.logger_btn.isVisible()
    ws.logger_btn.click()
    qtbot.waitUntil(lambda: any(isinstance(c, LoggerDialog) and c.isVisible() for c in ws.children()), timeout=5000)
    dlg = next(c for c in ws.children() if isinstance(c, LoggerDialog))
    with logger_sim(tcp=True) as url:
        dlg.tcp.setChecked(True)
        dlg.address.setText(url.removeprefix("socket://"))
        dlg.mn.setText(MN)
        dlg.kinds["minute"].setChecked(False)
        dlg.read_btn.click()
        qtbot.waitUntil(lambda: "evidence" in dlg.status.text(), timeout=30000)
    dlg.close()
    item = ws.item_evidence
    qtbot.waitUntil(lambda: item.count() == 1 and item.item(0).checkState() == Qt.CheckState.Checked, timeout=5000)
