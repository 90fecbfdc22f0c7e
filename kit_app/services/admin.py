"""What administrators do on the kit — officers (add, roles, deactivate, unlock, reset password), the
agency's settings (名称, 复议机关, 管辖法院, seal text), number blocks (reserve, what is left), devices and
enrolment — each change checked against the role in the core and kept in the append-only
administration log (``admin_events``) in the same transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from kit_app import roles as R
from kit_app.db import Store
from kit_app.db.models import AdminEvent, Agency, Officer
from kit_app.dto import OfficerInfo
from kit_app.errors import NotFound, PermissionDenied, ValidationError
from kit_app.i18n import _
from kit_app.keyring import drop_wrap, keep_wrap
from kit_app.services import audit
from kit_app.services.audit import ADMIN_ACTIONS as ACTIONS
from kit_app.services.officers import MIN_PASSWORD_LENGTH, OfficerService, hash_password, info
from kit_app.timeutil import utcnow

NUMBERS_LOW = 10  # a block with fewer numbers left is shown as running out


@dataclass(frozen=True)
class OfficerRow:
    id: str
    name: str
    cert_no: str
    roles: tuple[str, ...]
    agency: str | None
    active: bool
    locked_until: datetime | None
    last_login_at: datetime | None


@dataclass(frozen=True)
class AdminEventRow:
    at: datetime
    actor: str
    action: str
    action_label: str
    target: str
    details: dict[str, Any]


class AdminService:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.officers = OfficerService(store)

    # ------------------------------------------------------------ the log
    def _log(self, s: Any, actor: OfficerInfo | None, action: str, target: str, details: dict[str, Any]) -> None:
        s.add(AdminEvent(at=utcnow(), kit_id=self.store.kit_id, actor_id=actor.id if actor else None,
                         actor_name=actor.name if actor else None, actor_cert=actor.cert_no if actor else None,
                         action=action, target=target[:200], details=json.dumps(details, ensure_ascii=False)))
        audit.add(s, self.store.kit_id, actor, "admin." + action, target=target, details=details)

    def record(self, actor: OfficerInfo | None, action: str, target: str, details: dict[str, Any]) -> None:
        """Log a change made elsewhere (a device configuration saved, the kit enrolled)."""
        if action not in ACTIONS:
            raise ValidationError(_("Unknown administration action {action}.").format(action=action), "action")
        with self.store.write_session() as s:
            self._log(s, actor, action, target, details)

    def history(self, limit: int = 500) -> list[AdminEventRow]:
        with self.store.session() as s:
            rows = s.scalars(select(AdminEvent).order_by(AdminEvent.at.desc(), AdminEvent.id.desc()).limit(limit))
            return [AdminEventRow(at=e.at, actor=f"{e.actor_name}（{e.actor_cert}）" if e.actor_name else _("system"),
                                  action=e.action, action_label=_(ACTIONS.get(e.action, e.action)),
                                  target=e.target or "", details=json.loads(e.details)) for e in rows]

    # ------------------------------------------------------------ officers
    def officer_rows(self) -> list[OfficerRow]:
        with self.store.session() as s:
            out = []
            for o in s.scalars(select(Officer).order_by(Officer.name)):
                locked = o.locked_until if o.locked_until is not None and o.locked_until > utcnow() else None
                out.append(OfficerRow(o.id, o.name, o.cert_no, R.parse_roles(o.roles),
                                      o.agency.name if o.agency else None, o.active, locked, o.last_login_at))
            return out

    def add_officer(self, actor: OfficerInfo | None, *, name: str, cert_no: str, roles: list[str] | tuple[str, ...],
                    password: str, agency_code: str | None = None) -> OfficerInfo:
        return self.officers.add(
            name=name, cert_no=cert_no, roles=roles, password=password,
            agency_code=agency_code or (actor.agency_code if actor else None), actor=actor,
            also=lambda s, new: self._log(s, actor, "officer.add", f"{new.name}（{new.cert_no}）",
                                          {"roles": list(new.roles)}))

    def _officer(self, s: Any, ref: str) -> Officer:
        o = self.officers._find(s, ref)
        if o is None:
            raise NotFound(_("No officer with id or certificate number {ref}.").format(ref=ref))
        return o

    def _keeps_an_admin(self, s: Any, changed: Officer, roles: tuple[str, ...], active: bool) -> None:
        """The kit always keeps one active administrator (else nobody could manage it again)."""
        if R.ADMIN in roles and active:
            return
        others = [o for o in s.scalars(select(Officer).where(Officer.active.is_(True), Officer.id != changed.id))
                  if R.ADMIN in R.parse_roles(o.roles)]
        if not others:
            raise ValidationError(_("{name} is the kit's last active administrator: make another officer an "
                                    "administrator first.").format(name=changed.name), "roles")

    def set_roles(self, actor: OfficerInfo | None, ref: str, roles: list[str] | tuple[str, ...]) -> OfficerInfo:
        R.require(actor, "officers.manage")
        bad = [r for r in roles if r not in R.ROLES]
        if bad or not roles:
            raise ValidationError(_("Choose at least one role."), "roles")
        with self.store.write_session() as s:
            o = self._officer(s, ref)
            before = R.parse_roles(o.roles)
            new = tuple(r for r in R.ROLES if r in roles)
            self._keeps_an_admin(s, o, new, o.active)
            o.roles = ",".join(new)
            self._log(s, actor, "officer.roles", f"{o.name}（{o.cert_no}）", {"from": list(before), "to": list(new)})
            s.flush()
            return info(o)

    def set_active(self, actor: OfficerInfo | None, ref: str, active: bool) -> OfficerInfo:
        R.require(actor, "officers.manage")
        with self.store.write_session() as s:
            o = self._officer(s, ref)
            if o.active == active:
                return info(o)
            self._keeps_an_admin(s, o, R.parse_roles(o.roles), active)
            o.active = active
            self._log(s, actor, "officer.activate" if active else "officer.deactivate", f"{o.name}（{o.cert_no}）", {})
            s.flush()
            done = info(o)
        if not active:  # a deactivated officer no longer unlocks an encrypted kit
            drop_wrap(self.store.data_dir, self.store.key, done.cert_no)
        return done

    def unlock(self, actor: OfficerInfo | None, ref: str) -> None:
        R.require(actor, "officers.manage")
        with self.store.write_session() as s:
            o = self._officer(s, ref)
            o.failed_logins, o.locked_until = 0, None
            self._log(s, actor, "officer.unlock", f"{o.name}（{o.cert_no}）", {})

    def reset_password(self, actor: OfficerInfo | None, ref: str, password: str) -> None:
        """A new password the administrator hands over; the log keeps that it changed, never what it is."""
        R.require(actor, "officers.manage")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValidationError(_("The password must have at least {n} characters.").format(n=MIN_PASSWORD_LENGTH),
                                  "password")
        with self.store.write_session() as s:
            o = self._officer(s, ref)
            o.password_hash = hash_password(password)
            o.failed_logins, o.locked_until = 0, None
            self._log(s, actor, "officer.password", f"{o.name}（{o.cert_no}）", {})
            cert = o.cert_no
        keep_wrap(self.store.data_dir, self.store.key, cert, password)

    # ------------------------------------------------------------ the agency
    def agencies(self, actor: OfficerInfo | None) -> list[tuple[str, str]]:
        """(code, name) of the agencies ``actor`` administers: their own and those below it."""
        with self.store.session() as s:
            rows = list(s.execute(select(Agency.code, Agency.name).order_by(Agency.code)))
        mine = actor.agency_code if actor else None
        if not mine:
            return [(c, n) for c, n in rows]
        stem = mine.rstrip("0") or mine  # 450000 → 45: every agency of the province; 450100 → 4501
        return [(c, n) for c, n in rows if c == mine or c.startswith(stem)]

    def agency(self, code: str) -> dict[str, Any]:
        with self.store.session() as s:
            a = s.scalar(select(Agency).where(Agency.code == code))
            if a is None:
                raise NotFound(_("Unknown agency code {code}.").format(code=code))
            return {"code": a.code, "name": a.name, "review_body": a.review_body, "court": a.court,
                    "seal_text": a.seal_text}

    def set_agency(self, actor: OfficerInfo | None, code: str, **values: str | None) -> dict[str, Any]:
        """名称, 复议机关, 管辖法院 and the seal's words. Set on the central server too, its values come
        back with the next pull; offline, the kit's own stand."""
        R.require(actor, "officers.manage")
        if code not in {c for c, _n in self.agencies(actor)}:
            raise PermissionDenied(_("{name} does not administer agency {code}.").format(
                name=actor.name if actor else "", code=code))
        limits = {"name": 128, "review_body": 60, "court": 60, "seal_text": 60}
        labels = {"name": _("Agency name"), "review_body": _("Review body (复议机关)"), "court": _("Court (管辖法院)"),
                  "seal_text": _("Seal text")}
        with self.store.write_session() as s:
            a = s.scalar(select(Agency).where(Agency.code == code))
            if a is None:
                raise NotFound(_("Unknown agency code {code}.").format(code=code))
            changed: dict[str, Any] = {}
            for key, value in values.items():
                if key not in limits:
                    raise ValidationError(_("Unknown setting {key}.").format(key=key), key)
                text = " ".join((value or "").split()) or None
                if key == "name" and text is None:
                    raise ValidationError(_("{label} cannot be empty.").format(label=labels[key]), key)
                if text is not None and len(text) > limits[key]:
                    raise ValidationError(_("{label} is too long: at most {n} characters.").format(
                        label=labels[key], n=limits[key]), key)
                if getattr(a, key) != text:
                    changed[key] = {"from": getattr(a, key), "to": text}
                    setattr(a, key, text)
            if changed:
                self._log(s, actor, "agency.settings", f"{a.name}（{a.code}）", changed)
            s.flush()
            return {"code": a.code, "name": a.name, "review_body": a.review_body, "court": a.court,
                    "seal_text": a.seal_text}

    # ------------------------------------------------------------ number blocks
    def add_block(self, actor: OfficerInfo | None, **block: Any) -> dict[str, Any]:
        from kit_app.services.numbering import NumberingService

        target = f"{block.get('prefix')}〔{block.get('year')}〕{block.get('first')}–{block.get('last')}号"
        return NumberingService(self.store).add_block(
            **block, actor=actor, also=lambda s: self._log(s, actor, "numbers.block", target, dict(block)))

    def blocks(self) -> list[dict[str, Any]]:
        """Every block with what is used and left; ``low``: fewer than NUMBERS_LOW numbers left."""
        from kit_app.services.numbering import NumberingService

        return [b | {"low": b["left"] < NUMBERS_LOW} for b in NumberingService(self.store).blocks()]


__all__ = ["ACTIONS", "AdminEventRow", "AdminService", "NUMBERS_LOW", "OfficerRow"]
