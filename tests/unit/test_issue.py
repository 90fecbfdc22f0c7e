"""Issuing documents: numbers from per-kit blocks (never colliding between kits), frozen records,
PDFs as evidence with custody, corrections as new documents."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

import forms
from kit_app.db import Store
from kit_app.errors import PermissionDenied, ValidationError
from kit_app.services.cases import CaseService
from kit_app.services.documents import DocumentService
from kit_app.services.officers import OfficerService


@pytest.fixture
def env(demo_store: Store):  # type: ignore[no-untyped-def]
    officers = OfficerService(demo_store)
    li = officers.login("45010320231", "demo1234")
    case = CaseService(demo_store).create(party="南宁市绿源化工有限公司", title="涉嫌超标排放", actor=li)
    docs = DocumentService(demo_store)
    return demo_store, docs, case, li


def year() -> int:
    from kit_app.timeutil import LOCAL_TZ, utcnow

    return utcnow().astimezone(LOCAL_TZ).year


def test_numbers_come_from_this_kits_block_in_order(env) -> None:  # type: ignore[no-untyped-def]
    store, docs, case, li = env
    example = forms.get("order_to_correct").example
    with pytest.raises(ValidationError, match="no free document number"):
        docs.issue(case.id, li, "order_to_correct", example)
    with pytest.raises(PermissionDenied):
        docs.numbers.add_block(agency_code=case.agency_code, doc_type="order_to_correct", year=year(), prefix="青环责改",
                       first=1, last=2, actor=li)
    docs.numbers.add_block(agency_code=case.agency_code, doc_type="order_to_correct", year=year(), prefix="青环责改",
                   first=11, last=12)
    a = docs.issue(case.id, li, "order_to_correct", example)
    b = docs.issue(case.id, li, "order_to_correct", example)
    assert (a.number, b.number) == (f"青环责改〔{year()}〕11号", f"青环责改〔{year()}〕12号")
    with pytest.raises(ValidationError, match="no free document number"):
        docs.issue(case.id, li, "order_to_correct", example)
    assert docs.numbers.blocks()[0]["used"] == 2
    # the PDF is evidence of the case, with an "issued" custody event; its number is printed on it
    pdf = docs.pdf_path(a.id)
    assert hashlib.sha256(pdf.read_bytes()).hexdigest() == a.pdf_sha256
    item = docs.evidence.show(a.evidence_id)
    assert item["kind"] == "document" and item["media_type"] == "application/pdf"
    [ev] = item["custody"]
    assert ev["kind"] == "issued" and ev["details"]["number"] == a.number
    assert ev["details"]["content_sha256"] == a.content_sha256
    import subprocess

    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert a.number in text.replace(" ", "")
    assert docs.evidence.verify(case.id).ok


def test_overlapping_blocks_are_refused(env) -> None:  # type: ignore[no-untyped-def]
    _store, docs, case, _li = env
    docs.numbers.add_block(agency_code=case.agency_code, doc_type="order_to_correct", year=2026, prefix="青环责改",
                   first=1, last=100, kit_id="another-kit")
    with pytest.raises(ValidationError, match="overlap"):
        docs.numbers.add_block(agency_code=case.agency_code, doc_type="order_to_correct", year=2026, prefix="青环责改",
                       first=100, last=150)
    with pytest.raises(ValidationError, match="carries no document number"):
        docs.numbers.add_block(agency_code=case.agency_code, doc_type="inspection_record", year=2026, prefix="x",
                       first=1, last=2)


def test_two_kits_offline_never_collide(tmp_path: Path, demo_dir: Path) -> None:
    """Two kits with disjoint blocks issue concurrently; together their numbers are all distinct."""
    import shutil

    from kit_app.db import open_store

    numbers = []
    for k, (first, last) in enumerate(((1, 50), (51, 100))):
        d = tmp_path / f"kit{k}"
        shutil.copytree(demo_dir, d)
        store = open_store(d)
        try:
            with store.engine.begin() as c:  # a copied data dir is a different kit
                c.exec_driver_sql("UPDATE kit_meta SET value = ? WHERE key = 'kit_id'", (f"kit-{k}",))
            store = _reopen(store)
            li = OfficerService(store).login("45010320231", "demo1234")
            case = CaseService(store).create(party="当事人", title="t", actor=li)
            docs = DocumentService(store)
            docs.numbers.add_block(agency_code=case.agency_code, doc_type="order_to_correct", year=year(),
                           prefix="青环责改", first=first, last=last)
            for _ in range(5):
                numbers.append(docs.issue(case.id, li, "order_to_correct",
                                          forms.get("order_to_correct").example).number)
        finally:
            store.close()
    assert len(numbers) == 10 and len(set(numbers)) == 10
    assert numbers[5] == f"青环责改〔{year()}〕51号"


def _reopen(store: Store) -> Store:
    from kit_app.db import open_store

    d = store.data_dir
    store.close()
    return open_store(d)


def test_issued_documents_are_frozen_and_corrected_by_new_ones(env) -> None:  # type: ignore[no-untyped-def]
    store, docs, case, li = env
    ex = forms.get("inspection_record").example
    first = docs.issue(case.id, li, "inspection_record", ex)
    assert first.number is None and first.pages == 2
    db = sqlite3.connect(store.data_dir / "kit.sqlite3")
    try:
        for sql in ("UPDATE documents SET payload_json = '{}'", "DELETE FROM documents"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                db.execute(sql)
    finally:
        db.close()
    fixed = docs.issue(case.id, li, "inspection_record", ex | {"end_time": "2026-11-29T11:30"}, corrects=first.id)
    assert fixed.corrects_id == first.id and fixed.content_sha256 != first.content_sha256
    listed = docs.list_for_case(case.id)
    assert [d["id"] for d in listed] == [first.id, fixed.id] and listed[1]["corrects"] == first.id
    old = docs.evidence.show(first.evidence_id)
    assert [e["kind"] for e in old["custody"]] == ["issued", "annotated"]
    assert old["custody"][1]["details"]["corrected_by"] == fixed.id
    with pytest.raises(ValidationError, match="not a document of this case"):
        docs.issue(case.id, li, "inspection_record", ex, corrects="nope")
    with pytest.raises(forms.FormError, match="party_name"):
        docs.issue(case.id, li, "inspection_record", ex | {"party_name": ""})


def test_prefill_from_the_case_then_issue(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime, timedelta

    from tests.helpers.photos import make_jpeg

    store, docs, case, li = env
    wf = OfficerService(store).get("45010320232")
    case = CaseService(store).create(party="南宁市绿源化工有限公司", title="超标排放", actor=li,
                                     officer_ids=[li.id, wf.id])
    shot = make_jpeg(tmp_path / "a.jpg", taken=datetime.now() - timedelta(minutes=5), lat=22.8, lon=108.3, seed=1)
    docs.evidence.ingest(case.id, li, [shot], description="总排口外排废水")
    readings = [{"valid": True, "name": "pH", "value": 5.2 + k / 10, "unit": "",
                 "received_at": f"2026-11-29T02:0{k}:30+00:00", "raw": "00"} for k in range(3)]
    docs.evidence.add_readings(case.id, li, readings, protocol="ascii", port="/dev/pts/9",
                               instrument={"model": "雷磁 PHBJ-260", "serial": "PH-7", "calibrated": "2026-10-01"},
                               gps={"fix": True, "latitude": 22.8, "longitude": 108.3})
    ins = docs.prefill(case.id, "inspection_record", li)
    assert ins["party_name"] == "南宁市绿源化工有限公司" and ins["recorder"] == "李明"
    assert ins["recorder_cert"] == "45010320231"  # the recorder's certificate number, printed beside the name
    assert [o["cert_no"] for o in ins["officers"]] == ["45010320231", "45010320232"]
    assert ins["agency_name"] == case.agency_name and "party_comment" not in ins  # the party writes its own
    ph = docs.prefill(case.id, "photo_evidence", li)
    [row] = ph["photos"]
    assert row["caption"] == "总排口外排废水" and row["photographer"] == "李明" and len(row["sha256"]) == 64
    rr = docs.prefill(case.id, "readings_record", li)
    assert (rr["instrument"], rr["serial"], rr["calibrated"]) == ("雷磁 PHBJ-260", "PH-7", "2026-10-01")
    assert [r["value"] for r in rr["readings"]] == [5.2, 5.3, 5.4] and rr["readings"][0]["time"].endswith("10:00:30")
    assert rr["start_time"] == "2026-11-29T10:00"
    issued = docs.issue(case.id, li, "photo_evidence", ph)
    assert issued.pages == 1
    rr |= {"place": "总排口"}
    assert docs.issue(case.id, li, "readings_record", rr).pages >= 1
    el = docs.prefill(case.id, "evidence_list", li)
    assert [r["kind"] for r in el["items"]] == ["照片", "仪器读数", "文书", "文书"]
    assert [r["source"] for r in el["items"]][1:] == ["便携式仪器现场监测（雷磁 PHBJ-260 #PH-7）", "本机关制作", "本机关制作"]
    assert el["items"][0]["source"].startswith("执法人员现场拍摄")
    # the signed paper comes back as a photo, linked to the document
    scan = make_jpeg(tmp_path / "signed.jpg", taken=datetime.now(), seed=9)
    sid = docs.attach_signed_copy(issued.id, li, scan)
    doc_item = docs.evidence.show(issued.evidence_id)
    assert doc_item["custody"][-1]["details"] == {"signed_copy": sid}
    assert docs.evidence.show(sid)["description"].startswith("signed copy of 现场照片")
    docs.record_printed([issued.id], None, "Kit printer")
    assert docs.evidence.show(issued.evidence_id)["custody"][-1]["kind"] == "printed"


def test_a_paper_copy_is_checked_by_its_qr_code(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    import cv2

    _store, docs, case, li = env
    doc = docs.issue(case.id, li, "service_receipt", forms.get("service_receipt").example)
    # "scan" the printed page and read its code
    subprocess.run(["pdftoppm", "-png", "-r", "200", str(docs.pdf_path(doc.id)), str(tmp_path / "scan")], check=True)
    code, _pts, _ = cv2.QRCodeDetectorAruco().detectAndDecode(cv2.imread(str(next(tmp_path.glob("scan*.png")))))
    ok = docs.check_code(code)
    assert ok["ok"] and ok["id"] == doc.id and ok["title"] == "送达回证"
    forged = code[:-64] + "0" * 64
    bad = docs.check_code(forged)
    assert not bad["ok"] and "differs" in bad["reason"]
    assert not docs.check_code(f"kitdoc:{'1' * 36}:{'0' * 64}")["ok"]
    specimen = docs.check_code(f"kitdoc-specimen:{'1' * 36}:{'0' * 64}")  # a preview, printed
    assert not specimen["ok"] and "specimen" in specimen["reason"]
    with pytest.raises(ValidationError, match="Not a document code"):
        docs.check_code("https://example.com")


def test_prefill_takes_the_legal_representative_of_a_listed_source(demo_store: Store) -> None:
    from kit_app.services.sources import SourceService

    with demo_store.engine.connect() as c:
        sid, rep = c.exec_driver_sql("SELECT id, legal_rep FROM sources WHERE legal_rep IS NOT NULL LIMIT 1").one()
    src = SourceService(demo_store).get(sid)
    li = OfficerService(demo_store).login("45010320231", "demo1234")
    case = CaseService(demo_store).create(party=src.name, source_id=src.id, title="t", actor=li)
    payload = DocumentService(demo_store).prefill(case.id, "order_to_correct", li)
    assert payload["legal_rep"] == rep and payload["party_name"] == src.name


def test_a_decision_names_the_notice_that_told_the_party(env) -> None:  # type: ignore[no-untyped-def]
    """行政处罚决定书 prefills the title (as printed), number and date of the case's 告知书, and the review
    body from the agency's division (a county branch answers to its city's government)."""
    store, docs, case, li = env
    from kit_app.divisions import review_body

    docs.numbers.add_block(agency_code=case.agency_code, doc_type="penalty_notice", year=year(), prefix="青环罚告",
                           first=1, last=5)
    notice = forms.get("penalty_notice").example | {"hearing": "无", "issue_date": "2026-12-03"}
    issued = docs.issue(case.id, li, "penalty_notice", notice)
    assert issued.title == "行政处罚事先告知书"  # the title follows the choice, as printed
    pre = docs.prefill(case.id, "penalty_decision", li)
    assert (pre["notice_title"], pre["notice_number"], pre["notice_date"]) == \
        ("行政处罚事先告知书", issued.number, "2026-12-03")
    assert pre["government"] == review_body(case.agency_code) and pre["government"].endswith("市人民政府")
    assert "statement" not in pre  # what the party said is the officer's to record


def test_later_papers_name_the_earlier_ones(env) -> None:  # type: ignore[no-untyped-def]
    """An extension or a release names the 查封 decision (number, dates); a reminder the penalty decision."""
    store, docs, case, li = env
    docs.numbers.add_block(agency_code=case.agency_code, doc_type="seizure_decision", year=year(), prefix="青环查封",
                           first=1, last=5)
    seal = docs.issue(case.id, li, "seizure_decision", forms.get("seizure_decision").example)
    ext = docs.prefill(case.id, "seizure_extension_notice", li)
    assert (ext["seizure_number"], ext["original_end"]) == (seal.number, "2026-12-28")
    rel = docs.prefill(case.id, "seizure_release_decision", li)
    assert (rel["seizure_number"], rel["seizure_date"]) == (seal.number, "2026-11-29")
    assert "decision_number" not in docs.prefill(case.id, "payment_reminder", li)  # no penalty decision yet


def test_the_remedies_come_from_the_agencys_settings(env) -> None:  # type: ignore[no-untyped-def]
    """管辖法院 and 复议机关 are the agency's settings (from the central server); without a court set the
    officer is asked for it — never a court of another city by default."""
    from kit_app.db.models import Agency

    store, docs, case, li = env
    assert docs.prefill(case.id, "penalty_decision", li)["court"] == "南宁铁路运输法院"  # the demo's setting
    with store.session() as s:
        a = s.query(Agency).filter_by(code=case.agency_code).one()
        a.court, a.review_body = None, "南宁市青秀区人民政府"
    pre = docs.prefill(case.id, "order_to_correct", li)
    assert "court" not in pre and pre["government"] == "南宁市青秀区人民政府"


def test_a_paper_that_follows_another_waits_for_it(env) -> None:  # type: ignore[no-untyped-def]
    """An extension follows the 查封 decision, a decision the notice that told the party: refused with the
    missing paper named until the case has it (enforced in the core, whatever the screen offers)."""
    store, docs, case, li = env
    for t, code in (("seizure_decision", "查封"), ("seizure_extension_notice", "查延"), ("penalty_notice", "罚告"),
                    ("penalty_decision", "罚")):
        docs.numbers.add_block(agency_code=case.agency_code, doc_type=t, year=year(), prefix="青环" + code, first=1,
                               last=9)
    ext = forms.get("seizure_extension_notice").example
    with pytest.raises(ValidationError, match="《查封（扣押）决定书》"):
        docs.issue(case.id, li, "seizure_extension_notice", ext)
    docs.issue(case.id, li, "seizure_decision", forms.get("seizure_decision").example)
    assert docs.issue(case.id, li, "seizure_extension_notice", ext).number
    with pytest.raises(ValidationError, match="事先"):
        docs.issue(case.id, li, "penalty_decision", forms.get("penalty_decision").example)
    for defn in forms.definitions().values():  # every paper named as a prerequisite exists
        assert all(t in forms.definitions() for need in defn.requires for t in need), defn.id


def test_two_types_never_share_a_number(env) -> None:  # type: ignore[no-untyped-def]
    """A prefix numbers one type: a block of another type with the same prefix is refused by name; one that
    came from elsewhere is caught before a second paper carries a number already printed."""
    store, docs, case, li = env
    docs.numbers.add_block(agency_code=case.agency_code, doc_type="order_to_correct", year=year(), prefix="青环",
                           first=1, last=9)
    with pytest.raises(ValidationError, match="青环") as err:
        docs.numbers.add_block(agency_code=case.agency_code, doc_type="seizure_decision", year=year(), prefix="青环",
                               first=1, last=9)
    assert err.value.field == "prefix"
    docs.numbers.add_block(agency_code=case.agency_code, doc_type="seizure_decision", year=year(), prefix="青环",
                           first=10, last=19)  # a range of its own: no clash
    docs.issue(case.id, li, "order_to_correct", forms.get("order_to_correct").example)
    from kit_app.db.models import NumberBlock

    with store.session() as s:  # a block as a misconfigured server might send it
        s.query(NumberBlock).filter_by(doc_type="seizure_decision").one().first = 1
    with pytest.raises(ValidationError, match="already carried"):
        docs.issue(case.id, li, "seizure_decision", forms.get("seizure_decision").example)
