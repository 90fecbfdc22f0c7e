"""What the simulators share: their pseudo-terminal, and ending with the program that started them."""

from __future__ import annotations

import os
import sys
import tty


def open_pty() -> tuple[int, int, str]:
    master, slave = os.openpty()
    tty.setraw(slave)
    tty.setraw(master)
    return master, slave, os.ttyname(slave)


def exit_at_eof() -> None:
    sys.stdin.buffer.read()  # returns once every writer of the pipe is gone
    os._exit(0)  # the pseudo-terminal goes with the process
