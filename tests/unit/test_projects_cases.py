from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kit_app.db import Store
from kit_app.db.models import ProjectEvent
from kit_app.errors import PermissionDenied, UsageError, ValidationError
from kit_app.services.cases import CaseService
from kit_app.services.importer import ImportService
from kit_app.services.officers import OfficerService
from kit_app.services.projects import ProjectService
from kit_app.services.sources import SourceService
from tests.helpers.data import SOURCE_HEADER_ZH, code, write_csv

P_HEADER = ["项目名称", "建设单位", "统一社会信用代码", "所属区县", "环评批复文号", "批复日期", "项目状态"]


@pytest.fixture
def setup(store: Store, tmp_path: Path) -> Store:
    ImportService(store).import_sources(write_csv(tmp_path / "s.csv", SOURCE_HEADER_ZH, [
        ["南宁市青秀区宏达化工有限公司", code("450103", 1), "民族大道100号", "青秀区", "", "", "", ""],
    ]))
    ImportService(store).import_projects(write_csv(tmp_path / "p.csv", P_HEADER, [
        ["宏达化工扩建项目", "南宁市青秀区宏达化工有限公司", code("450103", 1), "青秀区", "南环审〔2023〕1号", "2023-01-05", "在建"],
        ["新建锰业项目", "广西新锰业有限公司", code("451002", 2), "右江区", "百环审〔2022〕3号", "2022-06-01", "试运行"],
    ]))
    svc = OfficerService(store)
    svc.add(name="李明", cert_no="L1", roles=["officer"], password="password1", agency_code="450103")
    svc.add(name="韦芳", cert_no="W2", roles=["officer"], password="password1")
    svc.add(name="陈静", cert_no="C3", roles=["reviewer"], password="password1")
    return store


def _project(store: Store, name: str) -> str:
    return next(p.id for p in ProjectService(store).find() if p.name == name)


def test_acceptance_links_existing_source(setup: Store) -> None:
    svc = ProjectService(setup)
    pid = _project(setup, "宏达化工扩建项目")
    li = OfficerService(setup).get("L1")
    p, source_id, created = svc.accept(pid, date(2024, 5, 1), actor=li)
    assert not created and p.status == "accepted" and p.acceptance_date == date(2024, 5, 1)
    detail = SourceService(setup).get(source_id)
    assert detail.name == "南宁市青秀区宏达化工有限公司"
    assert [x.name for x in detail.projects] == ["宏达化工扩建项目"]
    kinds = [e.kind for e in svc.history(pid)]
    assert kinds == ["imported", "accepted", "linked_to_source"]
    assert svc.history(pid)[1].officer_name == "李明"


def test_acceptance_creates_source_keeping_history(setup: Store) -> None:
    svc = ProjectService(setup)
    pid = _project(setup, "新建锰业项目")
    before = SourceService(setup).count()
    _p, source_id, created = svc.accept(pid, date(2024, 1, 2))
    assert created and SourceService(setup).count() == before + 1
    src = SourceService(setup).get(source_id)
    assert src.name == "广西新锰业有限公司" and src.credit_code == code("451002", 2)
    assert src.county == "右江区" and src.origin_project_id == pid
    # the project is still there, with its whole history
    assert [e.kind for e in svc.history(pid)] == ["imported", "accepted", "converted_to_source"]
    with pytest.raises(ValidationError) as err:
        svc.accept(pid, date(2024, 1, 3))
    assert "already recorded" in str(err.value)


def test_acceptance_rules(setup: Store) -> None:
    svc = ProjectService(setup)
    pid = _project(setup, "新建锰业项目")
    with pytest.raises(ValidationError):
        svc.accept(pid, date.today() + timedelta(days=30))
    with pytest.raises(ValidationError) as err:
        svc.accept(pid, date(2021, 1, 1))
    assert "before the EIA approval" in str(err.value)
    with pytest.raises(PermissionDenied):
        svc.accept(pid, date(2024, 1, 1), actor=OfficerService(setup).get("C3"))


def test_project_history_is_append_only(setup: Store) -> None:
    with pytest.raises(IntegrityError):
        with setup.session() as s:
            e = s.scalars(select(ProjectEvent)).first()
            assert e is not None
            e.kind = "forged"
    with pytest.raises(IntegrityError):
        with setup.session() as s:
            s.delete(s.scalars(select(ProjectEvent)).first())


def test_case_for_listed_source(setup: Store) -> None:
    svc = CaseService(setup)
    li = OfficerService(setup).get("L1")
    c = svc.create(party="南宁市青秀区宏达化工有限公司", title="涉嫌超标排放", actor=li, officer_ids=["W2"])
    assert c.party["listed"] and c.party["credit_code"] == code("450103", 1)
    assert [o.name for o in c.officers] == ["李明", "韦芳"]
    assert c.agency_code == "450103" and c.number.startswith("450103-")
    assert c.status == "filing" and c.opened_at.tzinfo is not None
    # by credit code and by id too
    assert svc.create(party=code("450103", 1), title="t2", actor=li).party["listed"]
    src_id = c.party["source_id"]
    assert svc.create(party=src_id, title="t3", actor=li).party["source_id"] == src_id
    assert len(SourceService(setup).get(src_id).cases) == 3


def test_case_for_unlisted_party_and_numbering(setup: Store) -> None:
    svc = CaseService(setup)
    a = svc.create(party="无名小作坊", title="夜间偷排", party_address="青秀区某村")
    b = svc.create(party="另一作坊", title="噪声扰民")
    assert not a.party["listed"] and a.party["name"] == "无名小作坊" and a.party["address"] == "青秀区某村"
    assert a.number != b.number
    assert int(b.number.rsplit("-", 1)[1]) == int(a.number.rsplit("-", 1)[1]) + 1
    assert svc.get(a.number).id == a.id


def test_case_rules(setup: Store) -> None:
    svc = CaseService(setup)
    with pytest.raises(PermissionDenied):
        svc.create(party="x", title="t", actor=OfficerService(setup).get("C3"))
    with pytest.raises(ValidationError):
        svc.create(party="x", title="  ")
    with pytest.raises(UsageError):
        svc.create(party="x", title="t", officer_ids=["NOBODY"])


def test_ambiguous_party_name(setup: Store, tmp_path: Path) -> None:
    ImportService(setup).import_sources(write_csv(tmp_path / "d.csv", SOURCE_HEADER_ZH, [
        ["同名公司", code("450103", 7), "", "青秀区", "", "", "", ""],
        ["同名公司", code("450203", 8), "", "鱼峰区", "", "", "", ""],
    ]))
    with pytest.raises(UsageError) as err:
        CaseService(setup).create(party="同名公司", title="t")
    assert "2 sources are named" in str(err.value)
