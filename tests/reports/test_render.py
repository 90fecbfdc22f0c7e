"""Rendering enforcement documents to PDF, checked with poppler's tools (the definitions and their
validation are tests/forms)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import forms
from forms import FormError
from reports import render

TYPES = sorted(forms.definitions())


def pdftotext(pdf: Path, page: int | None = None) -> str:
    args = ["pdftotext", "-layout"] + (["-f", str(page), "-l", str(page)] if page else []) + [str(pdf), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def fonts(pdf: Path) -> list[list[str]]:
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    return [line.split() for line in out.splitlines()[2:]]


@pytest.mark.parametrize("type_id", TYPES)
def test_each_type_renders_from_its_example(type_id: str, tmp_path: Path) -> None:
    defn = forms.get(type_id)
    res = render(defn, defn.example, number="桂环罚〔2026〕12号")
    pdf = tmp_path / f"{type_id}.pdf"
    pdf.write_bytes(res.pdf)
    assert res.warnings == [] and res.pages >= 1
    rows = fonts(pdf)
    assert rows and all(r[-5] == "yes" for r in rows), rows  # every font embedded
    assert all("NotoSerifCJKsc" in r[0] for r in rows), rows  # the Song face (GB/T 9704), nothing else
    assert any(r[0].endswith("NotoSerifCJKsc-Regular") for r in rows)
    check = subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True, text=True)
    assert check.returncode == 0 and "No syntax or stream encoding errors" in check.stdout, check.stdout + check.stderr
    text = pdftotext(pdf)
    assert defn.title_for(defn.example) in text.replace(" ", "")
    flat = text.replace(" ", "").replace("\n", "")
    for name in ("agency_name", "party_name", "addressee", "interviewee", "place"):
        if defn.example.get(name):
            assert defn.example[name].replace(" ", "") in flat, name
    assert f"第1页共{res.pages}页" in flat


def test_a_payload_that_does_not_fit_is_refused_before_anything_is_drawn() -> None:
    defn = forms.get("inspection_record")
    with pytest.raises(FormError) as err:
        render(defn, defn.example | {"party_name": ""})
    assert err.value.field == "party_name" and "is required" in str(err.value)


def test_long_transcript_paginates_with_signatures_on_every_page(tmp_path: Path) -> None:
    defn = forms.get("inspection_record")
    para = ("执法人员对该公司废水处理设施运行情况、排污口设置、在线监测设备及台账进行了检查，"
            "检查中发现加药装置停运、台账缺失、外排废水颜色异常等情况，并现场拍照取证、采样封存。")
    findings = "\n".join(f"{i + 1}. {para * 4}" for i in range(110))
    res = render(defn, defn.example | {"findings": findings})
    pdf = tmp_path / "long.pdf"
    pdf.write_bytes(res.pdf)
    assert res.pages >= 20
    for page in range(1, res.pages + 1):
        text = pdftotext(pdf, page).replace(" ", "")
        assert f"第{page}页共{res.pages}页" in text
        assert "被检查人（签名）" in text and "执法人员（签名）" in text
    assert "110." in pdftotext(pdf).replace(" ", "")  # nothing lost at the end
    assert "以上笔录已看过，记录属实。" in pdftotext(pdf, res.pages).replace(" ", "")


def test_rare_character_is_visible_and_warned(tmp_path: Path) -> None:
    defn = forms.get("interview_record")
    # 𠮷 (CJK Extension B, a name character) is in the Song face; 𰀀 (Extension G) is in no bundled font
    res = render(defn, defn.example | {"interviewee": "\U00020BB7\U00030000振华"})
    pdf = tmp_path / "rare.pdf"
    pdf.write_bytes(res.pdf)
    assert len(res.warnings) == 1 and "U+30000" in res.warnings[0] and "interviewee" in res.warnings[0]
    # (reportlab's ToUnicode map truncates astral code points, so 𠮷 prints but does not extract as itself)
    assert "[U+30000]振华" in pdftotext(pdf).replace(" ", "")


def test_qr_code_carries_id_and_content_hash(tmp_path: Path) -> None:
    import cv2

    defn = forms.get("service_receipt")
    res = render(defn, defn.example)
    pdf = tmp_path / "sr.pdf"
    pdf.write_bytes(res.pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "200", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    img = cv2.imread(str(next(tmp_path.glob("p*.png"))))
    text, _pts, _ = cv2.QRCodeDetectorAruco().detectAndDecode(img)
    assert text == f"kitdoc:{res.doc_id}:{res.content_sha256}"
    assert res.content_sha256 == defn.content_hash(defn.validate(defn.example), res.doc_id, None)


def test_cli_render(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("kit-app")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(exe), "--lang", "en", "render", *args], capture_output=True, text=True)

    listed = json.loads(run("--list", "--json").stdout)
    assert {d["id"] for d in listed} == set(TYPES)
    schema = json.loads(run("inspection_record", "--schema").stdout)
    assert schema["title"] == "现场检查（勘察）笔录"
    example = json.loads(run("inspection_record", "--example-payload").stdout)
    assert example == forms.get("inspection_record").example
    out = tmp_path / "ex.pdf"
    p = run("inspection_record", "--example", "-o", str(out), "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["pages"] == 2 and out.read_bytes().startswith(b"%PDF")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(example | {"officers": []}), encoding="utf-8")
    p = run("inspection_record", "--input", str(bad), "-o", str(tmp_path / "bad.pdf"))
    assert p.returncode == 1 and not (tmp_path / "bad.pdf").exists()
    assert "officers: is required" in p.stderr
    p = run("no_such_type", "--example", "-o", str(tmp_path / "x.pdf"))
    assert p.returncode == 2 and "unknown document type no_such_type" in p.stderr


def test_photo_sheet_two_photos_a_page_with_captions(tmp_path: Path) -> None:
    from datetime import datetime

    from tests.helpers.photos import make_jpeg

    shots = [make_jpeg(tmp_path / f"p{i}.jpg", taken=datetime(2026, 11, 29, 9, i), seed=i, size=(1600, 1200))
             for i in range(5)]
    defn = forms.get("photo_evidence")
    rows = [{"image": str(p), "caption": f"证明内容{i}", "time": f"2026-11-29T09:0{i}", "place": "总排口",
             "photographer": "李明", "device": "Canon EOS 90D", "sha256": f"{i}" * 64} for i, p in enumerate(shots)]
    rows.append(rows[0] | {"image": str(tmp_path / "gone.jpg"), "caption": "丢失的照片"})
    res = render(defn, defn.example | {"photos": rows})
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(res.pdf)
    assert res.pages == 4  # the header and photo 1, then two a page
    # said by its place on the paper, in the officer's words; the stored path stays the kit's business
    assert res.warnings == ["照片 6: the picture cannot be read (No such file or directory); a placeholder is printed"]
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert len(images.splitlines()[2:]) == 5
    text = pdftotext(pdf).replace(" ", "")
    for i in range(5):
        assert f"证明内容{i}" in text and f"{i}" * 16 + "…" in text
    assert "2026年11月29日9时03分" in text and "〔照片无法读取：照片6〕" in text and "gone.jpg" not in text


SIGNING_LINE = re.compile(r"（签名|签名或盖章|代收人|见证人（|二〇|年月日|^第\d+页共\d+页$|·ID")


@pytest.mark.parametrize("type_id", TYPES)
def test_no_page_holds_only_signatures_or_the_seal(type_id: str, tmp_path: Path) -> None:
    """A signature or seal block keeps company with the last lines of the body (or the last rows of a
    table): no page after the first carries only signature lines, the seal or the footer."""
    defn = forms.get(type_id)
    example = {k: v for k, v in defn.example.items() if k != "party_comment"}  # the party writes by hand
    res = render(defn, example)
    pdf = tmp_path / f"{type_id}.pdf"
    pdf.write_bytes(res.pdf)
    assert all(r[-5] == "yes" for r in fonts(pdf)), fonts(pdf)  # the ruled lines left for the party too
    for page in range(2, res.pages + 1):
        lines = [ln.replace(" ", "") for ln in pdftotext(pdf, page).splitlines() if ln.strip()]
        seal = (defn.example.get("agency_name") or "").replace(" ", "")  # the agency's name over its date
        body = [ln for ln in lines if not SIGNING_LINE.search(ln) and ln != seal]
        assert body, f"page {page} of {type_id} holds only: {lines}"
    assert "印章" not in pdftotext(pdf)  # room is left for the seal itself, which presses on the name and date


def test_the_receipt_keeps_its_remarks_even_empty(tmp_path: Path) -> None:
    """留置送达 is explained in the 备注 by hand when the kit was not told: the box is always there."""
    defn = forms.get("service_receipt")
    pdf = tmp_path / "receipt.pdf"
    pdf.write_bytes(render(defn, defn.example | {"remarks": ""}).pdf)
    assert "备注：" in pdftotext(pdf).replace(" ", "")
    order = forms.get("order_to_correct")  # an optional body left empty elsewhere is still left out
    pdf.write_bytes(render(order, order.example).pdf)
    assert "备注" not in pdftotext(pdf)


def test_lists_end_with_a_blank_marker_and_copies_say_who_keeps_which(tmp_path: Path) -> None:
    """Nothing can be added below the last item of a list; a paper made in duplicate says who keeps which."""
    for type_id in ("seizure_list", "evidence_list"):
        defn = forms.get(type_id)
        pdf = tmp_path / f"{type_id}.pdf"
        pdf.write_bytes(render(defn, defn.example).pdf)
        lines = [ln.split() for ln in pdftotext(pdf).splitlines()]
        last = max(i for i, ln in enumerate(lines) if ln and ln[0] == str(len(defn.example["items"])))
        marks = [i for i, ln in enumerate(lines) if "以下空白" in ln]
        assert len(marks) == 1 and marks[0] > last  # once, below the last numbered row
    for type_id in ("order_to_correct", "seizure_list"):
        defn = forms.get(type_id)
        pdf = tmp_path / f"{type_id}.pdf"
        pdf.write_bytes(render(defn, defn.example).pdf)
        assert "本文书一式两份，一份交当事人，一份附卷。" in pdftotext(pdf).replace(" ", "")
    receipt = forms.get("service_receipt")  # no copies named: nothing said
    pdf = tmp_path / "receipt.pdf"
    pdf.write_bytes(render(receipt, receipt.example).pdf)
    assert "一式" not in pdftotext(pdf)


def test_a_specimen_says_so_on_every_page_and_in_its_code(tmp_path: Path) -> None:
    """A preview or an example can never pass for an issued document: 样本 in its number line, across
    every page, in its machine line and in its QR code; an issued one carries none of it."""
    import cv2

    defn = forms.get("order_to_correct")
    res = render(defn, defn.example, specimen=True)
    pdf = tmp_path / "specimen.pdf"
    pdf.write_bytes(res.pdf)
    for page in range(1, res.pages + 1):
        text = pdftotext(pdf, page).replace(" ", "")
        assert "样本" in text and f"样本·order_to_correctv{defn.version}" in text, page  # the watermark and the machine line
    assert "样本·〔未编号〕" in pdftotext(pdf, 1).replace(" ", "")
    subprocess.run(["pdftoppm", "-png", "-r", "200", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    code, _pts, _ = cv2.QRCodeDetectorAruco().detectAndDecode(cv2.imread(str(next(tmp_path.glob("p*.png")))))
    assert code == f"kitdoc-specimen:{res.doc_id}:{res.content_sha256}"
    issued = render(defn, defn.example, number="青环责改〔2026〕7号")
    pdf.write_bytes(issued.pdf)
    text = pdftotext(pdf).replace(" ", "")
    assert "青环责改〔2026〕7号" in text and "样本" not in text and "未编号" not in text


@pytest.mark.parametrize("rows", [4, 16, 40])
def test_a_tables_last_rows_bring_its_headings_to_a_new_page(rows: int, tmp_path: Path) -> None:
    """The last rows of a table stay with the signatures after them; every page the table is on shows its
    column headings once, whether the table broke there or only its last rows moved."""
    defn = forms.get("inspection_checklist")
    items = (defn.example["items"] * 10)[:rows]
    res = render(defn, defn.example | {"items": items})
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(res.pdf)
    for page in range(1, res.pages + 1):
        text = pdftotext(pdf, page).replace(" ", "")
        if "以下空白" in text or any(f"\n{i}" in "\n" + text for i in range(1, rows + 1)):
            assert text.count("检查内容") == 1, (rows, page, text)
