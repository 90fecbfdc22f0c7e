from datetime import timedelta

import pytest
from sqlalchemy import update

from kit_app import roles as R
from kit_app.db import Store
from kit_app.db.models import Officer
from kit_app.errors import AuthenticationError, PermissionDenied, ValidationError
from kit_app.services.officers import MAX_FAILED_LOGINS, OfficerService
from kit_app.timeutil import utcnow


@pytest.fixture
def officers(store: Store) -> OfficerService:
    svc = OfficerService(store)
    svc.add(name="管理员", cert_no="ADMIN1", roles=["admin"], password="admin-pass", agency_code="450000")
    svc.add(name="李明", cert_no="45010320231", roles=["officer"], password="secret-123", agency_code="450103")
    return svc


def test_login_ok(officers: OfficerService) -> None:
    o = officers.login("45010320231", "secret-123")
    assert o.name == "李明" and o.roles == ("officer",) and o.agency_code == "450103"
    assert o.agency_name == "南宁市生态环境局青秀区分局"


def test_password_is_hashed_with_scrypt(store: Store, officers: OfficerService) -> None:
    with store.session() as s:
        h = s.query(Officer.password_hash).filter_by(cert_no="45010320231").scalar()
    assert h.startswith("scrypt$") and "secret-123" not in h


def test_wrong_password_counts_down_then_locks(officers: OfficerService) -> None:
    for left in range(MAX_FAILED_LOGINS - 1, 0, -1):
        with pytest.raises(AuthenticationError) as err:
            officers.login("45010320231", "wrong")
        assert f"{left} attempt" in str(err.value)
    with pytest.raises(AuthenticationError) as err:
        officers.login("45010320231", "wrong")
    assert "locked for 15 minutes" in str(err.value)
    # even the right password is refused while locked
    with pytest.raises(AuthenticationError) as err:
        officers.login("45010320231", "secret-123")
    assert "locked until" in str(err.value)
    officers.unlock("45010320231")
    assert officers.login("45010320231", "secret-123").name == "李明"


def test_lock_expires(store: Store, officers: OfficerService) -> None:
    with store.session() as s:
        s.execute(update(Officer).where(Officer.cert_no == "45010320231")
                  .values(locked_until=utcnow() - timedelta(seconds=1)))
    assert officers.login("45010320231", "secret-123").name == "李明"


def test_unknown_user_same_message(officers: OfficerService) -> None:
    with pytest.raises(AuthenticationError) as err:
        officers.login("nobody", "x")
    assert str(err.value) == "Wrong certificate number or password."


def test_disabled_account(store: Store, officers: OfficerService) -> None:
    with store.session() as s:
        s.execute(update(Officer).where(Officer.cert_no == "45010320231").values(active=False))
    with pytest.raises(AuthenticationError) as err:
        officers.login("45010320231", "secret-123")
    assert "disabled" in str(err.value)


def test_roles_gate_officer_management(officers: OfficerService) -> None:
    li = officers.get("45010320231")
    with pytest.raises(PermissionDenied) as err:
        officers.add(name="x", cert_no="X1", roles=["officer"], password="password1", actor=li)
    assert "李明 may not manage officers" in str(err.value) and "Administrator" in str(err.value)
    admin = officers.get("ADMIN1")
    officers.add(name="王芳", cert_no="X2", roles=["officer", "reviewer"], password="password1", actor=admin)
    assert officers.get("X2").roles == ("officer", "reviewer")


def test_validation(officers: OfficerService) -> None:
    with pytest.raises(ValidationError) as err:
        officers.add(name="x", cert_no="ADMIN1", roles=["officer"], password="password1")
    assert err.value.field == "cert"
    with pytest.raises(ValidationError) as err:
        officers.add(name="x", cert_no="N2", roles=["chief"], password="password1")
    assert err.value.field == "role"
    with pytest.raises(ValidationError) as err:
        officers.add(name="x", cert_no="N3", roles=["officer"], password="short")
    assert err.value.field == "password"
    with pytest.raises(ValidationError) as err:
        officers.add(name="x", cert_no="N4", roles=["officer"], password="password1", agency_code="999999")
    assert err.value.field == "agency"


def test_reviewer_cannot_open_cases() -> None:
    from kit_app.dto import OfficerInfo

    reviewer = OfficerInfo("id", "陈静", "C1", ("reviewer",), None, None, True)
    assert not R.can(reviewer, "case.create")
    assert R.can(None, "case.create")
