"""Importing base data (pollution sources, construction projects) from CSV and XLSX.

Valid rows go in as one transaction; every rejected row is reported with its spreadsheet row
number, the column as headed in the file, and the reason. Re-importing a file updates the sources
it already brought in (matched by credit code; without one, by name within the county).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import cast

from sqlalchemy import Table, bindparam, select, update

from kit_app import creditcode
from kit_app import roles as R
from kit_app.db import Store
from kit_app.db.bulk import insert_sources
from kit_app.db.models import Agency, Project, ProjectEvent, Source
from kit_app.divisions import divisions_by_code
from kit_app.dto import ImportResult, OfficerInfo, Rejection
from kit_app.errors import KitError
from kit_app.i18n import _
from kit_app.ids import new_id
from kit_app.pinyin import full_and_initials
from kit_app.tabular import Table as SheetTable
from kit_app.tabular import read_table
from kit_app.timeutil import utcnow

# China's extent (incl. islands), degrees
LON_RANGE = (73.4, 135.1)
LAT_RANGE = (3.8, 53.6)


@dataclass(frozen=True)
class Column:
    key: str
    aliases: tuple[str, ...]
    required: bool = False


SOURCE_COLUMNS = (
    Column("name", ("单位名称", "企业名称", "排污单位名称", "污染源名称", "名称", "name"), True),
    Column("credit_code", ("统一社会信用代码", "社会信用代码", "信用代码", "credit_code")),
    Column("address", ("地址", "单位地址", "详细地址", "生产经营场所地址", "address")),
    Column("county", ("所属区县", "区县", "所在区县", "行政区划", "行政区划代码", "county")),
    Column("industry", ("行业类别", "所属行业", "行业", "industry")),
    Column("longitude", ("经度", "longitude", "lng", "lon")),
    Column("latitude", ("纬度", "latitude", "lat")),
    Column("permit_no", ("排污许可证编号", "排污许可证号", "许可证编号", "permit_no")),
    Column("legal_rep", ("法定代表人", "法人代表", "负责人", "legal_rep")),
    Column("contact_phone", ("联系电话", "电话", "contact_phone", "phone")),
    Column("categories", ("污染类别", "排污类别", "类别", "categories")),
    Column("key_monitored", ("重点监控", "是否重点监控", "重点排污单位", "key_monitored")),
    Column("mn_codes", ("在线监测MN号", "在线监测MN", "MN号", "MN", "mn_codes")),
    Column("logger_pw", ("数采仪密码", "数采仪访问密码", "访问密码", "PW", "logger_pw")),
)

PROJECT_COLUMNS = (
    Column("name", ("项目名称", "建设项目名称", "name"), True),
    Column("developer", ("建设单位", "developer")),
    Column(
        "developer_credit_code",
        ("建设单位统一社会信用代码", "统一社会信用代码", "信用代码", "credit_code", "developer_credit_code"),
    ),
    Column("address", ("建设地点", "项目地址", "地址", "address")),
    Column("county", ("所属区县", "区县", "所在区县", "行政区划", "行政区划代码", "county")),
    Column("industry", ("行业类别", "所属行业", "行业", "industry")),
    Column("longitude", ("经度", "longitude", "lng", "lon")),
    Column("latitude", ("纬度", "latitude", "lat")),
    Column("eia_approval_no", ("环评批复文号", "批复文号", "环评审批文号", "eia_approval_no")),
    Column("eia_approval_date", ("环评批复日期", "批复日期", "审批日期", "eia_approval_date")),
    Column("status", ("项目状态", "状态", "status")),
    Column("acceptance_date", ("竣工环保验收日期", "验收日期", "acceptance_date")),
)

CATEGORY_WORDS = {
    "water": "water", "废水": "water", "水": "water",
    "air": "air", "废气": "air", "气": "air", "大气": "air",
    "waste": "waste", "固废": "waste", "固体废物": "waste", "危废": "waste", "危险废物": "waste",
    "固废危废": "waste",
    "noise": "noise", "噪声": "noise",
}

PROJECT_STATUSES = {
    "approved": "approved", "环评已批复": "approved", "已批复": "approved", "已审批": "approved",
    "under_construction": "under_construction", "在建": "under_construction",
    "建设中": "under_construction",
    "trial_operation": "trial_operation", "试运行": "trial_operation", "调试": "trial_operation",
    "accepted": "accepted", "已验收": "accepted", "竣工验收": "accepted",
}

# the values an import row sets, in this order (compared to decide whether a row changed)
_SOURCE_FIELDS = (
    "name", "credit_code", "address", "county_id", "industry", "longitude", "latitude", "permit_no",
    "legal_rep", "contact_phone", "cat_water", "cat_air", "cat_waste", "cat_noise", "key_monitored",
    "mn_codes", "logger_pw", "name_py", "name_abbr",
)

_TRUE = {"是", "y", "yes", "true", "1", "√", "重点"}
_FALSE = {"否", "n", "no", "false", "0", ""}
_SPLIT = re.compile(r"[,，;；、/|\s]+")


def _norm_header(h: str) -> str:
    h = re.sub(r"[（(].*?[)）]", "", h)  # 经度(°) -> 经度
    return h.replace("*", "").replace(" ", "").strip().lower()


def map_header(header: list[str], columns: tuple[Column, ...]) -> tuple[dict[str, int], list[str]]:
    """Column key -> index; and the headers that were not understood."""
    lookup = {_norm_header(a): c.key for c in columns for a in c.aliases}
    mapping: dict[str, int] = {}
    ignored: list[str] = []
    for i, h in enumerate(header):
        key = lookup.get(_norm_header(h))
        if key is None or key in mapping:
            if h:
                ignored.append(h)
            continue
        mapping[key] = i
    missing = [c for c in columns if c.required and c.key not in mapping]
    if missing:
        c = missing[0]
        raise KitError(
            _(
                "The header row has no {column} column (found: {found}). "
                "See the README for the accepted column names."
            ).format(column=" / ".join(c.aliases[:2] + c.aliases[-1:]), found=", ".join(header))
        )
    return mapping, ignored


def parse_date(text: str) -> date:
    t = text.strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日"):
        try:
            return datetime.strptime(t, fmt).date()
        except ValueError:
            continue
    if "T" in t:
        try:
            return datetime.fromisoformat(t).date()
        except ValueError:
            pass  # not ISO either: reported below as "not a date"
    raise ValueError(t)


class CountyResolver:
    """Resolves 青秀区, 南宁市青秀区, 450103 (or 青秀) to the county's agency id."""

    def __init__(self, agencies: list[tuple[str, str, str, str | None]]) -> None:
        by_code = divisions_by_code()
        self.by_key: dict[str, str | None] = {}
        for aid, code, name, level in agencies:
            if level != "county":
                continue
            d = by_code.get(code)
            city = by_code[d.parent_code].name if d and d.parent_code else ""
            keys = {code, name, city + name, name.rstrip("区县市") if len(name) > 2 else name}
            for k in keys:
                # a name shared by two counties is ambiguous: remember that, resolve by full name
                self.by_key[k] = None if (k in self.by_key and self.by_key[k] != aid) else aid

    def resolve(self, text: str) -> tuple[str | None, str | None]:
        t = text.strip().replace(" ", "")
        if t.startswith("广西壮族自治区"):
            t = t[len("广西壮族自治区"):]
        elif t.startswith("广西"):
            t = t[2:]
        if t not in self.by_key:
            return None, _("unknown county {name!r}: use a Guangxi county name or its code").format(
                name=text
            )
        aid = self.by_key[t]
        if aid is None:
            return None, _("county name {name!r} is ambiguous: add the city, e.g. 南宁市{name}").format(
                name=text
            )
        return aid, None


def _coords(
    lon_t: str, lat_t: str
) -> tuple[float | None, float | None, str | None, str | None]:
    """(lon, lat, column key at fault, reason)."""
    if not lon_t and not lat_t:
        return None, None, None, None
    if not lon_t or not lat_t:
        return None, None, ("longitude" if not lon_t else "latitude"), _(
            "longitude and latitude must be given together"
        )
    try:
        lon = float(lon_t)
    except ValueError:
        return None, None, "longitude", _("{value!r} is not a number").format(value=lon_t)
    try:
        lat = float(lat_t)
    except ValueError:
        return None, None, "latitude", _("{value!r} is not a number").format(value=lat_t)
    lon_ok = LON_RANGE[0] <= lon <= LON_RANGE[1]
    lat_ok = LAT_RANGE[0] <= lat <= LAT_RANGE[1]
    if not lon_ok and not lat_ok and LON_RANGE[0] <= lat <= LON_RANGE[1] and LAT_RANGE[0] <= lon <= LAT_RANGE[1]:
        return None, None, "longitude", _("longitude and latitude look swapped")
    if not lon_ok:
        return None, None, "longitude", _("coordinates outside China (longitude {lon})").format(lon=lon)
    if not lat_ok:
        return None, None, "latitude", _("coordinates outside China (latitude {lat})").format(lat=lat)
    return lon, lat, None, None


class ImportService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _resolver(self) -> CountyResolver:
        with self.store.session() as s:
            rows = s.execute(select(Agency.id, Agency.code, Agency.division_name, Agency.level)).all()
        return CountyResolver([tuple(r) for r in rows])  # type: ignore[misc]

    def _begin(self, path: Path, actor: OfficerInfo | None, columns: tuple[Column, ...]
               ) -> tuple[SheetTable, dict[str, int], ImportResult, CountyResolver]:
        """What both imports start with: the right to import, the file read, its header mapped."""
        R.require(actor, "basedata.import")
        table = read_table(path)
        mapping, _ignored = map_header(table.header, columns)
        return table, mapping, ImportResult(file=str(path), encoding=table.encoding), self._resolver()

    # ---------------------------------------------------------------- sources
    def import_sources(
        self,
        path: Path,
        actor: OfficerInfo | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> ImportResult:
        table, mapping, result, counties = self._begin(path, actor, SOURCE_COLUMNS)
        header = table.header
        now = utcnow()
        kit = self.store.kit_id

        def col(key: str) -> str:
            return header[mapping[key]] if key in mapping else key

        seen_codes: dict[str, int] = {}
        good: list[tuple[int, dict[str, object]]] = []
        width = len(header)
        # every column key -> its cell index; a column missing from the file reads the empty
        # cell appended to each row
        idx = {c.key: mapping.get(c.key, width) for c in SOURCE_COLUMNS}
        (i_name, i_credit_code, i_address, i_county, i_industry, i_longitude, i_latitude, i_permit_no,
         i_legal_rep, i_contact_phone, i_categories, i_key_monitored, i_mn_codes, i_logger_pw) = (
            idx[c.key] for c in SOURCE_COLUMNS)
        for rowno, cells in table.rows:
            if not any(cells):
                continue  # blank line
            if len(cells) != width:
                cells = cells[:width] + [""] * (width - len(cells))
            cells.append("")

            problems: list[Rejection] = []

            def reject(key: str, reason: str) -> None:
                problems.append(Rejection(row=rowno, column=col(key), reason=reason))  # noqa: B023

            name = cells[i_name]
            if not name:
                reject("name", _("name is missing"))
            elif len(name) > 200:
                reject("name", _("name is longer than 200 characters"))
            code = creditcode.normalise(cells[i_credit_code]) or None
            if code:
                why = creditcode.validate(code)
                if why:
                    reject("credit_code", why)
                elif code in seen_codes:
                    reject(
                        "credit_code",
                        _("credit code {code} repeated in the file (first on row {row})").format(
                            code=code, row=seen_codes[code]
                        ),
                    )
                else:
                    seen_codes[code] = rowno
            county_id = None
            county_t = cells[i_county]
            if county_t:
                county_id, why = counties.resolve(county_t)
                if why:
                    reject("county", why)
            lon, lat, bad_col, why = _coords(cells[i_longitude], cells[i_latitude])
            if why and bad_col:
                reject(bad_col, why)
            cats: set[str] = set()
            for word in _SPLIT.split(cells[i_categories]):
                if not word:
                    continue
                c = CATEGORY_WORDS.get(word.lower())
                if c is None:
                    reject(
                        "categories",
                        _("unknown category {word!r} (use 废水, 废气, 固废, 噪声)").format(word=word),
                    )
                else:
                    cats.add(c)
            km_t = cells[i_key_monitored].lower()
            key_monitored = False
            if km_t in _TRUE:
                key_monitored = True
            elif km_t not in _FALSE:
                reject("key_monitored", _("{value!r} is not yes/no (是/否)").format(value=km_t))
            mn = [m for m in _SPLIT.split(cells[i_mn_codes]) if m]
            for m in mn:
                if not re.fullmatch(r"[0-9A-Za-z]{1,32}", m):
                    reject("mn_codes", _("MN code {mn!r} is not 1-32 letters or digits").format(mn=m))
            pw = cells[i_logger_pw]
            if pw and not re.fullmatch(r"[0-9A-Za-z]{1,32}", pw):  # no ; = & , — they frame an HJ 212 packet
                reject("logger_pw", _("the data logger password is not 1-32 letters or digits"))
            if problems:
                result.rejected.extend(problems)
                continue
            py, abbr = full_and_initials(name)
            good.append(
                (
                    rowno,
                    {
                        "name": name,
                        "credit_code": code,
                        "address": cells[i_address] or None,
                        "county_id": county_id,
                        "industry": cells[i_industry] or None,
                        "longitude": lon,
                        "latitude": lat,
                        "permit_no": creditcode.normalise(cells[i_permit_no]) or None,
                        "legal_rep": cells[i_legal_rep] or None,
                        "contact_phone": cells[i_contact_phone] or None,
                        "cat_water": "water" in cats,
                        "cat_air": "air" in cats,
                        "cat_waste": "waste" in cats,
                        "cat_noise": "noise" in cats,
                        "key_monitored": key_monitored,
                        "mn_codes": ",".join(mn) or None,
                        "logger_pw": pw or None,
                        "name_py": py,
                        "name_abbr": abbr,
                    },
                )
            )
            if progress and rowno % 2000 == 0:
                progress(rowno)

        compare = list(_SOURCE_FIELDS)
        with self.store.engine.begin() as conn:
            assert all(tuple(v) == _SOURCE_FIELDS for _r, v in good)
            existing: dict[int, tuple[object, ...]] = {}
            by_code: dict[str, int] = {}
            by_name: dict[tuple[str, str | None], int] = {}
            for r in conn.execute(select(Source.rid, *(getattr(Source, c) for c in compare))):
                existing[r[0]] = tuple(r[1:])
                code, name, county = r[1 + compare.index("credit_code")], r[1], r[1 + compare.index("county_id")]
                if code:
                    by_code[code] = r[0]
                else:
                    by_name[(name, county)] = r[0]
            inserts: list[dict[str, object]] = []
            updates: list[dict[str, object]] = []
            unchanged = 0
            for _rowno, v in good:
                code = cast("str | None", v["credit_code"])
                key = (cast(str, v["name"]), cast("str | None", v["county_id"]))
                rid = by_code.get(code) if code else by_name.get(key)
                if rid is None:
                    v.update(id=new_id(), created_at=now, updated_at=now, origin_kit=kit, row_version=1)
                    inserts.append(v)
                    if code:
                        by_code[code] = -1
                    else:
                        by_name[key] = -1
                elif rid > 0 and existing[rid] != tuple(v[c] for c in compare):
                    v.update(b_rid=rid, updated_at=now)
                    updates.append(v)
                else:
                    unchanged += 1
            insert_sources(conn, inserts)
            if updates:
                table_ = cast(Table, Source.__table__)
                cols = [k for k in updates[0] if k != "b_rid"]
                stmt = (
                    update(table_)
                    .where(table_.c.rid == bindparam("b_rid"))
                    .values({**{c: bindparam(c) for c in cols}, "row_version": table_.c.row_version + 1})
                )
                conn.execute(stmt, updates)
        result.imported = len(inserts)
        result.updated = len(updates)
        result.unchanged = unchanged
        return result

    # ---------------------------------------------------------------- projects
    def import_projects(
        self,
        path: Path,
        actor: OfficerInfo | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> ImportResult:
        table, mapping, result, counties = self._begin(path, actor, PROJECT_COLUMNS)
        header = table.header
        now = utcnow()
        kit = self.store.kit_id

        def col(key: str) -> str:
            return header[mapping[key]] if key in mapping else key

        seen_eia: dict[str, int] = {}
        good: list[dict[str, object]] = []
        for rowno, cells in table.rows:
            def get(key: str) -> str:
                i = mapping.get(key)
                return cells[i] if i is not None and i < len(cells) else ""  # noqa: B023

            if not any(cells):
                continue
            problems: list[Rejection] = []

            def reject(key: str, reason: str) -> None:
                problems.append(Rejection(row=rowno, column=col(key), reason=reason))  # noqa: B023

            name = get("name")
            if not name:
                reject("name", _("name is missing"))
            code = creditcode.normalise(get("developer_credit_code")) or None
            if code and (why := creditcode.validate(code)):
                reject("developer_credit_code", why)
            eia = get("eia_approval_no") or None
            if eia:
                if eia in seen_eia:
                    reject(
                        "eia_approval_no",
                        _("approval number {no} repeated in the file (first on row {row})").format(
                            no=eia, row=seen_eia[eia]
                        ),
                    )
                else:
                    seen_eia[eia] = rowno
            dates: dict[str, date | None] = {}
            for key in ("eia_approval_date", "acceptance_date"):
                t = get(key)
                dates[key] = None
                if t:
                    try:
                        dates[key] = parse_date(t)
                    except ValueError:
                        reject(key, _("{value!r} is not a date (use 2026-03-05)").format(value=t))
            status_t = get("status")
            status = PROJECT_STATUSES.get(status_t.lower() if status_t else "approved")
            if status is None:
                reject(
                    "status",
                    _("unknown status {value!r} (use 环评已批复, 在建, 试运行 or 已验收)").format(
                        value=status_t
                    ),
                )
            county_id = None
            if county_t := get("county"):
                county_id, why = counties.resolve(county_t)
                if why:
                    reject("county", why)
            lon, lat, bad_col, why = _coords(get("longitude"), get("latitude"))
            if why and bad_col:
                reject(bad_col, why)
            if problems:
                result.rejected.extend(problems)
                continue
            good.append(
                {
                    "name": name,
                    "developer": get("developer") or None,
                    "developer_credit_code": code,
                    "address": get("address") or None,
                    "county_id": county_id,
                    "industry": get("industry") or None,
                    "longitude": lon,
                    "latitude": lat,
                    "eia_approval_no": eia,
                    "eia_approval_date": dates["eia_approval_date"],
                    "status": status,
                    "acceptance_date": dates["acceptance_date"],
                }
            )
            if progress and rowno % 1000 == 0:
                progress(rowno)

        from kit_app.services.projects import convert_to_source

        with self.store.session() as s:
            existing = dict(
                s.execute(
                    select(Project.eia_approval_no, Project.id).where(Project.eia_approval_no.is_not(None))
                ).all()
            )
            by_name = {
                (n, c): pid
                for n, c, pid in s.execute(
                    select(Project.name, Project.county_id, Project.id).where(
                        Project.eia_approval_no.is_(None)
                    )
                )
            }
            for v in good:
                pid = existing.get(cast(str, v["eia_approval_no"])) if v["eia_approval_no"] else by_name.get(
                    (cast(str, v["name"]), cast("str | None", v["county_id"]))
                )
                p = s.get(Project, pid) if pid else None
                if p is None:
                    p = Project(id=new_id(), origin_kit=kit, created_at=now, updated_at=now, **v)
                    s.add(p)
                    s.add(ProjectEvent(project_id=p.id, kind="imported", at=now, origin_kit=kit,
                                       detail=f'{{"file": {_json_str(path.name)}}}'))
                    result.imported += 1
                else:
                    was_accepted = p.status == "accepted"
                    for k, val in v.items():
                        if was_accepted and k == "status":
                            continue  # acceptance is a recorded fact; a re-import cannot undo it
                        setattr(p, k, val)
                    result.updated += 1
                s.flush()
                if p.status == "accepted" and p.source_id is None:
                    convert_to_source(s, p, kit, officer_id=None, when=now)
        return result


def _json_str(s: str) -> str:
    import json

    return json.dumps(s, ensure_ascii=False)
