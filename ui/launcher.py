"""The ``kit-app`` entry point: headless sub-commands go to the core CLI; no sub-command starts
the desktop application. Qt is imported only in the second case, so headless commands start fast
and run on machines without a display.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from kit_app.cli import main as cli_main


def _start_gui(args: argparse.Namespace) -> int:
    from ui.app import run

    return run(args)


def main(argv: Sequence[str] | None = None) -> int:
    if os.name == "posix":
        os.umask(0o077)  # whatever the kit writes (evidence, keys, the database) is this user's alone
    return cli_main(argv, gui=_start_gui)


if __name__ == "__main__":
    sys.exit(main())
