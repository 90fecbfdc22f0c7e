from pathlib import Path

import pytest

from kit_app.db import Store
from kit_app.services.importer import ImportService
from kit_app.services.search import SearchService
from tests.helpers.data import SOURCE_HEADER_ZH, code, write_csv

ROWS = [
    ["南宁市青秀区宏达化工有限公司", code("450103", 1), "南宁市青秀区民族大道100号", "青秀区", "", "", "", ""],
    ["南宁市青秀区绿源污水处理厂", code("450103", 2), "南宁市青秀区长堽路5号", "青秀区", "", "", "", code("450103", 2) + "001P"],
    ["柳州市长城钢铁有限公司", code("450203", 3), "柳州市鱼峰区柳石路8号", "鱼峰区", "", "", "", ""],
    ["重庆银行南宁分行", code("450103", 4), "南宁市青秀区金湖路", "青秀区", "", "", "", ""],
    ["宏达", code("450103", 5), "", "青秀区", "", "", "", ""],
]


@pytest.fixture
def searched(store: Store, tmp_path: Path) -> SearchService:
    ImportService(store).import_sources(write_csv(tmp_path / "s.csv", SOURCE_HEADER_ZH, ROWS))
    return SearchService(store)


def names(hits) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.row.name for h in hits]


def test_pinyin_initials(searched: SearchService) -> None:
    hits = searched.search("nnsqx")
    assert set(names(hits)[:2]) == {"南宁市青秀区宏达化工有限公司", "南宁市青秀区绿源污水处理厂"}
    assert hits[0].match == "pinyin_prefix"


def test_full_pinyin_prefix_and_inside(searched: SearchService) -> None:
    assert names(searched.search("liuzhou"))[0] == "柳州市长城钢铁有限公司"
    # polyphonic characters take the phrase reading: 重庆 chong qing, 银行 yin hang
    assert names(searched.search("chongqingyinhang"))[0] == "重庆银行南宁分行"
    assert "柳州市长城钢铁有限公司" in names(searched.search("changcheng"))


def test_credit_code_exact_ranks_first(searched: SearchService) -> None:
    hits = searched.search(code("450203", 3).lower())
    assert hits[0].row.name == "柳州市长城钢铁有限公司" and hits[0].match == "exact"
    assert hits[0].row.rank == 1.0


def test_permit_number(searched: SearchService) -> None:
    hits = searched.search(code("450103", 2) + "001P")
    assert hits[0].row.name == "南宁市青秀区绿源污水处理厂" and hits[0].match == "exact"


def test_code_prefix(searched: SearchService) -> None:
    assert names(searched.search(code("450203", 3)[:10]))[0] == "柳州市长城钢铁有限公司"


def test_exact_name_ranks_above_contains(searched: SearchService) -> None:
    hits = searched.search("宏达")
    assert names(hits)[:2] == ["宏达", "南宁市青秀区宏达化工有限公司"]
    assert hits[0].match == "exact" and hits[1].match == "name"


def test_fragment_and_address(searched: SearchService) -> None:
    assert names(searched.search("污水处理"))[0] == "南宁市青秀区绿源污水处理厂"
    hits = searched.search("柳石路")
    assert names(hits) == ["柳州市长城钢铁有限公司"] and hits[0].match == "address"


def test_results_carry_county(searched: SearchService) -> None:
    hit = searched.search("钢铁")[0]
    assert hit.row.county == "鱼峰区" and hit.row.credit_code == code("450203", 3)


def test_odd_queries_are_safe(searched: SearchService) -> None:
    for q in ['"', "%", "_", "a OR b", "NEAR(", "*", "'; DROP TABLE sources; --", " ", "ｎｎｓｑｘ"]:
        searched.search(q)
    assert names(searched.search("ｎｎｓｑｘ"))  # full-width letters from a Chinese IME


def test_limit(demo_store: Store) -> None:
    hits = SearchService(demo_store).search("有限公司", limit=7)
    assert len(hits) == 7 and [h.row.rank for h in hits] == [1, 2, 3, 4, 5, 6, 7]


def test_fast_and_slow_pinyin_paths_agree() -> None:
    from kit_app.pinyin import full_and_initials, syllables

    for name in ("南宁市青秀区宏达化工有限公司", "广西壮族自治区", "百色右江区", "重庆银行长沙分行", "柳州ABC钢铁2号厂"):
        syl = syllables(name)
        assert full_and_initials(name) == ("".join(syl), "".join(s[0] for s in syl))
