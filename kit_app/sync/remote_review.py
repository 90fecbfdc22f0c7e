"""Review staff working from home through the central server: signed in there as themselves (their
password, a 12-hour token kept in memory only), they see the cases of their agency waiting for
review and send steps (take, approve, send back, opinions), which the case's own kit takes at its next
sync. Every answer is checked for shape before it is used."""

from __future__ import annotations

from typing import Any

from kit_app.i18n import _
from kit_app.sync.client import API, SyncError, _call, _get, _verify


def _http(store: Any, token: str | None = None) -> Any:
    import httpx

    url = _get(store, "central_url")
    if not url:
        raise SyncError(_("this kit is not enrolled with a central server: review from there needs one"))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url, verify=_verify(store), timeout=30, headers=headers)


def _refused(status: int, detail: str) -> str:
    if status == 401:
        return _("the central server did not accept the sign-in (wrong certificate number or password, or the "
                 "session ended): sign in again")
    if status == 403:
        return _("the central server refused: {detail}").format(detail=detail)
    return _("the central server refused the request ({status}): {detail}").format(status=status, detail=detail)


def sign_in(store: Any, cert_no: str, password: str) -> str:
    """A token for the officer signed in at the central server as themselves."""
    with _http(store) as c:
        r = _call(c, "POST", f"{API}/login", _refused, json={"cert_no": cert_no, "password": password})
    token = r.json().get("token")
    if not isinstance(token, str) or not token:
        raise SyncError(_("the central server answered the sign-in without a session"))
    return token


def queue(store: Any, token: str) -> list[dict[str, Any]]:
    """The cases waiting for review staff in the officer's agency, as the server holds them."""
    with _http(store, token) as c:
        rows = _call(c, "GET", f"{API}/review/queue", _refused).json()
    if not isinstance(rows, list):
        raise SyncError(_("the central server's review queue is not a list"))
    out = []
    for r in rows:
        if isinstance(r, dict) and all(isinstance(r.get(k), str) for k in ("id", "number", "status", "step")):
            out.append({k: r.get(k) for k in ("id", "number", "title", "party_name", "status", "step",
                                              "opened_at", "agency_code")}
                       | {"history": [h for h in r.get("history") or [] if isinstance(h, dict)],
                          "pending": [p for p in r.get("pending") or [] if isinstance(p, dict)],
                          "record": r["record"] if isinstance(r.get("record"), dict) else None})
    return out


def case(store: Any, token: str, case_id: str) -> dict[str, Any]:
    """The case as the server holds it: its record, evidence and documents."""
    with _http(store, token) as c:
        got = _call(c, "GET", f"{API}/cases/{case_id}", _refused).json()
    if not isinstance(got, dict) or not isinstance(got.get("case"), dict):
        raise SyncError(_("the central server's answer for the case is not a case"))
    return got


def send_step(store: Any, token: str, case_id: str, action: str, reason: str | None = None) -> dict[str, Any]:
    """A review step for the case's kit, checked by the server first (201), taken by the kit next."""
    with _http(store, token) as c:
        got = _call(c, "POST", f"{API}/cases/{case_id}/review", _refused, ok=201,
                    json={"action": action, "reason": reason})
    body: dict[str, Any] = got.json()
    return body


__all__ = ["case", "queue", "send_step", "sign_in"]
