"""Administration in the core: every change checked against the role and logged, append-only."""

from __future__ import annotations

import sqlite3

import pytest

from kit_app.db import Store
from kit_app.errors import AuthenticationError, PermissionDenied, ValidationError
from kit_app.services.admin import AdminService
from kit_app.services.officers import OfficerService


def test_officers_agency_and_numbers_each_change_logged(demo_store: Store) -> None:
    officers = OfficerService(demo_store)
    admin_user = officers.login("GXADMIN001", "demo1234")
    li = officers.login("45010320231", "demo1234")
    admin = AdminService(demo_store)
    with pytest.raises(PermissionDenied):
        admin.add_officer(li, name="x", cert_no="X1", roles=["officer"], password="long-password")
    new = admin.add_officer(admin_user, name="覃海", cert_no="45010320233", roles=["officer"],
                            password="first-password", agency_code="450103")
    assert officers.login("45010320233", "first-password").name == "覃海"
    admin.set_roles(admin_user, new.id, ["officer", "reviewer"])
    assert officers.get(new.id).roles == ("officer", "reviewer")
    admin.reset_password(admin_user, new.id, "second-password")
    with pytest.raises(AuthenticationError):
        officers.login("45010320233", "first-password")
    assert officers.login("45010320233", "second-password")
    admin.set_active(admin_user, new.id, False)
    with pytest.raises(AuthenticationError, match="disabled"):
        officers.login("45010320233", "second-password")
    # the last administrator cannot be removed
    with pytest.raises(ValidationError, match="last active administrator"):
        admin.set_roles(admin_user, admin_user.id, ["officer"])
    with pytest.raises(ValidationError, match="last active administrator"):
        admin.set_active(admin_user, admin_user.id, False)
    # locked out, then unlocked
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            officers.login("45010320232", "wrong")
    with pytest.raises(AuthenticationError, match="locked"):
        officers.login("45010320232", "demo1234")
    admin.unlock(admin_user, "45010320232")
    assert officers.login("45010320232", "demo1234")
    # the agency's settings
    got = admin.set_agency(admin_user, "450103", name="南宁市生态环境局青秀分局", seal_text="南宁市生态环境局",
                           court="南宁市青秀区人民法院", review_body="")
    assert got["seal_text"] == "南宁市生态环境局" and got["review_body"] is None
    with pytest.raises(ValidationError, match="cannot be empty"):
        admin.set_agency(admin_user, "450103", name="  ")
    with pytest.raises(PermissionDenied):
        admin.set_agency(li, "450103", court="x")
    # numbers, and what is left
    admin.add_block(admin_user, agency_code="450103", doc_type="penalty_notice", year=2026, prefix="青环罚告",
                    first=1, last=5)
    [block] = admin.blocks()
    assert block["left"] == 5 and block["low"]
    log = admin.history()
    assert [e.action for e in reversed(log)] == [
        "officer.add", "officer.roles", "officer.password", "officer.deactivate", "officer.unlock",
        "agency.settings", "numbers.block"]
    assert all(e.actor == "系统管理员（GXADMIN001）" for e in log)
    assert log[1].details["seal_text"] == {"from": None, "to": "南宁市生态环境局"}
    assert "password" not in str([e.details for e in log]).replace("officer.password", "")
    con = sqlite3.connect(demo_store.db_path)
    for sql in ("UPDATE admin_events SET target = 'x'", "DELETE FROM admin_events"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute(sql)
    con.close()


def test_the_seal_text_prints_where_the_seal_is_pressed(demo_store: Store) -> None:
    import subprocess
    import tempfile
    from datetime import datetime

    import forms
    from kit_app.services.cases import CaseService
    from kit_app.services.documents import DocumentService

    officers = OfficerService(demo_store)
    admin_user, li = officers.login("GXADMIN001", "demo1234"), officers.login("45010320231", "demo1234")
    admin = AdminService(demo_store)
    admin.set_agency(admin_user, "450103", seal_text="南宁市生态环境局执法专用章")
    admin.add_block(admin_user, agency_code="450103", doc_type="penalty_notice", year=datetime.now().year,
                    prefix="青环罚告", first=1, last=9)
    case = CaseService(demo_store).create(party="甲公司", title="t", actor=li)
    docs = DocumentService(demo_store)
    res = docs.issue(case.id, li, "penalty_notice", forms.get("penalty_notice").example)
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(docs.pdf_path(res.id).read_bytes())
        f.flush()
        text = subprocess.run(["pdftotext", f.name, "-"], capture_output=True, text=True, check=True).stdout
    assert "南宁市生态环境局执法专用章" in text
