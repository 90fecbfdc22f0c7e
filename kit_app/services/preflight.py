"""The pre-flight check, before leaving for an inspection (and on demand): is this kit ready for a
day in the field? Free disk against the video the day may need, battery, the clock (against the
satellites and against the central server at the last sync), a GNSS fix, every configured
instrument answering and within its calibration date, a camera, document numbers for what may have
to be issued on the spot, what is not yet synced and for how long, and the kit's signing key.

Each check is green, amber or red, with its figures and what to do. Gathering is split so that a
window can read the database on its database lane and ask the devices on an I/O lane
(``collect`` / ``probe`` / ``assess``); ``run`` does all three in turn (the command line)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from kit_app.db import Store
from kit_app.db.models import CustodyEvent, EvidenceItem, KitMeta, SyncBlob, SyncOutbox
from kit_app.dto import OfficerInfo
from kit_app.evidence import clock as T
from kit_app.i18n import N_, _
from kit_app.power import Battery, battery
from kit_app.storage import free_bytes, human
from kit_app.timeutil import LOCAL_TZ, local_today, utcnow

GREEN, AMBER, RED = "green", "amber", "red"
LEVELS = {GREEN: N_("ready"), AMBER: N_("check"), RED: N_("not ready")}
_ORDER = {GREEN: 0, AMBER: 1, RED: 2}

VIDEO_BYTES_PER_MINUTE = 60 * 1024 * 1024  # the kit's clips (720p MPEG-4 at about 8 Mbit/s), with room
CLOCK_AMBER_S = 30.0  # a clock further off than this is worth correcting
CLOCK_RED_S = 300.0  # five minutes: times in transcripts and custody would be contestable
OFFSET_STALE = timedelta(days=7)  # an offset measured longer ago says little of the clock today
BATTERY_RED, BATTERY_AMBER = 30, 60
NUMBERS_AMBER = 3
UNSYNCED_AMBER = timedelta(days=1)
UNSYNCED_RED = timedelta(days=7)
CALIBRATION_VALID = timedelta(days=365)  # a portable instrument is calibrated (检定/校准) at least yearly
CALIBRATION_SOON = timedelta(days=30)


@dataclass(frozen=True)
class Check:
    key: str  # disk, battery, clock, gnss, instruments, camera, numbers, sync, key
    title: str
    level: str
    summary: str  # what was found, with its figures
    advice: str = ""  # what to do (empty when green)
    figures: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.key, "title": self.title, "level": self.level, "summary": self.summary,
                "advice": self.advice, "figures": self.figures}


@dataclass(frozen=True)
class Report:
    level: str
    checks: list[Check]
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "ready": self.level != RED, "at": self.at.isoformat(),
                "checks": [c.as_dict() for c in self.checks]}


@dataclass
class Facts:
    """What the database and the disk say (read on the database lane)."""

    free: int
    offset: T.Offset | None
    numbers: dict[str, tuple[str, int]]  # doc type -> (title, numbers left this year)
    enrolled: bool
    unsynced: dict[str, int]
    oldest_unsynced: datetime | None
    key_ok: bool
    key_detail: str
    devices: list[Any]  # devices.registry.DeviceConfig
    encrypted: bool = False
    recovery: str | None = None  # the recovery key's fingerprint
    unlockers: int = 0
    items: int = 0  # evidence items held


def _worst(levels: list[str]) -> str:
    return max(levels, key=_ORDER.__getitem__) if levels else GREEN


class PreflightService:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ------------------------------------------------------------ gathering
    def collect(self, officer: OfficerInfo | None = None) -> Facts:
        """Everything the database and the disk say (no device is opened)."""
        from devices.registry import DeviceConfigs
        from kit_app.services.inspections import InspectionService
        from kit_app.services.numbering import NumberingService
        from kit_app.sync.access import pending as access_pending
        from kit_app.sync.client import enrolment, status

        year = local_today().year
        numbers: dict[str, tuple[str, int]] = {}
        blocks = NumberingService(self.store).blocks()
        import forms

        titles = {d.id: d.title for d in forms.definitions().values()}
        agency = officer.agency_code if officer is not None else None
        for t in InspectionService.MAY_NEED:
            left = sum(b["left"] for b in blocks if b["type"] == t and b["year"] == year
                       and (agency is None or b["agency_code"] == agency))
            numbers[t] = (titles.get(t, t), left)
        st = status(self.store)
        unsynced = {"records": st["records"], "custody_events": st["custody_events"], "originals": st["originals"],
                    "access_events": access_pending(self.store)}
        with self.store.session() as s:
            offset = T.read_offset(s)
            acked = int((s.get(KitMeta, "sync_custody_acked") or KitMeta(value="0")).value)
            oldest: list[datetime] = []
            if (o := s.scalar(select(func.min(SyncOutbox.created_at)))) is not None:
                oldest.append(o)
            first = s.scalar(select(CustodyEvent.at).where(CustodyEvent.kit_id == self.store.kit_id,
                                                           CustodyEvent.seq == acked + 1))
            if first:
                oldest.append(datetime.fromisoformat(first))
            if st["originals"]:
                held = select(SyncBlob.sha256)
                o = s.scalar(select(func.min(EvidenceItem.imported_at)).where(
                    EvidenceItem.sha256.is_not(None), EvidenceItem.sha256.not_in(held)))
                if o is not None:
                    oldest.append(o)
            last = s.execute(select(CustodyEvent.hash, CustodyEvent.signature).where(
                CustodyEvent.kit_id == self.store.kit_id).order_by(CustodyEvent.seq.desc()).limit(1)).first()
            items = int(s.scalar(select(func.count()).select_from(EvidenceItem)) or 0)
        key_ok, key_detail = self._key(*(last or (None, None)))
        recovery, unlockers = None, 0
        if self.store.key is not None:
            from kit_app.keyring import Keyring

            ring = Keyring.load(self.store.data_dir)
            recovery, unlockers = ring.recovery(), len(ring.officers())
        return Facts(free=free_bytes(self.store.data_dir), offset=offset, numbers=numbers,
                     enrolled=enrolment(self.store) is not None, unsynced=unsynced,
                     oldest_unsynced=min(oldest) if oldest else None, key_ok=key_ok, key_detail=key_detail,
                     devices=DeviceConfigs(self.store.data_dir).load(), encrypted=self.store.key is not None,
                     recovery=recovery, unlockers=unlockers, items=items)

    def _key(self, last_hash: str | None, last_sig: str | None) -> tuple[bool, str]:
        from kit_app.evidence.keys import KEY_FILE, KitKey, verifier

        path = self.store.data_dir / KEY_FILE
        if not path.exists():
            if last_hash is not None or self.store.read_only:
                return False, _("the kit's signing key is missing ({path})").format(path=path)
            KitKey.load_or_create(self.store.data_dir)  # a new kit: its key is made now, before the first evidence
        try:
            key = KitKey.load_or_create(self.store.data_dir, persist=False)
        except (ValueError, OSError) as exc:
            return False, _("the kit's signing key cannot be read: {reason}").format(reason=exc)
        if last_hash and last_sig and not verifier(key.public_raw)(last_hash.encode("ascii"), last_sig):
            return False, _("the kit's signing key is not the one that signed its custody log")
        from kit_app.sync.trust import fingerprint

        return True, _("present (fingerprint {fp})").format(fp=fingerprint(key.public_raw))

    @staticmethod
    def probe(configs: list[Any], seconds: float = 8.0) -> list[Any]:
        """Ask each configured device whether it answers (opens its port: not while the window has
        it open)."""
        from devices.probe import probe

        return [probe(c, seconds) for c in configs]

    # ------------------------------------------------------------ judging
    def assess(self, facts: Facts, probes: list[Any], *, gnss_fix: dict[str, Any] | None = None,
               power: Callable[[], Battery | None] = battery, video_minutes: int = 120,
               today: date | None = None) -> Report:
        """The checks from what was gathered. ``probes``: one ``devices.probe.ProbeResult`` a
        configured device (or what the window's open devices say, in the same shape). ``power``:
        what reads the battery (the operating system's, by default)."""
        today = today or local_today()
        checks = [self._disk(facts.free, video_minutes), self._battery(power())]
        fix = gnss_fix or next((p.fix for p in probes if p.kind == "gps" and p.fix), None)
        checks.append(self._clock(facts.offset, fix))
        checks.append(self._gnss(fix, [p for p in probes if p.kind == "gps"]))
        by_name = {c.name: c for c in facts.devices}
        checks.append(self._instruments([p for p in probes if p.kind == "instrument"], by_name, today))
        checks.append(self._camera([p for p in probes if p.kind == "camera"]))
        checks.append(self._numbers(facts.numbers))
        checks.append(self._sync(facts))
        checks.append(self._encryption(facts))
        checks.append(Check("key", _("Signing key"), GREEN if facts.key_ok else RED, facts.key_detail,
                            "" if facts.key_ok else _("Do not collect evidence with this kit: ask the administrator "
                                                      "to restore the key from the kit's backup.")))
        return Report(_worst([c.level for c in checks]), checks, utcnow())

    def run(self, officer: OfficerInfo | None = None, *, video_minutes: int = 120, probe_seconds: float = 8.0,
            probe: Callable[[list[Any]], list[Any]] | None = None) -> Report:
        facts = self.collect(officer)
        probes = (probe or (lambda cs: self.probe(cs, probe_seconds)))(facts.devices)
        return self.assess(facts, probes, video_minutes=video_minutes)

    # ------------------------------------------------------------ the checks
    @staticmethod
    def _disk(free: int, minutes: int) -> Check:
        need = minutes * VIDEO_BYTES_PER_MINUTE
        can = int(free / VIDEO_BYTES_PER_MINUTE)
        figures = {"free_bytes": free, "video_minutes_room": can, "video_minutes_expected": minutes}
        summary = _("{free} free: room for about {can} minutes of video ({minutes} expected)").format(
            free=human(free), can=can, minutes=minutes)
        if free >= need:
            return Check("disk", _("Free disk"), GREEN, summary, figures=figures)
        level = RED if can < min(30, minutes) else AMBER
        return Check("disk", _("Free disk"), level, summary, _(
            "Move synced videos and photos off this laptop (they are kept on the central server once synced), or "
            "plan for less video."), figures)

    @staticmethod
    def _battery(bat: Battery | None) -> Check:
        if bat is None:
            return Check("battery", _("Battery"), AMBER, _("no battery reported (desktop, or not readable)"),
                         _("Check the laptop's battery yourself before leaving."))
        figures = {"percent": bat.percent, "charging": bat.charging}
        summary = _("{p}%").format(p=bat.percent) + (" · " + _("on mains power") if bat.charging else "")
        if bat.percent >= BATTERY_AMBER:
            return Check("battery", _("Battery"), GREEN, summary, figures=figures)
        level = RED if bat.percent < BATTERY_RED else AMBER
        return Check("battery", _("Battery"), level, summary, _(
            "Charge the laptop before leaving, and take the kit's power bank or car charger."), figures)

    @staticmethod
    def _clock(offset: T.Offset | None, fix: dict[str, Any] | None) -> Check:
        now = utcnow()
        figures: dict[str, Any] = {}
        parts: list[str] = []
        levels: list[str] = []
        g = T.gnss_now(fix)
        if g is not None:
            off = (g - now).total_seconds()
            figures["gnss_offset_s"] = round(off, 1)
            parts.append(_("{s:+.1f} s from GPS time").format(s=off))
            levels.append(RED if abs(off) > CLOCK_RED_S else AMBER if abs(off) > CLOCK_AMBER_S else GREEN)
        if offset is not None:
            measured = datetime.fromisoformat(offset.measured_at)
            age = now - measured
            figures |= {"server_offset_s": offset.offset_s, "server_offset_measured_at": offset.measured_at}
            parts.append(_("{s:+.1f} s from the central server on {day}").format(
                s=offset.offset_s, day=measured.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")))
            if abs(offset.offset_s) > CLOCK_RED_S:
                levels.append(RED)
            elif abs(offset.offset_s) > CLOCK_AMBER_S or (age > OFFSET_STALE and g is None):
                levels.append(AMBER)
            else:
                levels.append(GREEN)
        if not parts:
            return Check("clock", _("Clock"), AMBER, _("never compared with GPS time or the central server"), _(
                "Sync with the central server, or connect the GNSS receiver outdoors, to check the clock."), figures)
        level = _worst(levels)
        advice = ""
        if level == RED:
            advice = _("Set the laptop's clock (Windows: Settings → Time → Sync now) and check it again; until "
                       "then every time recorded is off.")
        elif level == AMBER:
            advice = _("Sync with the central server or get a GPS fix to confirm the clock.")
        return Check("clock", _("Clock"), level, "; ".join(parts), advice, figures)

    @staticmethod
    def _gnss(fix: dict[str, Any] | None, probes: list[Any]) -> Check:
        if fix is not None:
            sats = fix.get("satellites")
            summary = _("fix at {lat:.5f}, {lon:.5f}").format(lat=fix["latitude"], lon=fix["longitude"]) + (
                _(" · {n} satellites").format(n=sats) if sats else "")
            return Check("gnss", _("GPS fix"), GREEN, summary, figures={"satellites": sats})
        if not probes:
            return Check("gnss", _("GPS fix"), AMBER, _("no GNSS receiver configured"), _(
                "Connect the kit's GNSS receiver (Devices → Add device…): without it photos and readings carry no "
                "position and times are the laptop's alone."))
        answered = [p for p in probes if p.answered]
        if answered:
            return Check("gnss", _("GPS fix"), AMBER, _("the receiver answers but has no fix yet"), _(
                "Put the receiver where it sees the sky and wait a minute."))
        return Check("gnss", _("GPS fix"), RED, "; ".join(f"{p.name}: {p.detail}" for p in probes), _(
            "Check the receiver's cable and port (Devices)."))

    @staticmethod
    def _instruments(probes: list[Any], configs: dict[str, Any], today: date) -> Check:
        if not probes:
            return Check("instruments", _("Instruments"), AMBER, _("no instrument configured"), _(
                "Configure the kit's portable instruments (Devices → Add device…) if the inspection needs "
                "measurements."))
        levels, lines, advice = [], [], []
        for p in probes:
            cfg = configs.get(p.name)
            cal = getattr(cfg, "calibrated", None)
            line = f"{p.name}: {p.detail}"
            level = GREEN if p.answered else RED
            if not p.answered:
                advice.append(_("{name}: switch it on and check its cable, port and baud rate.").format(name=p.name))
            if not cal:
                level = _worst([level, AMBER])
                line += _("; no calibration date recorded")
                advice.append(_("{name}: record its calibration date (Devices).").format(name=p.name))
            else:
                try:
                    due = date.fromisoformat(cal) + CALIBRATION_VALID
                except ValueError:
                    due = None
                if due is None:
                    level = _worst([level, AMBER])
                    line += _("; calibration date {d} not understood").format(d=cal)
                elif due < today:
                    level = RED
                    line += _("; calibration expired on {d}").format(d=due.isoformat())
                    advice.append(_("{name}: its calibration has expired — readings from it can be challenged; "
                                    "use another instrument.").format(name=p.name))
                elif due - today <= CALIBRATION_SOON:
                    level = _worst([level, AMBER])
                    line += _("; calibration due on {d}").format(d=due.isoformat())
                else:
                    line += _("; calibrated {d}").format(d=cal)
            levels.append(level)
            lines.append(line)
        return Check("instruments", _("Instruments"), _worst(levels), "; ".join(lines), " ".join(advice),
                     {"configured": len(probes), "answering": sum(1 for p in probes if p.answered)})

    @staticmethod
    def _camera(probes: list[Any]) -> Check:
        if not probes:
            return Check("camera", _("Camera"), AMBER, _("no camera configured"), _(
                "Connect the kit's camera (Devices → Add device…), or take a camera whose photos you will import."))
        ok = [p for p in probes if p.answered]
        summary = "; ".join(f"{p.name}: {p.detail}" for p in probes)
        if ok:
            return Check("camera", _("Camera"), GREEN, summary)
        return Check("camera", _("Camera"), RED, summary, _("Check the camera's cable, or its address on the network."))

    @staticmethod
    def _numbers(numbers: dict[str, tuple[str, int]]) -> Check:
        parts = [_("{title}: {n} left").format(title=title, n=n) for title, n in numbers.values()]
        none = [title for title, n in numbers.values() if n == 0]
        few = [title for title, n in numbers.values() if 0 < n < NUMBERS_AMBER]
        figures = {t: n for t, (_title, n) in numbers.items()}
        if none:
            return Check("numbers", _("Document numbers"), RED, "; ".join(parts), _(
                "No number left for {titles}: they cannot be issued on the spot. Ask for a block of numbers (it "
                "comes with the next sync).").format(titles="、".join(none)), figures)
        if few:
            return Check("numbers", _("Document numbers"), AMBER, "; ".join(parts), _(
                "Few numbers left for {titles}: ask for a block before they run out.").format(titles="、".join(few)),
                figures)
        return Check("numbers", _("Document numbers"), GREEN, "; ".join(parts), figures=figures)

    @staticmethod
    def _encryption(facts: Facts) -> Check:
        figures = {"encrypted": facts.encrypted, "recovery_key": facts.recovery, "unlocked_by": facts.unlockers}
        if not facts.encrypted:
            level = RED if facts.items else AMBER
            return Check("encryption", _("Encryption"), level, _(
                "this kit's data is NOT encrypted ({n} evidence items): a stolen laptop gives it all away").format(
                n=facts.items), _("Ask the administrator to encrypt this kit's data before the laptop goes out (it "
                                  "takes about as long as copying the evidence)."), figures)
        if facts.recovery is None:
            return Check("encryption", _("Encryption"), AMBER, _(
                "encrypted; {n} officers can unlock it, but no recovery key is set").format(n=facts.unlockers), _(
                "Ask the administrator to set the agency's recovery key on this kit: without it a forgotten "
                "password would lose the evidence."), figures)
        return Check("encryption", _("Encryption"), GREEN, _(
            "encrypted; {n} officers can unlock it; recovery key {fp}").format(n=facts.unlockers, fp=facts.recovery),
            figures=figures)

    @staticmethod
    def _sync(facts: Facts) -> Check:
        u = facts.unsynced
        figures: dict[str, Any] = dict(u)
        if not facts.enrolled:
            return Check("sync", _("Sync"), AMBER, _("this kit is not enrolled with a central server"), _(
                "An administrator enrols the kit (Administration → Devices and central server)."), figures)
        if not any(u.values()):
            return Check("sync", _("Sync"), GREEN, _("everything is on the central server"), figures=figures)
        age = utcnow() - facts.oldest_unsynced if facts.oldest_unsynced else timedelta()
        figures["oldest_unsynced_hours"] = round(age.total_seconds() / 3600, 1)
        summary = _("not yet on the central server: {records} records, {events} custody events, {originals} "
                    "originals, {access} access-log entries; the oldest from {hours:.0f} hours ago").format(
            records=u["records"], events=u["custody_events"], originals=u["originals"], access=u["access_events"],
            hours=age.total_seconds() / 3600)
        level = RED if age > UNSYNCED_RED else AMBER if age > UNSYNCED_AMBER else GREEN
        advice = "" if level == GREEN else _(
            "Sync before leaving (a network cable or Wi-Fi at the office): a kit lost in the field loses what is "
            "not synced.")
        return Check("sync", _("Sync"), level, summary, advice, figures)


__all__ = ["AMBER", "GREEN", "LEVELS", "RED", "Check", "Facts", "PreflightService", "Report"]
