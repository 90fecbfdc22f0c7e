"""Refusals and absences on paper: the party refuses to sign a transcript, is absent, or refuses to
accept a decision (留置送达). Each needs its reason and witness, may name a photo of the case, and
is printed on the document; the photo points back to the paper in its custody log."""

from __future__ import annotations

import copy
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import forms
from kit_app.db import Store
from kit_app.errors import ValidationError
from kit_app.services.cases import CaseService
from kit_app.services.documents import DocumentService
from kit_app.services.inspections import InspectionService
from kit_app.services.officers import OfficerService
from tests.helpers.photos import make_jpeg
from tests.unit.test_inspections import water_source


@pytest.fixture
def env(demo_store: Store) -> dict[str, Any]:
    officers = OfficerService(demo_store)
    li = officers.login("45010320231", "demo1234")
    case = CaseService(demo_store).create(party="南宁市绿源化工有限公司", title="涉嫌超标排放", actor=li)
    return {"store": demo_store, "docs": DocumentService(demo_store), "li": li, "case": case,
            "officers": officers}


def pdf_text(docs: DocumentService, doc_id: str) -> str:
    return subprocess.run(["pdftotext", "-layout", str(docs.pdf_path(doc_id)), "-"], check=True,
                          capture_output=True, text=True).stdout


def test_a_refusal_needs_its_reason_and_witness() -> None:
    d = forms.get("inspection_record")
    base = copy.deepcopy(d.example)
    with pytest.raises(forms.FormError) as e:
        d.validate(base | {"party_signing": {"status": "refused", "witness": "覃海燕"}})
    assert e.value.field == "party_signing.reason"
    with pytest.raises(forms.FormError) as e:
        d.validate(base | {"party_signing": {"status": "absent"}})
    assert e.value.field == "party_signing.witness"
    with pytest.raises(forms.FormError) as e:
        d.validate(base | {"party_signing": {"status": "left", "reason": "x", "witness": "y"}})
    assert e.value.field == "party_signing.status"  # 留置 is for service, not a transcript
    with pytest.raises(forms.FormError) as e:
        d.validate(base | {"party_signing": {"status": "refused", "reason": "x", "witness": "y", "seal": "z"}})
    assert e.value.field == "party_signing.seal"
    signed = d.validate(base | {"party_signing": {"status": "signed", "witness": "ignored"}})
    assert signed["party_signing"] is None  # signed: nothing to note
    # the interview record knows no absence: the interviewee is there by definition
    with pytest.raises(forms.FormError):
        forms.get("interview_record").validate(forms.get("interview_record").example
                                               | {"party_signing": {"status": "absent", "witness": "y"}})
    # a service receipt is 留置送达 exactly when the addressee refused and it was left with a witness
    r = forms.get("service_receipt")
    left = {"status": "left", "reason": "拒不接收", "witness": "覃海燕"}
    with pytest.raises(forms.FormError, match="留置送达"):
        r.validate(r.example | {"method": "留置送达"})
    with pytest.raises(forms.FormError, match="留置送达"):
        r.validate(r.example | {"party_signing": left})
    assert r.validate(r.example | {"method": "留置送达", "party_signing": left})["party_signing"] == left


def test_the_refusal_is_printed_with_its_witness_and_photo(env: dict[str, Any], tmp_path: Path) -> None:
    docs, li, case = env["docs"], env["li"], env["case"]
    shot = make_jpeg(tmp_path / "refusal.jpg", taken=datetime(2026, 11, 29, 15, 40), seed=3)
    [res] = docs.evidence.ingest(case.id, li, [shot], description="当事人拒绝签名时的现场")
    [choice] = docs.signing_photos(case.id)
    assert choice["id"] == res.evidence_id and "当事人拒绝签名时的现场" in choice["label"]
    payload = copy.deepcopy(forms.get("inspection_record").example)
    payload.pop("party_comment")
    payload["party_signing"] = {"status": "refused", "reason": "不认可检测结果。", "witness": "覃海燕",
                                "witness_id_no": "450103199001011234", "witness_unit": "长湖路社区居委会",
                                "photo": res.evidence_id, "photo_label": "forged label"}
    doc = docs.issue(case.id, li, "inspection_record", payload)
    text = pdf_text(docs, doc.id)
    sha = docs.evidence.show(res.evidence_id)["sha256"]
    flat = "".join(text.split())
    assert "当事人拒绝签名，理由：不认可检测结果。" in flat and "见证人覃海燕（身份证号：450103199001011234；长湖路社区居委会）" in flat
    assert f"当事人拒绝签名时的现场（SHA-256{sha[:16]}…）" in flat and "forged" not in flat
    assert "（拒绝签名）" in flat and "被检查人意见" not in flat  # no words of the party's on its behalf
    stored = docs.get(doc.id)["payload"]["party_signing"]
    assert stored["photo"] == res.evidence_id and stored["photo_label"].startswith("当事人拒绝签名时的现场")
    # the photo's custody log points to the paper it shows the refusal of
    note = docs.evidence.show(res.evidence_id)["custody"][-1]
    assert note["kind"] == "annotated" and note["details"] == {"document": doc.id}
    # a photo of another case is refused, named by the field's label
    other = CaseService(env["store"]).create(party="南宁市绿源化工有限公司", title="另一案件", actor=li)
    shot2 = make_jpeg(tmp_path / "other.jpg", taken=datetime(2026, 11, 29, 16, 0), seed=4)
    [res2] = docs.evidence.ingest(other.id, li, [shot2])
    payload["party_signing"]["photo"] = res2.evidence_id
    with pytest.raises(ValidationError, match="被检查人签名情况") as e:
        docs.issue(case.id, li, "inspection_record", payload)
    assert e.value.field == "party_signing"


def test_an_unsigned_transcript_leaves_the_comment_to_the_party(env: dict[str, Any]) -> None:
    docs, li, case = env["docs"], env["li"], env["case"]
    payload = copy.deepcopy(forms.get("interview_record").example)
    payload.pop("party_comment")
    text = "".join(pdf_text(docs, docs.issue(case.id, li, "interview_record", payload).id).split())
    assert "被询问人意见：" in text and "以上笔录我已看过" not in text and "见证人" not in text
    payload["party_signing"] = {"status": "refused", "reason": "不愿签字", "witness": "覃海燕"}
    text = "".join(pdf_text(docs, docs.issue(case.id, li, "interview_record", payload).id).split())
    assert "当事人拒绝签名，理由：不愿签字。" in text and "见证人（签名）" in text  # a witness line is added


def test_an_absent_party_drafts_the_record_with_its_witness(env: dict[str, Any]) -> None:
    store, li, officers = env["store"], env["li"], env["officers"]
    svc = InspectionService(store)
    src, _lists = water_source(store)
    case = svc.start(actor=li, party=src.id, origin="routine", team=[li.id, officers.get("45010320232").id],
                     recorder=li.id, place="二号车间")
    svc.record_step(case.id, li, "party_absent", {"witness": "覃海燕", "witness_id_no": "450103199001011234"})
    draft = svc.draft_record(case.id)
    assert draft["party_signing"] == {"status": "absent", "witness": "覃海燕",
                                      "witness_id_no": "450103199001011234", "photo": ""}
    assert forms.get("inspection_record").validate(draft | {"findings": "x"})["party_signing"] == {
        "status": "absent", "witness": "覃海燕", "witness_id_no": "450103199001011234"}
