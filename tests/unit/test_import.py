from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kit_app.db import Store
from kit_app.errors import KitError
from kit_app.services.importer import ImportService
from kit_app.services.search import SearchService
from kit_app.services.sources import SourceService
from tests.helpers.data import SOURCE_HEADER_EN, SOURCE_HEADER_ZH, code, write_csv, write_xlsx

GOOD = [
    ["南宁市青秀区宏达化工有限公司", code("450103", 1), "南宁市青秀区民族大道100号", "青秀区", "化学原料和化学制品制造业", "108.49", "22.79", ""],
    ["柳州市长城钢铁有限公司", code("450203", 2), "柳州市鱼峰区柳石路8号", "柳州市鱼峰区", "黑色金属冶炼和压延加工业", "109.42", "24.32", code("450203", 2) + "001P"],
    ["桂林漓江纸业有限公司", code("450302", 3), "桂林市秀峰区", "450302", "造纸和纸制品业", "", "", ""],
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_each_encoding(store: Store, tmp_path: Path, encoding: str) -> None:
    f = write_csv(tmp_path / "s.csv", SOURCE_HEADER_ZH, GOOD, encoding=encoding)
    res = ImportService(store).import_sources(f)
    assert (res.imported, res.updated, res.rejected) == (3, 0, [])
    assert SourceService(store).count() == 3
    hit = SearchService(store).search("宏达化工")[0]
    assert hit.row.name == "南宁市青秀区宏达化工有限公司" and hit.row.county == "青秀区"


def test_xlsx_and_english_headers(store: Store, tmp_path: Path) -> None:
    rows = [list(r) for r in GOOD]
    rows[0][5], rows[0][6] = 108.49, 22.79  # numbers as Excel stores them
    f = write_xlsx(tmp_path / "s.xlsx", SOURCE_HEADER_EN, rows)
    res = ImportService(store).import_sources(f)
    assert res.imported == 3 and not res.rejected and res.encoding == "xlsx"


def test_reimport_updates_by_credit_code(store: Store, tmp_path: Path) -> None:
    svc = ImportService(store)
    svc.import_sources(write_csv(tmp_path / "a.csv", SOURCE_HEADER_ZH, GOOD))
    changed = [list(r) for r in GOOD]
    changed[0][2] = "南宁市青秀区竹溪大道1号"
    res = svc.import_sources(write_csv(tmp_path / "b.csv", SOURCE_HEADER_ZH, changed))
    assert (res.imported, res.updated, res.unchanged) == (0, 1, 2)
    assert SourceService(store).count() == 3
    hit = SearchService(store).search(GOOD[0][1])[0]
    detail = SourceService(store).get(hit.row.id)
    assert detail.address == "南宁市青秀区竹溪大道1号"
    # the search index follows the update
    assert SearchService(store).search("竹溪大道")[0].row.id == hit.row.id
    assert SearchService(store).search("民族大道100号") == []


def _reasons(res) -> dict[int, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    out: dict[int, list[tuple[str, str]]] = {}
    for r in res.rejected:
        out.setdefault(r.row, []).append((r.column, r.reason))
    return out


def test_each_rejection_reason(store: Store, tmp_path: Path) -> None:
    c = code("450103", 9)
    bad_check = c[:17] + ("0" if c[17] != "0" else "1")
    rows = [
        GOOD[0],                                                            # row 2 ok
        ["", code("450103", 10), "", "青秀区", "", "", "", ""],              # 3 missing name
        ["甲公司", bad_check, "", "", "", "", "", ""],                        # 4 bad check digit
        ["乙公司", GOOD[0][1], "", "", "", "", "", ""],                       # 5 repeated code
        ["丙公司", code("450103", 11), "", "", "", "2.35", "48.85", ""],     # 6 outside China (Paris)
        ["丁公司", code("450103", 12), "", "火星区", "", "", "", ""],         # 7 unknown county
        ["戊公司", code("450103", 13), "", "", "", "22.8", "108.3", ""],     # 8 swapped
        ["己公司", code("450103", 14), "", "", "", "东经108", "22.8", ""],   # 9 not a number
        ["庚公司", code("450103", 15), "", "", "", "108.3", "", ""],         # 10 only one coordinate
    ]
    res = ImportService(store).import_sources(write_csv(tmp_path / "s.csv", SOURCE_HEADER_ZH, rows))
    assert res.imported == 1
    r = _reasons(res)
    assert r[3] == [("单位名称", "name is missing")]
    assert r[4][0][0] == "统一社会信用代码" and "bad check digit" in r[4][0][1]
    assert r[5][0][0] == "统一社会信用代码" and "repeated" in r[5][0][1] and "row 2" in r[5][0][1]
    assert r[6][0][0] == "经度" and "outside China" in r[6][0][1]
    assert r[7][0][0] == "所属区县" and "unknown county" in r[7][0][1]
    assert r[8][0][1] == "longitude and latitude look swapped"
    assert r[9][0][0] == "经度" and "not a number" in r[9][0][1]
    assert r[10][0][0] == "纬度" and "together" in r[10][0][1]
    assert sorted(r) == [3, 4, 5, 6, 7, 8, 9, 10]


def test_row_numbers_count_multiline_cells_as_one_row(store: Store, tmp_path: Path) -> None:
    rows = [["多行\n名称公司", code("450103", 20), "", "", "", "", "", ""], ["", "", "x", "", "", "", "", ""]]
    res = ImportService(store).import_sources(write_csv(tmp_path / "s.csv", SOURCE_HEADER_ZH, rows))
    assert [r.row for r in res.rejected] == [3]


def test_missing_name_column_rejects_file(store: Store, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "s.csv", ["foo", "bar"], [["1", "2"]])
    with pytest.raises(KitError) as err:
        ImportService(store).import_sources(f)
    assert "name" in str(err.value) and "foo, bar" in str(err.value)


def test_undecodable_file_names_byte_offset(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "s.csv"
    f.write_bytes("单位名称\n".encode() + b"\x80\xff\xfe\x00")
    with pytest.raises(KitError) as err:
        ImportService(store).import_sources(f)
    assert "offset" in str(err.value)


def test_valid_rows_go_in_as_one_transaction(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure while writing leaves nothing of the file in the store."""
    import kit_app.services.importer as imp

    def boom(conn, rows):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("INSERT INTO sources (id, name, created_at, updated_at, origin_kit) "
                             "VALUES ('x', 'partial', '2026-01-01', '2026-01-01', 'k')")
        raise OSError("disk full")

    monkeypatch.setattr(imp, "insert_sources", boom)
    with pytest.raises(OSError):
        ImportService(store).import_sources(write_csv(tmp_path / "s.csv", SOURCE_HEADER_ZH, GOOD))
    assert SourceService(store).count() == 0


def test_projects_import_and_accepted_projects_become_sources(store: Store, tmp_path: Path) -> None:
    header = ["项目名称", "建设单位", "统一社会信用代码", "建设地点", "所属区县", "环评批复文号", "批复日期", "项目状态", "验收日期"]
    rows = [
        ["年产5万吨木薯淀粉项目", "广西武鸣淀粉有限公司", code("450110", 1), "武鸣区", "武鸣区", "南环审〔2023〕5号", "2023/3/5", "在建", ""],
        ["污水处理厂二期", "南宁水务有限公司", code("450103", 2), "青秀区", "青秀区", "南环审〔2022〕9号", "2022年1月9日", "已验收", "2024-05-01"],
        ["坏日期项目", "某公司", "", "", "", "南环审〔2022〕10号", "去年", "在建", ""],
        ["坏状态项目", "某公司", "", "", "", "南环审〔2022〕11号", "", "烂尾", ""],
    ]
    res = ImportService(store).import_projects(write_csv(tmp_path / "p.csv", header, rows))
    assert res.imported == 2
    r = _reasons(res)
    assert r[4][0][0] == "批复日期" and "not a date" in r[4][0][1]
    assert r[5][0][0] == "项目状态" and "unknown status" in r[5][0][1]
    hit = SearchService(store).search("南宁水务有限公司")
    assert hit and hit[0].row.credit_code == code("450103", 2)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=600))
def test_fuzz_arbitrary_bytes_never_crash(store: Store, tmp_path: Path, data: bytes) -> None:
    f = tmp_path / "fuzz.csv"
    f.write_bytes("单位名称,统一社会信用代码,经度,纬度\n".encode() + data)
    try:
        res = ImportService(store).import_sources(f)
    except KitError as err:
        assert str(err)
        return
    for r in res.rejected:
        assert r.row >= 2 and r.column and r.reason


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.text(max_size=30), min_size=0, max_size=9), max_size=8))
def test_fuzz_arbitrary_cells(store: Store, tmp_path: Path, rows: list[list[str]]) -> None:
    f = write_csv(tmp_path / "fuzz.csv", SOURCE_HEADER_ZH, rows, encoding="utf-8")  # type: ignore[arg-type]
    try:
        res = ImportService(store).import_sources(f)
    except KitError:
        return
    assert res.imported + res.updated + res.unchanged + len({r.row for r in res.rejected}) <= len(rows)


def test_the_loggers_password_is_imported_and_checked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """数采仪密码: letters and digits (an HJ 212 packet is framed by ; = & ,), kept with the MNs."""
    from sqlalchemy import select

    from kit_app.db import open_store
    from kit_app.db.models import Source
    from kit_app.services.importer import ImportService

    csv = tmp_path / "sources.csv"
    csv.write_text("单位名称,在线监测MN号,数采仪密码\n"
                   "南宁某热电有限公司,45010300000000000000A001,Gx2026\n"
                   "南宁某纸业有限公司,45010300000000000000A002,ab;cd\n", encoding="utf-8")
    store = open_store(tmp_path / "data")
    res = ImportService(store).import_sources(csv)
    assert res.imported == 1 and [(r.row, r.column) for r in res.rejected] == [(3, "数采仪密码")]
    with store.session() as s:
        assert s.scalar(select(Source.logger_pw).where(Source.name == "南宁某热电有限公司")) == "Gx2026"
    store.close()
