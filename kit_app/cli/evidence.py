"""Evidence and its chain of custody: ingest, items, custody events, verification."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from kit_app.cli.common import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_PARTIAL,
    Command,
    acting_officer,
    actions,
    emit,
    evidence_service,
    json_flag,
    officer_flag,
)
from kit_app.db import Store
from kit_app.i18n import _
from kit_app.timeutil import format_local


def cmd_ingest(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.officers import OfficerService

    officer = OfficerService(store).get(args.officer)
    ev = evidence_service(store)
    ev.recover()
    results = ev.ingest(args.case, officer, args.paths, device=args.device, description=args.description,
                        thumbnails=not args.no_thumbnails)

    def text() -> None:
        labels = {"ok": _("ok"), "duplicate": _("duplicate"), "error": _("error"), "skipped": _("skipped")}
        for r in results:
            print(f"{labels[r.status]:<10} {r.path}  {r.error or (r.sha256 or '')[:16]}")
            for w in r.warnings:
                print(_("           warning: {text}").format(text=w))
        ok = sum(r.status == "ok" for r in results)
        print(_("{ok} imported, {dup} duplicates, {err} failed.").format(
            ok=ok, dup=sum(r.status == "duplicate" for r in results), err=sum(r.status == "error" for r in results)))
        if skipped := sum(r.status == "skipped" for r in results):
            print(_("{n} hidden files or folders were not imported (listed above).").format(n=skipped))

    emit(args, [r.as_dict() for r in results], text)
    return EXIT_PARTIAL if any(r.status == "error" for r in results) else EXIT_OK


def cmd_evidence(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.officers import OfficerService

    ev = evidence_service(store)
    if args.action == "show":
        item = ev.show(args.id)
        emit(args, item, lambda: print(json.dumps(item, ensure_ascii=False, indent=2)))
        return EXIT_OK
    if args.action == "list":
        items = ev.list_for_case(args.case)
        emit(args, items, lambda: [print(f"{i['kind']:<18} {i['original_name'] or i['seal_no']}  {i['id']}")
                                    for i in items])
        return EXIT_OK
    if args.action in ("caption", "explain", "keep", "exclude", "include"):
        actor = OfficerService(store).get(args.officer)
        if args.action == "caption":
            item = ev.set_caption(args.id, actor, args.text)
            emit(args, item, lambda: print(_("Caption of {name}: {text}").format(
                name=item["original_name"], text=item["description"] or _("(none)"))))
            return EXIT_OK
        action = {"explain": "explained", "keep": "kept", "exclude": "excluded", "include": "included"}[args.action]
        item = ev.dispose(args.id, actor, action, args.note)
        emit(args, item, lambda: print(_("Recorded in the custody of {name}.").format(name=item["original_name"])))
        return EXIT_OK
    officer = OfficerService(store).get(args.officer)
    eid = ev.add_physical(args.case, officer, seal_no=args.seal, description=args.description, place=args.place)
    emit(args, {"id": eid}, lambda: print(_("Recorded physical item {id}.").format(id=eid)))
    return EXIT_OK


def cmd_custody(store: Store, args: argparse.Namespace) -> int:
    from kit_app.evidence import custody as C
    from kit_app.services.officers import OfficerService

    ev = evidence_service(store)
    officers = OfficerService(store)
    if args.action == "export":
        n = ev.export_case(args.case, args.output, acting_officer(store, args))
        emit(args, {"events": n, "file": str(args.output)},
              lambda: print(_("Wrote {n} custody events to {file}.").format(n=n, file=args.output)))
        return EXIT_OK
    if args.action == "transfer":
        body = ev.transfer(args.evidence_id, officers.get(args.from_officer), officers.get(args.to_officer),
                           args.reason)
    else:
        actor = acting_officer(store, args)
        kind, details = {
            "seal": (C.SEALED, {"seal_no": getattr(args, "seal", None)}),
            "unseal": (C.UNSEALED, {"seal_no": getattr(args, "seal", None)}),
            "lab": (C.SUBMITTED, {"lab": getattr(args, "lab", None)}),
            "annotate": (C.ANNOTATED, {}),
            "correct": (C.CORRECTED, {"corrects": getattr(args, "event", None)}),
        }[args.action]
        body = ev.record(args.evidence_id, kind, actor, reason=args.reason, details=details)
    emit(args, body, lambda: print(_("Recorded custody event {seq} ({kind}).").format(seq=body["seq"],
                                                                                    kind=body["kind"])))
    return EXIT_OK


def cmd_verify(store: Store, args: argparse.Namespace) -> int:
    rep = evidence_service(store).verify(args.case, all_signatures=not args.fast)

    def human() -> None:
        print(_("{files} files and {events} custody events checked.").format(
            files=rep.files_checked, events=rep.events_checked))
        for p in rep.problems:
            where = p.evidence_id or (f"#{p.seq}" if p.seq else "")
            print(f"  {p.kind}: {where} {p.detail}")
        if (head := rep.countersigned) is not None:
            at = format_local(datetime.fromisoformat(head["countersigned_at"]), with_seconds=True)
            print(_("The central server countersigned the custody chain up to event {seq} on {at}.").format(
                seq=head["seq"], at=at))
        print(_("All evidence and custody records verify.") if rep.ok else _("VERIFICATION FAILED."))
        if store.full:
            print(_("The disk holding the data directory is full: the verification checkpoint was not updated."))
        elif store.read_only:
            print(_("The data directory is read-only: the verification checkpoint was not updated."))

    emit(args, rep.as_dict() | {"read_only": store.read_only}, human)
    return EXIT_OK if rep.ok else EXIT_FAIL


def cmd_export(store: Store, args: argparse.Namespace) -> int:
    """The court pack of a case: a zip anyone can verify without the kit (verify_pack.py inside)."""
    from kit_app.services.courtpack import CourtPackService

    pack = CourtPackService(store).export(args.case, args.output, acting_officer(store, args))
    emit(args, {"file": str(pack.path), "files": pack.files, "originals": pack.originals, "bytes": pack.size,
                "manifest_sha256": pack.manifest_sha256, "case_file_pages": pack.case_file_pages,
                "archived": pack.archived},
         lambda: print(_("Wrote the court pack {file}: the case file ({pages} pages), {n} originals, custody and "
                         "receipts; check it anywhere with: python3 verify_pack.py {name}").format(
             file=pack.path, pages=pack.case_file_pages, n=pack.originals, name=pack.path.name)))
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("export", help=_("write a case's court pack: case file, originals, custody, receipts, a "
                                        "signed manifest and a stand-alone verifier"))
    s.add_argument("--case", required=True, metavar="ID_OR_NUMBER")
    s.add_argument("-o", "--output", required=True, type=Path)
    officer_flag(s)
    json_flag(s)
    s = sub.add_parser("ingest", help=_("import evidence files and folders into a case"))
    s.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    s.add_argument("--case", required=True, metavar="ID_OR_NUMBER")
    s.add_argument("--officer", required=True, metavar="ID_OR_CERT_NO", help=_("the collecting officer"))
    s.add_argument("--device", help=_("the capturing device, when the files do not say"))
    s.add_argument("--description")
    s.add_argument("--no-thumbnails", action="store_true", help=_("do not make previews now"))
    json_flag(s)
    esub = actions(sub, "evidence", _("evidence items"))
    a = esub.add_parser("show", help=_("an item, its metadata, stored path and custody events"))
    a.add_argument("id")
    json_flag(a)
    a = esub.add_parser("list", help=_("the evidence of a case"))
    a.add_argument("--case", required=True, metavar="ID_OR_NUMBER")
    json_flag(a)
    a = esub.add_parser("physical", help=_("record a physical item (sample, seized goods) with its seal"))
    a.add_argument("--case", required=True, metavar="ID_OR_NUMBER")
    a.add_argument("--officer", required=True, metavar="ID_OR_CERT_NO")
    a.add_argument("--seal", required=True, help=_("seal number (封条编号)"))
    a.add_argument("--description", required=True)
    a.add_argument("--place")
    json_flag(a)
    a = esub.add_parser("caption", help=_("say what a photo or video shows (the photo sheet prints it)"))
    a.add_argument("id")
    a.add_argument("--officer", required=True, metavar="ID_OR_CERT_NO")
    a.add_argument("--text", required=True)
    json_flag(a)
    for name, helptext, note in (
            ("explain", _("explain an item's warnings (the note goes into its custody)"), True),
            ("keep", _("keep an item with warnings as it is (recorded in its custody)"), False),
            ("exclude", _("leave an item out of the case's evidence; nothing is deleted"), True),
            ("include", _("use an excluded item as evidence again"), True)):
        a = esub.add_parser(name, help=helptext)
        a.add_argument("id")
        a.add_argument("--officer", required=True, metavar="ID_OR_CERT_NO")
        a.add_argument("--note", required=note, default="", help=_("why (required except to keep)"))
        json_flag(a)
    ksub = actions(sub, "custody", _("the chain of custody"))
    a = ksub.add_parser("transfer", help=_("hand an item over to another officer"))
    a.add_argument("evidence_id")
    a.add_argument("--from", dest="from_officer", required=True, metavar="ID_OR_CERT_NO")
    a.add_argument("--to", dest="to_officer", required=True, metavar="ID_OR_CERT_NO")
    a.add_argument("--reason", required=True)
    json_flag(a)
    for name, helptext in (("seal", _("record that an item was sealed")),
                           ("unseal", _("record that an item was unsealed")),
                           ("lab", _("record that an item was submitted to a laboratory")),
                           ("annotate", _("add a note to an item's history")),
                           ("correct", _("correct an earlier event (a new event that references it)"))):
        a = ksub.add_parser(name, help=helptext)
        a.add_argument("evidence_id")
        officer_flag(a)
        a.add_argument("--reason", default="")
        if name in ("seal", "unseal"):
            a.add_argument("--seal", required=True, help=_("seal number (封条编号)"))
        if name == "lab":
            a.add_argument("--lab", required=True, help=_("the laboratory"))
        if name == "correct":
            a.add_argument("--event", required=True, help=_("id of the event corrected"))
        json_flag(a)
    a = ksub.add_parser("export", help=_("write a case's custody events as JSON Lines with the kit's public key"))
    a.add_argument("--case", required=True, metavar="ID_OR_NUMBER")
    a.add_argument("-o", "--output", required=True, type=Path)
    officer_flag(a)
    json_flag(a)
    s = sub.add_parser("verify", help=_("re-hash stored files and verify the custody chain and signatures"))
    s.add_argument("--case", metavar="ID_OR_NUMBER")
    s.add_argument("--fast", action="store_true",
                   help=_("check every hash and link but only the last event's signature"))
    json_flag(s)


COMMANDS: dict[str, Command] = {
    "ingest": cmd_ingest,
    "evidence": cmd_evidence,
    "custody": cmd_custody,
    "verify": cmd_verify,
    "export": cmd_export,
}
