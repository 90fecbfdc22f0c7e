"""The access log and the time every custody event carries: sign-ins and failed ones, exports,
refused actions (from the core, whatever front-end asked) and administrators' changes, recorded
append-only and listed with filters for administrators only; the satellites' time stamping events
when a fix is current, the kit's clock otherwise — said truthfully."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from kit_app.cli import main
from kit_app.db import Store
from kit_app.errors import AuthenticationError, PermissionDenied
from kit_app.evidence.service import EvidenceService
from kit_app.services.admin import AdminService
from kit_app.services.audit import AuditService
from kit_app.services.cases import CaseService
from kit_app.services.officers import OfficerService


def test_sign_ins_exports_refusals_and_admin_changes_are_logged(demo_store: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    officers = OfficerService(demo_store)
    admin = officers.login("GXADMIN001", "demo1234")
    li = officers.login("45010320231", "demo1234")
    for _ in range(5):  # the fifth locks the account
        with pytest.raises(AuthenticationError):
            officers.login("45010320232", "wrong")
    with pytest.raises(AuthenticationError, match="locked"):
        officers.login("45010320232", "demo1234")
    case = CaseService(demo_store).create(party="南宁市绿源化工有限公司", title="超标排放", actor=li)
    EvidenceService(demo_store).export_case(case.id, tmp_path / "custody.jsonl", li)
    AdminService(demo_store).set_roles(admin, officers.get("45010320232").id, ["officer", "reviewer"])
    audit = AuditService(demo_store)
    rows = audit.query(admin)
    seen = [(r.action, r.outcome) for r in reversed(rows)]
    assert seen[:2] == [("login", "ok"), ("login", "ok")]
    assert seen.count(("login.failed", "failed")) == 5 and ("login.failed", "refused") in seen
    locked = next(r for r in rows if r.outcome == "failed" and r.details.get("locked_until"))
    assert locked.details["failed_in_a_row"] == 5 and locked.target == "45010320232"
    assert ("custody.export", "ok") in seen and ("admin.officer.roles", "ok") in seen
    roles = next(r for r in rows if r.action == "admin.officer.roles")
    assert roles.action_label and "GXADMIN001" in roles.actor
    # filters: by action, outcome, who (name, certificate number or target), and time
    assert {r.action for r in audit.query(admin, action="login.failed")} == {"login.failed"}
    assert {r.outcome for r in audit.query(admin, outcome="refused")} == {"refused"}
    assert all("45010320232" in (r.target + r.actor) for r in audit.query(admin, who="0232"))
    assert [r.action for r in audit.query(admin, action="admin")] == ["admin.officer.roles"]
    assert audit.query(admin, since=datetime.now(UTC) + timedelta(minutes=1)) == []
    # officers do not read it
    with pytest.raises(PermissionDenied):
        audit.query(li)
    # and nobody rewrites it
    with pytest.raises(Exception, match="append-only"):  # noqa: B017 - whatever the driver calls it
        with demo_store.engine.begin() as c:
            c.exec_driver_sql("DELETE FROM access_events")


def test_a_refused_action_is_logged_from_the_command_line(demo_store: Store, capsys) -> None:  # type: ignore[no-untyped-def]
    # a reviewer may not open a case: refused by the core, recorded with who and what
    code = main(["--data-dir", str(demo_store.data_dir), "case", "new", "--party", "南宁市绿源化工有限公司",
                 "--title", "t", "--officer", "45010020105"])
    assert code != 0
    officers = OfficerService(demo_store)
    admin = officers.login("GXADMIN001", "demo1234")
    got = AuditService(demo_store).query(admin, action="action.refused")
    assert got and got[0].outcome == "refused" and got[0].target == "on the command line"
    assert "45010020105" in got[0].actor and got[0].details["message"] == capsys.readouterr().err.split(": ", 1)[1].strip()


def _last_event(store: Store) -> dict:  # type: ignore[type-arg]
    with store.engine.connect() as c:
        return json.loads(c.exec_driver_sql("SELECT body FROM custody_events ORDER BY seq DESC LIMIT 1").scalar())


def test_custody_events_take_the_satellites_time_when_a_fix_is_current(demo_store: Store) -> None:
    li = OfficerService(demo_store).login("45010320231", "demo1234")
    case = CaseService(demo_store).create(party="南宁市绿源化工有限公司", title="超标排放", actor=li)
    ev = EvidenceService(demo_store)
    # no receiver: the kit's clock, said so
    ev.add_physical(case.id, li, seal_no="A-1", description="样品", place="总排口")
    body = _last_event(demo_store)
    assert body["clock"] == "kit" and body["time"] == {"kit": body["at"]}
    # a current fix whose time is two hours ahead of the kit (the laptop's clock is wrong)
    gnss = datetime.now(UTC) + timedelta(hours=2)
    demo_store.gnss = lambda: {"fix": True, "latitude": 22.8, "longitude": 108.3, "time": gnss.isoformat(),
                               "time_age_s": 0.5}
    ev.add_physical(case.id, li, seal_no="A-2", description="样品", place="总排口")
    body = _last_event(demo_store)
    at = datetime.fromisoformat(body["at"])
    assert body["clock"] == "gnss" and abs((at - (gnss + timedelta(seconds=0.5))).total_seconds()) < 0.01
    assert 7190 < body["time"]["gnss_offset_s"] < 7210 and "kit" in body["time"]
    # a time heard too long ago, or a receiver that fails, leaves the kit's clock
    demo_store.gnss = lambda: {"fix": True, "time": gnss.isoformat(), "time_age_s": 30.0}
    ev.add_physical(case.id, li, seal_no="A-3", description="样品", place="总排口")
    assert _last_event(demo_store)["clock"] == "kit"

    def broken() -> None:
        raise OSError("port gone")

    demo_store.gnss = broken  # type: ignore[assignment]
    ev.add_physical(case.id, li, seal_no="A-4", description="样品", place="总排口")
    assert _last_event(demo_store)["clock"] == "kit"
    assert ev.verify().ok
