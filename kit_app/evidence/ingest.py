"""Importing files as evidence: a batch of originals stored whole, examined (type, EXIF, warnings)
and recorded with their custody events; a full disk or a failing source stops only what it must."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from forms.procedure import case_procedure
from kit_app import roles as R
from kit_app.db import Store
from kit_app.db.models import Case, EvidenceItem, Source
from kit_app.dto import OfficerInfo
from kit_app.errors import KitError, NotFound, PermissionDenied
from kit_app.evidence import custody as C
from kit_app.evidence import media
from kit_app.evidence.blobs import BlobStore
from kit_app.evidence.exif import distance_m, read_photo
from kit_app.evidence.items import NewItem, record_item
from kit_app.evidence.thumbs import make_thumbnail, make_video_thumbnail
from kit_app.i18n import _, language
from kit_app.storage import RESERVE, DiskFull, free_bytes, is_full, require_space
from kit_app.timeutil import format_local, utcnow

# warning thresholds (settings later)
GPS_DISTANCE_M = 2000.0


log = logging.getLogger("kit_app.evidence.service")  # one logger for the evidence service

CLOCK_SKEW = timedelta(minutes=10)


WINDOW_BEFORE_CASE = timedelta(days=30)


@dataclass
class IngestResult:
    path: str
    status: str  # ok | duplicate | error | skipped (a hidden entry of a folder, listed, not imported)
    evidence_id: str | None = None
    sha256: str | None = None
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    disk_full: bool = False  # not imported because the disk was full
    space_needed: int | None = None  # then: the free space all files not imported need (with the reserve)

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"path": self.path, "evidence_id": self.evidence_id, "sha256": self.sha256,
             "status": self.status, "warnings": self.warnings}
        if self.error:
            d["error"] = self.error
        if self.disk_full:
            d["disk_full"] = True
            d["space_needed"] = self.space_needed
        return d


@dataclass
class _Pending:
    """A file stored and examined, waiting for its batch to be committed."""

    path: Path
    sha: str
    size: int
    media_type: str
    kind: str
    device: str | None
    description: str | None
    index: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    captured_at: Any = None
    offset: int | None = None
    clock: str | None = None
    lat: float | None = None
    lon: float | None = None
    alt: float | None = None
    thumb: Future[str | None] | None = None
    new: bool = False  # stored by this import (not held already)


def walk(paths: Iterable[Path], skipped: list[Path] | None = None) -> Iterable[Path]:
    """Files named, and the files of folders named (recursively, sorted). Hidden entries of a folder
    (a camera's or an operating system's: ``.thumbnails``, ``.DS_Store``) are not imported; each one
    is listed in ``skipped`` so the officer is told."""
    for p in paths:
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                for d in sorted(d for d in dirs if d.startswith(".")):
                    if skipped is not None:
                        skipped.append(Path(root) / d)
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for f in sorted(files):
                    if not f.startswith("."):
                        yield Path(root) / f
                    elif skipped is not None:
                        skipped.append(Path(root) / f)
        else:
            yield p


class IngestMixin:
    """The import half of EvidenceService (its store, blobs, custody log and case lookup)."""

    store: Store
    blobs: BlobStore
    log: C.CustodyLog
    BATCH_FILES: int
    BATCH_SECONDS: float

    def _thumbnail(self, sha: str, kind: str, media_type: str | None) -> str | None:
        """Make (and, in an encrypted data dir, seal) an original's thumbnail; None or why not."""
        target = self.blobs.thumb_target(sha)
        try:
            why = (make_thumbnail(self.blobs.source(sha), target, media_type) if kind == media.PHOTO
                   else make_video_thumbnail(self.blobs.plain(sha), target))
        finally:
            self.blobs.drop_plain(sha)
        if why is None and target != self.blobs.thumb_path(sha):
            self.blobs.store_thumb(sha, target)
        return why

    def _case(self, case_id: str, collecting: bool = False) -> dict[str, Any]:
        """The case (id or number); with ``collecting``, refused once its procedure no longer
        gathers evidence (decided, served, closed, archived…)."""
        with self.store.session() as s:
            c = s.scalar(select(Case).where((Case.id == case_id) | (Case.number == case_id)))
            if c is None:
                raise NotFound(_("No case with id or number {id}.").format(id=case_id))
            procedure = case_procedure()
            if collecting and not procedure.accepts_evidence(c.status):
                state = procedure.states.get(c.status)
                raise PermissionDenied(_("Case {number} is at {state}: evidence is no longer collected for it.").format(
                    number=c.number, state=(state.label if language() == "zh_CN" else state.label_en) if state
                    else c.status))
            lon = lat = None
            if c.source_id:
                src = s.scalar(select(Source).where(Source.id == c.source_id))
                if src is not None:
                    lon, lat = src.longitude, src.latitude
            return {"id": c.id, "opened_at": c.opened_at, "lon": lon, "lat": lat, "number": c.number}


    # ------------------------------------------------------------ physical items and custody actions

    def ingest(
        self,
        case_id: str,
        officer: OfficerInfo,
        paths: Iterable[Path],
        *,
        device: str | None = None,
        description: str | None = None,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        thumbnails: bool = True,
    ) -> list[IngestResult]:
        """Ingest files and folders; one result per file, in order.

        Each original is stored (fsynced, read-only) first; items and their custody events are
        then committed in small batches, so a crash leaves each item fully in or not at all (an
        original without its row is removed by ``recover``). Thumbnails are made on two worker
        threads while the next files are copied and hashed.
        """
        R.require(officer, "evidence.collect")
        self.store.require_writable()
        case = self._case(case_id, collecting=True)
        hidden: list[Path] = []
        files = list(walk(paths, hidden))
        require_space(self.blobs.root, sum(_size(f) for f in files))  # refused before it starts
        results: dict[int, IngestResult] = {}
        pending: list[_Pending] = []
        pending_shas: dict[str, int] = {}
        pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kit-thumb") if thumbnails else None
        last_flush = time.monotonic()
        full: DiskFull | None = None

        def flush() -> None:
            nonlocal last_flush, full
            if pending:
                try:
                    if self._commit_with_room(case, officer, pending, results):
                        # the ballast's room is the database's: no further original takes it
                        full = DiskFull(self.blobs.root, None, None)
                except OperationalError as exc:
                    if not is_full(exc):
                        raise
                    # the database could not grow: the transaction rolled back, the database is
                    # intact; these originals are referred to by nothing and go
                    full = DiskFull(self.blobs.root, None, None)
                    for p in pending:
                        if p.new:
                            self.blobs.remove_new(p.sha)
                        results[p.index] = IngestResult(str(p.path), "error", error=str(full), disk_full=True)
                pending.clear()
                pending_shas.clear()
            last_flush = time.monotonic()

        try:
            with self.blobs.writing():
                for i, path in enumerate(files):
                    if cancelled and cancelled():
                        break
                    if full is not None:  # the disk filled up: the rest is not imported, and says why
                        results[i] = IngestResult(str(path), "error", error=_("not imported: {why}").format(
                            why=str(full)), disk_full=True)
                        continue
                    try:
                        got = self._prepare_with_room(case, path, device, description, pending_shas)
                    except DiskFull as exc:
                        full = exc
                        got = IngestResult(str(path), "error", error=str(exc), disk_full=True)
                    except KitError as exc:
                        got = IngestResult(str(path), "error", error=str(exc))
                    except OSError as exc:
                        got = IngestResult(str(path), "error", error=_("cannot read the file: {reason}").format(
                            reason=exc.strerror or exc))
                    if isinstance(got, IngestResult):
                        results[i] = got
                    else:
                        got.index = i
                        if pool is not None and got.kind in (media.PHOTO, media.VIDEO):
                            got.thumb = pool.submit(self._thumbnail, got.sha, got.kind, got.media_type)
                        pending.append(got)
                        pending_shas[got.sha] = i
                    if full is not None or len(pending) >= self.BATCH_FILES or \
                            time.monotonic() - last_flush > self.BATCH_SECONDS:
                        flush()
                    if progress:
                        progress(i + 1, len(files))
                flush()
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
        if full is not None:
            self._say_what_is_needed(files, results)
        committed = {r.sha256: r.evidence_id for r in results.values() if r.status == "ok"}
        for r in results.values():
            if r.status == "duplicate" and r.evidence_id is None:
                r.evidence_id = committed.get(r.sha256)
        why = _("a hidden file or folder of the folder imported: not imported")
        return [results[i] for i in sorted(results)] + [IngestResult(str(h), "skipped", error=why) for h in hidden]

    def _say_what_is_needed(self, files: list[Path], results: dict[int, IngestResult]) -> None:
        """The disk filled up: each file not imported says so, with the free space that all of
        them need (measured now, after what was not kept has gone)."""
        left = [i for i, r in results.items() if r.disk_full]
        needed = sum(_size(files[i]) for i in left) + RESERVE
        why = DiskFull(self.blobs.root, needed, free_bytes(self.blobs.root))
        for i in left:
            results[i].error = _("not imported: {why}").format(why=why)
            results[i].space_needed = needed

    def _prepare_with_room(self, case: dict[str, Any], path: Path, device: str | None, description: str | None,
                           pending_shas: dict[str, int]) -> IngestResult | _Pending:
        """``_prepare``; on a full disk, the derived files (thumbnails) give way and it is tried once
        more — an original never loses to a preview."""
        try:
            return self._prepare(case, path, device, description, pending_shas)
        except DiskFull:
            if not self.blobs.clear_derived():
                raise
            log.warning("disk full: previews removed to make room for %s", path)
            return self._prepare(case, path, device, description, pending_shas)

    def _prepare(self, case: dict[str, Any], path: Path, device: str | None, description: str | None,
                 pending_shas: dict[str, int]) -> IngestResult | _Pending:
        """Store the original and read its metadata; the database is written later, in a batch."""
        if not path.exists():
            raise KitError(_("no such file"))
        if not path.is_file():
            raise KitError(_("not a regular file"))
        with path.open("rb") as fh:
            head = fh.read(64)
        if not head:
            raise KitError(_("the file is empty (0 bytes)"))
        kind = media.sniff(path, head)
        if kind is None:
            raise KitError(_("unsupported file type ({ext}): photos, videos, recordings, PDF and office "
                             "documents are taken").format(ext=path.suffix or _("no extension")))
        media_type, ev_kind = kind
        sha, size, new = self.blobs.put(path)
        dup_warning = [_("the same file is already evidence of this case")]
        with self.store.session() as s:
            dup = s.scalar(select(EvidenceItem.id).where(EvidenceItem.case_id == case["id"],
                                                         EvidenceItem.sha256 == sha))
        if dup:
            return IngestResult(str(path), "duplicate", dup, sha, dup_warning)
        if sha in pending_shas:  # repeated within this batch: its evidence id is known at commit
            return IngestResult(str(path), "duplicate", None, sha, dup_warning)
        p = _Pending(path=path, sha=sha, size=size, media_type=media_type, kind=ev_kind,
                     device=device, description=description, new=new)
        p.meta = {"source_path": str(path), "source_mtime": _mtime(path)}
        if ev_kind == media.PHOTO:
            pm = read_photo(self.blobs.source(sha), media_type)
            p.meta["photo"] = pm.as_dict()
            if pm.error:
                p.warnings.append(_("the EXIF data is damaged and was read only in part ({error})").format(
                    error=pm.error))
            if not pm.has_exif:
                p.warnings.append(_("no EXIF data: the photo records neither when nor where it was taken"))
            p.captured_at, p.offset, p.lat, p.lon, p.alt = (pm.captured_at, pm.offset_min, pm.latitude,
                                                            pm.longitude, pm.altitude)
            p.clock = ("gnss" if pm.time_source == "gps" else "camera") if pm.captured_at else None
            if pm.captured_at is None and p.meta["source_mtime"]:
                # nothing in the file says when: the file's modification time is the last resort, and said so
                p.captured_at = datetime.fromisoformat(p.meta["source_mtime"])
                p.clock, pm.time_source = "file", "file"
                p.meta["photo"]["time_source"] = "file"
                p.warnings.append(_("the capture time is the file's modification time (the photo records none): "
                                    "copying or editing the file changes it"))
            cam = " ".join(x for x in (pm.make, pm.model) if x)
            if pm.serial:
                cam = f"{cam} #{pm.serial}" if cam else f"#{pm.serial}"
            p.device = device or cam or None
            p.warnings.extend(self._photo_warnings(case, pm))
        return p

    def _commit_with_room(self, case: dict[str, Any], officer: OfficerInfo, batch: list[_Pending],
                          results: dict[int, IngestResult]) -> bool:
        """``_commit``; if the database cannot grow (the disk filled up meanwhile), the ballast
        gives it room and it is tried once more — what was stored is recorded. True if the
        ballast was given up (the disk is full: the import stops here)."""
        try:
            self._commit(case, officer, batch, results)
            return False
        except OperationalError as exc:
            if not is_full(exc) or not self.blobs.release_ballast():
                raise
            log.warning("disk full: the ballast is given up to record %d items", len(batch))
            self._commit(case, officer, batch, results)
            return True

    def _commit(self, case: dict[str, Any], officer: OfficerInfo, batch: list[_Pending],
                results: dict[int, IngestResult]) -> None:
        for p in batch:
            if p.thumb is not None and (why := p.thumb.result()):
                p.warnings.append(why)
        self.blobs.sync()  # the originals' renames are durable before any row refers to them
        now = utcnow()
        with self.store.write_session() as s:
            for p in batch:
                new = NewItem(case_id=case["id"], kind=p.kind, name=p.path.name, size=p.size, sha256=p.sha,
                              media_type=p.media_type, captured_at=p.captured_at, captured_offset_min=p.offset,
                              captured_clock=p.clock, latitude=p.lat, longitude=p.lon, altitude=p.alt,
                              device=p.device, description=p.description, metadata=p.meta, warnings=p.warnings)
                item = record_item(s, self.log, self.store.kit_id, new, [officer], event=C.IMPORTED, at=now,
                                   details={"original_name": p.path.name, "size": p.size,
                                            "media_type": p.media_type, "source_path": str(p.path)})
                results[p.index] = IngestResult(str(p.path), "ok", item.id, p.sha, p.warnings)
            self.log.flush_checkpoint(s)

    def _photo_warnings(self, case: dict[str, Any], pm: Any) -> list[str]:
        out: list[str] = []
        now = utcnow()
        if pm.has_exif and pm.captured_at is None:
            out.append(_("the EXIF data has no capture time: when the photo was taken is unknown"))
        elif pm.time_source == "digitized":
            out.append(_("the capture time is the digitization time (DateTimeDigitized): the original time is "
                         "missing"))
        elif pm.time_source == "gps":
            out.append(_("the capture time is the GPS time stamp: the camera recorded no time of its own"))
        elif pm.time_source == "modified":
            out.append(_("the capture time is the time the file was last saved (EXIF DateTime), not when the photo "
                         "was taken: for an edited photo it is the editor's"))
        if pm.editor:
            out.append(_("the file was saved by {software}, a photo editor: it is not the camera's original").format(
                software=pm.editor))
        if pm.captured_at is not None:
            start = case["opened_at"] - WINDOW_BEFORE_CASE
            if pm.captured_at < start or pm.captured_at > now + CLOCK_SKEW:
                out.append(_("captured {time}, outside the case's inspection window ({start} to now)").format(
                    time=format_local(pm.captured_at), start=format_local(start)))
            if pm.captured_at > now + CLOCK_SKEW:
                out.append(_("the camera clock is ahead of the kit clock (capture time in the future)"))
            # against GPS only when the file gives the zone (a tag, or the GPS time itself): an assumed
            # +08:00 would make the kit's own guess look like a clock error of hours
            if pm.gps_time is not None and not pm.offset_assumed and abs(pm.gps_time - pm.captured_at) > CLOCK_SKEW:
                minutes = int(abs(pm.gps_time - pm.captured_at).total_seconds() // 60)
                out.append(_("the camera clock differs from GPS time by {minutes} minutes").format(minutes=minutes))
        if pm.latitude is not None and case["lat"] is not None:
            d = distance_m(pm.latitude, pm.longitude, case["lat"], case["lon"])
            if d > GPS_DISTANCE_M:
                out.append(_("taken {km:.1f} km from the party's registered location").format(km=d / 1000))
        return out


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reported with its reason when its turn comes


def _mtime(path: Path) -> str | None:

    try:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).isoformat()
    except OSError:
        return None
