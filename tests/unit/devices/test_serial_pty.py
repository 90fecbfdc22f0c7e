"""Real serial I/O through pseudo-terminals, driven by the shipped simulators."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from devices.ascii import AsciiError, AsciiProtocol
from devices.items import PortStatus, Reading
from devices.modbus import ModbusError, crc16_modbus, parse_response, read_request, register_maps
from devices.reader import PortError, readings
from tests.helpers.sim import simulator


def take(it: Iterator[Reading | PortStatus], n: int) -> list[Reading]:
    out: list[Reading] = []
    for r in it:
        assert isinstance(r, Reading)  # no heartbeat asked for: readings only
        out.append(r)
        if sum(1 for x in out if x.valid) >= n:
            break
    return out


def test_hj212_stream_with_faults_loses_no_good_packet() -> None:
    with simulator("hj212", "--rate", "20", "--count", "60", "--garbage", "0.3", "--bad-crc", "0.2",
                   "--split", "0.3", "--seed", "3") as port:
        got = take(readings(port, "hj212", timeout=5), 25)
    good = [r for r in got if r.valid]
    bad = [r for r in got if not r.valid]
    assert len(good) == 25
    assert all(set(g.get("pollutants")) == {"a21026", "a21002", "a34013", "a19001", "a00000"} for g in good)
    assert any("CRC mismatch" in (b.error or "") for b in bad) and all(not b.fields for b in bad)
    assert (good[-1].skipped_bytes or 0) > 0  # garbage was counted
    assert all(g.raw and bytes.fromhex(g.raw).startswith(b"##") for g in good)
    qns = [g.get("qn") for g in good]
    assert qns == sorted(qns)


def test_nmea_fixes() -> None:
    with simulator("nmea", "--rate", "10", "--count", "20") as port:
        got = [r for r in take(readings(port, "nmea", timeout=5), 6) if r.valid]
    assert {g.get("sentence") for g in got} == {"GGA", "RMC"}
    assert all(g.get("fix") and 22.8 < g.get("latitude") < 22.84 and 108.35 < g.get("longitude") < 108.38
               for g in got)


def test_ascii_lines() -> None:
    with simulator("ascii", "--rate", "10", "--count", "20") as port:
        got = [r for r in take(readings(port, "ascii", timeout=5), 5) if r.valid]
    assert all(g.get("name") == "LAeq" and g.get("unit") == "dB(A)" and 30 < g.get("value") < 100 for g in got)
    # the record a recording keeps: the decoded fields with the envelope
    rec = got[0].record()
    assert rec["valid"] is True and rec["name"] == "LAeq" and rec["received_at"] == got[0].received_at
    assert bytes.fromhex(rec["raw"]).endswith(b"\n") and "error" not in rec


@pytest.mark.parametrize("model, field", [("generic-ph", "pH"), ("generic-do", "dissolved_oxygen"),
                                          ("generic-turbidity", "turbidity")])
def test_modbus_polling(model: str, field: str) -> None:
    with simulator("modbus", "--model", model, "--unit", "3") as port:
        got = take(readings(port, "modbus", model=model, unit=3, interval=0.05, timeout=5), 3)
    values = [r.get("values")[field]["value"] for r in got if r.valid]
    assert len(values) == 3 and all(v > 0 for v in values)


def test_modbus_wrong_unit_is_silence() -> None:
    with simulator("modbus", "--unit", "3") as port:
        with pytest.raises(PortError) as err:
            take(readings(port, "modbus", unit=4, interval=0.05, timeout=1.5), 1)
    assert "no answer from unit 4" in str(err.value)


def test_vanished_port_and_silence() -> None:
    with simulator("hj212", "--rate", "20", "--disconnect-after", "3", "--wait", "1.5") as port:
        got: list[Reading | PortStatus] = []
        with pytest.raises(PortError):
            for r in readings(port, "hj212", timeout=2):
                got.append(r)
    assert sum(1 for r in got if isinstance(r, Reading) and r.valid) == 3  # what arrived before the cut is kept
    with pytest.raises(PortError) as err:
        take(readings("/dev/nonexistent-port", "nmea", timeout=1), 1)
    assert "cannot open" in str(err.value)


def test_modbus_frames() -> None:
    assert read_request(1, 0, 2) == bytes.fromhex("010300000002c40b")
    rmap = register_maps()["generic-ph"]
    words = [r.encode(v)[0] for r, v in zip(rmap.registers, (7.21, -3.5), strict=True)]
    resp = bytes([1, 3, 4]) + b"".join(w.to_bytes(2, "big") for w in words)
    resp += crc16_modbus(resp).to_bytes(2, "little")
    assert rmap.decode(parse_response(resp, 1, 2)) == {"pH": {"value": 7.21, "unit": ""},
                                                       "temperature": {"value": -3.5, "unit": "°C"}}
    for bad in (resp[:-1] + b"\x00", resp[:4], bytes([1, 0x83, 2]) + b"\x00\x00"):
        with pytest.raises(ModbusError):
            parse_response(bad if bad[1:2] != b"\x83" else bad[:-2] + crc16_modbus(bad[:-2]).to_bytes(2, "little"), 1, 2)


def test_ascii_pattern() -> None:
    p = AsciiProtocol(r"^SO2=(?P<value>[\d.]+)(?P<unit>mg/m3)$")
    assert p.parse("SO2=12.5mg/m3") == {"valid": True, "name": None, "value": 12.5, "unit": "mg/m3"}
    with pytest.raises(AsciiError):
        p.parse("NOx=3")
    with pytest.raises(AsciiError):
        AsciiProtocol("(unclosed")


def test_cli_devices_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json
    from pathlib import Path

    exe = Path(sys.executable).with_name("kit-app")
    with simulator("nmea", "--rate", "10", "--count", "30") as port:
        p = subprocess.run([str(exe), "devices", "read", "--port", port, "--protocol", "nmea", "--count", "4",
                            "--json"], capture_output=True, timeout=30)
    lines = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert p.returncode == 0 and sum(1 for x in lines if x["valid"]) == 4
    p = subprocess.run([str(exe), "--lang", "en", "devices", "read", "--port", "/dev/nope", "--protocol", "nmea"],
                       capture_output=True, timeout=30)
    assert p.returncode == 1 and b"cannot open" in p.stderr


def test_record_a_measurement_session_as_evidence(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json
    from pathlib import Path

    from kit_app.db import open_store
    from kit_app.evidence.service import EvidenceService
    from kit_app.services.cases import CaseService
    from kit_app.services.demo import DemoGenerator
    from kit_app.services.officers import OfficerService

    data = tmp_path / "data"
    store = open_store(data)
    DemoGenerator(store, seed=1).generate(20, 0)
    li = OfficerService(store).login("45010320231", "demo1234")
    case = CaseService(store).create(party="某热电厂", title="烟气超标", actor=li)
    store.close()
    exe = Path(sys.executable).with_name("kit-app")
    with simulator("hj212", "--rate", "20", "--count", "40", "--bad-crc", "0.2", "--seed", "5") as port, \
            simulator("nmea", "--rate", "10", "--count", "40") as gps:
        p = subprocess.run([str(exe), "--lang", "en", "--data-dir", str(data), "devices", "record", "--case",
                            case.id, "--officer", "45010320231", "--port", port, "--protocol", "hj212",
                            "--count", "8", "--gps-port", gps, "--instrument-model", "崂应 3012H",
                            "--serial", "A1234", "--calibrated", "2026-10-01", "--json"],
                           capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    store = open_store(data)
    ev = EvidenceService(store)
    item = ev.show(res["evidence_id"])
    assert item["kind"] == "instrument_reading" and item["device"] == "崂应 3012H #A1234"
    assert item["metadata"]["readings"]["valid"] == 8 and item["latitude"] is not None
    lines = [json.loads(x) for x in Path(item["stored_path"]).read_text(encoding="utf-8").splitlines()]
    assert lines[0]["instrument"]["calibrated"] == "2026-10-01" and lines[0]["gps"]["fix"]
    raw = [bytes.fromhex(x["raw"]) for x in lines[1:] if x.get("valid")]
    assert len(raw) == 8 and all(r.startswith(b"##") for r in raw)  # the bytes verbatim
    assert [e["kind"] for e in item["custody"]] == ["collected"] and ev.verify().ok
    store.close()
