"""The ``kit-app`` command line. Sub-commands are headless; with ``--json`` they print
machine-readable JSON on stdout. Exit codes: 0 ok, 1 failure, 2 usage error, 3 partial success.

Without a sub-command the launcher (``ui.launcher``) starts the desktop application.

The command line is the kit's local administration channel: it runs with the rights of whoever
can open the data dir. Commands that act for an officer take ``--officer ID_OR_CERT_NO`` and are
then held to that officer's roles.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Sequence

from kit_app import __version__
from kit_app.cli import admin, basedata, cases, devices, documents, evidence, field, inspections, logger, sync, vault
from kit_app.cli.common import EXIT_FAIL, EXIT_USAGE, ArgumentParser, Command, fail
from kit_app.config import setup_logging
from kit_app.db import open_store
from kit_app.errors import KitError
from kit_app.i18n import _, set_language
from kit_app.settings import resolve_data_dir

log = logging.getLogger("kit_app.cli")

# the command groups, in the order of the help
GROUPS = (basedata, admin, cases, inspections, evidence, devices, logger, documents, sync, field, vault)
COMMANDS: dict[str, Command] = {k: v for g in GROUPS for k, v in g.COMMANDS.items()}


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="kit-app",
        description=_("Enforcement Evidence Kit — environmental enforcement evidence workstation."),
    )
    p.add_argument("--version", action="version", version=f"kit-app {__version__}")
    p.add_argument("--data-dir", metavar="DIR", help=_("data directory (default: $KIT_DATA_DIR or the user data dir)"))
    p.add_argument("--lang", choices=("zh_CN", "en"), help=_("language of messages (default zh_CN)"))
    p.add_argument("--demo", action="store_true", help=_("use the demo data directory with generated base data"))
    p.add_argument("-v", "--verbose", action="store_true", help=_("log details to stderr"))
    p.add_argument("--self-test", action="store_true",
                   help=_("check this installation (a temporary store, a photo, a document, an instrument, the "
                          "custody chain) and exit"))
    vault.add_global(p)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)

    for g in GROUPS:
        g.add_parsers(sub)
    return p


def _record_refusal(store: object, args: argparse.Namespace, exc: KitError) -> None:
    from kit_app.cli.common import acting_officer
    from kit_app.services.audit import is_refusal, record_refusal

    if not is_refusal(exc):
        return
    try:
        actor = acting_officer(store, args)  # type: ignore[arg-type]
    except KitError:
        actor = None
    try:
        record_refusal(store, actor, exc, _("on the command line"))  # type: ignore[arg-type]
    except Exception:  # a full or read-only disk: the refusal still reaches the officer
        log.warning("could not record a refused action in the access log", exc_info=True)


def _reader_gone() -> int:
    """Whoever read our output stopped (``kit-app … | head``): that is not an error — no traceback, no
    log entry; what is still buffered goes nowhere instead of failing again at exit."""
    with contextlib.suppress(OSError, ValueError):  # no real stdout (embedded, tests): nothing to silence
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def main(
    argv: Sequence[str] | None = None,
    gui: Callable[[argparse.Namespace], int] | None = None,
) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    # the language must be set before the parser builds its (translated) help
    for i, a in enumerate(raw):
        if a == "--lang" and i + 1 < len(raw):
            set_language(raw[i + 1])
        elif a.startswith("--lang="):
            set_language(a.split("=", 1)[1])
    parser = build_parser()
    args = parser.parse_args(raw)
    if args.self_test:  # nothing of the officer's data is opened
        from kit_app.cli import selftest

        try:
            return selftest.run()
        except BrokenPipeError:
            return _reader_gone()
    if args.command is None:
        if gui is None:
            parser.print_usage(sys.stderr)
            return fail(None, _("a command is needed (the desktop application is started by kit-app)"), EXIT_USAGE)
        return gui(args)
    try:  # commands that need no data dir (or no database)
        if args.command in ("hj212", "nmea"):
            return devices.cmd_decode(args)
        if args.command == "render":
            return documents.cmd_render(args)
        if args.command == "devices" and args.action == "read":
            return devices.cmd_devices_read(args)
        if args.command == "logger" and args.action == "read":
            if bool(args.case) != bool(args.officer):
                return fail(args, _("--case and --officer go together: the officer who reads the logger for the "
                                    "case"), EXIT_USAGE)
            if not args.case:
                return logger.cmd_logger_read(args)
        if args.command == "vault" and args.action == "recovery-key":
            return vault.cmd_recovery_key(args)
        if args.command == "vault" and args.action in ("init", "encrypt"):
            data_dir = resolve_data_dir(args.data_dir, demo=args.demo)
            setup_logging(data_dir, args.verbose)
            return (vault.cmd_init if args.action == "init" else vault.cmd_encrypt)(data_dir, args)
        if args.command == "devices" and args.action in ("list", "add", "remove"):
            data_dir = resolve_data_dir(args.data_dir, demo=args.demo)
            setup_logging(data_dir, args.verbose)
            return devices.cmd_devices_config(data_dir, args)
    except KitError as exc:  # every error an officer can act on, whatever raised it
        return fail(args, str(exc), exc.exit_code)
    except ValueError as exc:  # a value the device's settings refuse
        return fail(args, str(exc), EXIT_FAIL)
    except BrokenPipeError:
        return _reader_gone()
    data_dir = resolve_data_dir(args.data_dir, demo=args.demo)
    setup_logging(data_dir, args.verbose)
    store = None
    try:
        store = open_store(data_dir, key=vault.unlock(data_dir, args))
        return COMMANDS[args.command](store, args)
    except KitError as exc:
        if store is not None:
            _record_refusal(store, args, exc)
        return fail(args, str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return fail(args, _("interrupted"), EXIT_FAIL)
    except BrokenPipeError:
        return _reader_gone()
    except Exception as exc:  # a full or read-only disk is named; anything else is a bug
        from kit_app.storage import DiskFull, explain

        if (named := explain(exc, data_dir)) is not None:
            if store is not None and store.full:  # opened read-only because the disk is full
                named = DiskFull(data_dir)
            return fail(args, str(named), named.exit_code)
        log.exception("unexpected error in %s", args.command)
        return fail(
            args,
            _("internal error ({kind}); details are in {log}").format(
                kind=type(exc).__name__, log=data_dir / "logs" / "kit.log"
            ),
            EXIT_FAIL,
        )
    finally:
        if store is not None:
            store.close()

