"""Numbers out of decoded messages, and the series of a recorded session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devices import hj212
from devices.ascii import AsciiProtocol
from devices.values import load_series, numeric_values


def test_numeric_values_of_each_protocol() -> None:
    pkt = hj212.parse(hj212.encode(st="31", cn="2051", mn="X", qn="20261129120000000", flag=5,
                                   cp="DataTime=20261129120000;a21026-Avg=35.2,a21026-Max=40,a21026-Flag=N"))
    assert numeric_values(pkt.as_dict()) == {"a21026-Avg": ("二氧化硫 Avg", 35.2, "mg/m³"),
                                             "a21026-Max": ("二氧化硫 Max", 40.0, "mg/m³")}
    assert numeric_values({"valid": True, "values": {"pH": {"value": 7.1, "unit": ""}}}) == {"pH": ("pH", 7.1, "")}
    assert numeric_values(AsciiProtocol().parse(b"LAeq,61.2,dB(A)\r\n")) == {"LAeq": ("LAeq", 61.2, "dB(A)")}
    assert numeric_values({"valid": False, "value": 3}) == {}
    assert numeric_values({"valid": True, "sentence": "GGA", "latitude": 22.8}) == {}


def test_load_series(tmp_path: Path) -> None:
    f = tmp_path / "s.jsonl"
    lines = [{"type": "session", "protocol": "ascii"},
             {"type": "reading", "valid": True, "name": "LAeq", "value": 61.0, "unit": "dB(A)",
              "received_at": "2026-11-29T04:00:00+00:00"},
             {"type": "reading", "valid": False, "error": "bad", "received_at": "2026-11-29T04:00:01+00:00"},
             {"type": "reading", "valid": True, "name": "LAeq", "value": 62.5, "unit": "dB(A)",
              "received_at": "2026-11-29T04:00:02+00:00"}]
    f.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    header, series = load_series(f)
    assert header["protocol"] == "ascii"
    label, unit, pts = series["LAeq"]
    assert (label, unit, [v for _t, v in pts]) == ("LAeq", "dB(A)", [61.0, 62.5]) and pts[1][0] - pts[0][0] == 2
    f.write_text(f.read_text() + "{broken\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 5"):
        load_series(f)
