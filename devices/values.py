"""The numbers in a decoded message, whatever its protocol: ``{key: (label, value, unit)}``.

Used to show the latest values, plot a series and print a measurement record. HJ 212 gives one
entry per pollutant and kind of value (``a21026-Rtd``); Modbus one per register; vendor ASCII one
per line; NMEA none (a fix is not a measurement).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from kit_app.errors import ProtocolError
from kit_app.i18n import _

HJ212_KINDS = ("Rtd", "Avg", "Min", "Max", "Cou")


def numeric_values(item: dict[str, Any]) -> dict[str, tuple[str, float, str]]:
    out: dict[str, tuple[str, float, str]] = {}
    if not item.get("valid"):
        return out
    for code, p in (item.get("pollutants") or {}).items():
        name = p.get("name") or code
        for kind in HJ212_KINDS:
            v = p.get(kind)
            if isinstance(v, (int, float)):
                label = name if kind == "Rtd" else f"{name} {kind}"
                out[f"{code}-{kind}"] = (label, float(v), p.get("unit") or "")
    values = item.get("values")
    if isinstance(values, dict):  # Modbus register map
        for name, v in values.items():
            if isinstance(v, dict) and isinstance(v.get("value"), (int, float)):
                out[name] = (name, float(v["value"]), v.get("unit") or "")
    if isinstance(item.get("value"), (int, float)):  # vendor ASCII
        name = item.get("name") or "value"
        out[name] = (name, float(item["value"]), item.get("unit") or "")
    return out


def load_series(path: str | Path) -> tuple[dict[str, Any], dict[str, tuple[str, str, list[tuple[float, float]]]]]:
    """A recorded measurement session (the JSON Lines original the kit writes): its header and,
    per quantity, ``(label, unit, [(unix time, value), ...])`` in the order received."""
    header: dict[str, Any] = {}
    series: dict[str, tuple[str, str, list[tuple[float, float]]]] = {}
    entries: list[dict[str, Any]] = []
    for rec in read_records(path):
        if rec.get("type") in ("session", "logger-exchange"):
            header = rec
            continue
        if header.get("type") == "logger-exchange":
            entries.append(rec)
            continue
        when = rec.get("received_at")
        if not when:
            continue
        t = datetime.fromisoformat(when).timestamp()
        for key, (label, value, unit) in numeric_values(rec).items():
            series.setdefault(key, (label, unit, []))[2].append((t, value))
    if entries:
        series = logger_series(entries)
    return header, series


def read_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """The JSON objects of an original the kit wrote as JSON Lines (a measurement session, a data
    logger's conversation), blank lines skipped; a line that is not one is named by file and line."""
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                rec = None
            if not isinstance(rec, dict):
                raise ProtocolError(_("{file}: line {n} is not a JSON object").format(file=Path(path).name, n=n))
            yield rec


# a data logger's records: kind → (its command, what its averages are called in a printed record)
LOGGER_KINDS = {"minute": ("2051", "分钟均值"), "hour": ("2061", "小时均值"), "day": ("2031", "日均值")}


def logger_series(entries: list[dict[str, Any]]) -> dict[str, tuple[str, str, list[tuple[float, float]]]]:
    """Per pollutant and kind of record, the averages a data logger reported, at the times it
    filed them under (its own clock): ``{"2051:a21026-Avg": (label, unit, [(unix time, value)])}``."""
    from devices.hj212 import POLLUTANTS
    from devices.logger import decode

    decoded = decode(entries)
    series: dict[str, tuple[str, str, list[tuple[float, float]]]] = {}
    for kind, (cn, called) in LOGGER_KINDS.items():
        for row in decoded.get(kind, []):
            t = datetime.fromisoformat(row["time"]).timestamp()
            for code, fields in row["values"].items():
                v = fields.get("Avg")
                if isinstance(v, (int, float)):
                    name, _en, unit = POLLUTANTS.get(code, (code, code, ""))
                    series.setdefault(f"{cn}:{code}-Avg", (f"{name} {called}", unit, []))[2].append((t, float(v)))
    return series
