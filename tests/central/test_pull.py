"""Pull: base data, officers, definitions, number blocks, assignments and review comments flow down
incrementally; officers sign in as themselves (on the server and, offline, on the kit); what an
officer sees follows the hierarchy, enforced on the server; conflicts resolve by the documented rules."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

import forms
from central.service import Central, CentralError, Feed
from kit_app.db import Store
from kit_app.db.models import Case, NumberBlock, Source
from kit_app.errors import KitError
from kit_app.services.cases import CaseService
from kit_app.services.documents import DocumentService
from kit_app.services.officers import OfficerService
from kit_app.sync.client import enrol, pull, sync
from tests.helpers.data import SOURCE_HEADER_ZH, code, write_csv

PW = "pass-word-1"


class login:
    """An officer signed in to the central server as themselves."""

    def __init__(self, server, cert: str) -> None:  # type: ignore[no-untyped-def]
        r = httpx.post(f"{server.base}/api/v1/login", json={"cert_no": cert, "password": PW})
        assert r.status_code == 200, r.text
        self.base, self.headers = server.base, {"Authorization": f"Bearer {r.json()['token']}"}

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.base + path, headers=self.headers)

    def post(self, path: str, **kw: object) -> httpx.Response:
        return httpx.post(self.base + path, headers=self.headers, **kw)  # type: ignore[arg-type]


@pytest.fixture
def province(server, tmp_path: Path):  # type: ignore[no-untyped-def]
    c: Central = server.app.state.central
    for code_, name in (("45", "广西壮族自治区生态环境厅"), ("4501", "南宁市生态环境局"),
                        ("450103", "南宁市生态环境局青秀区分局"), ("450105", "南宁市生态环境局江南区分局"),
                        ("4502", "柳州市生态环境局"), ("450202", "柳州市生态环境局城中区分局")):
        c.add_agency(code_, name)
    for cert, name, roles, agency in (("45000000001", "周审核", "reviewer", "45"),
                                      ("45010000001", "吴科长", "reviewer", "4501"),
                                      ("45010320231", "李明", "officer", "450103"),
                                      ("45010320232", "王芳", "officer", "450103"),
                                      ("45010520001", "赵强", "officer,reviewer", "450105"),
                                      ("45020220001", "钱柳", "reviewer", "4502")):
        c.add_officer(cert_no=cert, name=name, roles=roles, agency=agency, password=PW)
    rows = [["青秀区绿源化工有限公司", code("450103", 1), "青秀区长湖路1号", "青秀区", "化工", "108.38", "22.81", ""],
            ["江南区明阳糖业有限公司", code("450105", 2), "江南区壮锦大道2号", "江南区", "制糖", "108.29", "22.78", ""],
            ["柳州市城中电镀厂", code("450202", 3), "城中区文惠路3号", "城中区", "电镀", "109.41", "24.31", ""],
            ["坏行", "123", "", "", "", "", "", ""]]
    csv = write_csv(tmp_path / "sources.csv", SOURCE_HEADER_ZH, rows)
    res = Feed(c).publish_base_data("source", csv)
    assert res["published"] == 3 and res["rejected"][0]["row"] == 5 and res["rejected"][0]["column"] == "统一社会信用代码"
    # publishing the same file again changes nothing (same ids, no new sequence numbers)
    assert Feed(c).publish_base_data("source", csv)["unchanged"] == 3
    return c


def test_pull_brings_what_the_kit_may_see(server, province, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    c: Central = province
    enrol(store, server.base, c.make_enrol_code("450103")["code"], name="青秀一号")
    # a newer document definition, province-wide; a number block for this kit; a task
    d = dict(forms.get("service_receipt").raw) | {"version": forms.get("service_receipt").version + 1,
                                                  "description": "中心下发的新版本"}
    (tmp_path / "sr.json").write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
    assert Feed(c).publish_definition("form", tmp_path / "sr.json")["version"] == d["version"]
    with pytest.raises(CentralError, match="older"):
        (tmp_path / "old.json").write_text(json.dumps(d | {"version": 1}, ensure_ascii=False), encoding="utf-8")
        Feed(c).publish_definition("form", tmp_path / "old.json")
    c.assign_numbers(kit_id=store.kit_id, agency="450103", doc_type="order_to_correct", year=2026,
                     prefix="青环责改", first=1, last=500)
    with pytest.raises(CentralError, match="overlap"):
        c.assign_numbers(kit_id=store.kit_id, agency="450103", doc_type="order_to_correct", year=2026,
                         prefix="青环责改", first=400, last=900)
    with store.session() as s:
        src_id = None
    task = c.assign_case(agency="450103", title="群众举报夜间偷排", party_name="青秀区绿源化工有限公司",
                         officers=["45010320231", "45010320232"], note="重点查看雨水排口")

    res = pull(store)
    assert res["kinds"]["source"] == 1  # its county's source only
    assert res["kinds"]["officer"] == 2  # its county's officers only: no one else's verifier is on the kit
    assert res["kinds"]["number_block"] == 1 and res["kinds"]["assignment"] == 1 and res["kinds"]["form"] == 1
    with store.session() as s:
        names = {x.name for x in s.query(Source)}
        assert names == {"青秀区绿源化工有限公司"}
        case = s.get(Case, task["id"])
        assert case.title == "群众举报夜间偷排" and [o.officer.name for o in case.officers] == ["李明", "王芳"]
        assert s.query(NumberBlock).one().prefix == "青环责改"
        del src_id
    assert forms.get("service_receipt").description == "中心下发的新版本"
    # officers sign in on the kit as themselves, with the password the province gave them
    me = OfficerService(store).login("45010320231", PW)
    assert me.name == "李明" and me.agency_code == "450103"
    with pytest.raises(KitError):
        OfficerService(store).login("45020220001", PW)  # Liuzhou's officer never reached this kit
    # incremental: nothing new → nothing pulled
    assert pull(store)["items"] == 0

    # the kit pushes the case; a city reviewer comments on it; the comment flows down
    res = sync(store)
    assert res["status"]["synced"]
    r = login(server, "45010000001").post(f"/api/v1/cases/{task['id']}/comments", json={"text": "请补充雨水排口照片"})
    assert r.status_code == 201
    assert pull(store)["kinds"] == {"comment": 1}
    [cm] = CaseService(store).comments(task["id"])
    assert cm["text"] == "请补充雨水排口照片" and cm["author_name"] == "吴科长"

    # the remedies the agency's decisions name: set at the centre, prefilled on the kit
    c.set_agency("450103", court="南宁铁路运输法院", review_body="南宁市人民政府")
    assert pull(store)["kinds"] == {"agency": 1}
    filled = DocumentService(store).prefill(task["id"], "penalty_decision", me)
    assert (filled["court"], filled["government"]) == ("南宁铁路运输法院", "南宁市人民政府")
    with pytest.raises(CentralError, match="60"):
        c.set_agency("450103", court="法" * 61)
    c.set_agency("450103", court="")  # cleared: the kit asks the officer again
    pull(store)
    assert "court" not in DocumentService(store).prefill(task["id"], "penalty_decision", me)
    # the words of the seal, set at the centre, printed on the kit's decisions
    assert c.set_agency("450103", seal_text="南宁市生态环境局青秀分局（印）")["seal_text"] == "南宁市生态环境局青秀分局（印）"
    pull(store)
    assert DocumentService(store).seal_text(task["id"]) == "南宁市生态环境局青秀分局（印）"

    # a deactivated officer can no longer sign in on the kit once it has synced
    c.set_officer("45010320232", active=False)
    pull(store)
    with pytest.raises(KitError):
        OfficerService(store).login("45010320232", PW)


def test_hierarchy_is_enforced_on_the_server(server, province, store: Store) -> None:  # type: ignore[no-untyped-def]
    c: Central = province
    enrol(store, server.base, c.make_enrol_code("450103")["code"])
    task = c.assign_case(agency="450103", title="例行检查", party_name="青秀区绿源化工有限公司")
    assert sync(store)["status"]["synced"]
    seen = {cert: [x["id"] for x in login(server, cert).get("/api/v1/cases").json()]
            for cert in ("45000000001", "45010000001", "45010320231", "45010520001", "45020220001")}
    assert seen == {"45000000001": [task["id"]], "45010000001": [task["id"]], "45010320231": [task["id"]],
                    "45010520001": [], "45020220001": []}
    # another county and another city get "no such case", for reading and for commenting
    for cert in ("45010520001", "45020220001"):
        cl = login(server, cert)
        assert cl.get(f"/api/v1/cases/{task['id']}").status_code == 404
        assert cl.post(f"/api/v1/cases/{task['id']}/comments", json={"text": "x"}).status_code == 404
    # the province sees the whole case; an officer (not a reviewer) may not comment
    full = login(server, "45000000001").get(f"/api/v1/cases/{task['id']}").json()
    assert full["case"]["title"] == "例行检查" and full["agency_code"] == "450103"
    assert login(server, "45010320231").post(f"/api/v1/cases/{task['id']}/comments",
                                             json={"text": "x"}).status_code == 403
    # no token, a wrong password, a forged token
    assert httpx.get(f"{server.base}/api/v1/cases").status_code == 401
    assert httpx.post(f"{server.base}/api/v1/login", json={"cert_no": "45010320231", "password": "wrong-one"}) \
        .status_code == 401
    assert httpx.get(f"{server.base}/api/v1/cases", headers={"Authorization": "Bearer forged"}).status_code == 401


def test_assignment_changes_merge_by_the_rules(server, province, store: Store) -> None:  # type: ignore[no-untyped-def]
    """Changed on the server only → the server's value; on the kit only → the kit's; on both → the
    owner's (the supervisor owns the task's title and officers, the officer on site the party)."""
    c: Central = province
    enrol(store, server.base, c.make_enrol_code("450103")["code"])
    task = c.assign_case(agency="450103", title="例行检查", party_name="绿源化工", party_address="长湖路1号",
                         officers=["45010320231"])
    pull(store)
    with store.write_session() as s:
        case = s.get(Case, task["id"])
        case.party_address = "长湖路1号东门（现场核实）"  # found on site
        case.title = "例行检查（已到场）"
        number = case.number
    c.assign_case(case_id=task["id"], agency="450103", title="夜间突击检查", party_name="南宁绿源化工有限公司",
                  party_address="长湖路1号", officers=["45010320231", "45010320232"])
    res = pull(store)
    assert any(number in n and "title" in n for n in res["notes"])
    with store.session() as s:
        case = s.get(Case, task["id"])
        assert case.title == "夜间突击检查"  # both changed: the supervisor owns the title
        assert case.party_address == "长湖路1号东门（现场核实）"  # changed on the kit only
        assert case.party_name == "南宁绿源化工有限公司"  # changed on the server only
        assert [o.officer.cert_no for o in case.officers] == ["45010320231", "45010320232"]
        assert case.number == number  # append-only: the case keeps its number


def test_admin_cli_publishes_and_assigns(server, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        exe = Path(sys.executable).with_name("kit-central")
        return subprocess.run([str(exe), "--db", server.db_url, "--json", *args], capture_output=True, text=True,
                              input=stdin)

    for code_, name in (("45", "广西"), ("4501", "南宁市生态环境局"), ("450103", "青秀区分局")):
        assert cli("agency", "add", "--code", code_, "--name", name).returncode == 0
    assert cli("officer", "add", "--name", "李明", "--cert", "45010320231", "--agency", "450103",
               "--password-stdin", stdin=PW + "\n").returncode == 0
    csv = write_csv(tmp_path / "s.csv", SOURCE_HEADER_ZH, [
        ["青秀区绿源化工有限公司", code("450103", 1), "长湖路1号", "青秀区", "化工", "108.38", "22.81", ""],
        ["经度错了", code("450103", 2), "", "青秀区", "", "200", "22.8", ""]])
    p = cli("publish", "sources", str(csv))
    assert p.returncode == 3 and json.loads(p.stdout)["published"] == 1
    assert json.loads(p.stdout)["rejected"][0] == {"row": 3, "column": "经度", "reason": json.loads(p.stdout)[
        "rejected"][0]["reason"]}
    p = cli("publish", "form", str(tmp_path / "missing.json"))
    assert p.returncode == 1 and "missing.json" in p.stderr
    enrol(store, server.base, json.loads(cli("enrol-code", "--agency", "450103").stdout)["code"])
    p = cli("numbers", "assign", "--kit", store.kit_id, "--agency", "450103", "--type", "penalty_notice",
            "--year", "2026", "--prefix", "青环罚告", "--first", "1", "--last", "99")
    assert p.returncode == 0, p.stderr
    p = cli("assign", "--agency", "450103", "--title", "专项检查", "--party", "青秀区绿源化工有限公司",
            "--officer", "45010320231", "--note", "带便携式烟气分析仪")
    assert p.returncode == 0, p.stderr
    assert cli("assign", "--agency", "450103", "--title", "x", "--party", "y", "--officer", "nobody").returncode == 1
    res = sync(store)
    assert res["pulled"]["kinds"] == {"agency": 3, "officer": 1, "source": 1, "number_block": 1, "assignment": 1}
    assert cli("officer", "set", "--cert", "45010320231", "--active", "no").returncode == 0
    assert pull(store)["kinds"] == {"officer": 1}
    p = cli("verify", "--storage", str(tmp_path / "blobs"))
    assert p.returncode == 0 and json.loads(p.stdout)["ok"]
