import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from kit_app.db import open_store
from kit_app.db.bulk import FTS_COLUMNS
from kit_app.db.models import Agency, Base, Officer
from kit_app.db.store import Store, head_revision, make_engine
from kit_app.errors import DataDirTooNew


def test_empty_to_head(store: Store) -> None:
    assert store.current_revision() == head_revision()
    assert len(store.kit_id) == 36
    with store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_guangxi_agency_hierarchy(store: Store) -> None:
    with store.session() as s:
        agencies = s.scalars(select(Agency)).all()
        by_code = {a.code: a for a in agencies}
    assert len([a for a in agencies if a.level == "city"]) == 14
    assert len([a for a in agencies if a.level == "county"]) == 111
    qx = by_code["450103"]
    assert qx.division_name == "青秀区"
    assert qx.name == "南宁市生态环境局青秀区分局"
    assert qx.parent_id == by_code["450100"].id
    assert by_code["450100"].parent_id == by_code["450000"].id
    assert by_code["450000"].name == "广西壮族自治区生态环境厅"


def test_models_match_migrations(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # The FTS virtual table and its shadow tables are not ORM-mapped.
    diff = [d for d in diff if not (d[0] == "remove_table" and d[1].name.startswith("sources_fts"))]
    diff = [d for d in diff if not (d[0] == "remove_table" and d[1].name == "alembic_version")]
    assert diff == []


def test_fts_columns_match_bulk_helper(store: Store) -> None:
    with store.engine.connect() as c:
        cols = [r[1] for r in c.exec_driver_sql("PRAGMA table_info(sources_fts)")]
    assert tuple(cols) == FTS_COLUMNS


def test_previous_revision_upgrades_keeping_data(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    old = Store(data_dir, make_engine(data_dir / "kit.sqlite3"))
    old.upgrade("0001")
    assert old.current_revision() == "0001"
    now = datetime.now(UTC)
    with old.session() as s:
        s.add(Officer(name="老用户", cert_no="OLD001", roles="officer", password_hash="x",
                      origin_kit="k", created_at=now, updated_at=now))
    old.close()
    s2 = open_store(data_dir)
    assert s2.current_revision() == head_revision()
    with s2.session() as s:
        assert s.scalar(select(Officer.name).where(Officer.cert_no == "OLD001")) == "老用户"
        # the table added by the later revision exists and works
        assert s.execute(select(1).select_from(Base.metadata.tables["cases"])).first() is None
    s2.close()


def test_cases_from_before_the_procedure_are_under_investigation_with_their_history(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    old = Store(data_dir, make_engine(data_dir / "kit.sqlite3"))
    old.upgrade("0007")
    con = sqlite3.connect(data_dir / "kit.sqlite3")
    con.execute("INSERT INTO cases (id, number, title, status, party_name, opened_at, created_at, updated_at, "
                "origin_kit, row_version) VALUES ('c1', '450103-2026-ABCDEF-0001', '超标', 'open', '某厂', "
                "'2026-11-20 17:30:00.000000', '2026-11-20 17:30:00.000000', '2026-11-20 17:30:00.000000', 'k', 3)")
    con.commit()
    con.close()
    old.close()
    s2 = open_store(data_dir)
    from kit_app.db.models import Case, CaseEvent

    with s2.session() as s:
        case = s.get(Case, "c1")
        assert case is not None and case.status == "investigating" and case.procedure == "case_procedure@1"
        assert str(case.discovered_on) == "2026-11-21"  # 17:30 UTC is the next morning in Guangxi
        [ev] = s.scalars(select(CaseEvent).where(CaseEvent.case_id == "c1"))
        assert ev.action == "imported" and ev.seq == 1 and ev.to_state == "investigating" and len(ev.id) == 36
    s2.close()


def test_newer_data_dir_is_refused_untouched(data_dir: Path) -> None:
    s = open_store(data_dir)
    s.close()
    con = sqlite3.connect(data_dir / "kit.sqlite3")
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    before = (data_dir / "kit.sqlite3").read_bytes()
    with pytest.raises(DataDirTooNew) as err:
        open_store(data_dir)
    assert "newer version" in str(err.value) and "9999" in str(err.value)
    assert (data_dir / "kit.sqlite3").read_bytes() == before


def test_naive_datetimes_are_refused(store: Store) -> None:
    from sqlalchemy.exc import StatementError

    with pytest.raises(StatementError):
        with store.session() as s:
            s.add(Officer(name="x", cert_no="N1", roles="officer", password_hash="x", origin_kit="k",
                          created_at=datetime(2026, 1, 1), updated_at=datetime(2026, 1, 1)))


def test_times_come_back_aware_utc(store: Store) -> None:
    from kit_app.services.officers import OfficerService

    OfficerService(store).add(name="张三", cert_no="T1", roles=["officer"], password="password1")
    with store.session() as s:
        o = s.scalar(select(Officer))
        assert o is not None and o.created_at.tzinfo is not None
        assert o.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_failed_bulk_insert_rolls_back_rows_index_and_trigger(store: Store) -> None:
    """DDL is transactional here: the trigger swap of a bulk insert cannot be left half-done."""
    from sqlalchemy.exc import IntegrityError

    from kit_app.db.bulk import insert_sources
    from kit_app.timeutil import utcnow

    now = utcnow()
    row = dict(id="a", name="甲", credit_code="X", created_at=now, updated_at=now, origin_kit="k",
               row_version=1, name_py="jia", name_abbr="j", cat_water=0, cat_air=0, cat_waste=0,
               cat_noise=0, key_monitored=0)
    with pytest.raises(IntegrityError):
        with store.engine.begin() as conn:
            insert_sources(conn, [row, dict(row, id="b")])  # same credit code twice
    with store.engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM sources").scalar() == 0
        assert c.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name = 'sources_fts_ai'").scalar() == 1
    # and the trigger still indexes ordinary inserts
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO sources (id, name, created_at, updated_at, origin_kit, name_py, name_abbr) "
            "VALUES ('c', '乙丙丁公司', '2026-01-01', '2026-01-01', 'k', '', '')")
    with store.engine.connect() as c:
        assert c.exec_driver_sql(
            "SELECT count(*) FROM sources_fts WHERE sources_fts MATCH '\"丙丁公\"'").scalar() == 1
