"""Render time of a two-page 现场检查（勘察）笔录 (target ≤ 150 ms) and of a 100-photo evidence
sheet from camera-size JPEGs (4000×3000, target ≤ 5 s).

Baseline in the same run, when LibreOffice is installed: converting an equivalent .docx (the same
text, written here as minimal WordprocessingML) with ``soffice --headless --convert-to pdf`` —
what offices do today. Without LibreOffice the baseline is reported as not measured.
Usage: python benchmarks/bench_render.py [--runs 30]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import emit, summary_ms, workdir  # noqa: E402

TARGET_MS = 150.0
TARGET_PHOTOS_S = 5.0


def _plain(v: object) -> str:
    if isinstance(v, list):
        return "；".join(" ".join(str(x) for x in (o.values() if isinstance(o, dict) else [o])) for o in v)
    return str(v)


def write_docx(path: Path, title: str, paragraphs: list[str]) -> None:
    """A minimal .docx (WordprocessingML in a zip) with a title and paragraphs, no extra library."""
    import zipfile
    from xml.sax.saxutils import escape

    body = f'<w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:r><w:rPr><w:b/><w:sz w:val="40"/></w:rPr>' \
           f"<w:t>{escape(title)}</w:t></w:r></w:p>"
    for para in paragraphs:
        for line in para.split("\n"):
            run = f'<w:r><w:rPr><w:sz w:val="23"/></w:rPr><w:t xml:space="preserve">{escape(line)}</w:t></w:r>'
            body += f"<w:p>{run}</w:p>"
    doc = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
           f'{body}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1587" w:right="1474" w:bottom="1984" '
           'w:left="1701"/></w:sectPr></w:body></w:document>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
                   'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/'
                   'xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                   'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
                   '</Relationships>')
        z.writestr("word/document.xml", doc)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    a = ap.parse_args()
    import forms
    from reports import render

    defn = forms.get("inspection_record")
    payload = defn.example
    t = time.perf_counter()
    first = render(defn, payload)
    cold = time.perf_counter() - t
    samples = []
    for _ in range(a.runs):
        t = time.perf_counter()
        res = render(defn, payload)
        samples.append(time.perf_counter() - t)
    s = summary_ms(samples)
    out = workdir("render")
    # the photo sheet
    from benchmarks.bench_ingest import make_photos

    make_photos(out, 100)
    photos = sorted((out / "DCIM").glob("*.JPG"))
    sheet = forms.get("photo_evidence")
    ph_payload = sheet.example | {"photos": [
        {"image": str(p), "caption": f"现场照片 {i + 1}", "time": "2026-11-29T09:40", "place": "二号车间",
         "photographer": "李明", "device": "Canon EOS 90D", "sha256": "0" * 64} for i, p in enumerate(photos)]}
    t = time.perf_counter()
    sheet_res = render(sheet, ph_payload)
    sheet_s = time.perf_counter() - t
    (out / "kit-inspection.pdf").write_bytes(first.pdf)
    baseline: dict[str, object] = {"measured": False, "why": "LibreOffice (soffice) is not installed here"}
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice:
        src = out / "inspection.docx"
        write_docx(src, defn.title, [f"{defn.field(k).label}：{_plain(v)}" for k, v in payload.items()])
        times = []
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(out), str(src)],
                           capture_output=True, check=True)
            times.append(time.perf_counter() - t)
        converted = out / "inspection.pdf"
        if not converted.exists() or converted.stat().st_size < 1000:
            raise SystemExit("LibreOffice did not convert the .docx")
        pages_lo = next((int(line.split()[-1]) for line in subprocess.run(
            ["pdfinfo", str(converted)], capture_output=True, text=True).stdout.splitlines()
            if line.startswith("Pages:")), None)
        baseline = {"measured": True, "pages": pages_lo,
                    "soffice_convert_ms_best_of_3": round(min(times) * 1000, 1),
                    "soffice_convert_ms_first": round(times[0] * 1000, 1)}
    ok = s["p95_ms"] <= TARGET_MS and sheet_s <= TARGET_PHOTOS_S
    emit({"benchmark": "render_documents", "inspection_record": {
        "pages": res.pages, "cold_first_render_ms": round(cold * 1000, 1), **s, "target_p95_ms": TARGET_MS},
        "photo_sheet_100": {"photos": len(photos), "pages": sheet_res.pages, "seconds": round(sheet_s, 2),
                            "pdf_mb": round(len(sheet_res.pdf) / 1e6, 1), "target_s": TARGET_PHOTOS_S},
        "meets_target": ok, "baseline_libreoffice": baseline})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
