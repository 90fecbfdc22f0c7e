"""Officers: accounts, offline login with lockout, and who is acting."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from kit_app import roles as R
from kit_app.db import Store
from kit_app.db.models import Agency, Officer
from kit_app.dto import OfficerInfo
from kit_app.errors import AuthenticationError, NotFound, UsageError, ValidationError
from kit_app.i18n import _, ngettext
from kit_app.ids import is_uuid
from kit_app.keyring import keep_wrap
from kit_app.services import audit
from kit_app.timeutil import format_local, utcnow

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8

# scrypt parameters: ~50 ms on a laptop, 16 MiB of memory.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = base64.b64decode(digest)
    actual = hashlib.scrypt(
        password.encode("utf-8"),
        salt=base64.b64decode(salt),
        n=int(n),
        r=int(r),
        p=int(p),
        dklen=len(expected),
    )
    return hmac.compare_digest(actual, expected)


def info(o: Officer) -> OfficerInfo:
    return OfficerInfo(
        id=o.id,
        name=o.name,
        cert_no=o.cert_no,
        roles=R.parse_roles(o.roles),
        agency_code=o.agency.code if o.agency else None,
        agency_name=o.agency.name if o.agency else None,
        active=o.active,
    )


def validate_new(name: str, cert_no: str, roles: list[str] | tuple[str, ...], password: str) -> tuple[str, str]:
    """A new officer's name and certificate number (stripped), or ValidationError naming the field."""
    name = name.strip()
    cert_no = cert_no.strip()
    if not name:
        raise ValidationError(_("The officer's name is missing."), "name")
    if not cert_no:
        raise ValidationError(_("The enforcement certificate number is missing."), "cert")
    if len(cert_no) > 32:
        raise ValidationError(
            _("The enforcement certificate number is longer than 32 characters."), "cert"
        )
    bad = [r for r in roles if r not in R.ROLES]
    if bad or not roles:
        raise ValidationError(
            _("Unknown role {role!r}: use officer, reviewer, agency_head or admin.").format(
                role=(bad or [""])[0]
            ),
            "role",
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            _("The password must have at least {n} characters.").format(n=MIN_PASSWORD_LENGTH),
            "password",
        )
    return name, cert_no


class OfficerService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def count(self) -> int:
        with self.store.session() as s:
            return s.scalar(select(func.count()).select_from(Officer)) or 0

    def add(
        self,
        *,
        name: str,
        cert_no: str,
        roles: list[str] | tuple[str, ...],
        password: str,
        agency_code: str | None = None,
        actor: OfficerInfo | None = None,
        also: Any = None,
    ) -> OfficerInfo:
        """``also(session, officer)`` writes what goes with it in the same transaction (the log)."""
        R.require(actor, "officers.manage")
        name, cert_no = validate_new(name, cert_no, roles, password)
        with self.store.session() as s:
            agency_id = None
            if agency_code:
                agency_id = s.scalar(select(Agency.id).where(Agency.code == agency_code))
                if agency_id is None:
                    raise ValidationError(
                        _("Unknown agency code {code}.").format(code=agency_code), "agency"
                    )
            if s.scalar(select(Officer.id).where(Officer.cert_no == cert_no)):
                raise ValidationError(
                    _("An officer with certificate number {cert} already exists.").format(
                        cert=cert_no
                    ),
                    "cert",
                )
            o = Officer(
                name=name,
                cert_no=cert_no,
                roles=",".join(r for r in R.ROLES if r in roles),
                password_hash=hash_password(password),
                agency_id=agency_id,
                origin_kit=self.store.kit_id,
            )
            s.add(o)
            s.flush()
            s.refresh(o, ["agency"])
            if also is not None:
                also(s, info(o))
            added = info(o)
        keep_wrap(self.store.data_dir, self.store.key, cert_no, password)  # they unlock an encrypted kit
        return added

    def list(self) -> list[OfficerInfo]:
        with self.store.session() as s:
            return [info(o) for o in s.scalars(select(Officer).order_by(Officer.name))]

    def _find(self, s: Session, ref: str) -> Officer | None:
        ref = ref.strip()
        cond = Officer.cert_no == ref
        if is_uuid(ref):
            cond = or_(cond, Officer.id == ref)
        return s.scalar(select(Officer).where(cond))

    def get(self, ref: str) -> OfficerInfo:
        """An officer by id or certificate number."""
        with self.store.session() as s:
            o = self._find(s, ref)
            if o is None:
                raise UsageError(_("No officer with id or certificate number {ref}.").format(ref=ref))
            return info(o)

    def login(self, cert_no: str, password: str) -> OfficerInfo:
        """Check credentials offline. Failures are counted; too many lock the account. On a
        read-only store (browsing an archived kit) nothing can be counted or recorded: the password
        is checked and that is all."""
        if self.store.read_only:
            with self.store.session() as s:
                o = self._find(s, cert_no)
                if o is None or not verify_password(password, o.password_hash):
                    raise AuthenticationError(_("Wrong certificate number or password."))
                if not o.active:
                    raise AuthenticationError(
                        _("The account of {name} is disabled. Ask an administrator.").format(name=o.name))
                s.refresh(o, ["agency"])
                return info(o)
        now = utcnow()
        failure: str | None = None
        kit = self.store.kit_id
        with self.store.session() as s:
            o = self._find(s, cert_no)
            if o is None:
                failure = _("Wrong certificate number or password.")
                audit.add(s, kit, None, "login.failed", outcome=audit.FAILED, target=cert_no.strip()[:32],
                          details={"reason": "unknown certificate number"})
            elif not o.active:
                failure = _("The account of {name} is disabled. Ask an administrator.").format(name=o.name)
                audit.add(s, kit, info(o), "login.failed", outcome=audit.REFUSED, target=o.cert_no,
                          details={"reason": "account disabled"})
            elif o.locked_until is not None and o.locked_until > now:
                failure = _(
                    "Too many failed attempts: the account is locked until {time}. "
                    "Try again then, or ask an administrator."
                ).format(time=format_local(o.locked_until))
                audit.add(s, kit, info(o), "login.failed", outcome=audit.REFUSED, target=o.cert_no,
                          details={"reason": "account locked", "locked_until": o.locked_until.isoformat()})
            elif verify_password(password, o.password_hash):
                o.failed_logins = 0
                o.locked_until = None
                o.last_login_at = now
                s.flush()
                s.refresh(o, ["agency"])
                who = info(o)
                audit.add(s, kit, who, "login", target=o.cert_no)
            else:
                # The failure counter is committed with this unit of work; the error follows it.
                o.failed_logins += 1
                details: dict[str, object] = {"reason": "wrong password", "failed_in_a_row": o.failed_logins}
                if o.failed_logins >= MAX_FAILED_LOGINS:
                    o.locked_until = now + LOCKOUT
                    o.failed_logins = 0
                    details["locked_until"] = o.locked_until.isoformat()
                    failure = _(
                        "Wrong password. The account is now locked for {minutes} minutes, until {time}."
                    ).format(
                        minutes=int(LOCKOUT.total_seconds() // 60), time=format_local(o.locked_until)
                    )
                else:
                    left = MAX_FAILED_LOGINS - o.failed_logins
                    failure = (
                        _("Wrong certificate number or password.")
                        + " "
                        + ngettext(
                            "{n} attempt left before the account is locked.",
                            "{n} attempts left before the account is locked.",
                            left,
                        ).format(n=left)
                    )
                audit.add(s, kit, info(o), "login.failed", outcome=audit.FAILED, target=o.cert_no, details=details)
        if failure is not None:
            raise AuthenticationError(failure)
        # an encrypted kit: this officer's password unlocks it from now on
        keep_wrap(self.store.data_dir, self.store.key, who.cert_no, password)
        return who

    def unlock(self, ref: str, actor: OfficerInfo | None = None) -> None:
        R.require(actor, "officers.manage")
        with self.store.session() as s:
            o = self._find(s, ref)
            if o is None:
                raise NotFound(_("No officer with id or certificate number {ref}.").format(ref=ref))
            o.failed_logins = 0
            o.locked_until = None
