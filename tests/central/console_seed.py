"""A central server with what a supervisor's console shows, made the way it is made in the field:
agencies of two cities, officers with their roles, pollution sources published as base data, and
a real kit (the demo data dir) that ran an inspection with a GPS-tagged photo and a finding and
opened a case now overdue, then synced."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from central.service import Central, Feed
from kit_app.db import Store
from kit_app.evidence.service import EvidenceService
from kit_app.ids import new_id
from kit_app.services.cases import CaseService
from kit_app.services.inspections import InspectionService
from kit_app.services.officers import OfficerService
from kit_app.sync.client import enrol, sync
from kit_app.timeutil import local_today
from tests.helpers.photos import make_jpeg

PASSWORD = "demo1234"
PROVINCE_ADMIN = "45000000001"
CITY_HEAD = "45010000001"  # 南宁: agency head and reviewer
LIUZHOU = "45020000001"  # another city's officer: sees none of 南宁's


@dataclass
class Seeded:
    central: Central
    store: Store
    inspection_id: str
    case_id: str
    sources: list[dict[str, Any]]


def seed(central: Central, base: str, store: Store, tmp_path: Path) -> Seeded:
    c = central
    for code, name, parent in (("45", "广西壮族自治区生态环境厅", None), ("4501", "南宁市生态环境局", "45"),
                               ("450103", "南宁市生态环境局青秀区分局", "4501"), ("4502", "柳州市生态环境局", "45")):
        c.add_agency(code, name, parent)
    for cert, name, roles, agency in ((PROVINCE_ADMIN, "黄省", "admin", "45"),
                                      (CITY_HEAD, "陈市", "agency_head,reviewer", "4501"),
                                      (LIUZHOU, "莫柳", "agency_head,officer", "4502"),
                                      ("45010320231", "李明", "officer", "450103"),
                                      ("45010320232", "韦芳", "officer", "450103"),
                                      ("45010320233", "覃强", "officer", "450103")):
        c.add_officer(cert_no=cert, name=name, roles=roles, agency=agency, password=PASSWORD)
    sources = []
    with c.sessions.begin() as s:
        for i, (name, lat, lon) in enumerate((("南宁市绿源化工有限公司", 22.85, 108.40), ("南宁市青秀印染厂", 22.80, 108.45),
                                              ("南宁市长湖电镀有限公司", 22.83, 108.36), ("南宁市凤岭食品厂", 22.86, 108.42),
                                              ("南宁市仙葫砖厂", 22.78, 108.50))):
            body = {"id": new_id(), "name": name, "credit_code": f"91450103MA5K{i:06d}", "address": f"青秀区{i + 1}号",
                    "latitude": lat, "longitude": lon, "county_code": "450103", "cat_water": i % 2 == 0,
                    "cat_air": True, "key_monitored": i == 0, "natural_key": f"91450103MA5K{i:06d}"}
            Feed(c).publish(s, "source", body["id"], "450103", body)
            sources.append(body)
    enrol(store, base, c.make_enrol_code("450103")["code"])
    li = OfficerService(store).login("45010320231", PASSWORD)
    wf = OfficerService(store).login("45010320232", PASSWORD)
    insp = InspectionService(store).start(actor=li, party="南宁市绿源化工有限公司", origin="routine", team=[wf.id],
                                          place="总排口")
    photo = make_jpeg(tmp_path / "outfall.jpg", lat=22.8501, lon=108.4012)
    [res] = EvidenceService(store).ingest(insp.id, li, [photo])
    assert res.status == "ok", res
    InspectionService(store).add_finding(insp.id, li, "总排口废水颜色异常，疑似超标排放")
    case = CaseService(store).create(party="南宁市青秀印染厂", title="涉嫌超标排放", actor=li, officer_ids=[wf.id],
                                     discovered_on=local_today() - timedelta(days=40))
    assert sync(store)["status"]["synced"]
    return Seeded(c, store, insp.id, case.id, sources)


def discovered(days: int) -> date:
    return local_today() - timedelta(days=days)
