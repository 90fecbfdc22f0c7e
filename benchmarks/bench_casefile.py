"""The case file of a case with 100 camera photos (4000×3000) and its papers — about 60 pages — and
the stand-alone verifier on its court pack.

Targets: the case file built in ≤ 10 s; verify_pack.py on the pack in ≤ 2 s. Baselines in the same
run: decoding the 100 photos alone (what the file cannot do faster than) and `sha256sum` of the pack.
Usage: python benchmarks/bench_casefile.py [--photos 100]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_ingest import make_photos  # noqa: E402
from benchmarks.common import emit, workdir  # noqa: E402

PAPERS = ("case_approval", "inspection_record", "interview_record", "sampling_record", "investigation_report",
          "legal_review_opinion")


def decode_only(folder: Path) -> float:
    """The photos decoded at the size the file prints them (JPEG draft), nothing else."""
    from PIL import Image

    t = time.perf_counter()
    for p in sorted((folder / "DCIM").iterdir()):
        with Image.open(p) as im:
            im.draft("RGB", (666, 666))
            im.load()
    return time.perf_counter() - t


def main() -> int:
    import forms
    from kit_app.db import open_store
    from kit_app.services.casefile import CaseFileService
    from kit_app.services.cases import CaseService
    from kit_app.services.courtpack import CourtPackService
    from kit_app.services.demo import DemoGenerator
    from kit_app.services.documents import DocumentService
    from kit_app.services.officers import OfficerService

    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=100)
    a = ap.parse_args()
    folder = workdir("casefile-photos")
    make_photos(folder, a.photos)
    store = open_store(workdir("casefile"))
    DemoGenerator(store, seed=1).generate(10, 0)
    li = OfficerService(store).login("45010320231", "demo1234")
    case = CaseService(store).create(party="基准测试有限公司", title="涉嫌超标排放", actor=li)
    docs = DocumentService(store)
    for t in PAPERS:
        docs.issue(case.id, li, t, forms.get(t).example)
    res = docs.evidence.ingest(case.id, li, [folder / "DCIM"], thumbnails=False)
    assert sum(r.status == "ok" for r in res) == a.photos
    baseline = decode_only(folder)
    t = time.perf_counter()
    built = CaseFileService(store, docs).build(case.id, li)
    build_s = time.perf_counter() - t
    pack_path = workdir("casefile-pack") / "pack.zip"
    t = time.perf_counter()
    pack = CourtPackService(store, docs).export(case.id, pack_path, li)
    export_s = time.perf_counter() - t
    here = pack_path.parent / "check"
    here.mkdir()
    with zipfile.ZipFile(pack_path) as z:
        (here / "verify_pack.py").write_bytes(z.read("verify_pack.py"))
    subprocess.run(["sha256sum", str(pack_path)], check=True, capture_output=True)  # the page cache, warm for both
    t = time.perf_counter()
    subprocess.run(["sha256sum", str(pack_path)], check=True, capture_output=True)
    sha_s = time.perf_counter() - t
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-I", str(here / "verify_pack.py"), str(pack_path)], cwd=here,
                         capture_output=True, text=True)
    verify_s = time.perf_counter() - t
    assert out.returncode == 0, out.stdout + out.stderr
    ok = build_s <= 10 and verify_s <= 2
    emit({
        "benchmark": "casefile",
        "photos": a.photos,
        "case_file_pages": built.pages,
        "papers": len(built.contents),
        "decode_photos_only_s": round(baseline, 2),
        "case_file_s": round(build_s, 2),
        "court_pack_export_s": round(export_s, 2),
        "pack_mb": round(pack.size / 1e6, 1),
        "sha256sum_pack_s": round(sha_s, 2),
        "verify_pack_s": round(verify_s, 2),
        "targets": {"case_file_s": 10, "verify_pack_s": 2},
        "meets_target": ok,
    })
    store.close()
    for d in (folder, store.data_dir, pack_path.parent):
        shutil.rmtree(d, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
