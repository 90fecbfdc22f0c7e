"""The document editor and the case's documents, driven offscreen: prefill, validation as you
type, live QtPdf preview, issue, print to a PDF printer, batch printing by review staff."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from kit_app.dto import OfficerInfo
from ui.documents import CaseDocumentsDialog, DocumentEditor
from ui.services import Services
from ui.tasks import TaskRunner

pytestmark = pytest.mark.gui


@pytest.fixture
def case(services: Services, officer: OfficerInfo):  # type: ignore[no-untyped-def]
    wf = services.officers.get("45010320232")
    c = services.cases.create(party="南宁市绿源化工有限公司", title="涉嫌超标排放", actor=officer,
                              officer_ids=[officer.id, wf.id])
    services.documents.numbers.add_block(agency_code=c.agency_code, doc_type="order_to_correct", year=_year(),
                                 prefix="青环责改", first=7, last=9)
    return c


def _year() -> int:
    from kit_app.timeutil import LOCAL_TZ, utcnow

    return utcnow().astimezone(LOCAL_TZ).year


def pdf_printer(path: Path) -> QPrinter:
    p = QPrinter(QPrinter.PrinterMode.HighResolution)
    p.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    p.setOutputFileName(str(path))
    return p


def test_edit_validate_preview_issue_print(qtbot: QtBot, services: Services, runner: TaskRunner,
                                           officer: OfficerInfo, case, tmp_path: Path,  # type: ignore[no-untyped-def]
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    ed = DocumentEditor(services, runner, officer, case.id, "order_to_correct")
    qtbot.addWidget(ed)
    ed.show()
    qtbot.waitUntil(lambda: not ed._loading, timeout=5000)
    # filled from the case
    assert ed.fields["party_name"].value() == "南宁市绿源化工有限公司"
    assert ed.fields["agency_name"].value() == case.agency_name
    # required fields named by their label, never by the internal field name
    assert "环境违法事实和证据" in ed.status.text() and "facts" not in ed.status.text()
    assert not ed.issue_btn.isEnabled()
    ed.fields["facts"].widget.setPlainText("现场检查发现加药装置停运。")
    ed.fields["provisions"].widget.setPlainText("违反了《中华人民共和国水污染防治法》第三十九条。")
    ed.fields["order"].widget.setPlainText("立即修复加药装置。")
    # the deadline, still empty, is named by its label and outlined; it is picked from a calendar
    qtbot.waitUntil(lambda: "改正期限" in ed.status.text(), timeout=3000)
    assert "deadline" not in ed.status.text()
    assert "border" in ed.fields["deadline"].widget.styleSheet()
    picker = ed.fields["deadline"].widget
    assert picker.calendarPopup() and picker.value() is None and picker.text().strip() == ""
    picker.set_value("2026-12-06")
    qtbot.waitUntil(lambda: ed.issue_btn.isEnabled() and ed.pdf_doc.pageCount() == 1, timeout=8000)
    assert ed.fields["deadline"].widget.styleSheet() == ""
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    got = []
    ed.issued.connect(got.append)
    ed.issue()
    qtbot.waitUntil(lambda: bool(got), timeout=10000)
    doc = got[0]
    assert doc.number == f"青环责改〔{_year()}〕7号" and ed.print_btn.isEnabled()
    assert not ed.fields["facts"].widget.isEnabled()  # frozen
    # the preview now shows the issued PDF, number included
    assert ed.pdf == services.documents.pdf_path(doc.id).read_bytes()
    out = tmp_path / "printed.pdf"
    # printing starts with a preview of the issued document itself: every page, no specimen mark
    preview = ed.print_()
    assert preview is not None and preview.pages == 1 and preview.view.document().pageCount() == 1
    assert "1 documents, 1 pages" in preview.summary.text()
    shown = preview.docs[0].getAllText(0).text().replace(" ", "")
    assert doc.number in shown and "样本" not in shown  # the issued document, not the editor's specimen
    preview.print_(pdf_printer(out))  # as if chosen in the system print dialog
    qtbot.waitUntil(lambda: ed.status.text() == "Printed 1 pages.", timeout=15000)
    assert not preview.isVisible()
    assert out.stat().st_size > 1000
    item = services.evidence.show(doc.evidence_id)
    assert [e["kind"] for e in item["custody"]] == ["issued", "printed"]


def test_review_staff_print_a_batch(qtbot: QtBot, services: Services, runner: TaskRunner, officer: OfficerInfo,
                                    reviewer: OfficerInfo, case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import forms

    for t in ("inspection_record", "service_receipt"):
        services.documents.issue(case.id, officer, t, forms.get(t).example)
    dlg = CaseDocumentsDialog(services, runner, reviewer, case.id, case.number)
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: dlg.table.rowCount() == 2, timeout=5000)
    assert not dlg.new_btn.isVisibleTo(dlg)  # review staff print; they do not issue
    out = tmp_path / "batch.pdf"
    dlg.print_selected(pdf_printer(out))
    qtbot.waitUntil(lambda: dlg.status.text() == "Printed 3 pages.", timeout=20000)
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           3" in info
    dlg.print_selected()  # no printer chosen yet: the preview of the whole batch comes first
    qtbot.waitUntil(lambda: dlg.preview is not None and dlg.preview.isVisible(), timeout=5000)
    assert dlg.preview is not None and dlg.preview.pages == 3 and dlg.preview.list.count() == 2
    dlg.preview.reject()
    for d in services.documents.list_for_case(case.id):
        ev = services.evidence.show(d["evidence_id"])["custody"][-1]
        assert ev["kind"] == "printed" and ev["actors"][0]["name"] == "陈静"
    ed = DocumentEditor(services, runner, reviewer, case.id, "inspection_record")
    qtbot.addWidget(ed)
    assert not ed.issue_btn.isVisibleTo(ed)
    qtbot.waitUntil(lambda: not ed._loading, timeout=5000)
    runner.wait()


def test_correct_an_issued_document(qtbot: QtBot, services: Services, runner: TaskRunner, officer: OfficerInfo,
                                    case, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import forms

    first = services.documents.issue(case.id, officer, "service_receipt", forms.get("service_receipt").example)
    dlg = CaseDocumentsDialog(services, runner, officer, case.id, case.number)
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: dlg.table.rowCount() == 1, timeout=5000)
    dlg.table.setCurrentCell(0, 1)
    ed = dlg.correct_selected()
    assert ed is not None
    qtbot.waitUntil(lambda: not ed._loading and ed.issue_btn.isEnabled(), timeout=8000)
    assert ed.fields["method"].value() == "直接送达"  # starts from the issued payload
    ed.fields["method"].widget.setCurrentText("留置送达")  # 留置送达 needs the refusal and its witness
    qtbot.waitUntil(lambda: "签收情况" in ed.status.text() and not ed.issue_btn.isEnabled(), timeout=5000)
    box = ed.fields["party_signing"].widget
    assert not box.details.isVisibleTo(box)
    box.status.setCurrentIndex(box.status.findData("left"))
    assert box.details.isVisibleTo(box)
    qtbot.waitUntil(lambda: "签收情况" in ed.status.text() and "reason" not in ed.status.text(), timeout=5000)
    box.reason.setText("拒不接收")
    box.witness.setText("覃海燕")
    box.witness_unit.setText("长湖路社区居委会")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    qtbot.waitUntil(lambda: ed.issue_btn.isEnabled(), timeout=5000)
    ed.issue()
    qtbot.waitUntil(lambda: dlg.table.rowCount() == 2, timeout=10000)
    assert dlg.table.item(1, 3).text() == "送达回证"  # corrects the first
    new = services.documents.get(services.documents.list_for_case(case.id)[1]["id"])
    assert new["corrects"] == first.id and new["payload"]["method"] == "留置送达"
    assert new["payload"]["party_signing"] == {"status": "left", "reason": "拒不接收", "witness": "覃海燕",
                                               "witness_unit": "长湖路社区居委会"}
    assert services.documents.get(first.id)["payload"]["method"] == "直接送达"  # the first is unchanged
    runner.wait()


def test_a_landscape_list_prints_turned_to_fill_a_portrait_sheet(qtbot: QtBot, tmp_path: Path) -> None:
    """The evidence list lies across its page; on portrait paper it is turned, not shrunk to a third."""
    from PIL import Image

    import forms
    from reports import render
    from ui.documents import print_pdfs

    defn = forms.get("evidence_list")
    out = tmp_path / "printed.pdf"
    assert print_pdfs([render(defn, defn.example).pdf], pdf_printer(out)) == 1
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    width, height = (float(x) for x in re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())  # type: ignore[union-attr]
    assert height > width  # the printer's portrait sheet
    subprocess.run(["pdftoppm", "-png", "-r", "30", str(out), str(tmp_path / "p")], check=True)
    page = Image.open(next(tmp_path.glob("p*.png"))).convert("L")
    left, top, right, bottom = page.point(lambda v: 255 if v < 200 else 0).getbbox()  # type: ignore[misc]
    assert (bottom - top) > 0.7 * page.height  # the page's long side along the sheet's (shrunk: about 0.4)


def test_the_documents_of_the_cases_step_come_first(qtbot: QtBot, services: Services, runner: TaskRunner,
                                                    officer: OfficerInfo, case) -> None:  # type: ignore[no-untyped-def]
    """A case being filed offers its 立案审批表 first, chosen; every other type follows a separator."""
    import forms

    dlg = CaseDocumentsDialog(services, runner, officer, case.id, case.number)
    qtbot.addWidget(dlg)
    step = services.lifecycle.status(case.id).documents
    assert step[0][0] == "case_approval"  # a case opened without an inspection: 立案审批
    qtbot.waitUntil(lambda: dlg.type.count() > len(forms.definitions()), timeout=5000)  # with its separator
    assert dlg.type.itemData(0) == dlg.type.currentData() == step[0][0]
    types = [dlg.type.itemData(i) for i in range(dlg.type.count())]
    assert types[len(step)] is None  # the separator
    assert sorted(t for t in types if t) == sorted(forms.definitions())
    waiting = dlg.type.findData("penalty_decision")  # follows the 事先告知书, which the case has not issued
    assert not dlg.type.model().item(waiting).isEnabled() and "行政处罚事先（听证）告知书" in \
        dlg.type.model().item(waiting).toolTip()
    services.documents.issue(case.id, officer, step[0][0], forms.get(step[0][0]).example)
    dlg.refresh()
    qtbot.waitUntil(lambda: dlg.type.itemText(0).startswith("✓"), timeout=5000)
    runner.wait()


def test_what_follows_from_other_fields_is_computed(qtbot: QtBot, services: Services, runner: TaskRunner,
                                                    officer: OfficerInfo, case) -> None:  # type: ignore[no-untyped-def]
    """按日连续处罚: the days follow from the service and re-inspection dates, the total from the fine."""
    ed = DocumentEditor(services, runner, officer, case.id, "daily_penalty_decision")
    qtbot.addWidget(ed)
    qtbot.waitUntil(lambda: not ed._loading, timeout=5000)
    ed.fields["served_date"].set("2026-12-01")
    ed.fields["recheck_date"].set("2026-12-11")
    ed.fields["daily_fine"].set(200000)
    ed._check()
    assert ed.fields["days"].value() == 10 and ed.fields["total"].value() == 2000000
    runner.wait()
