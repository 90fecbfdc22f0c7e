"""Real, small file systems for storage-fault tests: a tmpfs of a given size (filled to the byte),
remounted read-only; a loop-mounted ext4 whose device shrinks under an open file (a card pulled
out mid-read). Mounting needs root (CI runs as root); elsewhere the tests say why they skip."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, text=True)


def can_mount() -> str | None:
    """None if mounting works here, else why not."""
    if os.name != "posix" or not hasattr(os, "geteuid"):
        return "mounting file systems is a POSIX test"
    if os.geteuid() != 0:
        return "mounting a small file system needs root (CI runs as root)"
    if shutil.which("mount") is None:
        return "no mount command"
    return None


@contextmanager
def tmpfs(where: Path, size: int) -> Iterator[Path]:
    """A tmpfs of ``size`` bytes mounted at ``where``."""
    if (why := can_mount()) is not None:
        pytest.skip(why)
    where.mkdir(parents=True, exist_ok=True)
    try:
        _run("mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where))
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def remount_read_only(where: Path) -> None:
    _run("mount", "-o", "remount,ro", str(where))


def remount_read_write(where: Path) -> None:
    _run("mount", "-o", "remount,rw", str(where))


def free(where: Path) -> int:
    return shutil.disk_usage(where).free


def fill(where: Path, leave: int, name: str = "filler.bin") -> Path:
    """Fill the file system holding ``where`` until ``leave`` bytes are free (as near as its
    block size allows: a tmpfs counts in pages)."""
    path = where / name
    with path.open("ab") as fh:
        block = b"\0" * (1024 * 1024)
        while (room := free(where) - leave) > 0:
            try:
                fh.write(block[:min(len(block), room)])
                fh.flush()
            except OSError:
                break
    return path


@contextmanager
def pullable(where: Path, image: Path, size: int = 32 * 1024 * 1024) -> Iterator[tuple[Path, Callable[[], None]]]:
    """An ext4 on a loop device mounted at ``where``; ``pull()`` shrinks the device to 2 MB under
    the mounted file system, as a card pulled out: reads beyond that fail with EIO."""
    if (why := can_mount()) is not None:
        pytest.skip(why)
    if shutil.which("losetup") is None or shutil.which("mkfs.ext4") is None:
        pytest.skip("losetup and mkfs.ext4 are needed to make a pullable file system")
    with image.open("wb") as fh:
        fh.truncate(size)
    try:
        _run("mkfs.ext4", "-q", "-F", str(image))
        dev = subprocess.run(["losetup", "-f", "--show", str(image)], check=True, capture_output=True,
                             text=True).stdout.strip()
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"cannot make a loop device here: {exc.stderr.strip()}")
    where.mkdir(parents=True, exist_ok=True)
    try:
        _run("mount", dev, str(where))

        def pull() -> None:
            os.truncate(image, 2 * 1024 * 1024)
            _run("losetup", "-c", dev)

        yield where, pull
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)
        subprocess.run(["losetup", "-d", dev], capture_output=True)

