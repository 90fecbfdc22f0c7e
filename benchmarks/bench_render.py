"""Render time of a two-page 现场检查（勘察）笔录 (target ≤ 150 ms) and of a 100-photo evidence
sheet from camera-size JPEGs (4000×3000, target ≤ 5 s).

Baseline in the same run, when LibreOffice is installed: converting an equivalent .docx with
``soffice --headless --convert-to pdf`` (what offices do today). The .docx is made with the
same text by python-docx if available, else the baseline is reported as not measured.
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
    (out / "inspection.pdf").write_bytes(first.pdf)
    baseline: dict[str, object] = {"measured": False, "why": "LibreOffice (soffice) is not installed here"}
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice:
        try:
            import docx  # type: ignore[import-not-found]
        except ImportError:
            baseline = {"measured": False, "why": "python-docx is not installed to make the .docx"}
        else:
            d = docx.Document()
            d.add_heading(defn.title, 0)
            for k, v in payload.items():
                d.add_paragraph(f"{defn.field(k).label}：{v}")
            src = out / "inspection.docx"
            d.save(str(src))
            t = time.perf_counter()
            subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(out), str(src)],
                           capture_output=True, check=True)
            baseline = {"measured": True, "soffice_convert_ms": round((time.perf_counter() - t) * 1000, 1)}
    ok = s["p95_ms"] <= TARGET_MS and sheet_s <= TARGET_PHOTOS_S
    emit({"benchmark": "render_documents", "inspection_record": {
        "pages": res.pages, "cold_first_render_ms": round(cold * 1000, 1), **s, "target_p95_ms": TARGET_MS},
        "photo_sheet_100": {"photos": len(photos), "pages": sheet_res.pages, "seconds": round(sheet_s, 2),
                            "pdf_mb": round(len(sheet_res.pdf) / 1e6, 1), "target_s": TARGET_PHOTOS_S},
        "meets_target": ok, "baseline_libreoffice": baseline})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
