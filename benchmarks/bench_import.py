"""Import rate of a 23,000-row pollution-source CSV (target ≥ 20,000 rows/s).

Baseline in the same run: the same file read with the csv module and written with one sqlite3
executemany into an unindexed table — no decoding detection, validation, pinyin or search index:
the floor any importer sits on.
Usage: python benchmarks/bench_import.py [--rows 23000]
"""

from __future__ import annotations

import argparse
import csv
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import emit, workdir  # noqa: E402
from kit_app.db import open_store  # noqa: E402
from kit_app.divisions import divisions  # noqa: E402
from kit_app.services.demo import DemoGenerator  # noqa: E402
from kit_app.services.importer import ImportService  # noqa: E402

TARGET_ROWS_PER_S = 20000
HEADER = ["单位名称", "统一社会信用代码", "地址", "所属区县", "行业类别", "经度", "纬度", "排污许可证编号",
          "法定代表人", "联系电话", "污染类别", "重点监控"]
CAT = {"cat_water": "废水", "cat_air": "废气", "cat_waste": "固废", "cat_noise": "噪声"}


def write_file(path: Path, rows: int) -> None:
    tmp = open_store(workdir("gen"))
    values = DemoGenerator(tmp, seed=3).source_values(rows, set())
    county = {d.code: d.name for d in divisions()}
    from kit_app.divisions import agency_id

    by_agency = {agency_id(c): n for c, n in county.items()}
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for v in values:
            w.writerow([v["name"], v["credit_code"], v["address"], by_agency[v["county_id"]], v["industry"],
                        v["longitude"], v["latitude"], v["permit_no"] or "", v["legal_rep"], v["contact_phone"],
                        "、".join(label for k, label in CAT.items() if v[k]), "是" if v["key_monitored"] else "否"])
    tmp.close()


def baseline(path: Path) -> float:
    db = workdir("base") / "b.sqlite3"
    con = sqlite3.connect(db)
    con.execute(f"CREATE TABLE t ({', '.join(f'c{i}' for i in range(len(HEADER)))})")
    t = time.perf_counter()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        r = csv.reader(fh)
        next(r)
        con.executemany(f"INSERT INTO t VALUES ({','.join('?' * len(HEADER))})", r)
    con.commit()
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=23000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    f = workdir("csv") / "sources.csv"
    write_file(f, a.rows)
    ours, base = [], []
    for _ in range(a.repeat):
        store = open_store(workdir("imp"))
        t = time.perf_counter()
        res = ImportService(store).import_sources(f)
        ours.append(time.perf_counter() - t)
        assert res.imported == a.rows and not res.rejected, (res.imported, res.rejected[:3])
        # re-import of the same file: everything unchanged, nothing duplicated
        t = time.perf_counter()
        again = ImportService(store).import_sources(f)
        reimport = time.perf_counter() - t
        assert again.unchanged == a.rows
        store.close()
        base.append(baseline(f))
    best = min(ours)
    rate = a.rows / best
    emit({
        "benchmark": "import",
        "rows": a.rows,
        "file_mb": round(f.stat().st_size / 1e6, 2),
        "import_s": round(best, 3),
        "rows_per_s": round(rate),
        "reimport_unchanged_s": round(reimport, 3),
        "baseline_csv_executemany_s": round(min(base), 3),
        "baseline_rows_per_s": round(a.rows / min(base)),
        "target_rows_per_s": TARGET_ROWS_PER_S,
        "meets_target": rate >= TARGET_ROWS_PER_S,
    })
    return 0 if rate >= TARGET_ROWS_PER_S else 1


if __name__ == "__main__":
    sys.exit(main())
