"""What the kit does when its storage says no: a full disk, a read-only store, a source that fails
mid-read. Each is an ordinary, named condition with what to do next — never an internal error —
and none of them ever leaves half an original behind."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from kit_app.errors import KitError
from kit_app.i18n import _

# Kept free for the database and the custody log: an import or recording that would eat into it
# is refused before it starts.
RESERVE = 16 * 1024 * 1024


def human(n: int) -> str:
    """1.2 MB, 340 KB, 2.1 GB — sizes as an officer reads them."""
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


class DiskFull(KitError):
    """The disk holding the data dir has no room for what was asked."""

    def __init__(self, where: Path | None, needed: int | None = None, free: int | None = None) -> None:
        self.where, self.needed, self.free = where, needed, free
        if needed is not None and free is not None:
            msg = _("The disk holding the data directory is full: {needed} are needed, {free} are free ({where}). "
                    "Free some space (move videos off this laptop) or use a larger drive, then try again; "
                    "nothing was half-written.").format(needed=human(needed), free=human(free), where=where)
        else:
            msg = _("The disk holding the data directory is full ({where}). Free some space (move videos off this "
                    "laptop) or use a larger drive, then try again; nothing was half-written.").format(
                where=where or _("the data directory"))
        super().__init__(msg)


class ReadOnlyStore(KitError):
    """The data dir can be read, not written (a write-protected drive, an archived kit image)."""

    def __init__(self, where: Path | None) -> None:
        self.where = where
        super().__init__(_("The data directory {where} is read-only: it can be browsed and verified, not changed. "
                           "Open a writable copy to change it.").format(where=where or ""))


class SourceReadError(KitError):
    """A file being imported could not be read to its end."""

    def __init__(self, path: Path, offset: int, reason: str) -> None:
        self.path, self.offset = path, offset
        super().__init__(_("cannot read {path} at byte {offset:,}: {reason} (was the card removed, or is a sector "
                           "unreadable?); nothing of it was kept").format(path=path, offset=offset, reason=reason))


def free_bytes(path: Path) -> int:
    """Free space for an unprivileged writer on the file system holding ``path``."""
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return shutil.disk_usage(p).free


def require_space(where: Path, needed: int) -> None:
    """Refuse before starting what the disk visibly cannot hold (keeping RESERVE free)."""
    free = free_bytes(where)
    if needed + RESERVE > free:
        raise DiskFull(where, needed + RESERVE, free)


def is_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()
    return "database or disk is full" in text or "no space left on device" in text


def is_read_only(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno == errno.EROFS:
        return True
    text = str(exc).lower()
    return "readonly database" in text or "read-only file system" in text


def explain(exc: BaseException, where: Path | None = None) -> KitError | None:
    """The named condition behind an OS or database error, if it is one."""
    if is_full(exc):
        return DiskFull(where)
    if is_read_only(exc):
        return ReadOnlyStore(where)
    return None


def write_all(fd: int, data: bytes | memoryview) -> None:
    """Write every byte or raise: ``os.write`` may write fewer bytes than asked (a full disk)."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[n:]


def is_read_only_dir(path: Path) -> bool:
    """A data dir that cannot be written: its mount is read-only, or this user may not write it."""
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return True
    except (OSError, AttributeError):  # no statvfs (Windows): the access check decides
        pass
    return not os.access(path, os.W_OK)


def write_private(path: Path, data: bytes) -> None:
    """Write a secret atomically (a crash leaves the old file or the new one), readable by this
    user only, in a directory that is this user's only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
