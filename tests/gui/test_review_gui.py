"""Review staff at work, offscreen: the queue, the completeness check, approve, send back with reasons,
an opinion, and papers of several cases printed in one batch after the preview."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QInputDialog
from pytestqt.qtbot import QtBot

import forms
from kit_app.dto import OfficerInfo
from ui.main_window import MainWindow
from ui.services import Services
from ui.tasks import TaskRunner

pytestmark = pytest.mark.gui


def investigated(services: Services, officer: OfficerInfo, title: str) -> Any:
    head = services.officers.login("45010320001", "demo1234")
    wf = services.officers.get("45010320232")
    case = services.cases.create(party="南宁市绿源化工有限公司", title=title, actor=officer, officer_ids=[wf.id])
    services.evidence.add_physical(case.id, officer, seal_no=f"S-{title}", description="废水样品")
    services.lifecycle.act(case.id, "approve_filing", head)
    services.lifecycle.act(case.id, "conclude_investigation", officer)
    return case


def test_a_reviewer_takes_approves_and_sends_back(qtbot: QtBot, services: Services, runner: TaskRunner,
                                                  officer: OfficerInfo, reviewer: OfficerInfo,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = investigated(services, officer, "甲"), investigated(services, officer, "乙")
    w = MainWindow(services, runner, reviewer)
    qtbot.addWidget(w)
    w.show()
    pane = w.review
    assert w.nav.item(w.nav.count() - 1).text() == "Review"
    qtbot.waitUntil(lambda: pane.model.rowCount() == 2, timeout=5000)
    assert {r.step for r in pane.model.rows} == {"start_review"}
    row = next(i for i, r in enumerate(pane.model.rows) if r.case_id == a.id)
    pane.view.selectRow(row)
    qtbot.waitUntil(lambda: "Completeness" in pane.detail.toPlainText(), timeout=5000)
    text = pane.detail.toPlainText()
    assert "missing: 立案审批表" in text and "Originals and custody verified" in text
    assert pane.act_btn.text() == "Take for review" and not pane.back_btn.isEnabled()
    pane.act_btn.click()  # take case 甲 for review
    qtbot.waitUntil(lambda: any(r.case_id == a.id and r.step == "approve_review" for r in pane.model.rows),
                    timeout=5000)
    qtbot.waitUntil(lambda: pane.act_btn.text() == "Approve the review" and pane.back_btn.isEnabled(), timeout=5000)
    monkeypatch.setattr(QInputDialog, "getMultiLineText", lambda *a_, **k: ("事实清楚，证据充分", True))
    pane.opinion_btn.click()
    qtbot.waitUntil(lambda: "事实清楚，证据充分" in pane.detail.toPlainText(), timeout=5000)
    pane.act_btn.click()  # approve
    qtbot.waitUntil(lambda: services.lifecycle.status(a.id).history[-1].action == "approve_review", timeout=5000)
    # 乙: taken, then sent back with what must be done
    pane.view.selectRow(next(i for i, r in enumerate(pane.model.rows) if r.case_id == b.id))
    qtbot.waitUntil(lambda: pane.act_btn.text() == "Take for review", timeout=5000)
    pane.act_btn.click()
    qtbot.waitUntil(lambda: services.lifecycle.status(b.id).state == "under_review", timeout=5000)
    qtbot.waitUntil(lambda: pane.back_btn.isEnabled(), timeout=5000)
    monkeypatch.setattr(QInputDialog, "getMultiLineText", lambda *a_, **k: ("补充调查询问笔录", True))
    pane.back_btn.click()
    qtbot.waitUntil(lambda: services.lifecycle.status(b.id).state == "investigating", timeout=5000)
    last = services.lifecycle.status(b.id).history[-1]
    assert (last.action, last.reason, last.actor) == ("return_to_investigation", "补充调查询问笔录", reviewer.name)
    qtbot.waitUntil(lambda: all(r.case_id != b.id for r in pane.model.rows), timeout=5000)  # no longer waiting


def test_papers_of_several_cases_printed_in_one_batch(qtbot: QtBot, services: Services, runner: TaskRunner,
                                                      officer: OfficerInfo, reviewer: OfficerInfo,
                                                      tmp_path: Path) -> None:
    cases = [services.cases.create(party=f"当事人{k}", title="送达", actor=officer) for k in range(3)]
    for c in cases:
        services.documents.issue(c.id, officer, "service_receipt", forms.get("service_receipt").example)
    w = MainWindow(services, runner, reviewer)
    qtbot.addWidget(w)
    dlg = w.review.batch_print()
    qtbot.waitUntil(lambda: dlg.list.count() == 3, timeout=5000)
    dlg.list.item(2).setCheckState(Qt.CheckState.Unchecked)
    dlg.preview()
    qtbot.waitUntil(lambda: getattr(dlg, "preview_dialog", None) is not None, timeout=5000)
    preview = dlg.preview_dialog
    assert len(preview.docs) == 2 and preview.pages >= 2
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "batch.pdf"))
    preview.print_(printer)
    qtbot.waitUntil(lambda: dlg.status.text().startswith("Printed"), timeout=20000)
    printed = [d for d in dlg.chosen()]
    for d in printed:
        item = services.documents.get(d["id"])["evidence_id"]
        assert services.evidence.show(item)["custody"][-1]["kind"] == "printed"
    assert (tmp_path / "batch.pdf").stat().st_size > 1000
