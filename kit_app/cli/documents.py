"""Enforcement documents: render, number blocks, issue, list, check a paper copy."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from kit_app.cli.common import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_USAGE,
    Command,
    acting_officer,
    actions,
    emit,
    fail,
    json_flag,
    officer_flag,
)
from kit_app.db import Store
from kit_app.i18n import _

_UNREADABLE = object()


def _read_payload(args: argparse.Namespace) -> Any:
    """The JSON document in ``--input``; ``_UNREADABLE`` (the error already said) if unreadable or
    not JSON."""
    try:
        return json.loads(args.input.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        fail(args, _("cannot read {file}: {reason}").format(file=args.input, reason=exc.strerror or exc), EXIT_FAIL)
    except ValueError as exc:
        fail(args, _("{file} is not valid JSON: {reason}").format(file=args.input, reason=exc), EXIT_FAIL)
    return _UNREADABLE


def cmd_render(args: argparse.Namespace) -> int:
    """Document types, their schema and example, and PDF rendering; no data dir needed."""
    import forms
    from forms import FormError

    if args.list:
        defs = forms.definitions().values()
        listing = [{"id": d.id, "title": d.title, "version": d.version, "kind": d.kind} for d in defs]
        emit(args, listing, lambda: [print(f"{d.id}\t{d.title}\tv{d.version}") for d in defs])
        return EXIT_OK
    if not args.type:
        return fail(args, _("name a document type (see kit-app render --list)"), EXIT_USAGE)
    try:
        defn = forms.get(args.type)
    except KeyError as exc:
        return fail(args, str(exc.args[0]), EXIT_USAGE)
    if args.schema or args.example_payload:
        out = defn.json_schema() if args.schema else defn.example
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    if not (args.example or args.input):
        return fail(args, _("say what to render: --example or --input PAYLOAD.json"), EXIT_USAGE)
    if args.output is None:
        return fail(args, _("say where to write the PDF: -o OUT.pdf"), EXIT_USAGE)
    if args.example:
        payload: Any = defn.example
    else:
        payload = _read_payload(args)
        if payload is _UNREADABLE:
            return EXIT_FAIL
    from reports import render

    try:
        res = render(defn, payload, number=args.number, specimen=True)  # issued documents: `document issue`
    except FormError as exc:
        return fail(args, _("invalid payload for {type}: {error}").format(type=defn.id, error=exc), EXIT_FAIL)
    tmp = args.output.with_name(f".{args.output.name}.part")
    try:
        tmp.write_bytes(res.pdf)
        os.replace(tmp, args.output)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        return fail(args, _("cannot write {file}: {reason}").format(file=args.output, reason=exc.strerror or exc),
                     EXIT_FAIL)
    for w in res.warnings:
        print(_("warning: {message}").format(message=w), file=sys.stderr)
    info = {"output": str(args.output), "type": defn.id, "version": defn.version, "pages": res.pages,
            "id": res.doc_id, "number": res.number, "content_sha256": res.content_sha256,
            "pdf_sha256": res.pdf_sha256, "warnings": res.warnings}
    emit(args, info, lambda: print(_("Wrote {file}: {title}, {pages} pages.").format(
        file=args.output, title=defn.title, pages=res.pages)))
    return EXIT_OK


def cmd_numbers(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.documents import DocumentService

    docs = DocumentService(store)
    if args.action == "add":
        block = docs.numbers.add_block(agency_code=args.agency, doc_type=args.type, year=args.year, prefix=args.prefix,
                               first=args.first, last=args.last, kit_id=args.kit, actor=acting_officer(store, args))
        emit(args, block, lambda: print(_("Reserved {first}–{last} ({example} …) for kit {kit}.").format(
            first=block["first"], last=block["last"], example=block["example"], kit=block["kit_id"][:8])))
        return EXIT_OK
    blocks = docs.numbers.blocks()
    emit(args, blocks, lambda: [print(f"{b['agency_code']}\t{b['type']}\t{b['year']}\t{b['prefix']}\t"
                                       f"{b['first']}–{b['last']}\t{b['used']}\t{b['kit_id'][:8]}") for b in blocks])
    return EXIT_OK


def cmd_document(store: Store, args: argparse.Namespace) -> int:
    from kit_app.services.cases import CaseService
    from kit_app.services.documents import DocumentService
    from kit_app.services.officers import OfficerService

    docs = DocumentService(store)
    if args.action == "check":
        check = docs.check_code(args.code)
        emit(args, check, lambda: print(
            _("Matches {title} {number}, issued {at}.").format(title=check["title"], number=check["number"] or "",
                                                               at=check["issued_local"]) if check["ok"]
            else _("Does not match: {reason}").format(reason=check["reason"])))
        return EXIT_OK if check["ok"] else EXIT_FAIL
    if args.action == "list":
        case = CaseService(store).get(args.case)
        rows = docs.list_for_case(case.id)
        from datetime import datetime as _dt

        from kit_app.timeutil import format_local

        emit(args, rows, lambda: [print(f"{format_local(_dt.fromisoformat(r['issued_at']))}\t{r['title']}\t"
                                         f"{r['number'] or ''}\t{r['id']}") for r in rows])
        return EXIT_OK
    from forms import FormError

    officer = OfficerService(store).get(args.officer)
    payload = _read_payload(args)
    if payload is _UNREADABLE:
        return EXIT_FAIL
    case = CaseService(store).get(args.case)
    try:
        res = docs.issue(case.id, officer, args.type, payload, corrects=args.corrects)
    except FormError as exc:
        return fail(args, _("invalid payload for {type}: {error}").format(type=args.type, error=exc), EXIT_FAIL)
    if args.output:
        import shutil

        shutil.copyfile(docs.pdf_path(res.id), args.output)
    emit(args, res.as_dict(), lambda: print(_("Issued {title} {number} ({pages} pages), evidence {evidence}.").format(
        title=res.title, number=res.number or "", pages=res.pages, evidence=res.evidence_id)))
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("casefile", help=_("the case file (案卷) as one PDF: contents, papers in archive order, "
                                          "page numbers"))
    s.add_argument("--case", required=True, metavar="ID_OR_NUMBER")
    s.add_argument("-o", "--output", required=True, type=Path)
    s.add_argument("--archive", action="store_true",
                   help=_("archive the closed case with this file (it is kept and the case frozen)"))
    s.add_argument("--reason")
    officer_flag(s)
    json_flag(s)
    s = sub.add_parser("render", help=_("render an enforcement document as PDF (or show its schema)"))
    s.add_argument("type", nargs="?", metavar="TYPE", help=_("document type id (see --list)"))
    g = s.add_mutually_exclusive_group()
    g.add_argument("--list", action="store_true", help=_("list the document types"))
    g.add_argument("--schema", action="store_true", help=_("print the JSON Schema of TYPE's payload"))
    g.add_argument("--example-payload", action="store_true", help=_("print TYPE's example payload as JSON"))
    g.add_argument("--example", action="store_true", help=_("render TYPE's example payload"))
    g.add_argument("--input", type=Path, metavar="PAYLOAD.json", help=_("render this payload"))
    s.add_argument("-o", "--output", type=Path, metavar="OUT.pdf")
    s.add_argument("--number", help=_("document number to print, e.g. 桂环罚〔2026〕12号"))
    json_flag(s)
    nsub = actions(sub, "numbers", _("document number blocks reserved for kits"))
    a = nsub.add_parser("add", help=_("reserve a block of document numbers for a kit"))
    a.add_argument("--agency", required=True, metavar="CODE", help=_("agency division code, e.g. 450103"))
    a.add_argument("--type", required=True, metavar="TYPE", help=_("document type id (see kit-app render --list)"))
    a.add_argument("--year", type=int, required=True)
    a.add_argument("--prefix", required=True, help=_("printed before 〔year〕, e.g. 青环责改"))
    a.add_argument("--from", dest="first", type=int, required=True)
    a.add_argument("--to", dest="last", type=int, required=True)
    a.add_argument("--kit", help=_("the kit the block is for (default: this kit)"))
    a.add_argument("--officer", metavar="ID_OR_CERT_NO", help=_("the administrator assigning it"))
    json_flag(a)
    a = nsub.add_parser("list", help=_("the number blocks known to this kit, with how many are used"))
    json_flag(a)
    dsub = actions(sub, "document", _("issue and list the enforcement documents of a case"))
    a = dsub.add_parser("issue", help=_("validate, number, render and freeze a document; its PDF becomes evidence"))
    a.add_argument("--case", required=True, metavar="ID_OR_NUMBER")
    a.add_argument("--officer", required=True, metavar="ID_OR_CERT_NO")
    a.add_argument("--type", required=True, metavar="TYPE")
    a.add_argument("--input", type=Path, required=True, metavar="PAYLOAD.json")
    a.add_argument("--corrects", metavar="DOCUMENT_ID", help=_("the issued document this one corrects"))
    a.add_argument("-o", "--output", type=Path, metavar="OUT.pdf", help=_("also write a copy of the PDF here"))
    json_flag(a)
    a = dsub.add_parser("list", help=_("the documents issued in a case"))
    a.add_argument("--case", required=True, metavar="ID_OR_NUMBER")
    json_flag(a)
    a = dsub.add_parser("check", help=_("check a paper copy's QR code (kitdoc:…) against the issued document"))
    a.add_argument("code", help=_("the text of the QR code"))
    json_flag(a)


def cmd_casefile(store: Store, args: argparse.Namespace) -> int:
    """The case file as one PDF; with --archive, the case is archived with it (kept, then frozen)."""
    from kit_app.services.casefile import CaseFileService

    officer = acting_officer(store, args)
    svc = CaseFileService(store)
    if args.archive:
        if officer is None:
            return fail(args, _("name the officer who archives the case (--officer)"), EXIT_USAGE)
        done = svc.archive(args.case, officer, reason=args.reason)
        pdf, pages, contents, warnings = (svc.evidence.blobs.read_bytes(done.sha256), done.pages,
                                          done.contents, done.warnings)
    else:
        built = svc.build(args.case, officer)
        pdf, pages, contents, warnings = built.pdf, built.pages, built.contents, built.warnings
    tmp = args.output.with_name(args.output.name + ".part")
    tmp.write_bytes(pdf)
    os.replace(tmp, args.output)

    def human() -> None:
        for c in contents:
            pages_of = str(c["first"]) if c["first"] == c["last"] else f"{c['first']}-{c['last']}"
            print(f"{c['volume']}  {pages_of:>7}  {c['title']}  {c['number'] or ''}")
        for w in warnings:
            print(_("warning: {text}").format(text=w))
        print(_("Wrote the case file ({pages} pages) to {file}.").format(pages=pages, file=args.output))
        if args.archive:
            print(_("The case is archived: its file is kept with its evidence and the case is frozen."))

    emit(args, {"file": str(args.output), "pages": pages, "contents": contents, "warnings": warnings,
                "archived": bool(args.archive)}, human)
    return EXIT_OK


COMMANDS: dict[str, Command] = {
    "numbers": cmd_numbers,
    "document": cmd_document,
    "casefile": cmd_casefile,
}
