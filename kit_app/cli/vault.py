"""Encryption at rest from the command line: a new encrypted data dir with its first administrator,
its state, the agency's recovery key (made at the provincial office, set on each kit) and recovery
when every password is forgotten. Unlocking for the other commands: ``--unlock CERT_NO`` (or the
command's ``--officer``) with the password from ``KIT_PASSWORD`` or typed; ``--recovery-key FILE``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from kit_app.cli.common import EXIT_OK, Command, actions, emit, json_flag
from kit_app.db import Store
from kit_app.errors import UsageError
from kit_app.i18n import _
from kit_app.keyring import DataKey, Keyring, is_encrypted

PASSWORD_ENV = "KIT_PASSWORD"
NEW_PASSWORD_ENV = "KIT_NEW_PASSWORD"
PASSPHRASE_ENV = "KIT_RECOVERY_PASSPHRASE"


def password(env: str = PASSWORD_ENV, prompt: str | None = None) -> str:
    """From the environment, else typed at the terminal (never echoed); refused otherwise, so that a
    command reading its own input from stdin is never fed a password by mistake."""
    import getpass

    if got := os.environ.get(env):
        return got
    if sys.stdin.isatty():
        return getpass.getpass(prompt or _("Password: "))
    raise UsageError(_("This data directory is encrypted: give the password in {env} (or run the command at a "
                       "terminal to type it).").format(env=env))


def unlock(data_dir: Path, args: argparse.Namespace) -> DataKey | None:
    """The data key for the commands that open the data dir, or None if it is not encrypted."""
    if not is_encrypted(data_dir):
        return None
    ring = Keyring.load(data_dir)
    if args.recovery_key:
        try:
            pem = Path(args.recovery_key).read_bytes()
        except OSError as exc:
            raise UsageError(_("Cannot read the recovery key {path}: {reason}").format(
                path=args.recovery_key, reason=exc.strerror or exc)) from None
        return ring.unlock_recovery(pem, os.environ.get(PASSPHRASE_ENV))
    cert = args.unlock or getattr(args, "officer", None)
    if not cert:
        from kit_app.keyring import KitLocked

        raise KitLocked(_("The data directory {path} is encrypted: name the officer who unlocks it with --unlock "
                          "CERT_NO (the password from {env} or typed), or use --recovery-key FILE.").format(
            path=data_dir, env=PASSWORD_ENV))
    return ring.unlock(cert, password())


def cmd_init(data_dir: Path, args: argparse.Namespace) -> int:
    """A new encrypted data dir with its first administrator."""
    from kit_app.services.vault import Vault

    if not Vault(data_dir).fresh:
        raise UsageError(_("{path} already holds a data directory: nothing was changed.").format(path=data_dir))
    recovery = Path(args.recovery_public).read_text("utf-8") if args.recovery_public else None
    pw = password(prompt=_("The administrator's password: "))
    store = Vault(data_dir).create(name=args.name, cert_no=args.cert, password=pw, recovery_public_pem=recovery,
                                   agency_code=args.agency)
    try:
        ring = Keyring.load(data_dir)
        emit(args, {"data_dir": str(data_dir), "kit_id": store.kit_id, "encrypted": True,
                    "officers": ring.officers(), "recovery_key": ring.recovery()},
             lambda: print(_("Created the encrypted data directory {path}; {cert} unlocks it.").format(
                 path=data_dir, cert=args.cert)))
    finally:
        store.close()
    return EXIT_OK


def cmd_encrypt(data_dir: Path, args: argparse.Namespace) -> int:
    """Encrypt a data dir of an earlier version in place (an administrator's password)."""
    from kit_app.services.vault import Vault

    recovery = Path(args.recovery_public).read_text("utf-8") if args.recovery_public else None
    store = Vault(data_dir).encrypt_existing(args.cert, password(prompt=_("The administrator's password: ")),
                                             recovery)
    try:
        from kit_app.evidence.service import EvidenceService

        rep = EvidenceService(store).verify()
        emit(args, {"data_dir": str(data_dir), "encrypted": True, "verified": rep.ok,
                    "files_checked": rep.files_checked, "events_checked": rep.events_checked},
             lambda: print(_("Encrypted {path}: {files} originals sealed and verified; {cert} unlocks it, the other "
                             "officers at their next sign-in.").format(path=data_dir, files=rep.files_checked,
                                                                       cert=args.cert)))
    finally:
        store.close()
    return EXIT_OK


def cmd_vault(store: Store, args: argparse.Namespace) -> int:

    if args.action == "status":
        if store.key is None:
            payload: dict[str, Any] = {"encrypted": False}
        else:
            ring = Keyring.load(store.data_dir)
            payload = {"encrypted": True, "officers": ring.officers(), "recovery_key": ring.recovery()}

        def human() -> None:
            if not payload["encrypted"]:
                print(_("This data directory is NOT encrypted: a stolen laptop gives away its evidence."))
                return
            print(_("Encrypted. Unlocked by: {who}.").format(who=", ".join(payload["officers"]) or "—"))
            print(_("Recovery key: {fp}").format(fp=payload["recovery_key"] or _("NOT SET — a forgotten password "
                                                                                 "would lose the data")))

        emit(args, payload, human)
        return EXIT_OK
    if args.action == "set-recovery":
        if store.key is None:
            raise UsageError(_("This data directory is not encrypted."))
        ring = Keyring.load(store.data_dir)
        fp = ring.set_recovery(store.key, Path(args.public).read_text("utf-8"))
        ring.save()
        emit(args, {"recovery_key": fp}, lambda: print(_("Recovery key set: {fp}").format(fp=fp)))
        return EXIT_OK
    if args.action == "recover":  # unlocked with the recovery key: a new password for an officer
        from kit_app.services.admin import AdminService

        pw = password(NEW_PASSWORD_ENV, _("The officer's new password: "))
        AdminService(store).reset_password(None, args.cert, pw)
        emit(args, {"officer": args.cert, "unlocks": True},
             lambda: print(_("{cert} has a new password, which unlocks this kit.").format(cert=args.cert)))
        return EXIT_OK
    raise UsageError(args.action)  # pragma: no cover - argparse allows no other


def cmd_recovery_key(args: argparse.Namespace) -> int:
    """A new recovery key pair, made at the provincial office (no data dir involved)."""
    from kit_app.keyring import make_recovery_key
    from kit_app.storage import write_private

    passphrase = os.environ.get(PASSPHRASE_ENV) or None
    private, public = make_recovery_key(passphrase)
    out = Path(args.out)
    if out.exists():
        raise UsageError(_("{path} exists: a recovery key is never overwritten.").format(path=out))
    write_private(out, private)
    pub = out.with_suffix(".pub.pem")
    pub.write_text(public, "utf-8")
    emit(args, {"private": str(out), "public": str(pub)}, lambda: print(_(
        "Recovery key written to {private} (keep it offline, in the provincial office's safe); its public half, "
        "for the kits: {public}").format(private=out, public=pub)))
    return EXIT_OK


def add_global(p: argparse.ArgumentParser) -> None:
    p.add_argument("--unlock", metavar="CERT_NO",
                   help=_("unlock an encrypted data directory as this officer (password from {env} or typed)").format(
                       env=PASSWORD_ENV))
    p.add_argument("--recovery-key", metavar="FILE",
                   help=_("unlock an encrypted data directory with the agency's recovery key (its passphrase from "
                          "{env})").format(env=PASSPHRASE_ENV))


def add_parsers(sub: Any) -> None:
    vsub = actions(sub, "vault", _("encryption at rest: a new encrypted data directory, its state, the recovery key"))
    a = vsub.add_parser("init", help=_("create an encrypted data directory and its first administrator (password "
                                       "from {env} or typed)").format(env=PASSWORD_ENV))
    a.add_argument("--name", required=True)
    a.add_argument("--cert", required=True, help=_("enforcement certificate number (执法证号)"))
    a.add_argument("--agency", metavar="CODE")
    a.add_argument("--recovery-public", metavar="FILE", help=_("the agency's recovery key (public half, PEM)"))
    json_flag(a)
    a = vsub.add_parser("encrypt", help=_("encrypt a data directory of an earlier version in place (an "
                                          "administrator; password from {env} or typed)").format(env=PASSWORD_ENV))
    a.add_argument("--cert", required=True, help=_("the administrator's certificate number"))
    a.add_argument("--recovery-public", metavar="FILE", help=_("the agency's recovery key (public half, PEM)"))
    json_flag(a)
    a = vsub.add_parser("status", help=_("whether the data is encrypted, who unlocks it, the recovery key"))
    json_flag(a)
    a = vsub.add_parser("set-recovery", help=_("set the agency's recovery key (public half, PEM) on this kit"))
    a.add_argument("public", metavar="FILE")
    json_flag(a)
    a = vsub.add_parser("recover", help=_("after unlocking with --recovery-key: give an officer a new password "
                                          "(from {env} or typed)").format(env=NEW_PASSWORD_ENV))
    a.add_argument("--cert", required=True)
    json_flag(a)
    a = vsub.add_parser("recovery-key", help=_("make a new recovery key pair (at the provincial office; its "
                                               "passphrase from {env})").format(env=PASSPHRASE_ENV))
    a.add_argument("--out", required=True, metavar="FILE")
    json_flag(a)


COMMANDS: dict[str, Command] = {"vault": cmd_vault}
