"""What every command group shares: the parser class, flags, output, exit codes."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from kit_app.db import Store
from kit_app.dto import OfficerInfo, to_json
from kit_app.i18n import _

# A command: the open store and the parsed arguments in, the exit code out.
Command = Callable[[Store, argparse.Namespace], int]

log = logging.getLogger("kit_app.cli")

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, _("{prog}: error: {message}\n").format(prog=self.prog, message=message))


def json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help=_("print machine-readable JSON on stdout"))


def officer_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--officer",
        metavar="ID_OR_CERT_NO",
        help=_("act as this officer (their roles apply)"),
    )


def emit(args: argparse.Namespace, payload: Any, human: Callable[[], object]) -> None:
    if getattr(args, "json", False):
        json.dump(to_json(payload), sys.stdout, ensure_ascii=False, indent=None)
        sys.stdout.write("\n")
    else:
        human()


def acting_officer(store: Store, args: argparse.Namespace) -> OfficerInfo | None:
    from kit_app.services.officers import OfficerService

    ref = getattr(args, "officer", None)
    return OfficerService(store).get(ref) if ref else None


def fail(args: argparse.Namespace | None, message: str, code: int) -> int:
    if args is not None and getattr(args, "json", False):
        json.dump({"error": message}, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    print(_("error: {message}").format(message=message), file=sys.stderr)
    return code


def evidence_service(store: Store):  # type: ignore[no-untyped-def]
    from kit_app.evidence.service import EvidenceService

    return EvidenceService(store)


def actions(sub: Any, name: str, help: str) -> Any:
    """A command with actions (``kit-app NAME ACTION …``): its sub-parsers, ``args.action`` set."""
    parser = sub.add_parser(name, help=help)
    return parser.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=ArgumentParser)


def read_password(confirm: bool = False) -> str:
    """A password from the terminal (not echoed), else the first line of stdin."""
    import getpass

    from kit_app.errors import UsageError

    if sys.stdin.isatty():
        pw = getpass.getpass(_("Password: "))
        if confirm and getpass.getpass(_("Repeat the password: ")) != pw:
            raise UsageError(_("The two passwords differ."))
        return pw
    return sys.stdin.readline().rstrip("\r\n")
