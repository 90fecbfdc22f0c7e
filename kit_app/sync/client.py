"""The kit's side of the central server: enrolment with a one-time code, and the credential it
keeps (in ``kit_meta``) for every later request."""

from __future__ import annotations

from typing import Any

from kit_app.db import Store
from kit_app.db.models import KitMeta
from kit_app.errors import KitError
from kit_app.evidence.keys import KitKey
from kit_app.i18n import _

API = "/api/v1"
TIMEOUT = 20.0


class SyncError(KitError):
    """The server cannot be reached or refused the request; the message says which."""


def _get(store: Store, key: str) -> str | None:
    with store.session() as s:
        row = s.get(KitMeta, key)
        return row.value if row else None


def enrolment(store: Store) -> dict[str, Any] | None:
    url = _get(store, "central_url")
    if not url:
        return None
    return {"server": url, "agency_code": _get(store, "central_agency"),
            "agency_name": _get(store, "central_agency_name")}


def enrol(store: Store, server: str, code: str, name: str | None = None) -> dict[str, Any]:
    """Enrol this kit at ``server`` with a one-time ``code``; keep the credential."""
    import httpx

    server = server.rstrip("/")
    key = KitKey.load_or_create(store.data_dir)
    body = {"code": code, "kit_id": store.kit_id, "public_key_pem": key.public_pem(), "name": name}
    try:
        r = httpx.post(f"{server}{API}/enrol", json=body, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise SyncError(_("cannot reach the central server at {url}: {reason}").format(url=server, reason=exc)) \
            from exc
    if r.status_code != 201:
        detail = r.json().get("detail") if r.headers.get("content-type", "").startswith("application/json") else r.text
        raise SyncError(_("the central server refused the enrolment ({status}): {detail}").format(
            status=r.status_code, detail=detail))
    got = r.json()
    with store.write_session() as s:
        for k, v in (("central_url", server), ("central_credential", got["credential"]),
                     ("central_agency", got["agency_code"]), ("central_agency_name", got.get("agency_name") or "")):
            row = s.get(KitMeta, k)
            if row is None:
                s.add(KitMeta(key=k, value=v))
            else:
                row.value = v
    return {"server": server, "kit_id": store.kit_id, "agency_code": got["agency_code"],
            "agency_name": got.get("agency_name")}


def whoami(store: Store) -> dict[str, Any]:
    """Ask the server who this kit is (checks the credential)."""
    import httpx

    url, cred = _get(store, "central_url"), _get(store, "central_credential")
    if not url or not cred:
        raise SyncError(_("this kit is not enrolled with a central server (kit-app enrol)"))
    try:
        r = httpx.get(f"{url}{API}/kit", headers={"Authorization": f"Bearer {cred}"}, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise SyncError(_("cannot reach the central server at {url}: {reason}").format(url=url, reason=exc)) from exc
    if r.status_code != 200:
        raise SyncError(_("the central server refused this kit ({status}): {detail}").format(
            status=r.status_code, detail=r.json().get("detail")))
    return r.json()
