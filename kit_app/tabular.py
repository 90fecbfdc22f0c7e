"""Reading the spreadsheets Chinese offices actually produce: CSV in UTF-8 (with or without BOM),
GBK/GB18030 or UTF-16, and XLSX. Rows come back with the row number a spreadsheet shows (header = 1).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from kit_app.errors import KitError
from kit_app.i18n import _


@dataclass
class Table:
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (spreadsheet row number, cells as stripped text)
    encoding: str


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes; return (text, encoding name)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass  # not UTF-8: try GB18030 (a superset of GBK) next
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise KitError(
            _(
                "Cannot read the file: it is neither UTF-8 nor GBK/GB18030 "
                "(undecodable byte at offset {offset})."
            ).format(offset=exc.start)
        ) from exc


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def read_csv(path: Path) -> Table:
    data = path.read_bytes()
    text, encoding = decode_bytes(data)
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first))
    try:
        header = next(reader)
    except StopIteration:
        header = []
    except csv.Error as exc:
        raise KitError(_("The header row cannot be read: {reason}").format(reason=exc)) from exc

    def rows() -> Iterator[tuple[int, list[str]]]:
        n = 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise KitError(
                    _("Row {row} cannot be read: {reason}").format(row=n + 1, reason=exc)
                ) from exc
            n += 1
            yield n, [c.strip() for c in row]

    return Table(header=[h.strip() for h in header], rows=rows(), encoding=encoding)


def read_xlsx(path: Path) -> Table:
    import zipfile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise KitError(
            _("{file} is not a readable XLSX workbook: {reason}").format(file=path.name, reason=exc)
        ) from exc
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    try:
        header = ["" if v is None else str(v).strip() for v in next(it)]
    except StopIteration:
        header = []

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for n, row in enumerate(it, start=2):
                yield n, [cell_text(v) for v in row]
        finally:
            wb.close()

    return Table(header=header, rows=rows(), encoding="xlsx")


def read_table(path: Path) -> Table:
    if not path.exists():
        raise KitError(_("File not found: {path}").format(path=path))
    if path.is_dir():
        raise KitError(_("{path} is a directory, not a spreadsheet.").format(path=path))
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic == b"PK\x03\x04":
        return read_xlsx(path)
    if path.suffix.lower() in (".xls",):
        raise KitError(
            _("{file} is an old binary Excel file: save it as XLSX or CSV first.").format(
                file=path.name
            )
        )
    return read_csv(path)


def cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == datetime.min.time() else v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    return str(v).strip()
