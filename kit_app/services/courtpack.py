"""The court pack (法庭证据包): one zip anyone can check without the kit — the case file, every
original bit-exact, the case's custody events with the kit's public key, the central server's
receipts, a manifest of SHA-256 hashes signed by the kit, a printed verification page and a
stand-alone verifier (``resources/verify_pack.py``: Python and the ``cryptography`` package)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from kit_app.db import Store, access
from kit_app.db.models import CustodyEvent, KitMeta, SyncBlob
from kit_app.dto import OfficerInfo
from kit_app.errors import KitError
from kit_app.evidence import custody as C
from kit_app.i18n import _
from kit_app.services.casefile import CaseFileService
from kit_app.services.documents import DocumentService
from kit_app.timeutil import LOCAL_TZ, format_local, utcnow

FORMAT = 1
_UNSAFE = re.compile(r"[^\w.\-（）()]+")


@dataclass
class Pack:
    path: Path
    files: int  # in the manifest
    originals: int
    size: int  # bytes of the zip
    manifest_sha256: str
    case_file_pages: int
    archived: bool  # the case file is the one kept at archiving (else built now)


class Cancelled(KitError):
    def __init__(self) -> None:
        super().__init__(_("The export was cancelled; no pack was written."))


class CourtPackService:
    def __init__(self, store: Store, documents: DocumentService | None = None) -> None:
        self.store = store
        self.documents = documents or DocumentService(store)
        self.evidence = self.documents.evidence

    def export(self, case_id: str, out: Path, officer: OfficerInfo | None,
               progress: Callable[[int, int], None] | None = None,
               cancelled: Callable[[], bool] | None = None) -> Pack:
        """Write the pack to ``out`` (atomically: a ``.part`` file renamed when complete); each
        original's custody records that it was exported. The three steps apart — ``plan`` and
        ``record`` read and write the database, ``write`` only files — let a window run the long
        middle one off its database lane."""
        plan = self.plan(case_id, officer)
        pack = write(plan, out, progress, cancelled)
        self.record(plan, pack)
        return pack

    def plan(self, case_id: str, officer: OfficerInfo | None) -> Plan:
        """Everything the pack holds that the database knows, read now (the case file built if the
        case is not archived)."""
        from kit_app.services.cases import CaseService

        case = CaseService(self.store).get(case_id)
        ev = self.evidence
        items = [i for i in ev.list_for_case(case.id) if i["sha256"]]
        kept = next((i for i in items if (i["metadata"] or {}).get("case_file")), None)
        if kept is not None:  # archived: the file kept then, bit-exact
            case_file = ev.blobs.read_bytes(kept["sha256"])
            pages = _pdf_pages(case_file)
        else:
            built = CaseFileService(self.store, self.documents).build(case.id, officer)
            case_file, pages = built.pdf, built.pages
        return Plan(case={"id": case.id, "number": case.number, "title": case.title, "party": case.party.get("name"),
                          "agency": case.agency_name},
                    items=items, case_file=case_file, pages=pages, archived=kept is not None,
                    custody=self._custody(case.id), receipts=self._receipts({i["sha256"] for i in items}),
                    kit_id=self.store.kit_id, key=ev.key, officer=officer, blobs=ev.blobs, **self._heads())

    def record(self, plan: Plan, pack: Pack) -> None:
        """One custody event ``exported`` per original, naming the pack and its manifest."""
        ev = self.evidence
        with self.store.write_session() as s:
            for i in plan.items:
                ev.log.append(s, evidence_id=i["id"], case_id=i["case_id"], kind=C.EXPORTED,
                              actors=[C.actor(plan.officer)] if plan.officer else [], item_sha256=i["sha256"],
                              details={"court_pack": pack.path.name, "manifest_sha256": pack.manifest_sha256})
            ev.log.flush_checkpoint(s)
            access.add(s, self.store.kit_id, plan.officer, "case.export", target=str(plan.case.get("number") or ""),
                       case_id=plan.case["id"], details={"court_pack": pack.path.name, "originals": len(plan.items),
                                                         "manifest_sha256": pack.manifest_sha256})

    def _custody(self, case_id: str) -> bytes:
        ev = self.evidence
        with self.store.session() as s:
            events = s.scalars(select(CustodyEvent).where(CustodyEvent.case_id == case_id)
                               .order_by(CustodyEvent.seq)).all()
        header = {"type": "header", "format": C.FORMAT, "kit_id": self.store.kit_id, "case_id": case_id,
                  "algorithm": "Ed25519", "public_key": ev.key.public_b64, "hash": "SHA-256",
                  "exported_at": utcnow().isoformat(), "events": len(events)}
        lines = [json.dumps(header, ensure_ascii=False)]
        lines += [json.dumps({"type": "event", "body": e.body, "hash": e.hash, "signature": e.signature},
                             ensure_ascii=False) for e in events]
        return ("\n".join(lines) + "\n").encode("utf-8")

    def _heads(self) -> dict[str, Any]:
        """The heads of the kit's custody chain the central server countersigned (checked against
        the chain as it is now), with the server key they are checked against."""
        import base64

        from kit_app.db.models import CustodyHead
        from kit_app.evidence.keys import raw_from_pem

        with self.store.session() as s:
            _problems, latest = self.evidence.countersigned_heads(s)
            raw = raw_from_pem((s.get(KitMeta, "central_server_key") or KitMeta(value="")).value)
            heads = [{"body": json.loads(h.body), "signature": h.signature}
                     for h in s.scalars(select(CustodyHead).order_by(CustodyHead.seq))]
        if not heads:
            return {}
        doc = {"server_key": base64.b64encode(raw).decode() if raw else None, "heads": heads}
        return {"heads": json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8"), "latest_head": latest}

    def _receipts(self, shas: set[str]) -> bytes:
        """The central server's signed receipts for these originals, with the key they are checked
        against (the one the kit pinned when it enrolled)."""
        import base64

        from kit_app.sync import trust

        with self.store.session() as s:
            pem = s.get(KitMeta, "central_server_key")
            rows = [r for r in s.scalars(select(SyncBlob)) if r.sha256 in shas]
            receipts = [{"body": json.loads(r.body), "signature": r.signature} for r in rows]
            server = base64.b64encode(trust.public_raw_from_pem(pem.value)).decode() if pem is not None else None
        return json.dumps({"server_key": server, "receipts": receipts}, ensure_ascii=False, indent=1).encode("utf-8")


@dataclass
class Plan:
    """What a pack is made of, read from the database (see ``CourtPackService.plan``)."""

    case: dict[str, Any]
    items: list[dict[str, Any]]  # the originals, as the evidence service lists them
    case_file: bytes
    pages: int
    archived: bool
    custody: bytes
    receipts: bytes
    kit_id: str
    key: Any  # the kit's key: it signs the manifest
    officer: OfficerInfo | None
    blobs: Any = None  # where the originals are (a BlobStore: files only, an I/O worker may read it)
    heads: bytes = b""  # the custody chain's heads the central server countersigned
    latest_head: dict[str, Any] | None = None


def write(plan: Plan, out: Path, progress: Callable[[int, int], None] | None = None,
          cancelled: Callable[[], bool] | None = None) -> Pack:
    """Write the zip from ``plan``: files only, no database (an I/O worker may run it)."""
    import resources

    total = len(plan.items) + 3
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)
        if cancelled and cancelled():
            raise Cancelled()

    files: list[dict[str, Any]] = []
    tmp = out.with_name(out.name + ".part")
    try:
        with zipfile.ZipFile(tmp, "w", allowZip64=True) as z:
            def put(path: str, data: bytes, **about: Any) -> None:
                z.writestr(zipfile.ZipInfo(path, date_time=_zip_time()), data,
                           compress_type=zipfile.ZIP_DEFLATED if path.endswith((".json", ".jsonl", ".txt", ".py"))
                           else zipfile.ZIP_STORED)
                files.append({"path": path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)} | about)

            put("case-file.pdf", plan.case_file,
                what="案卷" + ("（归档时留存）" if plan.archived else "（导出时生成）"))
            step()
            used: set[str] = set()
            for k, i in enumerate(plan.items, start=1):
                name = _safe_name(k, i["original_name"] or i["sha256"][:16], used)
                info = zipfile.ZipInfo(f"originals/{name}", date_time=_zip_time())
                h, size = hashlib.sha256(), 0
                with plan.blobs.open(i["sha256"]) as fh, z.open(info, "w", force_zip64=True) as dst:
                    while block := fh.read(1 << 20):
                        h.update(block)
                        size += len(block)
                        dst.write(block)
                if h.hexdigest() != i["sha256"]:
                    raise KitError(_("The stored original of {name} no longer matches its SHA-256: verify the "
                                     "evidence; no pack was written.").format(name=i["original_name"]))
                files.append({"path": f"originals/{name}", "sha256": i["sha256"], "size": size,
                              "evidence_id": i["id"], "kind": i["kind"], "original_name": i["original_name"],
                              "excluded": bool((i.get("disposition") or {}).get("excluded"))})
                step()
            put("custody.jsonl", plan.custody, what="保管链记录")
            put("receipts.json", plan.receipts, what="中心服务器回执")
            if plan.heads:
                put("custody-heads.json", plan.heads, what="中心服务器会签的保管链头")
            put("verify_pack.py", resources.path("verify_pack.py").read_bytes(), what="核验程序")
            put("README.txt", _readme(plan.case["number"]).encode("utf-8"), what="说明")
            manifest = {
                "format": FORMAT, "case": plan.case, "kit": {"id": plan.kit_id, "public_key": plan.key.public_b64},
                "created_at": utcnow().isoformat(), "created_by": C.actor(plan.officer) if plan.officer else None,
                "files": list(files),
            }
            put("verification.pdf", _verification_page(manifest, plan.key.public_raw, plan.pages, plan.archived,
                                                       plan.latest_head), what="核验页")
            manifest["files"] = list(files)
            raw = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
            digest = hashlib.sha256(raw).hexdigest()
            z.writestr(zipfile.ZipInfo("manifest.json", date_time=_zip_time()), raw, zipfile.ZIP_DEFLATED)
            z.writestr(zipfile.ZipInfo("manifest.sig", date_time=_zip_time()),
                       plan.key.sign(digest.encode("ascii")) + "\n")
            step()
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Pack(out, len(files), len(plan.items), out.stat().st_size, digest, plan.pages, plan.archived)


def _safe_name(k: int, name: str, used: set[str]) -> str:
    """``007-排口.jpg``: a number, then the original name with anything a file system or an archive
    tool could misread replaced; never a path."""
    base = _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).strip("._") or "file"
    candidate = f"{k:03d}-{base[:80]}"
    while candidate in used:
        candidate = f"{k:03d}-{len(used)}-{base[:80]}"
    used.add(candidate)
    return candidate


def _zip_time() -> tuple[int, int, int, int, int, int]:
    now = utcnow().astimezone(LOCAL_TZ)
    return (now.year, now.month, now.day, now.hour, now.minute, now.second)


def _pdf_pages(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def _readme(number: str) -> str:
    return (f"法庭证据包：案件 {number}\n\n"
            "case-file.pdf      案卷（卷内目录、按归档顺序排列的文书和证据附件）\n"
            "originals/         每一件证据的原件，逐字节与采集时相同\n"
            "custody.jsonl      本案证据的保管链记录（每条记录由取证工作站签名）和工作站公钥\n"
            "receipts.json      省级中心服务器对已上传原件的签名回执\n"
            "custody-heads.json 每次同步时中心服务器会签的保管链头（此后改写的历史可被发现）\n"
            "manifest.json      上述每个文件的 SHA-256 清单；manifest.sig 为工作站对清单的签名\n"
            "verification.pdf   打印用核验页（公钥指纹、清单哈希）\n"
            "verify_pack.py     核验程序\n\n"
            "核验方法：安装 Python 3 和 cryptography（pip install cryptography）后运行\n"
            "    python3 verify_pack.py 本证据包.zip\n"
            "程序逐一核对每个文件的哈希、保管链的哈希链接和签名、服务器回执；发现任何改动都会指明是哪个文件或哪条记录。\n"
            "请将程序显示的公钥指纹与核验页和中心服务器登记的指纹比对。\n\n"
            "Court pack. Verify with: python3 verify_pack.py PACK.zip (needs the cryptography package).\n")


def _countersigned(head: dict[str, Any] | None) -> str:
    """The latest head of the custody chain the central server countersigned, as the page prints it."""
    if head is None:
        return "尚无（工作站未与中心服务器同步）"
    from datetime import datetime

    at = format_local(datetime.fromisoformat(head["countersigned_at"]), with_seconds=True)
    return f"中心服务器于 {at} 会签至第 {head['seq']} 条记录（哈希 {head['hash'][:16]}…）"


def _verification_page(manifest: dict[str, Any], public_raw: bytes, pages: int, archived: bool,
                       head: dict[str, Any] | None = None) -> bytes:
    """The printed verification page: case, kit and key fingerprint, and every file's SHA-256."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer, Table, TableStyle

    from kit_app.sync.trust import fingerprint
    from reports.casefile import _doc, _styles
    from reports.linebreak import Para

    st = _styles()

    def p(text: Any, style: str = "cell") -> Any:
        return Para(escape("" if text is None else str(text)), st[style])

    case, kit = manifest["case"], manifest["kit"]
    from datetime import datetime

    created = format_local(datetime.fromisoformat(manifest["created_at"]), with_seconds=True)
    who = manifest.get("created_by") or {}
    facts = [("案件", f"{case['number']}　{case['party'] or ''}{case['title']}"),
             ("办案机关", case.get("agency") or ""),
             ("取证工作站", kit["id"]), ("工作站公钥指纹", fingerprint(public_raw)),
             ("案卷", f"{pages} 页，" + ("归档时留存" if archived else "导出时生成（案件尚未归档）")),
             ("导出时间", created), ("导出人", f"{who.get('name', '')}（{who.get('cert_no', '')}）" if who else ""),
             ("保管链会签", _countersigned(head))]
    t = Table([[p(k, "label"), p(v)] for k, v in facts], colWidths=[36 * mm, 129 * mm])
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")])
    t.setStyle(grid)
    rows = [[p("文件", "label"), p("大小（字节）", "label"), p("SHA-256", "label")]]
    rows += [[p(f["path"], "small"), p(f"{f['size']:,}", "small"), p(f["sha256"], "small")] for f in manifest["files"]]
    files = Table(rows, colWidths=[55 * mm, 22 * mm, 88 * mm], repeatRows=1)
    files.setStyle(grid)
    how = ("核验方法：在任意计算机上安装 Python 3 和 cryptography 后，运行 python3 verify_pack.py 本证据包.zip。"
           "程序核对清单签名、每个文件的 SHA-256、保管链每条记录的哈希、链接和签名以及服务器回执，并指明任何被改动、"
           "缺失或添加的文件。程序显示的公钥指纹应与本页及中心服务器登记的指纹一致。本页所列 SHA-256 亦可用任何工具"
           "（如 sha256sum）逐一核对。")
    return _doc([p("证据包核验页", "title"), t, Spacer(1, 4 * mm), p(how), Spacer(1, 4 * mm), files])


__all__ = ["Cancelled", "CourtPackService", "Pack", "Plan", "write"]
