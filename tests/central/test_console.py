"""The supervisors' console in a real browser (Debian's Chromium driven by Playwright): signing in,
the overview with its map, cases by step with the overdue one first, a review comment that reaches
the kit, a task dispatched and taken by the kit at its next sync, a 双随机 draw kept and published,
the assessment statistics — each agency seeing only what lies within it, in Chinese or English."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from central.console.service import Console
from central.db import Draw, FeedItem
from kit_app.db import Store
from kit_app.sync.client import sync
from tests.central.conftest import Server
from tests.central.console_seed import CITY_HEAD, LIUZHOU, PASSWORD, PROVINCE_ADMIN, Seeded, seed

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture
def console(server: Server, demo_store: Store, tmp_path: Path) -> Seeded:
    return seed(server.app.state.central, server.base, demo_store, tmp_path)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is not installed (.ci/run installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def sign_in(browser: Any, base: str, cert: str, lang: str | None = None) -> Any:
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.goto(f"{base}/console/")
    assert "/console/login" in page.url  # not signed in: the sign-in page, nothing else
    if lang == "en":
        page.click("text=English")
    page.fill("input[name=cert_no]", cert)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/")
    return page


def test_pages_answer_and_refuse_as_they_should(server: Server, console: Seeded) -> None:
    """Without a browser: every page needs a session; a form needs its token; ids are checked."""
    base = server.base
    with httpx.Client(base_url=base, follow_redirects=False) as h:
        for path in ("/console/", "/console/cases", "/console/kits", "/console/tasks", "/console/draws",
                     "/console/stats", "/console/map", f"/console/cases/{console.case_id}"):
            r = h.get(path)
            assert r.status_code == 303 and r.headers["location"].startswith("/console/login"), path
        r = h.post("/console/login", content=f"cert_no={CITY_HEAD}&password=wrong&next=/console/",
                   headers={"content-type": "application/x-www-form-urlencoded"})
        assert r.status_code == 401 and "密码" in r.text
        r = h.post("/console/login", content=f"cert_no={CITY_HEAD}&password={PASSWORD}&next=https://evil.example/",
                   headers={"content-type": "application/x-www-form-urlencoded"})
        assert r.status_code == 303 and r.headers["location"] == "/console/"  # never off this site
        cookie = r.cookies.get("kit_console")
        assert cookie and "httponly" in r.headers["set-cookie"].lower() and "samesite=strict" in \
            r.headers["set-cookie"].lower()
        h.cookies.set("kit_console", cookie, path="/console")
        for path in ("/console/", "/console/cases", "/console/kits", "/console/tasks", "/console/draws",
                     "/console/stats", "/console/map", f"/console/cases/{console.case_id}"):
            r = h.get(path)
            assert r.status_code == 200 and "Content-Security-Policy" in r.headers, (path, r.text[:500])
        # a form without its token (a request forged from another site) is refused
        r = h.post("/console/tasks", content="agency=450103&title=x&party_name=y&officers=45010320231"
                   "&officers=45010320232", headers={"content-type": "application/x-www-form-urlencoded"})
        assert r.status_code == 403
        assert h.get("/console/cases/not-an-id").status_code == 404
        # with the form's token, a task without a title: refused in the reader's language (Chinese by default,
        # though this process speaks English), naming what to do
        import re

        token = re.search(r'name="csrf" value="([0-9a-f]+)"', h.get("/console/tasks").text)
        assert token
        r = h.post("/console/tasks", content=f"csrf={token.group(1)}&agency=450103&title=&party_name=y"
                   "&officers=45010320231&officers=45010320232",
                   headers={"content-type": "application/x-www-form-urlencoded"})
        assert r.status_code == 422 and "请填写任务名称" in r.text
        h.cookies.set("kit_lang", "en", path="/")
        r = h.post(f"/console/cases/{console.case_id}/comments", content=f"csrf={token.group(1)}&text=+",
                   headers={"content-type": "application/x-www-form-urlencoded"})
        assert r.status_code == 422 and "write the comment" in r.text
    # the console is not part of the API's contract
    paths = httpx.get(f"{base}/api/v1/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/console")]


def test_the_console_in_a_real_browser(server: Server, console: Seeded, browser: Any, tmp_path: Path) -> None:
    base, c = server.base, console.central
    page = sign_in(browser, base, CITY_HEAD)
    # overview: in Chinese by default; one open case, overdue; the inspection's photo on the map
    assert page.locator("header nav a.here").inner_text() == "总览"
    assert page.locator("#open-cases").inner_text() == "1" and page.locator("#overdue").inner_text() == "1"
    assert page.locator("svg[data-points]").get_attribute("data-points") == "1"  # the case has no location yet
    assert page.locator(f"circle[data-case='{console.inspection_id}']").count() == 1
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)

    # cases by step, the overdue one first, with its deadline named
    page.click("header nav >> text=案件")
    rows = page.locator("#cases tbody tr")
    assert rows.count() == 2
    first = rows.nth(0)
    assert first.get_attribute("data-case") == console.case_id and "late" in (first.get_attribute("class") or "")
    assert "立案" in first.inner_text() and "逾期" in first.inner_text()
    page.screenshot(path=str(tmp_path / "cases.png"), full_page=True)
    page.click("nav.filters >> text=检查")  # inspections only
    assert page.locator("#cases tbody tr").count() == 1

    # a review comment: shown at once, and the kit takes it at its next sync
    page.goto(f"{base}/console/cases/{console.case_id}")
    page.fill("textarea[name=text]", "请补充企业排污许可证复印件")
    page.click("text=添加意见")
    assert "请补充企业排污许可证复印件" in page.locator("ul.comments").inner_text()
    sync(console.store)
    with console.store.engine.connect() as k:
        assert "请补充企业排污许可证复印件" in str(k.exec_driver_sql("SELECT text FROM case_comments").all())

    # a task dispatched to two officers of the county; the kit takes it at its next sync
    page.goto(f"{base}/console/tasks")
    page.click("text=派发检查任务")
    page.select_option("select[name=agency]", "450103")
    page.fill("input[name=title]", "信访核查")
    page.select_option("select[name=source_id]", console.sources[2]["id"])
    page.check("input[value='45010320231']")
    page.check("input[value='45010320232']")
    page.click("#assign button[type=submit]")
    assert "下次同步" in page.locator("p.ok").inner_text()
    assert "南宁市长湖电镀有限公司" in page.locator("#tasks").inner_text() and "尚未接收" in page.locator(
        "#tasks").inner_text()
    sync(console.store)
    with console.store.engine.connect() as k:
        assert "信访核查" in str(k.exec_driver_sql("SELECT title FROM cases").all())
    # one officer is not a team: refused, in words, with what was typed kept
    page.click("text=派发检查任务")
    page.fill("input[name=title]", "单人任务")
    page.fill("input[name=party_name]", "南宁市某公司")
    page.check("input[value='45010320231']")
    page.click("#assign button[type=submit]")
    assert "两名" in page.locator("p.error").inner_text() and page.input_value("input[name=title]") == "单人任务"

    # a 双随机 draw: three parties, teams of two; kept, published, re-runnable
    page.goto(f"{base}/console/draws")
    page.select_option("select[name=agency]", "450103")
    page.fill("input[name=parties]", "3")
    page.click("#draw button[type=submit]")
    assert page.locator("#result tbody tr").count() == 3
    assert "相同" in page.locator("#verified").inner_text()
    page.screenshot(path=str(tmp_path / "draw.png"), full_page=True)
    draw_url = page.url
    with c.sessions() as s:
        d = s.query(Draw).one()
        result = json.loads(d.result)
        tasks = [json.loads(f.body) for f in s.query(FeedItem).filter(FeedItem.kind == "assignment")]
    assert len(result) == 3 and all(len(p["officers"]) == 2 for p in result)
    assert {p["task_id"] for p in result} <= {t["id"] for t in tasks}
    params = json.loads(d.params)
    assert [(p["source_id"], [o["cert_no"] for o in p["officers"]]) for p in result] == Console.replay(
        d.seed, params["pool"], params["officers"], 3, 2)
    public = browser.new_context().new_page()  # published: anyone may read it, signed in or not
    public.goto(draw_url)
    assert public.locator("#result tbody tr").count() == 3
    public.context.close()

    # the kits and the assessment statistics
    page.goto(f"{base}/console/kits")
    assert "联系正常" in page.locator("#kits").inner_text()
    page.goto(f"{base}/console/stats")
    county = page.locator("#stats tr[data-agency='450103']")
    cells = county.locator("td").all_inner_texts()
    assert cells[:2] == ["1", "1"] and cells[4] == "2"  # one inspection, one finding; the case and the task taken
    page.screenshot(path=str(tmp_path / "stats.png"), full_page=True)

    # English on request
    page.click("text=English")
    assert page.locator("header nav a.here").inner_text() == "Assessment"
    page.context.close()


def test_each_agency_sees_only_what_lies_within_it(server: Server, console: Seeded, browser: Any) -> None:
    base = server.base
    other = sign_in(browser, base, LIUZHOU, lang="en")  # another city
    other.click("header nav >> text=Cases")
    assert other.locator("#cases").count() == 0 and "No cases here yet" in other.content()
    other.goto(f"{base}/console/cases/{console.case_id}")
    assert other.locator("p.error").inner_text() == "No such case."
    other.goto(f"{base}/console/draws")
    other.select_option("select[name=agency]", "4502")
    other.fill("input[name=parties]", "1")
    other.click("#draw button[type=submit]")  # 柳州 has no sources in the base data
    assert "fewer than" in other.locator("p.error").inner_text()
    assert other.locator("select[name=agency] option[value='450103']").count() == 0
    other.context.close()
    province = sign_in(browser, base, PROVINCE_ADMIN)
    province.click("header nav >> text=案件")
    assert province.locator("#cases tbody tr").count() == 2
    province.goto(f"{base}/console/stats")
    assert province.locator("#stats tr[data-agency='4501'] td").all_inner_texts()[0] == "1"  # rolled up to the city
    assert province.locator("#stats tr[data-agency='4502'] td").all_inner_texts()[0] == "0"
    province.context.close()


def test_the_map_layout_on_the_canvas_and_on_tiles() -> None:
    from central.console.mapview import layout

    pts = [{"lat": 22.82, "lon": 108.37, "id": f"c{i}", "kind": "case", "title": "t", "party": "p"} for i in range(3)]
    pts.append({"lat": 25.27, "lon": 110.29, "id": "g", "kind": "overdue", "title": "t", "party": "p"})
    view = layout(pts)
    marks = sorted(view.points, key=lambda p: p["count"])
    assert [m["count"] for m in marks] == [1, 3] and marks[0]["id"] == "g"  # three in one place: one mark
    nanning, guilin = marks[1], marks[0]
    assert guilin["x"] > nanning["x"] and guilin["y"] < nanning["y"]  # north-east of Nanning
    assert {line["label"] for line in view.lines} >= {"105°E", "112°E", "21°N", "26°N"} and len(view.labels) == 14
    tiles = layout(pts, tile_url="https://tiles.example/{z}/{x}/{y}.png", width=960, height=640)
    assert tiles.tiles and all(t["src"].startswith("https://tiles.example/") for t in tiles.tiles)
    z = int(tiles.tiles[0]["src"].split("/")[3])
    assert 5 <= z <= 8  # Guangxi fills the box
    for m in tiles.points:
        assert 0 <= m["x"] <= 960 and 0 <= m["y"] <= 640
    far = layout([{"lat": 39.9, "lon": 116.4, "id": "b", "kind": "case", "title": "", "party": ""}])
    assert 0 <= far.points[0]["x"] <= 960 and 0 <= far.points[0]["y"] <= 640  # outside Guangxi, still shown
