"""Builders for test data files (CSV in several encodings, XLSX)."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

from kit_app import creditcode

SOURCE_HEADER_ZH = ["单位名称", "统一社会信用代码", "地址", "所属区县", "行业类别", "经度", "纬度", "排污许可证编号"]
SOURCE_HEADER_EN = ["name", "credit_code", "address", "county", "industry", "longitude", "latitude", "permit_no"]


def code(division: str = "450103", seed: int = 0) -> str:
    return creditcode.generate(division, random.Random(seed))


def write_csv(path: Path, header: list[str], rows: list[list[object]], encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path
