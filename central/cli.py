"""``kit-central``: the central server's administration (every command takes ``--db URL`` and
``--json``). The database defaults to ``$KIT_CENTRAL_DB``, else SQLite in ``./central-data``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from central.db import default_url, make_engine, sessions
from central.service import Central, CentralError
from central.signing import KeyFileError
from kit_app.i18n import _, set_language


def _url(args: argparse.Namespace) -> str:
    return args.db or os.environ.get("KIT_CENTRAL_DB") or default_url(Path("central-data").resolve())


def _key_file(args: argparse.Namespace) -> Path:
    from central.signing import ENV_KEY_FILE

    return Path(args.signing_key or os.environ.get(ENV_KEY_FILE) or Path("central-data") / "signing-key.pem")


def _signer(args: argparse.Namespace, central: Central) -> Any:
    from central.signing import Signer

    return Signer.load_or_create(_key_file(args), central.sessions)


def _out(args: argparse.Namespace, payload: Any, human: str) -> None:
    print(json.dumps(payload, ensure_ascii=False) if args.json else human)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kit-central", description=_("the provincial central server"))
    p.add_argument("--db", help=_("SQLAlchemy URL: postgresql+psycopg://user:pw@host/db or sqlite:///path"))
    p.add_argument("--json", action="store_true", help=_("machine-readable output"))
    p.add_argument("--lang", choices=("zh_CN", "en"), help=_("language of messages (default zh_CN)"))
    p.add_argument("--signing-key", help=_("the receipt-signing key file (default $KIT_CENTRAL_SIGNING_KEY, else "
                                           "central-data/signing-key.pem; made on first use, mode 0600)"))
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("init", help=_("create or upgrade the database schema"))
    s = sub.add_parser("serve", help=_("serve the API"))
    s.add_argument("--storage", required=True,
                   help=_("where evidence originals are kept: a directory, or s3://BUCKET[/PREFIX] on S3-compatible "
                          "object storage (MinIO, Ceph; credentials from the AWS_* environment variables)"))
    s.add_argument("--s3-endpoint", help=_("the object storage's address, e.g. http://minio:9000 (default "
                                           "$KIT_CENTRAL_S3_ENDPOINT, else AWS)"))
    s.add_argument("--workers", type=int, default=1,
                   help=_("server processes (each keeps no state of its own: all is in the database and the store)"))
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8700)
    s.add_argument("--tls-cert", type=Path, help=_("serve HTTPS with this certificate chain (PEM)"))
    s.add_argument("--tls-key", type=Path, help=_("the certificate's private key (PEM)"))
    s = sub.add_parser("agency", help=_("agencies"))
    asub = s.add_subparsers(dest="action", required=True)
    a = asub.add_parser("add")
    a.add_argument("--code", required=True)
    a.add_argument("--name", required=True)
    a.add_argument("--parent")
    a = asub.add_parser("set", help=_("what the agency's decisions name as remedies"))
    a.add_argument("--code", required=True)
    a.add_argument("--court", help=_("the court for administrative suits (管辖法院); empty to clear"))
    a.add_argument("--review-body", help=_("the administrative review body (复议机关); empty: derived"))
    a.add_argument("--seal-text", help=_("the words of the agency's seal, printed where it is pressed; empty: its "
                                         "name"))
    s = sub.add_parser("officer", help=_("officers"))
    osub = s.add_subparsers(dest="action", required=True)
    a = osub.add_parser("add")
    a.add_argument("--name", required=True)
    a.add_argument("--cert", required=True)
    a.add_argument("--role", default="officer", help=_("officer, reviewer, agency_head, admin (comma separated)"))
    a.add_argument("--agency", required=True, help=_("the officer's agency (a province's staff: the province's)"))
    a.add_argument("--kits-of", action="append", default=[], metavar="AGENCY",
                   help=_("also allow offline sign-in on the kits of this agency (repeatable)"))
    a.add_argument("--password-stdin", action="store_true", required=True)
    a = osub.add_parser("set", help=_("change an officer (flows down to the kits)"))
    a.add_argument("--cert", required=True)
    a.add_argument("--active", choices=("yes", "no"))
    a.add_argument("--role", help=_("officer, reviewer, agency_head, admin (comma separated)"))
    a.add_argument("--agency", help=_("move the officer to this agency"))
    a.add_argument("--kits-of", action="append", metavar="AGENCY",
                   help=_("the agencies (besides their own) on whose kits the officer may sign in offline; "
                          "replaces the list (repeatable; --kits-of '' for none)"))
    a.add_argument("--password-stdin", action="store_true")
    s = sub.add_parser("publish", help=_("publish base data or a definition to the kits"))
    s.add_argument("kind", choices=("sources", "projects", "form", "checklist"))
    s.add_argument("file", type=Path, help=_("CSV/XLSX (sources, projects) or a JSON definition"))
    s = sub.add_parser("numbers", help=_("document-number blocks"))
    nsub = s.add_subparsers(dest="action", required=True)
    a = nsub.add_parser("assign", help=_("reserve numbers first–last for a kit"))
    a.add_argument("--kit", required=True)
    a.add_argument("--agency", required=True)
    a.add_argument("--type", required=True, help=_("document type, e.g. order_to_correct"))
    a.add_argument("--year", type=int, required=True)
    a.add_argument("--prefix", required=True, help=_("the number prefix, e.g. 青环责改"))
    a.add_argument("--first", type=int, required=True)
    a.add_argument("--last", type=int, required=True)
    s = sub.add_parser("assign", help=_("assign an inspection task (a case) to an agency's kits"))
    s.add_argument("--agency", required=True)
    s.add_argument("--title", required=True)
    s.add_argument("--party", required=True)
    s.add_argument("--source-id")
    s.add_argument("--credit-code")
    s.add_argument("--address")
    s.add_argument("--officer", action="append", default=[], help=_("certificate number (repeatable)"))
    s.add_argument("--note", default="")
    s.add_argument("--case-id", help=_("change the task assigned under this id"))
    s.add_argument("--kit", help=_("only this kit"))
    s = sub.add_parser("enrol-code", help=_("a one-time code for a kit of an agency"))
    s.add_argument("--agency", required=True)
    s = sub.add_parser("kits", help=_("the enrolled kits"))
    ksub = s.add_subparsers(dest="action")
    a = ksub.add_parser("revoke", help=_("revoke a kit (lost, stolen, retired): refused at once from then on"))
    a.add_argument("kit")
    sub.add_parser("server-key", help=_("the receipt-signing key's fingerprint (kits compare it when enrolling)"))
    sub.add_parser("received", help=_("per kit: records, evidence items (sha256, size), custody events"))
    s = sub.add_parser("access", help=_("the kits' access logs (sign-ins, originals opened, prints, exports, refused "
                                        "actions), newest first"))
    s.add_argument("--kit", help=_("one kit's"))
    s.add_argument("--action", help=_("one kind, e.g. login.failed"))
    s.add_argument("--limit", type=int, default=1000)
    s = sub.add_parser("verify", help=_("every kit's custody chain (hashes, links, signatures) and every stored "
                                        "blob's SHA-256; exit 0 only if all holds"))
    s.add_argument("--storage", help=_("the evidence store given to serve, a directory or s3://… (omit: chains "
                                       "only)"))
    s.add_argument("--s3-endpoint", help=_("the object storage's address (default $KIT_CENTRAL_S3_ENDPOINT)"))
    return p


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    # the language must be set before the parser builds its (translated) help
    lang = next((raw[i + 1] for i, a in enumerate(raw[:-1]) if a == "--lang"), None)
    set_language(lang or next((a.split("=", 1)[1] for a in raw if a.startswith("--lang=")), None))
    args = parser().parse_args(raw)
    url = _url(args)
    try:
        if args.command == "init":
            from central.migrate import upgrade

            rev = upgrade(url)
            _out(args, {"revision": rev}, _("Database at revision {rev}.").format(rev=rev))
            return 0
        if args.command == "serve":
            import uvicorn

            from central.app import create_app
            from central.migrate import upgrade
            from central.service.blobs_s3 import ENV_ENDPOINT, open_blob_store
            from central.signing import ENV_KEY_FILE

            upgrade(url)
            storage = args.storage if args.storage.startswith("s3://") else Path(args.storage).resolve()
            open_blob_store(storage, args.s3_endpoint)  # made (a directory) or refused now, not in each worker
            if bool(args.tls_cert) != bool(args.tls_key):
                raise CentralError(_("--tls-cert and --tls-key go together"))
            if args.workers < 1:
                raise CentralError(_("--workers is at least 1"))
            cert = str(args.tls_cert) if args.tls_cert else None
            tls_key = str(args.tls_key) if args.tls_key else None
            key = _key_file(args).resolve()
            if args.workers == 1:
                uvicorn.run(create_app(url, storage, key, args.s3_endpoint), host=args.host, port=args.port,
                            log_level="info", ssl_certfile=cert, ssl_keyfile=tls_key)
                return 0
            _signer(args, central := Central(sessions(make_engine(url))))  # made once, before the workers start
            central.sessions.kw["bind"].dispose()
            from central.app import ENV_STORAGE

            os.environ.update({"KIT_CENTRAL_DB": url, ENV_STORAGE: str(storage), ENV_KEY_FILE: str(key)})
            if args.s3_endpoint:
                os.environ[ENV_ENDPOINT] = args.s3_endpoint
            uvicorn.run("central.app:from_env", factory=True, workers=args.workers, host=args.host, port=args.port,
                        log_level="info", ssl_certfile=cert, ssl_keyfile=tls_key)
            return 0
        central = Central(sessions(make_engine(url)))
        if args.command == "agency" and args.action == "set":
            res = central.set_agency(args.code, court=args.court, review_body=args.review_body,
                                     seal_text=args.seal_text)
            _out(args, res, _("Agency {code}: court {court}, review body {review}.").format(
                code=res["code"], court=res["court"] or "—", review=res["review_body"] or "—"))
        elif args.command == "agency":
            res = central.add_agency(args.code, args.name, args.parent)
            _out(args, res, _("Added agency {code} {name}.").format(code=res["code"], name=res["name"]))
        elif args.command == "officer" and args.action == "add":
            password = sys.stdin.readline().rstrip("\r\n")
            res = central.add_officer(cert_no=args.cert, name=args.name, roles=args.role, agency=args.agency,
                                      password=password, kit_agencies=args.kits_of)
            _out(args, res, _("Added officer {name} ({cert}).").format(name=res["name"], cert=res["cert_no"]))
        elif args.command == "officer" and args.action == "set":
            password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else None
            kits_of = None if args.kits_of is None else [a for a in args.kits_of if a]
            res = central.set_officer(args.cert, active=None if args.active is None else args.active == "yes",
                                      roles=args.role, password=password, agency=args.agency, kit_agencies=kits_of)
            _out(args, res, _("Changed officer {name} ({cert}).").format(name=res["name"], cert=res["cert_no"]))
        elif args.command == "publish":
            from central.service import Feed

            feed = Feed(central)
            if args.kind in ("sources", "projects"):
                res = feed.publish_base_data(args.kind[:-1], args.file)
                _out(args, res, _("{published} published, {unchanged} unchanged, {rejected} rejected").format(
                    published=res["published"], unchanged=res["unchanged"], rejected=len(res["rejected"])) + "".join(
                    "\n  " + _("row {row}, {column}: {reason}").format(**r) for r in res["rejected"]))
                return 0 if not res["rejected"] else 3
            res = feed.publish_definition(args.kind, args.file)
            _out(args, res, _("Published {kind} {id} version {version}.").format(kind=args.kind, id=res["id"],
                                                                                  version=res["version"]))
        elif args.command == "numbers":
            res = central.assign_numbers(kit_id=args.kit, agency=args.agency, doc_type=args.type, year=args.year,
                                         prefix=args.prefix, first=args.first, last=args.last)
            _out(args, res, _("Numbers {first}–{last} of {type} {year} reserved for kit {kit}.").format(
                first=res["first"], last=res["last"], type=res["doc_type"], year=res["year"], kit=res["kit_id"]))
        elif args.command == "assign":
            res = central.assign_case(agency=args.agency, title=args.title, party_name=args.party,
                                      source_id=args.source_id, party_credit_code=args.credit_code,
                                      party_address=args.address, officers=args.officer, note=args.note,
                                      case_id=args.case_id, kit_id=args.kit)
            _out(args, res, _("Assigned {title} ({id}) to agency {agency}.").format(
                title=res["title"], id=res["id"], agency=args.agency))
        elif args.command == "enrol-code":
            res = central.make_enrol_code(args.agency) | {"server_fingerprint": _signer(args, central).fingerprint()}
            _out(args, res, _("Enrolment code for agency {agency}: {code} (until {until})\n"
                              "Server fingerprint (the kit shows it when enrolling: they must match): {fp}").format(
                agency=args.agency, code=res["code"], until=res["expires_at"][:10], fp=res["server_fingerprint"]))
        elif args.command == "server-key":
            signer = _signer(args, central)
            res = {"fingerprint": signer.fingerprint(), "public_key_pem": signer.public_pem(), "file": str(signer.path)}
            _out(args, res, _("Server fingerprint: {fp}").format(fp=res["fingerprint"]))
        elif args.command == "received":
            from central.service import Push

            received = Push(central).received()
            _out(args, received, "\n".join(f"{k['kit_id']}\t{k['agency_code']}\t{k['records']}\t" + _(
                "{n} custody events").format(n=k["custody_events"]) for k in received))
        elif args.command == "access":
            from central.service import Witness

            rows = Witness(central, None).access_log(args.kit, args.action, args.limit)
            _out(args, rows, "\n".join(f"{r['at'][:19]}\t{r['kit_id'][:8]}\t{r['action']}\t{r['outcome']}\t"
                                       f"{(r.get('actor') or {}).get('cert_no') or ''}\t{r.get('target') or ''}"
                                       for r in rows))
        elif args.command == "verify":
            from central.service import Push
            from central.service.blobs_s3 import open_blob_store

            if args.storage is not None and not args.storage.startswith("s3://") and not Path(args.storage).is_dir():
                raise CentralError(_("{path}: no such directory").format(path=args.storage))
            res = Push(central).verify(open_blob_store(args.storage, args.s3_endpoint) if args.storage else None)
            if "blobs_checked" in res:
                what = _("{events} custody events, {blobs} blobs ({bytes:,} bytes) checked").format(
                    events=res["events_checked"], blobs=res["blobs_checked"], bytes=res["bytes_checked"])
            else:
                what = _("{events} custody events checked").format(events=res["events_checked"])
            verdict = _("all hold.") if res["ok"] else _("{n} problems: {problems}").format(
                n=len(res["problems"]), problems=res["problems"])
            _out(args, res, _("{what}: {verdict}").format(what=what, verdict=verdict))
            return 0 if res["ok"] else 1
        elif args.command == "kits" and args.action == "revoke":
            res = central.revoke_kit(args.kit)
            _out(args, res, _("Kit {kit} revoked: it is refused from now on.").format(kit=res["kit_id"]))
        elif args.command == "kits":
            kits = central.kits()
            _out(args, kits, "\n".join(f"{k['kit_id']}\t{k['agency_code']}\t{k['name'] or ''}"
                                       + ("\t" + _("revoked") if k["revoked"] else "") for k in kits))
        return 0
    except (CentralError, KeyFileError) as exc:
        if args.json:
            print(json.dumps({"error": str(exc)}, ensure_ascii=False))
        print(_("error: {message}").format(message=exc), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
