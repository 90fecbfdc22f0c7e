"""``kit-app logger read|check``: the conversation with a (simulated) data logger kept as one evidence
item with its custody, then cross-checked against the portable analyzer's session in the case."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.logger import analyzer_readings, logger_sim

EXE = Path(sys.executable).with_name("kit-app")


def kit(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(EXE), "--lang", "en", "--data-dir", str(data), *args], capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def case(tmp_path: Path) -> tuple[Path, str, str]:
    """A demo store with a case and the analyzer's last 15 minutes at the stack (the plant over its limit)."""
    from sqlalchemy import select

    from kit_app.db import open_store
    from kit_app.db.models import Source
    from kit_app.evidence.service import EvidenceService
    from kit_app.services.demo import DemoGenerator
    from kit_app.services.inspections import InspectionService
    from kit_app.services.officers import OfficerService

    data = tmp_path / "data"
    store = open_store(data)
    DemoGenerator(store, seed=1).generate(20, 0)
    li = OfficerService(store).login("45010320231", "demo1234")
    with store.session() as s:  # a key monitored air source with its loggers' MNs in the base data
        src = s.scalars(select(Source).where(Source.key_monitored, Source.cat_air, Source.mn_codes.is_not(None))
                        .order_by(Source.name)).first()
        assert src is not None
        src_id, src_name, mns = src.id, src.name, (src.mn_codes or "").split(",")
    with store.write_session() as s:  # its loggers' password is in the base data too
        s.scalars(select(Source).where(Source.id == src_id)).one().logger_pw = "Gx2026"
    c = InspectionService(store).start(actor=li, party=src_name, source_id=src_id, origin="alarm",
                                       team=["45010320232"], origin_ref="二氧化硫在线数据长期贴近限值")
    EvidenceService(store).add_readings(c.id, li, analyzer_readings(15, {"a21026": 50.0}), protocol="hj212",
                                        port="/dev/ttyUSB1",
                                        instrument={"model": "崂应 3012H", "serial": "A1", "calibrated": "2026-10-01"})
    store.close()
    return data, c.id, mns[-1]


def test_read_keeps_the_exchange_as_evidence_and_check_finds_the_cap(case: tuple[Path, str, str]) -> None:
    from kit_app.db import open_store
    from kit_app.evidence.service import EvidenceService

    data, case_id, mn = case
    begin = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    with logger_sim("--cap", "a21026=50", "--mn", mn, "--pw", "Gx2026") as port:  # the base data's MN and PW
        p = kit(data, "logger", "read", "--port", port, "--from", begin, "--case", case_id,
                "--officer", "45010320231", "--with-officer", "45010320232", "--json")
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert res["mn"] == mn and len(res["records"]["minute"]) >= 115
    store = open_store(data)
    ev = EvidenceService(store)
    item = ev.show(res["evidence_id"])
    assert item["media_type"] == "application/x-kit-hj212-exchange+jsonl" and item["kind"] == "instrument_reading"
    assert len(item["officers"]) == 2 and [e["kind"] for e in item["custody"]] == ["collected"]
    assert item["metadata"]["logger"]["mn"] == res["mn"] and "offset_s" in item["metadata"]["logger"]["clock"]
    lines = [json.loads(x) for x in Path(item["stored_path"]).read_text(encoding="utf-8").splitlines()]
    assert lines[0]["type"] == "logger-exchange" and {x["type"] for x in lines[1:]} == {"tx", "rx"}
    assert all(bytes.fromhex(x["hex"]) for x in lines[1:])  # the bytes both ways, verbatim
    assert ev.verify().ok
    # the plots of the case read the logger's averages from the same original
    from devices.values import load_series

    _header, series = load_series(item["stored_path"])
    assert "2051:a21026-Avg" in series and len(series["2051:a21026-Avg"][2]) >= 115
    store.close()

    p = kit(data, "logger", "check", "--case", case_id, "--limit", "a21026=50", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    status = {c["id"]: c["status"] for c in out["checks"]}
    assert status == {"analyzer": "fired", "limit": "fired", "flat": "clear", "flags": "clear", "gaps": "clear",
                      "clock": "clear", "state": "clear", "aggregates": "clear"}, out["checks"]
    assert out["violation"] == "air_monitoring_falsified" and out["checks_version"] == "logger_checks@2"
    limit = next(c for c in out["checks"] if c["id"] == "limit")
    assert limit["numbers"]["pollutants"]["a21026"]["masked_minutes"] >= 10 and "50.0" in limit["summary"]
    p = kit(data, "logger", "check", "--case", case_id)  # for a person: one line a check
    assert p.returncode == 0 and p.stdout.count("\n") == 8 and "!!" in p.stdout
    # compared with one session only (measured at the logger's point), or a session that is not there
    [session] = out["analyzer_sessions"]
    p = kit(data, "logger", "check", "--case", case_id, "--analyzer", session["evidence_id"], "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["suspicious"] == ["analyzer"]  # no limit given: no limit check
    p = kit(data, "logger", "check", "--case", case_id, "--analyzer", "01a2304d-0000-7000-8000-000000000000")
    assert p.returncode == 1 and "No analyzer session" in p.stderr
    # the documents' own auto-fill knows the record too (the editor starts from it)
    from kit_app.services.documents import DocumentService

    store = open_store(data)
    filled = DocumentService(store).prefill(case_id, "monitoring_crosscheck", None)
    store.close()
    assert filled["mn"] == mn and len(filled["checks"]) == 8 and filled["checks"][1]["result"] == "未比对"
    assert "便携式仪器" in {r["series"] for r in filled["comparison"]}

    # the record issued, and the suspicion a finding of the inspection citing what proves it
    p = kit(data, "logger", "check", "--case", case_id, "--limit", "a21026=50", "--issue", "--officer", "45010320231",
            "--place", "1#锅炉废气排放口", "--conditions", "锅炉负荷约 80%", "--json")
    assert p.returncode == 0, p.stderr
    issued = json.loads(p.stdout)
    assert issued["document_id"] and issued["number"] is None and issued["finding_id"]  # a record has no number
    from kit_app.services.inspections import InspectionService

    store = open_store(data)
    finding = next(f for f in InspectionService(store).status(case_id).findings if f["id"] == issued["finding_id"])
    assert finding["item_id"] == "om_consistency"  # the checklist item on online data against measurement
    assert finding["violation_id"] == "air_monitoring_falsified" and "便携式仪器超标而数采仪数据未超标" in finding["description"]
    assert {res["evidence_id"], issued["document_evidence_id"]} <= set(finding["evidence_ids"])
    ev = EvidenceService(store)
    pdf = Path(ev.readable(ev.show(issued["document_evidence_id"]))["stored_path"])
    store.close()
    text = "".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split())
    for words in ("在线监控数据比对记录", mn, "1#锅炉废气排放口", "异常", "未见异常",
                  "大气污染防治法", "数采仪通讯记录SHA-256", "便携式仪器", "排放限值"):
        assert words in text, words
    # the inspection record (笔录) and the case's facts cite the reading and the record
    store = open_store(data)
    draft = InspectionService(store).draft_record(case_id)["findings"]
    facts = InspectionService(store).prefill_values(case_id)["inspection.facts"]
    store.close()
    assert f"以上位机方式读取了当事人数采仪（MN：{mn}）" in draft
    assert "《在线监控数据比对记录》1份（附后）" in draft and "便携式仪器超标而数采仪数据未超标" in draft
    assert "数采仪数据记录1份" in facts and "在线监控数据比对记录1份" in facts


def test_mistakes_are_named(case: tuple[Path, str, str]) -> None:
    data, case_id, _mn = case
    p = kit(data, "logger", "read", "--tcp", "127.0.0.1:1", "--mn", "X")
    assert p.returncode == 1 and "cannot open 127.0.0.1:1" in p.stderr and "Traceback" not in p.stderr
    p = kit(data, "logger", "read", "--tcp", "somewhere", "--mn", "X")
    assert p.returncode == 1 and "HOST:PORT" in p.stderr
    p = kit(data, "logger", "read", "--port", "/dev/null", "--case", case_id)
    assert p.returncode == 2 and "--officer" in p.stderr
    p = kit(data, "logger", "check", "--case", case_id)
    assert p.returncode == 1 and "no data logger record" in p.stderr
    p = kit(data, "logger", "check", "--case", case_id, "--limit", "a21026")
    assert p.returncode == 2 and "CODE=VALUE" in p.stderr
