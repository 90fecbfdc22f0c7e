"""Evidence services: ingest files and folders, record physical items, custody actions, verify,
export. Every write of an item is one transaction with its first custody event; the original
file is in place (fsynced, read-only) before that transaction starts."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import selectinload

from kit_app import roles as R
from kit_app.db import Store, access
from kit_app.db.models import Case, CustodyEvent, CustodyHead, EvidenceItem, EvidenceOfficer, KitMeta
from kit_app.dto import OfficerInfo
from kit_app.errors import NotFound, PermissionDenied, ValidationError
from kit_app.evidence import custody as C
from kit_app.evidence import media
from kit_app.evidence.blobs import BlobStore, sha256_file
from kit_app.evidence.ingest import IngestMixin, IngestResult  # noqa: F401 - IngestResult: part of this API
from kit_app.evidence.items import NewItem, offset_minutes, record_item
from kit_app.evidence.keys import KitKey, raw_from_pem
from kit_app.evidence.thumbs import make_thumbnail, make_video_thumbnail
from kit_app.i18n import _
from kit_app.ids import new_id
from kit_app.storage import DiskFull, is_full, require_space
from kit_app.timeutil import LOCAL_TZ, utcnow

log = logging.getLogger(__name__)

# what an officer may do about an item's warnings (see EvidenceService.dispose)
DISPOSITIONS = ("explained", "kept", "excluded", "included")


@dataclass
class VerifyReport:
    ok: bool
    files_checked: int
    events_checked: int
    problems: list[C.Problem]
    checkpoint_saved: bool = False  # a read-only store keeps the checkpoint it had
    countersigned: dict[str, Any] | None = None  # the latest head the central server countersigned

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "files_checked": self.files_checked, "events_checked": self.events_checked,
                "problems": [p.as_dict() for p in self.problems], "checkpoint_saved": self.checkpoint_saved,
                "countersigned": self.countersigned}


class EvidenceService(IngestMixin):
    def __init__(self, store: Store) -> None:
        self.store = store
        self.blobs = BlobStore(store.data_dir, store.key)
        self.key = KitKey.load_or_create(store.data_dir, persist=not store.read_only)
        self.log = C.CustodyLog(store.kit_id, self.key)
        self.log.gnss = lambda: store.gnss() if store.gnss is not None else None

    def scratch_dir(self) -> Path:
        """Where a capture (a still, a clip) is written before it is stored as an original: on the
        store's own file system, so storing it is a rename."""
        return self.blobs.scratch()

    def require_space(self, needed: int) -> None:
        """Refuse (DiskFull) what the store's disk visibly cannot hold, keeping the reserve."""
        require_space(self.blobs.root, needed)

    def thumb_path(self, sha256: str) -> Path:
        return self.blobs.thumb_path(sha256)

    # ------------------------------------------------------------ recovery
    def recover(self) -> dict[str, int]:
        """Remove what an interrupted ingest left behind (run at start-up)."""
        with self.blobs.writing():
            with self.store.session() as s:
                referenced = {r for r in s.scalars(select(EvidenceItem.sha256)) if r is not None}
            return self.blobs.recover(referenced)

    # ------------------------------------------------------------ ingest
    BATCH_FILES = 32
    BATCH_SECONDS = 1.0


    def add_readings(
        self,
        case_id: str,
        officer: OfficerInfo,
        readings: list[dict[str, Any]],
        *,
        instrument: dict[str, Any],
        protocol: str,
        port: str,
        gps: dict[str, Any] | None = None,
        description: str | None = None,
        others: Iterable[OfficerInfo] = (),
    ) -> IngestResult:
        """Record a measurement session as one evidence item (``others``: more officers on duty).

        The original is a JSON Lines file written by the kit: a header (instrument model, serial
        number, calibration date, protocol, port, GPS fix) then one line per message received —
        the raw bytes verbatim (hex), the receive time and the decoded values, valid or not. It is
        stored, hashed and put in custody like any other original.
        """
        R.require(officer, "evidence.collect")
        if not readings:
            raise ValidationError(_("There are no readings to record."), "readings")
        case = self._case(case_id, collecting=True)
        now = utcnow()
        header = {"type": "session", "format": 1, "protocol": protocol, "port": port,
                  "instrument": instrument, "gps": gps, "recorded_at": now.isoformat(),
                  "officer": C.actor(officer), "count": len(readings)}
        tmp = self.blobs.scratch() / f"readings-{new_id()}.jsonl"
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(json.dumps(header, ensure_ascii=False) + "\n")
            for r in readings:
                fh.write(json.dumps({"type": "reading"} | r, ensure_ascii=False, default=str) + "\n")
        try:
            valid = [r for r in readings if r.get("valid")]
            times = [r["received_at"] for r in readings if r.get("received_at")]
            first: str | None = min(times) if times else None
            summary = {"messages": len(readings), "valid": len(valid), "invalid": len(readings) - len(valid),
                       "first": first, "last": max(times) if times else None}
            warnings = []
            if summary["invalid"]:
                warnings.append(_("{n} messages were damaged (kept raw in the record)").format(n=summary["invalid"]))
            if not instrument.get("calibrated"):
                warnings.append(_("the instrument's calibration date was not given"))
            name = f"{instrument.get('model') or protocol}-{now.astimezone(LOCAL_TZ).strftime('%Y%m%d-%H%M%S')}.jsonl"
            device = " ".join(str(x) for x in (instrument.get("model"), instrument.get("serial") and
                                                f"#{instrument['serial']}") if x) or None
            return self._add_generated(
                case, [officer, *[o for o in others if o.id != officer.id]], tmp, kind=media.READING,
                media_type=media.READINGS_SESSION, name=name,
                captured_at=datetime.fromisoformat(first) if first else now, gps=gps,
                device=device, description=description, warnings=warnings, now=now,
                metadata={"readings": summary, "instrument": instrument, "protocol": protocol, "port": port},
                details={"protocol": protocol, "port": port, "messages": len(readings)})
        finally:
            tmp.unlink(missing_ok=True)

    def add_logger_exchange(
        self,
        case_id: str,
        officer: OfficerInfo,
        entries: list[dict[str, Any]],
        summary: dict[str, Any],
        *,
        endpoint: str,
        baud: int | None,
        period: tuple[datetime, datetime],
        gps: dict[str, Any] | None = None,
        description: str | None = None,
        others: Iterable[OfficerInfo] = (),
    ) -> IngestResult:
        """Record a conversation with an enterprise's data logger as one evidence item.

        The original is a JSON Lines file: a header (where and how the logger was reached, its MN,
        its clock against the kit's, what each request ended with, the officers present) then every
        transmission both ways in order — ``{"type": "tx"|"rx", "at": UTC, "hex": bytes}`` — verbatim.
        What the logger reported is decoded from those bytes (``devices.logger.decode``)."""
        R.require(officer, "evidence.collect")
        if not any(e.get("type") == "rx" for e in entries):
            raise ValidationError(_("The logger sent nothing: there is nothing to record."), "exchange")
        case = self._case(case_id, collecting=True)
        now = utcnow()
        present = [officer, *[o for o in others if o.id != officer.id]]
        header = {"type": "logger-exchange", "format": 1, "protocol": "hj212", "endpoint": endpoint, "baud": baud,
                  "mn": summary.get("mn"), "st": summary.get("st"), "clock": summary.get("clock"),
                  "period": {"begin": period[0].isoformat(), "end": period[1].isoformat()},
                  "asked_by_logger_clock": summary.get("asked_by_logger_clock"),
                  "requests": summary.get("requests"), "error": summary.get("error"),
                  "recorded_at": now.isoformat(), "officers": [C.actor(o) for o in present], "gps": gps}
        tmp = self.blobs.scratch() / f"logger-{new_id()}.jsonl"
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(json.dumps(header, ensure_ascii=False) + "\n")
            for e in entries:
                fh.write(json.dumps({"type": e["type"], "at": e["at"], "hex": e["hex"]}) + "\n")
        try:
            warnings = []
            if summary.get("error"):
                warnings.append(_("the reading ended early: {error}").format(error=summary["error"]))
            if summary.get("damaged"):
                warnings.append(_("{n} packets from the logger were damaged (kept raw in the record)").format(
                    n=summary["damaged"]))
            first = min(e["at"] for e in entries)
            mn = summary.get("mn") or "MN"
            name = f"数采仪-{mn}-{now.astimezone(LOCAL_TZ).strftime('%Y%m%d-%H%M%S')}.jsonl"
            logger = {k: summary.get(k) for k in ("mn", "st", "clock", "requests", "error", "damaged",
                                                  "bytes_sent", "bytes_received")}
            return self._add_generated(
                case, present, tmp, kind=media.READING, media_type=media.LOGGER_EXCHANGE, name=name,
                captured_at=datetime.fromisoformat(first), gps=gps, device=_("data logger {mn}").format(mn=mn),
                description=description or _("Data logger {mn}: its records read on site").format(mn=mn),
                warnings=warnings, now=now,
                metadata={"logger": logger, "endpoint": endpoint, "baud": baud,
                          "period": header["period"]},
                details={"protocol": "hj212", "port": endpoint, "mn": mn,
                         "clock_offset_s": (summary.get("clock") or {}).get("offset_s")})
        finally:
            tmp.unlink(missing_ok=True)

    def add_capture(
        self,
        case_id: str,
        officers: list[OfficerInfo],
        path: Path,
        *,
        kind: str,
        captured_at: datetime,
        device: str,
        gps: dict[str, Any] | None,
        capture: dict[str, Any] | None = None,
        description: str | None = None,
        warnings: list[str] | None = None,
    ) -> IngestResult:
        """Take a still or clip the kit captured itself (the file at ``path``, which is moved in).

        One custody event ``collected`` names every officer on duty, the device and the GPS fix.
        """
        if not officers:
            raise ValidationError(_("No officer is on duty for this capture."), "officers")
        R.require(officers[0], "evidence.collect")
        if kind not in (media.PHOTO, media.VIDEO):
            raise ValidationError(_("A capture is a photo or a video."), "kind")
        case = self._case(case_id, collecting=True)
        now = utcnow()
        with path.open("rb") as fh:
            head = fh.read(64)
        sniffed = media.sniff(path, head)
        media_type = sniffed[0] if sniffed else ("image/jpeg" if kind == media.PHOTO else "video/x-msvideo")
        local = captured_at.astimezone(LOCAL_TZ)
        name = f"{'IMG' if kind == media.PHOTO else 'VID'}-{local.strftime('%Y%m%d-%H%M%S')}{path.suffix.lower()}"
        try:
            return self._add_generated(
                case, officers, path, kind=kind, media_type=media_type, name=name, captured_at=captured_at,
                gps=gps, device=device, description=description, warnings=list(warnings or []), now=now,
                metadata={"capture": capture or {}}, details={"capture": capture or {}, "original_name": name})
        finally:
            path.unlink(missing_ok=True)

    def _add_generated(self, case: dict[str, Any], officers: list[OfficerInfo], tmp: Path, *, kind: str,
                       media_type: str, name: str, captured_at: datetime, gps: dict[str, Any] | None,
                       device: str | None, description: str | None, warnings: list[str], now: datetime,
                       metadata: dict[str, Any], details: dict[str, Any]) -> IngestResult:
        """An original the kit made (readings, captures): stored, then one item and its first event."""
        self.store.require_writable()
        has_fix = bool(gps and gps.get("fix") and gps.get("latitude") is not None)
        if not has_fix:
            warnings.append(_("no GPS fix: the place of the measurement is not recorded") if kind == media.READING
                            else _("no GPS fix: the place of the capture is not recorded"))
        with self.blobs.writing():
            try:
                sha, size, new = self.blobs.put(tmp)
            except DiskFull:  # previews give way to an original
                if not self.blobs.clear_derived():
                    raise
                sha, size, new = self.blobs.put(tmp)
            def commit() -> IngestResult:
                return self._commit_generated(case, officers, sha, size, kind=kind, media_type=media_type, name=name,
                                              captured_at=captured_at, gps=gps, has_fix=has_fix, device=device,
                                              description=description, warnings=warnings, now=now,
                                              metadata=metadata, details=details)

            try:
                try:
                    return commit()
                except OperationalError as exc:
                    if not is_full(exc) or not self.blobs.release_ballast():
                        raise
                    return commit()  # with the ballast's room
            except OperationalError as exc:
                if new:  # the row could not be written: the original goes with it
                    self.blobs.remove_new(sha)
                if is_full(exc):
                    raise DiskFull(self.blobs.root) from exc
                raise

    def _commit_generated(self, case: dict[str, Any], officers: list[OfficerInfo], sha: str, size: int, *,
                          kind: str, media_type: str, name: str, captured_at: datetime, gps: dict[str, Any] | None,
                          has_fix: bool, device: str | None, description: str | None, warnings: list[str],
                          now: datetime, metadata: dict[str, Any], details: dict[str, Any]) -> IngestResult:
        if kind in (media.PHOTO, media.VIDEO):
            target = self.blobs.thumb_target(sha)
            why = (make_thumbnail(self.blobs.source(sha), target) if kind == media.PHOTO
                   else make_video_thumbnail(self.blobs.plain(sha), target))
            self.blobs.drop_plain(sha)
            if why:
                warnings.append(why)
            elif target != self.blobs.thumb_path(sha):
                self.blobs.store_thumb(sha, target)
        self.blobs.sync()
        fix = gps if has_fix and gps else {}
        new = NewItem(case_id=case["id"], kind=kind, name=name, size=size, sha256=sha, media_type=media_type,
                      captured_at=captured_at, captured_offset_min=offset_minutes(captured_at), captured_clock="kit",
                      latitude=fix.get("latitude"), longitude=fix.get("longitude"), altitude=fix.get("altitude"),
                      device=device, description=description, metadata=metadata | {"gps": gps}, warnings=warnings)
        place = {k: fix.get(k) for k in ("latitude", "longitude", "altitude", "satellites", "hdop")} if fix else None
        with self.store.write_session() as s:
            new.name = _unique_name(s, case["id"], name)
            details = details | {"original_name": new.name} if "original_name" in details else details
            item = record_item(s, self.log, self.store.kit_id, new, officers, event=C.COLLECTED, at=now,
                               details=details, place=place)
            self.log.flush_checkpoint(s)
            return IngestResult(new.name, "ok", item.id, sha, warnings)

    def add_physical(self, case_id: str, officer: OfficerInfo, *, seal_no: str, description: str,
                     place: str | None = None) -> str:
        R.require(officer, "evidence.collect")
        if not seal_no.strip():
            raise ValidationError(_("The seal number (封条编号) is missing."), "seal")
        if not description.strip():
            raise ValidationError(_("Describe the item (what it is, quantity, container)."), "description")
        case = self._case(case_id, collecting=True)
        now = utcnow()
        with self.store.write_session() as s:
            item = EvidenceItem(case_id=case["id"], kind=media.PHYSICAL, seal_no=seal_no.strip(),
                                description=description.strip(), place=place, imported_at=now,
                                created_at=now, updated_at=now, origin_kit=self.store.kit_id)
            item.officers.append(EvidenceOfficer(officer_id=officer.id, position=0))
            s.add(item)
            s.flush()
            self.log.append(s, evidence_id=item.id, case_id=case["id"], kind=C.COLLECTED,
                            actors=[C.actor(officer)], item_sha256=None, place={"text": place} if place else None,
                            details={"seal_no": seal_no.strip(), "description": description.strip()}, at=now)
            self.log.append(s, evidence_id=item.id, case_id=case["id"], kind=C.SEALED,
                            actors=[C.actor(officer)], item_sha256=None, details={"seal_no": seal_no.strip()},
                            at=now)
            self.log.flush_checkpoint(s)
            return item.id

    def record(self, evidence_id: str, kind: str, actor: OfficerInfo | None, *, reason: str = "",
               others: list[OfficerInfo] = (), details: dict[str, Any] | None = None,  # type: ignore[assignment]
               place: str | None = None) -> dict[str, Any]:
        """Append a custody event (transfer, seal, annotate, correct…) for an item."""
        if kind not in C.KINDS:
            raise ValidationError(_("Unknown custody event {kind}.").format(kind=kind), "kind")
        if kind in (C.TRANSFERRED, C.CORRECTED, C.ANNOTATED) and not reason.strip():
            raise ValidationError(_("A reason is required for this custody event."), "reason")
        with self.store.write_session() as s:
            item = s.get(EvidenceItem, evidence_id)
            if item is None:
                raise NotFound(_("No evidence item with id {id}.").format(id=evidence_id))
            if kind == C.CORRECTED:
                ref = (details or {}).get("corrects")
                target = s.scalar(select(CustodyEvent).where(CustodyEvent.id == ref)) if ref else None
                if target is None or target.evidence_id != item.id:
                    raise ValidationError(
                        _("A correction names the event it corrects: {ref} is not an event of this item.").format(
                            ref=ref), "event")
            actors = ([C.actor(actor)] if actor else []) + [C.actor(o) for o in others]
            ev = self.log.append(s, evidence_id=item.id, case_id=item.case_id, kind=kind, actors=actors,
                                 item_sha256=item.sha256, reason=reason.strip(),
                                 place={"text": place} if place else None, details=details)
            self.log.flush_checkpoint(s)
            body: dict[str, Any] = json.loads(ev.body)
            return body

    def transfer(self, evidence_id: str, from_officer: OfficerInfo, to_officer: OfficerInfo, reason: str,
                 actor: OfficerInfo | None = None) -> dict[str, Any]:
        if from_officer.id == to_officer.id:
            raise ValidationError(_("Custody is transferred between two different people."), "to")
        return self.record(evidence_id, C.TRANSFERRED, actor or from_officer, reason=reason,
                           others=[to_officer] if (actor or from_officer).id != to_officer.id else [],
                           details={"from": C.actor(from_officer), "to": C.actor(to_officer)})

    # ------------------------------------------------------------ captions and warnings
    def set_caption(self, evidence_id: str, officer: OfficerInfo, caption: str) -> dict[str, Any]:
        """Say what an item shows (the photo sheet prints it). The change is an annotated custody
        event naming the caption before and after."""
        R.require(officer, "evidence.collect")
        caption = " ".join(caption.split())
        if len(caption) > 200:
            raise ValidationError(_("The caption is too long: at most 200 characters."), "caption")
        with self.store.write_session() as s:
            item = self._item(s, evidence_id)
            before = item.description or ""
            if caption == before:
                return self._item_dict(item)
            item.description = caption or None
            item.row_version += 1
            self.log.append(s, evidence_id=item.id, case_id=item.case_id, kind=C.ANNOTATED,
                            actors=[C.actor(officer)], item_sha256=item.sha256, reason=caption,
                            details={"caption": caption, "previous": before})
            self.log.flush_checkpoint(s)
            return self._item_dict(item)

    def dispose(self, evidence_id: str, officer: OfficerInfo, action: str, note: str = "") -> dict[str, Any]:
        """What the officer does about an item's warnings, appended to its custody (the item is never
        deleted): ``explained`` (a note says why the warning does not matter), ``kept`` (seen, kept as
        it is), ``excluded`` (not used as evidence of the case, with the reason; kept in custody) or
        ``included`` (an exclusion withdrawn, with the reason)."""
        R.require(officer, "evidence.collect")
        if action not in DISPOSITIONS:
            raise ValidationError(_("Unknown action {action}.").format(action=action), "action")
        note = note.strip()
        if action != "kept" and not note:
            raise ValidationError({"explained": _("Write the explanation."),
                                   "excluded": _("Say why the item is excluded."),
                                   "included": _("Say why the item is used as evidence again.")}[action], "note")
        with self.store.write_session() as s:
            item = self._item(s, evidence_id)
            warnings = json.loads(item.warnings_json)
            state = self._dispositions(s, item.case_id).get(item.id)
            excluded = state is not None and state["excluded"]
            if action in ("explained", "kept") and not warnings:
                raise ValidationError(_("This item has no warnings."), "action")
            if action == "excluded" and excluded:
                raise ValidationError(_("This item is already excluded."), "action")
            if action == "included" and not excluded:
                raise ValidationError(_("This item is not excluded."), "action")
            self.log.append(s, evidence_id=item.id, case_id=item.case_id, kind=C.ANNOTATED,
                            actors=[C.actor(officer)], item_sha256=item.sha256, reason=note,
                            details={"disposition": action, "warnings": warnings})
            self.log.flush_checkpoint(s)
            return self._item_dict(item) | {"disposition": self._dispositions(s, item.case_id).get(item.id)}

    @staticmethod
    def _item(s: Any, evidence_id: str) -> EvidenceItem:
        """The item, to change what is said of it — refused once its case is archived (frozen)."""
        from forms.procedure import case_procedure

        item = s.get(EvidenceItem, evidence_id)
        if item is None:
            raise NotFound(_("No evidence item with id {id}.").format(id=evidence_id))
        case = s.get(Case, item.case_id)
        state = case_procedure().states.get(case.status) if case is not None else None
        if state is not None and state.final:
            raise PermissionDenied(_("Case {number} is archived: its file is closed and nothing in it can be "
                                     "changed.").format(number=case.number))
        return item  # type: ignore[no-any-return]

    @staticmethod
    def _dispositions(s: Any, case_id: str) -> dict[str, dict[str, Any]]:
        """Each item's state as its custody says: the last action taken on its warnings (with the
        note, who and when) and whether it is excluded from the case's evidence."""
        out: dict[str, dict[str, Any]] = {}
        rows = s.execute(select(CustodyEvent.evidence_id, CustodyEvent.body).where(
            CustodyEvent.case_id == case_id, CustodyEvent.kind == C.ANNOTATED).order_by(CustodyEvent.seq))
        for eid, raw in rows:
            body = json.loads(raw)
            action = (body.get("details") or {}).get("disposition")
            if action not in DISPOSITIONS:
                continue
            out[eid] = {"action": action, "note": body.get("reason") or "", "at": body.get("at"),
                        "by": "、".join(a.get("name", "") for a in body.get("actors") or []),
                        "excluded": action == "excluded"}
        return out

    # ------------------------------------------------------------ read
    def show(self, evidence_id: str) -> dict[str, Any]:
        with self.store.session() as s:
            item = s.scalar(select(EvidenceItem).options(
                selectinload(EvidenceItem.officers).selectinload(EvidenceOfficer.officer))
                .where(EvidenceItem.id == evidence_id))
            if item is None:
                raise NotFound(_("No evidence item with id {id}.").format(id=evidence_id))
            events = s.scalars(select(CustodyEvent).where(CustodyEvent.evidence_id == evidence_id)
                               .order_by(CustodyEvent.seq)).all()
            return self._item_dict(item) | {
                "custody": [json.loads(e.body) | {"hash": e.hash, "signature": e.signature} for e in events],
                "disposition": self._dispositions(s, item.case_id).get(item.id),
            }

    def readable(self, item: dict[str, Any]) -> dict[str, Any]:
        """The item with ``stored_path`` a file holding its original's plaintext (a decrypted copy
        in an encrypted data dir), for what reads files: pictures, recordings, the viewer."""
        if not item.get("sha256"):
            return item
        return item | {"stored_path": str(self.blobs.plain(item["sha256"]))}

    def _item_dict(self, item: EvidenceItem) -> dict[str, Any]:
        return {
            "id": item.id, "case_id": item.case_id, "kind": item.kind, "original_name": item.original_name,
            "size": item.size, "sha256": item.sha256, "media_type": item.media_type,
            "captured_at": item.captured_at.isoformat() if item.captured_at else None,
            "captured_offset_min": item.captured_offset_min, "captured_clock": item.captured_clock,
            "latitude": item.latitude, "longitude": item.longitude, "altitude": item.altitude,
            "place": item.place, "device": item.device, "description": item.description,
            "seal_no": item.seal_no,
            "officers": [{"id": eo.officer.id, "name": eo.officer.name, "cert_no": eo.officer.cert_no}
                         for eo in item.officers],
            "metadata": json.loads(item.metadata_json), "warnings": json.loads(item.warnings_json),
            "stored_path": str(self.blobs.path_for(item.sha256)) if item.sha256 else None,
            "imported_at": item.imported_at.isoformat(),
        }

    def list_for_case(self, case_id: str) -> list[dict[str, Any]]:
        with self.store.session() as s:
            items = s.scalars(select(EvidenceItem).options(
                selectinload(EvidenceItem.officers).selectinload(EvidenceOfficer.officer))
                .where(EvidenceItem.case_id == case_id).order_by(EvidenceItem.imported_at)).all()
            states = self._dispositions(s, case_id)
            return [self._item_dict(i) | {"disposition": states.get(i.id)} for i in items]

    # ------------------------------------------------------------ verify and export
    def verify(self, case_id: str | None = None,
               progress: Callable[[str, int, int], None] | None = None,
               all_signatures: bool = True) -> VerifyReport:
        problems: list[C.Problem] = []
        with self.store.session() as s:
            q = select(EvidenceItem.id, EvidenceItem.sha256).where(EvidenceItem.sha256.is_not(None))
            if case_id:
                q = q.where(EvidenceItem.case_id == self._case(case_id)["id"])
            items = s.execute(q).all()
        for i, (eid, sha) in enumerate(items):
            state = self.blobs.check(sha or "")
            if state == "missing":
                problems.append(C.Problem("file_missing", _("the stored original is missing"), eid))
            elif state == "modified":
                problems.append(C.Problem("file_modified", _("the stored original no longer matches its SHA-256"), eid))
            if progress:
                progress("files", i + 1, len(items))
        with self.store.session() as s:
            head = self.log.head(s) if s.get(KitMeta, C.HEAD_KEY) else None
            total = s.scalar(select(func.count()).select_from(CustodyEvent)
                             .where(CustodyEvent.kit_id == self.store.kit_id)) or 0
            trusted = self._checkpoint(s)
            res = C.verify_chain(lambda: C.stream_events(s, self.store.kit_id), self.key.public_raw, head,
                                 progress=(lambda k: progress("events", k, total)) if progress else None,
                                 all_signatures=all_signatures, expected=total, trusted=trusted)
            head_problems, countersigned = self.countersigned_heads(s)
        n, chain = res.events, res.problems + head_problems
        saved = False
        if all_signatures and not chain and n and not self.store.read_only:
            self._save_checkpoint(res)
            saved = True
        if case_id:
            cid = self._case(case_id)["id"]
            with self.store.session() as s:
                case_events = {r for r in s.scalars(select(CustodyEvent.id).where(CustodyEvent.case_id == cid))}
            chain = [p for p in chain if p.event is None or p.event in case_events or p.kind == "event_removed"]
        problems.extend(chain)
        return VerifyReport(not problems, len(items), n, problems, saved, countersigned)

    def countersigned_heads(self, s: Any) -> tuple[list[C.Problem], dict[str, Any] | None]:
        """The heads the central server countersigned, checked against the chain as it is now."""
        heads = [(h.seq, h.hash, h.body, h.signature) for h in s.scalars(select(CustodyHead))]
        if not heads:
            return [], None
        server = s.get(KitMeta, "central_server_key")
        kit = self.store.kit_id

        def hash_at(seq: int) -> str | None:
            got: str | None = s.scalar(select(CustodyEvent.hash).where(CustodyEvent.kit_id == kit,
                                                                       CustodyEvent.seq == seq))
            return got

        return C.check_heads(heads, raw_from_pem(server.value if server else None), hash_at)

    def _checkpoint(self, s: Any) -> tuple[int, str, str] | None:
        return C.read_checkpoint(s, self.key.public_raw)

    def _save_checkpoint(self, res: C.ChainResult) -> None:
        with self.store.session() as s:
            C.write_checkpoint(s, self.key, res.last_seq, res.last_hash, res.signatures_digest)

    def export_case(self, case_id: str, out: Path, officer: OfficerInfo | None = None) -> int:
        """Write the case's custody events as JSON Lines, with the kit's public key (recorded in
        the access log)."""
        cid = self._case(case_id)["id"]
        with self.store.session() as s:
            events = s.scalars(select(CustodyEvent).where(CustodyEvent.case_id == cid).order_by(CustodyEvent.seq)).all()
        tmp = out.with_name(out.name + ".part")
        with tmp.open("w", encoding="utf-8") as fh:
            header = {"type": "header", "format": C.FORMAT, "kit_id": self.store.kit_id, "case_id": cid,
                      "algorithm": "Ed25519", "public_key": self.key.public_b64, "hash": "SHA-256",
                      "exported_at": utcnow().isoformat(), "events": len(events)}
            fh.write(json.dumps(header, ensure_ascii=False) + "\n")
            for e in events:
                fh.write(json.dumps({"type": "event", "body": e.body, "hash": e.hash,
                                     "signature": e.signature}, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
        if not self.store.read_only:
            with self.store.write_session() as s:
                access.add(s, self.store.kit_id, officer, "custody.export", target=out.name, case_id=cid,
                           details={"events": len(events)})
        return len(events)


__all__ = ["EvidenceService", "IngestResult", "VerifyReport", "sha256_file"]


def _unique_name(s: Any, case_id: str, name: str) -> str:
    """``name``, or — when the case has an item by that name already (two photos in one second) —
    ``stem-2.ext``, ``stem-3.ext``…: every capture keeps a name of its own."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    taken = set(s.scalars(select(EvidenceItem.original_name).where(
        EvidenceItem.case_id == case_id, EvidenceItem.original_name.like(f"{stem}%"))))
    k, candidate = 1, name
    while candidate in taken:
        k += 1
        candidate = f"{stem}-{k}{dot}{ext}"
    return candidate
