"""The case file (案卷): papers in archive order with receipts after what they served, the side volume
apart, imported PDFs and the evidence not on any paper in an annex, a contents list whose page ranges
match the stamped page numbers — checked in the PDF with poppler."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import forms
from kit_app.db import Store
from kit_app.services.casefile import CaseFileService
from kit_app.services.cases import CaseService
from kit_app.services.documents import DocumentService
from kit_app.services.officers import OfficerService
from tests.helpers.photos import make_jpeg


def pdftext(pdf: Path, first: int, last: int) -> str:
    return subprocess.run(["pdftotext", "-layout", "-f", str(first), "-l", str(last), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


@pytest.fixture
def case(demo_store: Store, tmp_path: Path) -> dict[str, Any]:
    officers = OfficerService(demo_store)
    li, wf = officers.login("45010320231", "demo1234"), officers.login("45010320232", "demo1234")
    c = CaseService(demo_store).create(party="南宁市绿源化工有限公司", title="涉嫌超标排放", actor=li, officer_ids=[wf.id])
    docs = DocumentService(demo_store)
    year = datetime.now().year
    for t, prefix in (("penalty_notice", "青环罚告"), ("penalty_decision", "青环罚")):
        docs.numbers.add_block(agency_code=c.agency_code, doc_type=t, year=year, prefix=prefix, first=1, last=9)

    def issue(doc_type: str, **changes: Any) -> Any:
        return docs.issue(c.id, li, doc_type, forms.get(doc_type).example | changes)

    # issued in the order of the work, not of the file
    issue("case_approval")
    issue("inspection_record")
    issue("legal_review_opinion")
    issue("penalty_notice")
    decision = issue("penalty_decision")
    issue("service_receipt", document_title="行政处罚决定书", document_number=decision.number)
    when = datetime.now() - timedelta(hours=1)
    shots = [make_jpeg(tmp_path / f"DSC_{k:04d}.jpg", taken=when, size=(1200, 900), seed=k) for k in range(4)]
    report = tmp_path / "企业自行监测报告.pdf"
    report.write_bytes(_tiny_pdf())
    res = {Path(r.path).name: r for r in docs.evidence.ingest(c.id, li, [*shots, report])}
    docs.evidence.dispose(res["DSC_0003.jpg"].evidence_id, li, "excluded", "误拍")
    readings = [{"valid": True, "name": "pH", "value": 5.2 + k / 10, "unit": "", "raw": "00",
                 "received_at": f"2026-11-29T02:0{k}:30+00:00"} for k in range(5)]
    docs.evidence.add_readings(c.id, li, readings, protocol="ascii", port="/dev/pts/9",
                               instrument={"model": "雷磁 PHBJ-260", "serial": "PH-7", "calibrated": "2026-10-01"})
    docs.evidence.add_physical(c.id, li, seal_no="GX-0001", description="废水样品一瓶（500 mL）")
    return {"store": demo_store, "case": c, "li": li, "decision": decision}


def _tiny_pdf() -> bytes:
    import io

    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    cv = Canvas(buf)
    cv.drawString(100, 700, "monitoring report")
    cv.showPage()
    cv.save()
    return buf.getvalue()


def test_the_case_file_is_in_archive_order_with_contents_and_page_numbers(case: dict[str, Any], tmp_path: Path) -> None:
    built = CaseFileService(case["store"]).build(case["case"].id, case["li"])
    number = case["decision"].number
    titles = [(c["volume"], c["title"]) for c in built.contents]
    assert titles == [
        ("正卷", "行政处罚决定书"), ("正卷", f"送达回证（{number}）"),  # the decision and its receipt first
        ("正卷", "立案审批表"),
        ("正卷", "现场检查（勘察）笔录"), ("正卷", "企业自行监测报告.pdf"),  # investigation, the imported 书证
        ("正卷", "证据附件（照片 3 张、仪器读数 1 组）"), ("正卷", "其他证据目录"),
        ("正卷", "行政处罚事先（听证）告知书"),
        ("副卷", "法制审核意见书"),  # the review opinion in the side volume
    ], titles
    main = [c for c in built.contents if c["volume"] == "正卷"]
    assert main[0]["first"] == 1 and all(b["first"] == a["last"] + 1 for a, b in zip(main, main[1:], strict=False))
    assert [c["first"] for c in built.contents if c["volume"] == "副卷"] == [1]  # numbered on its own
    pdf = tmp_path / "file.pdf"
    pdf.write_bytes(built.pdf)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    total_main = main[-1]["last"]
    # cover, contents, the numbered papers, 备考表 per volume
    assert re.search(r"Pages:\s+(\d+)", info).group(1) == str(built.pages)  # type: ignore[union-attr]
    front = pdftext(pdf, 1, 2)
    assert "行政处罚案卷" in front and "（正卷）" in front and f"共 {total_main} 页" in front
    assert re.search(r"卷\s*内\s*目\s*录", front) and f"{main[0]['first']}–{main[0]['last']}" in front
    # the stamped numbers: the first paper's first page carries 1, the last of the volume its number
    assert pdftext(pdf, 3, 3).split()[0] == "1"
    assert pdftext(pdf, 2 + total_main, 2 + total_main).split()[0] == str(total_main)
    annex = pdftext(pdf, 3, 2 + total_main)
    assert "DSC_0000.jpg" in annex and "DSC_0002.jpg" in annex and "DSC_0003.jpg" not in annex  # excluded: out
    assert "pH" in annex and "GX-0001" in annex
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:] if "KitSerif" in line or "Noto" in line)
    assert built.warnings == []


def test_the_command_line_writes_the_file_and_refuses_to_archive_an_open_case(
        case: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from kit_app.cli import main

    base = ["--data-dir", str(case["store"].data_dir)]
    out = tmp_path / "案卷.pdf"
    assert main([*base, "casefile", "--case", case["case"].number, "-o", str(out), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["pages"] > 10 and out.read_bytes().startswith(b"%PDF") and not got["archived"]
    rc = main([*base, "casefile", "--case", case["case"].number, "-o", str(out), "--archive", "--officer",
               "45010020105"])
    err = capsys.readouterr().err
    assert rc == 1 and "it is archived once it is closed" in err and "Traceback" not in err
