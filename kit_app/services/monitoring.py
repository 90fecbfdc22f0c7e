"""Cross-checking an enterprise's online-monitoring data on site (在线监控数据比对).

Inputs are evidence items of the case, read from their originals: the data logger's conversation
(``devices.logger`` decodes what it reported from the recorded bytes) and the portable analyzer's
sessions. Each check of ``forms/monitoring_checks/logger_checks.json`` is run and says, with its numbers,
whether it fired, stayed clear or could not run (and why). The logger files its records by its own
clock: when that clock is off, its records are set back by the measured offset before they are
compared with the analyzer's minutes (the kit's clock).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from forms.monitoring import CheckDef, LoggerChecks, logger_checks
from kit_app import i18n
from kit_app.errors import NotFound, ValidationError
from kit_app.evidence import media
from kit_app.i18n import N_
from kit_app.timeutil import LOCAL_TZ

# the language the checks speak in: the reader's, or Chinese for a printed record
_SPEAKING: ContextVar[Callable[[str], str] | None] = ContextVar("monitoring_language", default=None)


def _(message: str) -> str:
    speak = _SPEAKING.get()
    return speak(message) if speak is not None else i18n._(message)


@contextmanager
def printed() -> Iterator[None]:
    """What the checks say inside is in Chinese, as on an official record."""
    token = _SPEAKING.set(i18n.catalogue("zh_CN").gettext)
    try:
        yield
    finally:
        _SPEAKING.reset(token)

FIRED, CLEAR, SKIPPED = "fired", "clear", "skipped"
# HJ 212 running states (CN=2021 ``-RS``) under which an analyser measures nothing valid
RUNNING_STATES = {"0": N_("out of service"), "2": N_("calibrating"), "3": N_("in maintenance")}
# a Modbus instrument's quantities under their HJ 212 codes
MODBUS_CODES = {"pH": "w01001", "dissolved_oxygen": "w01009", "conductivity": "w01014", "turbidity": "w01003",
                "temperature": "w01010"}


@dataclass
class CheckResult:
    id: str
    title: str
    title_en: str
    basis: str
    status: str
    summary: str
    numbers: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "title_en": self.title_en, "basis": self.basis,
                "status": self.status, "summary": self.summary, "numbers": self.numbers}


@dataclass
class LoggerData:
    """What a recorded conversation says: the header, the records by kind, the clock offset."""

    header: dict[str, Any]
    records: dict[str, list[dict[str, Any]]]
    evidence_id: str | None = None

    @property
    def offset(self) -> float:
        return float((self.header.get("clock") or {}).get("offset_s") or 0.0)

    def minute_series(self) -> dict[str, list[tuple[datetime, float, str]]]:
        """Per pollutant: (true minute, Avg, flag) — the logger's labels set back by its clock's offset."""
        shift = timedelta(seconds=round(self.offset)) if abs(self.offset) > 60 else timedelta(0)
        out: dict[str, list[tuple[datetime, float, str]]] = defaultdict(list)
        for row in self.records.get("minute", []):
            t = datetime.fromisoformat(row["time"]) - shift
            for code, f in row["values"].items():
                if isinstance(f.get("Avg"), (int, float)):
                    out[code].append((t, float(f["Avg"]), str(f.get("Flag") or "N")))
        return dict(out)


def load_exchange(path: str | Path, evidence_id: str | None = None) -> LoggerData:
    from devices.logger import decode
    from devices.values import read_records

    records = read_records(path)
    header = next(records, {})
    if header.get("type") != "logger-exchange":
        raise ValidationError(_("{file} is not a data logger's record").format(file=Path(path).name), "exchange")
    return LoggerData(header, decode(list(records)), evidence_id)


def analyzer_minutes(path: str | Path) -> dict[str, dict[datetime, float]]:
    """A portable analyzer's session: per pollutant code, the mean of its readings in each minute."""
    from devices.hj212 import CODES_2005
    from devices.values import load_series

    _header, series = load_series(path)
    out: dict[str, dict[datetime, list[float]]] = defaultdict(lambda: defaultdict(list))
    for key, (_label, _unit, points) in series.items():
        code, _dash, kind = key.rpartition("-")
        if not code:
            code, kind = key, "Rtd"
        code = MODBUS_CODES.get(code, CODES_2005.get(code, code))
        if kind not in ("Rtd", "Avg"):
            continue
        for t, v in points:
            minute = datetime.fromtimestamp(t, LOCAL_TZ).replace(second=0, microsecond=0)
            out[code][minute].append(v)
    return {code: {m: sum(vs) / len(vs) for m, vs in minutes.items()} for code, minutes in out.items()}


def _pollutant(code: str) -> str:
    """A pollutant as a reader names it, its HJ 212 code after: 二氧化硫（a21026）, or SO2 (a21026)."""
    from devices.hj212 import POLLUTANTS

    zh, en, _unit = POLLUTANTS.get(code, (code, code, ""))
    if _SPEAKING.get() is not None or i18n.language() == "zh_CN":
        return code if zh == code else f"{zh}（{code}）"
    return code if en == code else f"{en} ({code})"


def _local(t: datetime) -> str:
    return t.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def _result(d: CheckDef, status: str, summary: str, **numbers: Any) -> CheckResult:
    return CheckResult(d.id, d.title, d.title_en, d.basis, status, summary, numbers)


# ---------------------------------------------------------------- the checks
def check_analyzer(d: CheckDef, logger: LoggerData, analyzer: dict[str, dict[datetime, float]]) -> CheckResult:
    p = d.params
    series = logger.minute_series()
    compared: dict[str, dict[str, Any]] = {}
    for code, minutes in analyzer.items():
        reported = {t.astimezone(LOCAL_TZ): v for t, v, _f in series.get(code, [])}
        pairs = [(minutes[m], reported[m]) for m in sorted(minutes) if m in reported]
        if len(pairs) < p["min_minutes"]:
            continue
        a = statistics.fmean(x for x, _ in pairs)
        g = statistics.fmean(y for _, y in pairs)
        rel = (a - g) / a if a else 0.0
        compared[code] = {"minutes": len(pairs), "analyzer_mean": round(a, 3), "logger_mean": round(g, 3),
                          "relative_deviation": round(rel, 3)}
    if not compared:
        return _result(d, SKIPPED, _("No analyzer readings over the same minutes as the logger's records "
                                     "(at least {n} minutes of the same pollutant are needed): measure longer, or "
                                     "read the logger again once its minutes are filed.").format(n=p["min_minutes"]))
    low = {c: v for c, v in compared.items() if abs(v["relative_deviation"]) > p["relative"]
           and abs(v["analyzer_mean"] - v["logger_mean"]) > p["absolute"]}
    if low:
        worst = max(low, key=lambda c: abs(low[c]["relative_deviation"]))
        w = low[worst]
        return _result(d, FIRED, _("{code}: the analyzer measured {a} on average over {n} minutes, the logger "
                                   "reported {g} ({pct:+.0%} against the analyzer).").format(
            code=_pollutant(worst), a=w["analyzer_mean"], n=w["minutes"], g=w["logger_mean"],
            pct=-w["relative_deviation"]),
            pollutants=compared, deviating=sorted(low))
    return _result(d, CLEAR, _("The logger agrees with the analyzer within {pct:.0%} over {n} minutes.").format(
        pct=p["relative"], n=max(v["minutes"] for v in compared.values())), pollutants=compared)


def check_limit(d: CheckDef, logger: LoggerData, analyzer: dict[str, dict[datetime, float]],
                limits: dict[str, float]) -> CheckResult:
    p = d.params
    if not limits:
        return _result(d, SKIPPED, _("No emission limit was given: give the permit's limit for each pollutant."))
    series = logger.minute_series()
    out: dict[str, dict[str, Any]] = {}
    for code, limit in limits.items():
        reported = {t.astimezone(LOCAL_TZ): v for t, v, _f in series.get(code, [])}
        measured = analyzer.get(code, {})
        masked = [m for m in sorted(measured) if measured[m] > limit and m in reported and reported[m] <= limit]
        values = [v for _t, v, _f in series.get(code, [])]
        near = [v for v in values if p["near_limit"] * limit <= v <= limit]
        out[code] = {"limit": limit, "minutes_compared": sum(1 for m in measured if m in reported),
                     "analyzer_minutes_over": sum(1 for v in measured.values() if v > limit),
                     "masked_minutes": len(masked), "logger_max": max(values) if values else None,
                     "logger_over": sum(1 for v in values if v > limit),
                     "share_near_limit": round(len(near) / len(values), 3) if values else None,
                     "first_masked": _local(masked[0]) if masked else None}
    fired = {c: v for c, v in out.items() if v["masked_minutes"] >= p["min_minutes"]}
    if fired:
        code = max(fired, key=lambda c: fired[c]["masked_minutes"])
        v = fired[code]
        return _result(d, FIRED, _("{code}: in {n} minutes the analyzer measured above the limit {limit} while the "
                                   "logger reported within it (its highest value {top}).").format(
            code=_pollutant(code), n=v["masked_minutes"], limit=v["limit"], top=v["logger_max"]), pollutants=out)
    if not any(analyzer.get(c) for c in limits):
        return _result(d, SKIPPED, _("No analyzer readings of the pollutants with a limit."), pollutants=out)
    if max(v["minutes_compared"] for v in out.values()) < p["min_minutes"]:
        return _result(d, SKIPPED, _("The analyzer's readings and the logger's records share fewer than {n} minutes: "
                                     "measure longer, or read the logger again once its minutes are filed.").format(
            n=p["min_minutes"]), pollutants=out)
    return _result(d, CLEAR, _("No minute with the analyzer above the limit and the logger within it."),
                   pollutants=out)


def check_flat(d: CheckDef, logger: LoggerData) -> CheckResult:
    p = d.params
    series = logger.minute_series()
    if not series:
        return _result(d, SKIPPED, _("The logger sent no minute data."))
    out: dict[str, dict[str, Any]] = {}
    for code, rows in series.items():
        best, start, run = 0, 0, 1
        for i in range(1, len(rows) + 1):
            if i < len(rows) and rows[i][1] == rows[i - 1][1] and rows[i][0] - rows[i - 1][0] == timedelta(minutes=1):
                run += 1
                continue
            if run > best:
                best, start = run, i - run
            run = 1
        repeat = _repeated_window(rows, int(p["window_minutes"]))
        out[code] = {"longest_run_minutes": best,
                     "run_from": _local(rows[start][0]) if best > 1 else None,
                     "run_to": _local(rows[start + best - 1][0]) if best > 1 else None,
                     "run_value": rows[start][1] if best > 1 else None, "repeated": repeat}
    flat = {c: v for c, v in out.items() if v["longest_run_minutes"] >= p["run_minutes"]}
    repeated = {c: v for c, v in out.items() if v["repeated"]}
    if flat:
        code = max(flat, key=lambda c: flat[c]["longest_run_minutes"])
        v = flat[code]
        return _result(d, FIRED, _("{code}: the same value {value} for {n} minutes ({start} to {end}).").format(
            code=_pollutant(code), value=v["run_value"], n=v["longest_run_minutes"], start=v["run_from"],
            end=v["run_to"]),
            pollutants=out)
    if repeated:
        code, v = next(iter(repeated.items()))
        r = v["repeated"]
        return _result(d, FIRED, _("{code}: the {n} values from {first} repeat from {second}.").format(
            code=_pollutant(code), n=p["window_minutes"], first=r["first"], second=r["second"]), pollutants=out)
    return _result(d, CLEAR, _("No value held for {n} minutes or more, no repeated stretch.").format(
        n=p["run_minutes"]), pollutants=out)


def _repeated_window(rows: list[tuple[datetime, float, str]], n: int) -> dict[str, str] | None:
    """A stretch of ``n`` values (not all equal) that appears again later: a copied record."""
    seen: dict[tuple[float, ...], int] = {}
    values = [v for _t, v, _f in rows]
    for i in range(len(values) - n + 1):
        w = tuple(values[i:i + n])
        if len(set(w)) == 1:
            continue
        j = seen.get(w)
        if j is not None and i - j >= n:
            return {"first": _local(rows[j][0]), "second": _local(rows[i][0])}
        seen.setdefault(w, i)
    return None


def check_flags(d: CheckDef, logger: LoggerData) -> CheckResult:
    from devices.hj212 import DATA_FLAGS

    p = d.params
    series = logger.minute_series()
    if not series:
        return _result(d, SKIPPED, _("The logger sent no minute data."))
    out: dict[str, dict[str, Any]] = {}
    for code, rows in series.items():
        counts: dict[str, int] = defaultdict(int)
        longest: dict[str, tuple[int, int]] = {}
        run, prev = 0, ""
        for i, (_t, _v, flag) in enumerate(rows + [(rows[-1][0], 0.0, "")]):
            if flag == prev:
                run += 1
            else:
                if prev in p["flags"] and run > longest.get(prev, (0, 0))[0]:
                    longest[prev] = (run, i - run)
                run, prev = 1, flag
            if flag in p["flags"]:
                counts[flag] += 1
        if counts:
            out[code] = {"records": len(rows), "flagged": dict(counts),
                         "share": round(sum(counts.values()) / len(rows), 3),
                         "longest": {f: {"minutes": n, "from": _local(rows[s][0]), "to": _local(rows[s + n - 1][0])}
                                     for f, (n, s) in longest.items()}}
    # a share counts over a day or more of records (a calibration's half hour is a big share of three)
    fired = {c: v for c, v in out.items() if (v["share"] >= p["share"] and v["records"] >= p["share_over_minutes"])
             or any(x["minutes"] >= p["run_minutes"] for x in v["longest"].values())}
    if fired:
        code = max(fired, key=lambda c: fired[c]["share"])
        v = fired[code]
        flag, run = max(v["longest"].items(), key=lambda kv: kv[1]["minutes"])
        return _result(d, FIRED, _("{code}: {share:.0%} of the minutes flagged; {flag} ({meaning}) for {n} minutes "
                                   "from {start}.").format(code=_pollutant(code), share=v["share"], flag=flag,
                                                           meaning=_(DATA_FLAGS.get(flag, "?")), n=run["minutes"],
                                                           start=run["from"]), pollutants=out)
    return _result(d, CLEAR, _("Flags other than N are rare and short."), pollutants=out)


def check_gaps(d: CheckDef, logger: LoggerData) -> CheckResult:
    p = d.params
    period = logger.header.get("asked_by_logger_clock") or logger.header.get("period")
    rows = logger.records.get("minute", [])
    if not period or not rows:
        return _result(d, SKIPPED, _("The logger sent no minute data."))
    begin = datetime.fromisoformat(period["begin"]).replace(second=0, microsecond=0) + timedelta(minutes=1)
    end = min(datetime.fromisoformat(period["end"]), datetime.fromisoformat(logger.header["recorded_at"])
              + timedelta(seconds=round(logger.offset))).replace(second=0, microsecond=0) - timedelta(minutes=2)
    have = sorted({datetime.fromisoformat(r["time"]) for r in rows})
    present = {t for t in have if begin <= t <= end}
    expected = int((end - begin).total_seconds() // 60) + 1 if end >= begin else 0
    missing, longest, gap_from, run, t = 0, 0, None, 0, begin
    while t <= end:
        if t in present:
            run = 0
        else:
            missing += 1
            run += 1
            if run > longest:
                longest, gap_from = run, t - timedelta(minutes=run - 1)
        t += timedelta(minutes=1)
    numbers = {"expected_minutes": expected, "present_minutes": len(present), "missing_minutes": missing,
               "longest_gap_minutes": longest, "longest_gap_from": _local(gap_from) if gap_from else None}
    if missing >= p["missing_minutes"] or longest >= p["gap_minutes"]:
        return _result(d, FIRED, _("{missing} of {expected} minutes missing; the longest gap {n} minutes from "
                                   "{start}.").format(missing=missing, expected=expected, n=longest,
                                                      start=numbers["longest_gap_from"]), **numbers)
    return _result(d, CLEAR, _("{present} of {expected} minutes present.").format(present=len(present),
                                                                                   expected=expected), **numbers)


def check_clock(d: CheckDef, logger: LoggerData) -> CheckResult:
    clock = logger.header.get("clock")
    if not clock:
        return _result(d, SKIPPED, _("The logger did not tell its time."))
    off, unc = float(clock["offset_s"]), float(clock["uncertainty_s"])
    numbers = {"offset_s": off, "uncertainty_s": unc, "logger_time": clock["logger_time"],
               "kit_time": clock["kit_time"]}
    if abs(off) - unc > d.params["seconds"]:
        return _result(d, FIRED, _("The logger's clock is {off} off the kit's (± {unc:.1f} s).").format(
            off=_duration(off), unc=unc), **numbers)
    return _result(d, CLEAR, _("The logger's clock is within {s} s of the kit's ({off:+.1f} s).").format(
        s=d.params["seconds"], off=off), **numbers)


def _duration(seconds: float) -> str:
    sign = "+" if seconds >= 0 else "−"
    s = abs(round(seconds))
    return f"{sign}{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def check_state(d: CheckDef, logger: LoggerData) -> CheckResult:
    """Hours the logger's own running state says its analyser was stopped, calibrating or in
    maintenance, while its minutes went on flagged N (valid): data it cannot have measured."""
    p = d.params
    states = logger.records.get("state", [])
    minutes = logger.records.get("minute", [])
    if not states or not minutes:
        return _result(d, SKIPPED, _("Both running state and minute data are needed."))
    by_hour: dict[datetime, list[dict[str, Any]]] = defaultdict(list)
    for r in minutes:
        by_hour[datetime.fromisoformat(r["time"]).replace(minute=0)].append(r)
    out = []
    for row in states:
        t = datetime.fromisoformat(row["time"])
        for equipment, f in row["values"].items():
            rs = f.get("RS")
            code = str(int(rs)) if isinstance(rs, (int, float)) else str(rs)
            if code not in p["states"]:
                continue
            valid = sum(1 for m in by_hour.get(t, []) if m["values"] and all(
                str(v.get("Flag") or "N") == "N" for v in m["values"].values()))
            if valid:
                out.append({"hour": _local(t), "equipment": equipment, "state": code, "valid_minutes": valid})
    numbers = {"hours_with_state": len(states), "hours": out[:24]}
    bad = [h for h in out if h["valid_minutes"] >= p["minutes"]]
    if bad:
        total = sum(h["valid_minutes"] for h in bad)
        state = _(RUNNING_STATES[bad[0]["state"]])
        return _result(d, FIRED, _("In {n} hours the logger's running state says {state}, yet it filed {total} minutes "
                                   "flagged valid (from {start}).").format(n=len(bad), state=state, total=total,
                                                                             start=bad[0]["hour"]), **numbers)
    return _result(d, CLEAR, _("The running state agrees with the data flags over {n} hours.").format(n=len(states)),
                   **numbers)


def check_aggregates(d: CheckDef, logger: LoggerData) -> CheckResult:
    p = d.params
    hours = logger.records.get("hour", [])
    minutes = logger.records.get("minute", [])
    if not hours or not minutes:
        return _result(d, SKIPPED, _("Both minute and hourly data are needed."))
    by_hour: dict[datetime, list[dict[str, Any]]] = defaultdict(list)
    for r in minutes:
        t = datetime.fromisoformat(r["time"])
        by_hour[t.replace(minute=0)].append(r)
    compared, bad = 0, []
    for h in hours:
        t = datetime.fromisoformat(h["time"])
        mins = by_hour.get(t, [])
        if len(mins) < p["min_minutes"]:
            continue
        compared += 1
        for code, f in h["values"].items():
            avgs = [m["values"][code]["Avg"] for m in mins if isinstance(m["values"].get(code, {}).get("Avg"),
                                                                       (int, float))]
            if not avgs or not isinstance(f.get("Avg"), (int, float)):
                continue
            mean = statistics.fmean(avgs)
            if mean and abs(f["Avg"] - mean) / abs(mean) > p["relative"]:
                bad.append({"hour": _local(t), "code": code, "hourly_avg": f["Avg"], "from_minutes": round(mean, 3),
                            "minutes": len(avgs)})
    numbers = {"hours_compared": compared, "mismatches": len(bad), "examples": bad[:5]}
    if compared == 0:
        return _result(d, SKIPPED, _("No hour with enough minute records to compare."), **numbers)
    if bad:
        b = bad[0]
        return _result(d, FIRED, _("{n} hourly averages differ from their minutes by more than {pct:.0%} (e.g. "
                                   "{code} at {hour}: {got} reported, {want} from the minutes).").format(
            n=len(bad), pct=p["relative"], code=_pollutant(b["code"]), hour=b["hour"], got=b["hourly_avg"],
            want=b["from_minutes"]), **numbers)
    return _result(d, CLEAR, _("{n} hours agree with their minutes.").format(n=compared), **numbers)


def run_checks(logger: LoggerData, analyzer: dict[str, dict[datetime, float]] | None = None,
               limits: dict[str, float] | None = None, defs: LoggerChecks | None = None) -> list[CheckResult]:
    defs = defs or logger_checks()
    analyzer = analyzer or {}
    return [
        check_analyzer(defs.get("analyzer"), logger, analyzer),
        check_limit(defs.get("limit"), logger, analyzer, limits or {}),
        check_flat(defs.get("flat"), logger),
        check_flags(defs.get("flags"), logger),
        check_gaps(defs.get("gaps"), logger),
        check_clock(defs.get("clock"), logger),
        check_state(defs.get("state"), logger),
        check_aggregates(defs.get("aggregates"), logger),
    ]


SYSTEMS = {"31": "废气", "32": "废水"}
RESULT_ZH = {FIRED: "异常", CLEAR: "未见异常", SKIPPED: "未比对"}


class MonitoringService:
    """The cross-check of a case: its latest logger record against its analyzer sessions, and what
    the record of it (在线监控数据比对记录) prints (issued by ``kit_app.services.crosscheck``)."""

    def __init__(self, store: Any) -> None:
        from kit_app.evidence.service import EvidenceService

        self.store = store
        self.evidence = EvidenceService(store)

    def _case_id(self, case_ref: str) -> str:
        from sqlalchemy import select

        from kit_app.db.models import Case

        with self.store.session() as s:
            case_id = s.scalar(select(Case.id).where((Case.id == case_ref) | (Case.number == case_ref)))
        if case_id is None:
            raise NotFound(_("No case with id or number {id}.").format(id=case_ref))
        return str(case_id)

    def logger_access(self, case_ref: str) -> tuple[list[str], str | None]:
        """What the base data has for reading the case's source's data loggers: their MNs, in
        order, and their password (None: not recorded)."""
        from sqlalchemy import select

        from kit_app.db.models import Case, Source

        case_id = self._case_id(case_ref)
        with self.store.session() as s:
            row = s.execute(select(Source.mn_codes, Source.logger_pw).join(Case, Case.source_id == Source.id)
                            .where(Case.id == case_id)).first()
        codes, pw = (row[0], row[1]) if row is not None else (None, None)
        return [c.strip() for c in (codes or "").replace("，", ",").split(",") if c.strip()], pw or None

    def check(self, case_ref: str, limits: dict[str, float] | None = None,
              logger_item: str | None = None, sessions: list[str] | None = None) -> dict[str, Any]:
        """Run every check on the case's (id or number) latest logger record, or ``logger_item``,
        against its analyzer sessions (``sessions``: only these, measured at the logger's point)."""
        case_id = self._case_id(case_ref)
        items = [i for i in self.evidence.list_for_case(case_id)
                 if not (i.get("disposition") or {}).get("excluded")]
        records = [i for i in items if i["media_type"] == media.LOGGER_EXCHANGE and i.get("sha256")]
        if logger_item:
            records = [i for i in records if i["id"] == logger_item]
        if not records:
            raise NotFound(_("This case has no data logger record: read the logger first."))
        known = {i["id"] for i in items if i["media_type"] == media.READINGS_SESSION}
        if sessions and (unknown := set(sessions) - known):
            raise NotFound(_("No analyzer session {ids} in this case.").format(ids=", ".join(sorted(unknown))))
        item = self.evidence.readable(records[-1])
        logger = load_exchange(item["stored_path"], item["id"])
        analyzer: dict[str, dict[datetime, float]] = {}
        used = []
        for i in items:
            if i["media_type"] != media.READINGS_SESSION or not i.get("sha256"):
                continue
            if sessions and i["id"] not in sessions:
                continue
            got = analyzer_minutes(self.evidence.readable(i)["stored_path"])
            if got:
                inst = (i.get("metadata") or {}).get("instrument") or {}
                used.append({"evidence_id": i["id"], "sha256": i["sha256"], "pollutants": sorted(got),
                                 "minutes": max(len(v) for v in got.values()), "instrument": inst})
                for code, minutes in got.items():
                    analyzer.setdefault(code, {}).update(minutes)
        defs = logger_checks()
        results = run_checks(logger, analyzer, limits, defs)
        st = str(logger.header.get("st") or "")
        suspicious = [r.id for r in results if r.status == FIRED]
        return {"case_id": case_id, "checks_version": defs.ref, "logger_evidence_id": item["id"],
                "logger_sha256": item["sha256"], "mn": logger.header.get("mn"), "st": st,
                "clock": logger.header.get("clock"), "period": logger.header.get("period"),
                "records": {k: len(v) for k, v in logger.records.items() if isinstance(v, list) and k != "clock"},
                "analyzer_sessions": used, "limits": limits or {},
                "checks": [r.as_dict() for r in results], "suspicious": suspicious,
                "violation": defs.violations.get(st) if suspicious else None,
                "comparison": _comparison(logger, analyzer, limits or {})}

    def record_values(self, res: dict[str, Any]) -> dict[str, Any]:
        """What a cross-check record's ``logger.*`` fields are filled with (in Chinese: it is printed)."""
        from devices.hj212 import POLLUTANTS
        from forms.inspection import catalogue

        clock = res.get("clock") or {}
        clock_text = None
        if clock:
            theirs = datetime.fromisoformat(clock["logger_time"]).astimezone(LOCAL_TZ)
            ours = datetime.fromisoformat(clock["kit_time"]).astimezone(LOCAL_TZ)
            clock_text = (f"数采仪 {theirs:%Y-%m-%d %H:%M:%S}，本机 {ours:%Y-%m-%d %H:%M:%S}，相差 "
                          f"{float(clock['offset_s']):+.1f} 秒（± {float(clock['uncertainty_s']):.1f} 秒）")
        sessions = res.get("analyzer_sessions") or []
        analyzer = "；".join(" ".join(x for x in (
            str(s["instrument"].get("model") or "便携式仪器"),
            f"#{s['instrument']['serial']}" if s["instrument"].get("serial") else "",
            f"（校准日期 {s['instrument']['calibrated']}）" if s["instrument"].get("calibrated") else "") if x)
            for s in sessions) or None
        limits = "；".join(f"{POLLUTANTS.get(c, (c,))[0]}（{c}）{v:g} {POLLUTANTS.get(c, ('', '', ''))[2]}".rstrip()
                          for c, v in (res.get("limits") or {}).items()) or "未给出"
        fired = [c for c in res["checks"] if c["status"] == FIRED]
        if fired:
            v = catalogue().violations.get(res.get("violation") or "")
            conclusion = f"经比对，{len(fired)}项异常（情况见上表）：" + "；".join(c["title"] for c in fired) + "。"
            if v is not None:
                conclusion += f"涉嫌{v.title}（{v.breaches}），建议依法立案调查。"
        else:
            conclusion = "经比对，未发现数采仪数据异常。"
        comparison = res.get("comparison") or []
        times = [r["time"] for r in comparison if r["series"] == "数采仪"]
        period = res.get("period") or {}
        start = min(times) if times else _form_time(period.get("begin"))
        end = max(times) if times else _form_time(period.get("end"))
        records = f"数采仪通讯记录 SHA-256 {res['logger_sha256']}" + "".join(
            f"；便携式仪器记录 SHA-256 {s['sha256']}" for s in sessions)
        return {
            "logger.mn": res.get("mn"),
            "logger.system": f"{SYSTEMS.get(res.get('st') or '', '')}（ST={res.get('st')}）",
            "logger.clock": clock_text, "logger.start": start, "logger.end": end, "logger.analyzer": analyzer,
            "logger.limits": limits, "logger.conclusion": conclusion, "logger.records": records,
            "logger.checks": [{"item": c["title"], "result": RESULT_ZH[c["status"]], "detail": c["summary"][:300],
                               "basis": c["basis"][:120]} for c in res["checks"]],
            "logger.comparison": comparison,
        }

    def record_payload_values(self, case_ref: str, limits: dict[str, float] | None = None,
                              logger_item: str | None = None, sessions: list[str] | None = None) -> dict[str, Any]:
        """The ``logger.*`` values of the case's cross-check record, the checks run in Chinese."""
        with printed():
            return self.record_values(self.check(case_ref, limits, logger_item, sessions))


def _form_time(iso: str | None) -> str | None:
    return datetime.fromisoformat(iso).astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M") if iso else None


def _comparison(logger: LoggerData, analyzer: dict[str, dict[datetime, float]],
                limits: dict[str, float]) -> list[dict[str, Any]]:
    """Minute by minute over the analyzer's minutes: its values, the logger's, and the limit."""
    from devices.hj212 import POLLUTANTS

    series = logger.minute_series()
    rows: list[dict[str, Any]] = []
    for code, minutes in analyzer.items():
        reported = {t.astimezone(LOCAL_TZ): v for t, v, _f in series.get(code, [])}
        shared = sorted(m for m in minutes if m in reported)
        if not shared:
            continue
        name, _en, unit = POLLUTANTS.get(code, (code, code, ""))
        for m in shared:
            at = m.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")
            rows.append({"time": at, "quantity": name, "series": "便携式仪器", "value": round(minutes[m], 3),
                         "unit": unit})
            rows.append({"time": at, "quantity": name, "series": "数采仪", "value": reported[m], "unit": unit})
        if code in limits:
            for m in (shared[0], shared[-1]):
                rows.append({"time": m.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M"), "quantity": name,
                             "series": "排放限值", "value": limits[code], "unit": unit})
    return rows[:2000]
