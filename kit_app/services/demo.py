"""Realistic synthetic base data for demos, training and benchmarks.

Names follow the way Guangxi enterprises are registered (place + brand + trade + legal form), credit
codes are valid (GB 32100) and registered in the county, coordinates fall around the county seat,
and industries lean to Guangxi's own (sugar, manganese, paper, cassava starch, pig farming).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kit_app import creditcode
from kit_app.db import Store
from kit_app.db.bulk import insert_sources
from kit_app.db.models import Agency, KitMeta, Project, ProjectEvent, Source
from kit_app.divisions import Division, agency_id, divisions, divisions_by_code
from kit_app.ids import new_id
from kit_app.pinyin import full_and_initials
from kit_app.timeutil import utcnow

# (industry category, trade words, categories, share, what a project of the trade builds)
# trade, name endings, pollution categories, weight, project scales
Industry = tuple[str, tuple[str, ...], tuple[str, ...], int, tuple[str, ...]]
INDUSTRIES: tuple[Industry, ...] = (
    ("农副食品加工业", ("糖业", "制糖", "木薯淀粉", "食品", "饲料"), ("water", "air", "waste"), 14,
     ("日榨甘蔗{n}千吨", "年产{n}万吨木薯淀粉", "年产{n}万吨饲料")),
    ("造纸和纸制品业", ("纸业", "浆纸", "纸品"), ("water", "air", "waste"), 7,
     ("年产{n}万吨文化纸", "年产{n}万吨纸浆")),
    ("化学原料和化学制品制造业", ("化工", "精细化工", "新材料", "化学"), ("water", "air", "waste"), 10,
     ("年产{n}万吨精细化学品", "年产{n}千吨电子化学品")),
    ("有色金属冶炼和压延加工业", ("锰业", "铝业", "有色金属", "冶炼"), ("water", "air", "waste"), 6,
     ("年产{n}万吨电解锰", "年产{n}万吨铝型材")),
    ("黑色金属冶炼和压延加工业", ("钢铁", "特钢", "铁合金"), ("water", "air", "waste", "noise"), 3,
     ("年产{n}万吨不锈钢", "年产{n}万吨铁合金")),
    ("非金属矿物制品业", ("水泥", "建材", "陶瓷", "石材"), ("air", "noise"), 10,
     ("年产{n}万吨水泥粉磨", "年产{n}万平方米陶瓷砖")),
    ("畜牧业", ("生猪养殖", "养殖", "牧业"), ("water", "air"), 12, ("年出栏{n}千头生猪养殖", "存栏{n}千头母猪养殖")),
    ("电力、热力生产和供应业", ("热电", "电力", "能源"), ("air", "water", "waste"), 4, ("{n}兆瓦生物质热电联产",)),
    ("水的生产和供应业", ("污水处理", "水务", "净水"), ("water",), 5, ("日处理{n}千吨污水处理厂",)),
    ("医药制造业", ("制药", "药业", "生物科技"), ("water", "air", "waste"), 4,
     ("年产{n}亿片中成药", "年产{n}吨原料药")),
    ("木材加工和木制品业", ("木业", "人造板", "林产"), ("air", "noise"), 8, ("年产{n}万立方米人造板",)),
    ("金属制品业", ("电镀", "五金", "金属制品"), ("water", "waste"), 6, ("年电镀{n}万平方米", "年产{n}万件五金件")),
    ("汽车制造业", ("汽车零部件", "汽车配件", "机械"), ("air", "waste", "noise"), 4, ("年产{n}万套汽车零部件",)),
    ("酒、饮料和精制茶制造业", ("酒业", "饮料", "茶业"), ("water",), 3, ("年产{n}千吨白酒", "年产{n}万吨饮料")),
    ("皮革、毛皮、羽毛及其制品业", ("皮革", "制革"), ("water", "waste"), 2, ("年加工{n}万张皮革",)),
    ("橡胶和塑料制品业", ("塑料", "橡胶", "塑胶"), ("air", "waste"), 2, ("年产{n}千吨塑料制品",)),
)
BRAND_CHARS = (
    "宏达鑫源华润金桥永兴恒通德润嘉禾瑞丰泰和福来新兴博远凯盛天成东方南方长城绿源丰盛"
    "海华联合振兴昌隆顺发富民安泰广源利和汇丰祥瑞龙腾骏业鸿运桂华壮美邕江漓江红水左右"
)
LEGAL_FORMS = (("有限公司", 60), ("有限责任公司", 20), ("股份有限公司", 8), ("厂", 8), ("分公司", 4))
ROADS = ("民族", "朝阳", "友爱", "人民", "解放", "建设", "中华", "新华", "北京", "五一", "工业", "科园",
         "星光", "长堽", "秀厢", "白沙", "那洪", "东环", "西环", "迎宾", "城南", "滨江", "鹿山", "龙潭")
ROAD_KINDS = ("路", "大道", "街", "西路", "东路", "北路", "南路")
SURNAMES = "李王张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐韦覃蒙农莫蓝"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玲兰红云海波斌宁建国志文"
CITY_ABBR = {
    "450100": "南", "450200": "柳", "450300": "桂林", "450400": "梧", "450500": "北",
    "450600": "防", "450700": "钦", "450800": "贵", "450900": "玉", "451000": "百",
    "451100": "贺", "451200": "河", "451300": "来", "451400": "崇",
}

DEMO_PASSWORD = "demo1234"
DEMO_META = "demo_generated"  # kit_meta: "sources,projects" committed so far
DEMO_COURT_PREFIX, DEMO_COURT = "4501", "南宁铁路运输法院"  # demo only: a real kit takes it from the central server
DEMO_OFFICERS = (
    # name, cert no, roles, agency code
    ("系统管理员", "GXADMIN001", ("admin",), "450000"),
    ("李明", "45010320231", ("officer",), "450103"),
    ("韦芳", "45010320232", ("officer",), "450103"),
    ("陈静", "45010020105", ("reviewer",), "450100"),
    ("黄志远", "45010320001", ("agency_head",), "450103"),
)


@dataclass
class DemoSummary:
    sources: int
    projects: int
    accepted_projects: int
    officers: list[dict[str, str]]
    seed: int


_T = TypeVar("_T", bound=tuple[Any, ...])


def _weighted(rng: random.Random, items: Sequence[_T], weight_index: int) -> _T:
    return rng.choices(items, weights=[i[weight_index] for i in items], k=1)[0]


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


class DemoGenerator:
    BATCH = 5000  # sources a transaction

    def __init__(self, store: Store, seed: int = 1) -> None:
        self.store = store
        self.rng = random.Random(seed)
        self.seed = seed
        self.by_code = divisions_by_code()
        self.counties = [d for d in divisions() if d.level == "county"]
        # urban districts host more enterprises than mountain counties
        self.county_weights = [3 if d.name.endswith("区") else 2 for d in self.counties]

    def _place(self, d: Division) -> str:
        city = self.by_code[d.parent_code].name if d.parent_code else ""
        county = d.name.rstrip("区县市") if len(d.name) > 2 else d.name
        r = self.rng.random()
        if r < 0.35:
            return "广西" + city.rstrip("市")
        if r < 0.65:
            return city
        if r < 0.80:
            return city + d.name
        return city.rstrip("市") + county

    def _address(self, d: Division) -> str:
        rng = self.rng
        city = self.by_code[d.parent_code].name if d.parent_code else ""
        if rng.random() < 0.3:
            return f"{city}{d.name}{rng.choice(ROADS)}工业园区{rng.randint(1, 30)}号"
        return f"{city}{d.name}{rng.choice(ROADS)}{rng.choice(ROAD_KINDS)}{rng.randint(1, 999)}号"

    def _coords(self, d: Division) -> tuple[float, float]:
        spread = 0.03 if d.name.endswith("区") else 0.12
        return (
            round(d.longitude + self.rng.uniform(-spread, spread), 6),
            round(d.latitude + self.rng.uniform(-spread, spread), 6),
        )

    def source_values(self, n: int, used_codes: set[str]) -> list[dict[str, object]]:
        rng = self.rng
        now = utcnow()
        kit = self.store.kit_id
        out: list[dict[str, object]] = []
        for _i in range(n):
            d = rng.choices(self.counties, weights=self.county_weights, k=1)[0]
            industry, trades, cats, _w, _scales = _weighted(rng, INDUSTRIES, 3)
            brand = rng.choice(BRAND_CHARS[::2]) + rng.choice(BRAND_CHARS[1::2])
            form = _weighted(rng, LEGAL_FORMS, 1)[0]
            name = f"{self._place(d)}{brand}{rng.choice(trades)}{form}"
            if form == "分公司":
                county = d.name.rstrip("区县市") if len(d.name) > 2 else d.name
                name = f"广西{brand}{rng.choice(trades)}有限公司{county}分公司"
            code = creditcode.generate(d.code, rng)
            while code in used_codes:
                code = creditcode.generate(d.code, rng)
            used_codes.add(code)
            lon, lat = self._coords(d)
            key = rng.random() < 0.15
            permitted = rng.random() < 0.7
            py, abbr = full_and_initials(name)
            out.append(
                {
                    "id": new_id(),
                    "name": name,
                    "credit_code": code,
                    "address": self._address(d),
                    "county_id": agency_id(d.code),
                    "industry": industry,
                    "longitude": lon,
                    "latitude": lat,
                    "permit_no": f"{code}{rng.randint(1, 3):03d}{rng.choice('PPPVQU')}" if permitted else None,
                    "legal_rep": _person(rng),
                    "contact_phone": f"1{rng.choice('3578')}{rng.randint(0, 999999999):09d}",
                    "cat_water": "water" in cats and rng.random() < 0.9,
                    "cat_air": "air" in cats and rng.random() < 0.9,
                    "cat_waste": "waste" in cats and rng.random() < 0.8,
                    "cat_noise": "noise" in cats or rng.random() < 0.1,
                    "key_monitored": key,
                    "mn_codes": ",".join(
                        f"{d.code}{rng.randint(0, 10**17 - 1):017d}{k}" for k in range(rng.randint(1, 3))
                    ) if key else None,
                    "name_py": py,
                    "name_abbr": abbr,
                    "created_at": now,
                    "updated_at": now,
                    "origin_kit": kit,
                    "row_version": 1,
                }
            )
        return out

    def generate(
        self,
        sources: int,
        projects: int,
        officers: bool = True,
        progress: Callable[[int, int], None] | None = None,
        *,
        record: bool = False,
    ) -> DemoSummary:
        """Add ``sources`` sources and ``projects`` projects. With ``record``, each batch commits
        with the count generated so far, and a later call resumes from there (see ``fill``)."""
        total = sources + projects
        done_sources, done_projects = self.recorded() if record else (0, 0)
        if done_sources:  # resuming: other names than the ones already drawn
            self.rng = random.Random(f"{self.seed}:{done_sources}")
        with self.store.engine.connect() as conn:
            used = {r[0] for r in conn.exec_driver_sql("SELECT credit_code FROM sources WHERE credit_code IS NOT NULL")}
        for start in range(done_sources, sources, self.BATCH):
            values = self.source_values(min(self.BATCH, sources - start), used)
            with self.store.engine.begin() as conn:
                insert_sources(conn, values)
                if record:
                    self._record(conn, start + len(values), 0)
            if progress:
                progress(start + len(values), total)

        accepted = self._projects(projects, record_sources=sources if record else None) \
            if done_projects < projects else 0
        if progress:
            progress(total, total)
        officer_rows: list[dict[str, str]] = []
        if officers:
            officer_rows = self.ensure_officers()
        return DemoSummary(sources, projects, accepted, officer_rows, self.seed)

    def fill(self, sources: int, projects: int, progress: Callable[[int, int], None] | None = None) -> None:
        """Make a demo data dir complete: generate what is missing (all of it on a first start, the
        rest after a start that was cancelled or cut off) and the demo officers."""
        if self.store.meta(DEMO_META) is None:
            with self.store.engine.connect() as conn:
                if conn.scalar(select(func.count()).select_from(Source)):
                    self.ensure_officers()  # filled before progress was recorded, or by an import
                    return
        if self.recorded() == (sources, projects):
            self.ensure_officers()
            return
        self.generate(sources, projects, progress=progress, record=True)

    def recorded(self) -> tuple[int, int]:
        """How many sources and projects a recorded generation has committed."""
        value = self.store.meta(DEMO_META) or "0,0"
        s, p = value.split(",")
        return int(s), int(p)

    @staticmethod
    def _record(conn: Connection, sources: int, projects: int) -> None:
        conn.execute(sqlite_insert(KitMeta).values(key=DEMO_META, value=f"{sources},{projects}")
                     .on_conflict_do_update(index_elements=["key"], set_={"value": f"{sources},{projects}"}))

    def _projects(self, n: int, record_sources: int | None = None) -> int:
        from kit_app.services.projects import convert_to_source

        rng = self.rng
        kit = self.store.kit_id
        now = utcnow()
        accepted = 0
        statuses = (("approved", 30), ("under_construction", 35), ("trial_operation", 20), ("accepted", 15))
        serial: dict[tuple[str, int], int] = {}
        with self.store.session() as s:
            offset = s.scalar(select(func.count()).select_from(Project)) or 0  # numbers stay unique on re-runs
            existing = list(
                s.execute(
                    select(Source.name, Source.credit_code, Source.county_id, Source.industry).limit(5000)
                ).all()
            )
            by_agency = {agency_id(d.code): d for d in self.counties}
            by_industry = {i[0]: i for i in INDUSTRIES}
            for _i in range(n):
                if existing and rng.random() < 0.35:
                    # an extension of a known enterprise, in its county and trade
                    dev_name, dev_code, county_id, ind = rng.choice(existing)
                    d = (by_agency.get(county_id) if county_id else None) or rng.choice(self.counties)
                    known = by_industry.get(ind) if ind else None
                    industry, trades, _cats, _w, scales = known or rng.choice(INDUSTRIES)
                else:
                    d = rng.choices(self.counties, weights=self.county_weights, k=1)[0]
                    industry, trades, _cats, _w, scales = _weighted(rng, INDUSTRIES, 3)
                    brand = rng.choice(BRAND_CHARS[::2]) + rng.choice(BRAND_CHARS[1::2])
                    dev_name = f"{self._place(d)}{brand}{rng.choice(trades)}有限公司"
                    dev_code = creditcode.generate(d.code, rng)
                scale = rng.choice(scales).format(n=rng.randint(2, 60))
                kind = rng.choice(("建设项目", "技术改造项目", "扩建项目", "迁建项目", "项目"))
                base = dev_name.removesuffix("有限公司").removesuffix("有限责任公司").removesuffix("股份")
                name = f"{base}{scale}{kind}"
                approved = date(2018, 1, 1) + timedelta(days=rng.randint(0, 8 * 365))
                city_code = d.parent_code or "450000"
                key = (city_code, approved.year)
                serial[key] = serial.get(key, offset) + rng.randint(1, 3)
                eia_no = f"{CITY_ABBR.get(city_code, '桂')}环审〔{approved.year}〕{serial[key]}号"
                status = _weighted(rng, statuses, 1)[0]
                lon, lat = self._coords(d)
                acceptance = None
                if status == "accepted":
                    acceptance = min(approved + timedelta(days=rng.randint(300, 1200)), date(2026, 11, 1))
                p = Project(
                    id=new_id(),
                    name=name,
                    developer=dev_name,
                    developer_credit_code=dev_code,
                    address=self._address(d),
                    county_id=agency_id(d.code),
                    industry=industry,
                    longitude=lon,
                    latitude=lat,
                    eia_approval_no=eia_no,
                    eia_approval_date=approved,
                    status=status,
                    acceptance_date=acceptance,
                    origin_kit=kit,
                    created_at=now,
                    updated_at=now,
                )
                s.add(p)
                s.add(ProjectEvent(project_id=p.id, kind="imported", at=now, origin_kit=kit,
                                   detail='{"file": "demo"}'))
                if status == "accepted":
                    s.flush()
                    convert_to_source(s, p, kit, None, now)
                    accepted += 1
            if record_sources is not None:
                self._record(s.connection(), record_sources, n)
        return accepted

    def ensure_agency_settings(self) -> None:
        """What the provincial server would have set for the demo's agencies: the court that hears
        administrative suits against Nanning's bureau and its branches (the review body is derived)."""
        with self.store.session() as s:
            for a in s.scalars(select(Agency).where(Agency.code.like(DEMO_COURT_PREFIX + "%"), Agency.court.is_(None))):
                a.court = DEMO_COURT

    def ensure_officers(self) -> list[dict[str, str]]:
        from kit_app.services.officers import OfficerService

        self.ensure_agency_settings()

        svc = OfficerService(self.store)
        out = []
        existing = {o.cert_no for o in svc.list()}
        for name, cert, roles, agency in DEMO_OFFICERS:
            if cert not in existing:
                svc.add(name=name, cert_no=cert, roles=roles, password=DEMO_PASSWORD, agency_code=agency)
            out.append({"name": name, "cert_no": cert, "roles": ",".join(roles), "password": DEMO_PASSWORD})
        return out
