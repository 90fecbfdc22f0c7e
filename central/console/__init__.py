"""The supervisors' console: server-rendered pages under ``/console`` (Jinja2; no script needed).

Officers sign in with the server's accounts (the same lockout as the API); the session is the
API's officer token in an HttpOnly, SameSite=Strict cookie, and every form carries a token derived
from it (CSRF). What a page shows follows the hierarchy (a county its county, a city its counties,
the province everything), enforced in ``Console`` and ``Officers``, not by hiding links. Each page
is in its reader's language (a cookie; Chinese by default). 双随机 draw records are public."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from central.console.mapview import layout
from central.console.service import CATEGORIES, DISPATCHERS, Console, Refusal
from central.schemas import UUID_PATTERN
from central.service import CentralError, Officers
from kit_app.i18n import catalogue, normalise_language
from kit_app.timeutil import local_today, to_local

HERE = Path(__file__).resolve().parent
COOKIE = "kit_console"
LANG_COOKIE = "kit_lang"
PAGE = 200  # rows a list shows at a time
ENV_TILES = "KIT_CENTRAL_TILE_URL"  # e.g. https://tiles.example.gov.cn/{z}/{x}/{y}.png
ENV_TILES_ATTRIBUTION = "KIT_CENTRAL_TILE_ATTRIBUTION"


def _env() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)

    def local(v: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        t = to_local(v) if isinstance(v, datetime) else None
        return t.strftime(fmt) if t else "—"

    env.filters["local"] = local
    return env


def _csrf(token: str) -> str:
    return hmac.new(b"kit-console-csrf", token.encode(), hashlib.sha256).hexdigest()[:32]


def mount(app: FastAPI, central: Any, tile_url: str | None = None) -> None:
    """Add the console's routes to the API's application (left out of its OpenAPI document)."""
    import re

    env = _env()
    console = Console(central)
    officers = Officers(central)
    tile_url = tile_url or os.environ.get(ENV_TILES) or None
    attribution = os.environ.get(ENV_TILES_ATTRIBUTION, "")
    procedure = None

    def states() -> Any:
        nonlocal procedure
        if procedure is None:
            from forms.procedure import case_procedure

            procedure = case_procedure()
        return procedure

    def lang_of(request: Request) -> str:
        return normalise_language(request.cookies.get(LANG_COOKIE) or "zh_CN")

    def viewer_of(request: Request) -> dict[str, Any] | None:
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        o = officers.officer_for(token)
        if o is None:
            return None
        names = {a["code"]: a["name"] for a in console.agencies({"agency": None})}
        return o | {"token": token, "agency_name": names.get(o["agency"], o["agency"])}

    def render(request: Request, name: str, viewer: dict[str, Any] | None, status: int = 200,
               **ctx: Any) -> HTMLResponse:
        lang = lang_of(request)
        t = catalogue(lang)
        p = states()

        def state_label(sid: str) -> str:
            st = p.states.get(sid)
            return sid if st is None else (st.label if lang == "zh_CN" else st.label_en)

        def deadline_label(d: Any) -> str:
            rule = next((r for r in p.deadlines if r.id == d.id), None)
            return str(d.label) if rule is None else (rule.label if lang == "zh_CN" else rule.label_en)

        html = env.get_template(name).render(
            _=t.gettext, ngettext=t.ngettext, lang=lang, viewer=viewer, request=request, path=request.url.path,
            csrf=_csrf(viewer["token"]) if viewer else "", state_label=state_label, deadline_label=deadline_label,
            may_dispatch=bool(viewer and DISPATCHERS & set(viewer["roles"])),
            may_comment=bool(viewer and {"reviewer", "admin"} & set(viewer["roles"])), **ctx)
        return HTMLResponse(html, status_code=status, headers={
            "Content-Security-Policy": "default-src 'self'; font-src 'self'; img-src 'self' data: "
            + (_origin(tile_url) if tile_url else "") + "; style-src 'self'; frame-ancestors 'none'; "
            "form-action 'self'",
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cache-Control": "no-store"})

    def words(exc: CentralError, request: Request) -> str:
        """A refusal in the reader's language."""
        return exc.text(catalogue(lang_of(request)).gettext) if isinstance(exc, Refusal) else str(exc)

    async def form(request: Request) -> dict[str, list[str]]:
        body = (await request.body()).decode("utf-8", "replace")
        return parse_qs(body, keep_blank_values=True, max_num_fields=2000)

    def first(f: dict[str, list[str]], key: str, default: str = "") -> str:
        return (f.get(key) or [default])[0].strip()

    def to_login(request: Request) -> RedirectResponse:
        return RedirectResponse(f"/console/login?next={quote(request.url.path)}", status_code=303)

    async def page(request: Request, fn: Callable[[dict[str, Any], dict[str, list[str]]], Response]) -> Response:
        """``fn(viewer, form)`` for a signed-in officer; a POST must carry the form token of their
        session; a refusal becomes a page that says what is wrong."""
        viewer = await asyncio.to_thread(viewer_of, request)
        if viewer is None:
            return to_login(request)
        f: dict[str, list[str]] = {}
        if request.method == "POST":
            f = await form(request)
            if not hmac.compare_digest(first(f, "csrf"), _csrf(viewer["token"])):
                return render(request, "error.html", viewer, 403, message=catalogue(lang_of(request)).gettext(
                    "This form has expired: open the page again and send it again."))
        try:
            return await asyncio.to_thread(fn, viewer, f)  # the database, off the event loop
        except CentralError as exc:
            return render(request, "error.html", viewer, exc.status if exc.status >= 400 else 400,
                          message=words(exc, request))

    # ------------------------------------------------------------ signing in and out, language
    @app.get("/console", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=307)

    @app.get("/console/login", include_in_schema=False)
    def login_page(request: Request) -> HTMLResponse:
        return render(request, "login.html", None, next=request.query_params.get("next", "/console/"))

    @app.post("/console/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        f = await form(request)
        nxt = first(f, "next", "/console/")
        if not nxt.startswith("/console/") or "//" in nxt or "\\" in nxt:
            nxt = "/console/"  # never a redirect off this site
        try:
            got = await asyncio.to_thread(officers.login, first(f, "cert_no"), first(f, "password"))
        except CentralError:
            return render(request, "login.html", None, 401, next=nxt, cert_no=first(f, "cert_no"),
                          error=catalogue(lang_of(request)).gettext(
                              "Wrong certificate number or password. Five failures lock the account for 15 minutes."))
        resp = RedirectResponse(nxt, status_code=303)
        resp.set_cookie(COOKIE, got["token"], httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        max_age=12 * 3600, path="/console")
        return resp

    @app.post("/console/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        def go(viewer: dict[str, Any], f: dict[str, list[str]]) -> Response:
            officers.logout(viewer["token"])
            resp = RedirectResponse("/console/login", status_code=303)
            resp.delete_cookie(COOKIE, path="/console")
            return resp

        return await page(request, go)

    @app.get("/console/lang/{code}", include_in_schema=False)
    def set_lang(code: str, request: Request) -> Response:
        back = request.headers.get("referer") or "/console/"
        path = "/" + back.split("://", 1)[-1].split("/", 1)[-1] if "://" in back else back
        resp = RedirectResponse(path if path.startswith("/console") else "/console/", status_code=303)
        resp.set_cookie(LANG_COOKIE, normalise_language(code), samesite="strict", max_age=365 * 86400, path="/")
        return resp

    @app.get("/console/static/console.css", include_in_schema=False)
    def css() -> Response:
        return Response((HERE / "static" / "console.css").read_bytes(), media_type="text/css",
                        headers={"Cache-Control": "max-age=3600"})

    @app.get("/console/static/{name}.ttf", include_in_schema=False)
    def font(name: str) -> Response:
        """The bundled Chinese typeface (OFL), for a browser whose system has none: the style
        sheet's face tries the usual system faces first (local()), so most never fetch it."""
        from fastapi.responses import FileResponse

        import resources

        if name not in ("NotoSansSC-Regular", "NotoSansSC-Bold"):  # a fixed list: never a path from the URL
            return Response(status_code=404)
        return FileResponse(resources.path("fonts", f"{name}.ttf"), media_type="font/ttf",
                            headers={"Cache-Control": "max-age=31536000, immutable"})

    # ------------------------------------------------------------ pages
    def map_points(rows: list[Any], lang: str) -> list[dict[str, Any]]:
        return [{"lat": c.lat, "lon": c.lon, "id": c.id, "title": c.title, "party": c.party,
                 "kind": "overdue" if c.overdue else c.kind} for c in rows if c.lat is not None]

    @app.get("/console/", include_in_schema=False)
    async def overview(request: Request) -> Response:
        def go(viewer: dict[str, Any], f: dict[str, list[str]]) -> Response:
            rows = console.cases(viewer)
            kits = console.kits(viewer)
            today = local_today()
            summary = {
                "open_cases": sum(1 for c in rows if c.kind == "case" and not c.closed),
                "overdue": sum(1 for c in rows if c.overdue),
                "inspections_year": sum(1 for c in rows if c.kind == "inspection" and c.opened_at
                                        and (to_local(c.opened_at) or c.opened_at).year == today.year),
                "kits_ok": sum(1 for k in kits if k["state"] == "ok"), "kits": len(kits),
                "tasks_open": sum(1 for t in console.tasks(viewer) if not t["taken"]),
            }
            view = layout(map_points(rows, lang_of(request)), tile_url, attribution, lang=lang_of(request))
            overdue = [c for c in rows if c.overdue][:10]
            return render(request, "overview.html", viewer, summary=summary, overdue=overdue, map=view)

        return await page(request, go)

    @app.get("/console/cases", include_in_schema=False)
    async def cases(request: Request) -> Response:
        def go(viewer: dict[str, Any], f: dict[str, list[str]]) -> Response:
            rows = console.cases(viewer)
            step = request.query_params.get("step", "")
            kind = request.query_params.get("kind", "")
            steps: dict[str, int] = {}
            for c in rows:
                steps[c.status] = steps.get(c.status, 0) + 1
            shown = [c for c in rows if (not step or c.status == step) and (not kind or c.kind == kind)]
            order = list(states().states)
            try:
                at = max(1, int(request.query_params.get("page") or 1))
            except ValueError:
                at = 1
            pages = max(1, -(-len(shown) // PAGE))
            at = min(at, pages)
            return render(request, "cases.html", viewer, rows=shown[(at - 1) * PAGE:at * PAGE], step=step, kind=kind,
                          total=len(shown), page=at, pages=pages,
                          steps=sorted(steps.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99))

        return await page(request, go)

    @app.get("/console/cases/{case_id}", include_in_schema=False)
    async def case(case_id: str, request: Request) -> Response:
        def go(viewer: dict[str, Any], f: dict[str, list[str]]) -> Response:
            if not re.fullmatch(UUID_PATTERN, case_id):
                raise CentralError(catalogue(lang_of(request)).gettext("No such case."), 404)
            return render(request, "case.html", viewer, d=console.case(viewer, case_id))

        return await page(request, go)

    @app.post("/console/cases/{case_id}/comments", include_in_schema=False)
    async def comment(case_id: str, request: Request) -> Response:
        def go(viewer: dict[str, Any], f: dict[str, list[str]]) -> Response:
            if not re.fullmatch(UUID_PATTERN, case_id):
                raise CentralError(catalogue(lang_of(request)).gettext("No such case."), 404)
            console.comment(viewer, case_id, first(f, "text"))
            return RedirectResponse(f"/console/cases/{case_id}#comments", status_code=303)

        return await page(request, go)

    @app.get("/console/map", include_in_schema=False)
    async def map_page(request: Request) -> Response:
        def go(viewer: dict[str, Any], f: dict[str, list[str]]) -> Response:
            rows = console.cases(viewer)
            view = layout(map_points(rows, lang_of(request)), tile_url, attribution, width=1200, height=800,
                          lang=lang_of(request))
            return render(request, "map.html", viewer, map=view, unplaced=sum(1 for c in rows if c.lat is None))

        return await page(request, go)

    @app.get("/console/kits", include_in_schema=False)
    async def kits(request: Request) -> Response:
        def go(viewer: dict[str, Any], f: dict[str, list[str]]) -> Response:
            return render(request, "kits.html", viewer, kits=console.kits(viewer))

        return await page(request, go)

    def tasks_page(request: Request, viewer: dict[str, Any], status: int = 200, **ctx: Any) -> HTMLResponse:
        return render(request, "tasks.html", viewer, status, tasks=console.tasks(viewer),
                      agencies=console.agencies(viewer), people=console.officers(viewer),
                      sources=console.sources(viewer), **ctx)

    @app.get("/console/tasks", include_in_schema=False)
    async def tasks(request: Request) -> Response:
        def go(viewer: dict[str, Any], f: dict[str, list[str]]) -> Response:
            return tasks_page(request, viewer)

        return await page(request, go)

    @app.post("/console/tasks", include_in_schema=False)
    async def assign(request: Request) -> Response:
        def go(viewer: dict[str, Any], f: dict[str, list[str]]) -> Response:
            try:
                console.assign(viewer, agency=first(f, "agency"), title=first(f, "title"),
                               party_name=first(f, "party_name"), source_id=first(f, "source_id") or None,
                               officers=[c for c in f.get("officers", []) if c], note=first(f, "note"))
            except CentralError as exc:
                return tasks_page(request, viewer, max(exc.status, 400), error=words(exc, request),
                                  form={k: v[0] if len(v) == 1 else v for k, v in f.items()})
            return RedirectResponse("/console/tasks?assigned=1", status_code=303)

        return await page(request, go)

    def draws_page(request: Request, viewer: dict[str, Any], status: int = 200, **ctx: Any) -> HTMLResponse:
        return render(request, "draws.html", viewer, status, draws=console.draws(viewer),
                      agencies=console.agencies(viewer), categories=CATEGORIES, **ctx)

    @app.get("/console/draws", include_in_schema=False)
    async def draws(request: Request) -> Response:
        def go(viewer: dict[str, Any], f: dict[str, list[str]]) -> Response:
            return draws_page(request, viewer)

        return await page(request, go)

    @app.post("/console/draws", include_in_schema=False)
    async def make_draw(request: Request) -> Response:
        def go(viewer: dict[str, Any], f: dict[str, list[str]]) -> Response:
            try:
                parties, team = int(first(f, "parties", "0") or 0), int(first(f, "team", "2") or 2)
            except ValueError:
                parties, team = 0, 0
            try:
                d = console.draw(viewer, agency=first(f, "agency"), title=first(f, "title"), parties=parties, team=team,
                                 category=first(f, "category", "any"))
            except CentralError as exc:
                return draws_page(request, viewer, max(exc.status, 400), error=words(exc, request),
                                  form={k: v[0] for k, v in f.items()})
            return RedirectResponse(f"/console/draws/{d['id']}", status_code=303)

        return await page(request, go)

    @app.get("/console/draws/{draw_id}", include_in_schema=False)
    def draw_record(draw_id: str, request: Request) -> Response:
        """Published: readable without signing in (双随机、一公开)."""
        if not re.fullmatch(UUID_PATTERN, draw_id):
            return render(request, "error.html", viewer_of(request), 404,
                          message=catalogue(lang_of(request)).gettext("No such draw."))
        try:
            d = console.draw_record(draw_id)
        except CentralError:
            return render(request, "error.html", viewer_of(request), 404,
                          message=catalogue(lang_of(request)).gettext("No such draw."))
        return render(request, "draw.html", viewer_of(request), d=d)

    @app.get("/console/stats", include_in_schema=False)
    async def stats(request: Request) -> Response:
        def go(viewer: dict[str, Any], f: dict[str, list[str]]) -> Response:
            this_year = local_today().year
            try:
                year = int(request.query_params.get("year") or this_year)
            except ValueError:
                year = this_year
            year = min(max(year, 2000), this_year + 1)
            return render(request, "stats.html", viewer, rows=console.stats(viewer, year), year=year,
                          years=list(range(this_year, this_year - 5, -1)))

        return await page(request, go)



def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}" if p.scheme in ("http", "https") else ""
