"""Content-addressed storage of original files.

``evidence/objects/ab/abcdef…`` holds the file whose SHA-256 is ``abcdef…``. An original is
streamed to ``evidence/tmp`` while it is hashed, fsynced, renamed into place (atomic on one file
system), its directory fsynced, and made read-only. It is never written again. Derived files
(thumbnails) live apart under ``evidence/derived``. Writers hold an exclusive lock, and recovery —
run under the same lock — removes temporary files and blobs no evidence item refers to (what a
crash between the rename and the database commit leaves behind).
"""

from __future__ import annotations

import hashlib
import os
import queue
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from kit_app import filelock
from kit_app.evidence.sealed import SealBroken, SealedReader, SealWriter, plain_size, seal_file, unseal_to
from kit_app.i18n import _
from kit_app.ids import new_id
from kit_app.storage import DiskFull, SourceReadError, free_bytes, is_full, write_all

if TYPE_CHECKING:
    from kit_app.keyring import DataKey

CHUNK = 4 * 1024 * 1024


class _Hasher:
    """SHA-256 of a stream of chunks, computed on a helper thread."""

    def __init__(self) -> None:
        self._h = hashlib.sha256()
        self._q: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._t = threading.Thread(target=self._run, name="kit-hash", daemon=True)

    def _run(self) -> None:
        while (chunk := self._q.get()) is not None:
            self._h.update(chunk)

    def __enter__(self) -> _Hasher:
        self._t.start()
        return self

    def feed(self, chunk: bytes) -> None:
        self._q.put(chunk)

    def __exit__(self, *exc: object) -> None:
        self._q.put(None)
        self._t.join()

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def _fsync_dir(path: Path) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync on Windows; NTFS journals renames
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_file(path: Path, progress: Callable[[int], None] | None = None) -> str:
    """SHA-256 of a file, streamed (a 4 GB video never sits in memory)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
            if progress:
                progress(len(chunk))
    return h.hexdigest()


class BlobPath:
    """An original of an encrypted data dir as the readers that only open and read a file see it
    (EXIF, raw previews, pictures): ``open("rb")`` decrypts as it reads. Libraries that need a real
    file (video decoding) get ``BlobStore.plain`` instead."""

    def __init__(self, blobs: BlobStore, sha256: str) -> None:
        self.blobs, self.sha256 = blobs, sha256
        self.name = sha256
        self.suffix = ""

    def open(self, mode: str = "rb") -> BinaryIO:
        assert mode == "rb", "an original is never written again"
        return self.blobs.open(self.sha256)

    def read_bytes(self) -> bytes:
        return self.blobs.read_bytes(self.sha256)

    def exists(self) -> bool:
        return self.blobs.path_for(self.sha256).exists()

    def __str__(self) -> str:
        return f"original {self.sha256[:12]}"


class BlobStore:
    """With the kit's data key (an encrypted data dir), every original and thumbnail is sealed
    (``kit_app.evidence.sealed``) and named by a keyed hash of its SHA-256; readers use ``open``,
    ``read_bytes`` and, where a library needs a file, ``plain`` (a decrypted copy kept under
    ``tmp/plain`` while the application runs, removed at the next start or ``forget_plain``)."""

    def __init__(self, data_dir: Path, key: DataKey | None = None) -> None:
        self.root = data_dir / "evidence"
        self.objects = self.root / "objects"
        self.tmp = self.root / "tmp"
        self.derived = self.root / "derived"
        self.key = key
        self._dirty: set[Path] = set()

    def _dirs(self) -> None:
        """Made when first written (a read-only store is only ever read)."""
        for d in (self.objects, self.tmp, self.derived):
            d.mkdir(parents=True, exist_ok=True)

    def scratch(self) -> Path:
        """The directory where a kit-made original (a still, a clip, readings, a PDF) is written
        before it is stored: on the same file system, so storing it is a rename."""
        self._dirs()
        return self.tmp

    def _name(self, sha256: str) -> str:
        return self.key.name(sha256) if self.key is not None else sha256

    def path_for(self, sha256: str) -> Path:
        """Where the original is stored (sealed, in an encrypted data dir: read it with ``open``)."""
        name = self._name(sha256)
        return self.objects / name[:2] / name

    def thumb_path(self, sha256: str) -> Path:
        """Where the thumbnail is stored (sealed in an encrypted data dir: ``thumb_bytes``)."""
        name = self._name(sha256)
        return self.derived / "thumbs" / name[:2] / f"{name}.jpg"

    # ------------------------------------------------------------ reading
    def open(self, sha256: str) -> BinaryIO:
        """The original's bytes as a binary file (decrypted as it is read)."""
        path = self.path_for(sha256)
        if self.key is None:
            return path.open("rb")
        return SealedReader(path, self.key.blob_key)  # type: ignore[return-value]

    def read_bytes(self, sha256: str) -> bytes:
        with self.open(sha256) as fh:
            return fh.read()

    def plain(self, sha256: str) -> Path:
        """A path holding the original's plaintext, for what can only read files (image and video
        libraries, the system's viewer): the stored file itself, or a decrypted copy."""
        if self.key is None:
            return self.path_for(sha256)
        dest = self.tmp / "plain" / self._name(sha256)
        if not dest.exists():
            unseal_to(self.key.blob_key, self.path_for(sha256), dest)
        return dest

    def source(self, sha256: str) -> Path:
        """What readers that only open and read the original are given: its file, or (encrypted)
        a BlobPath that decrypts as it is read."""
        if self.key is None:
            return self.path_for(sha256)
        return BlobPath(self, sha256)  # type: ignore[return-value]  # a Path as far as those readers go

    def drop_plain(self, sha256: str) -> None:
        """Remove the decrypted copy of one original, if one was made."""
        if self.key is not None:
            (self.tmp / "plain" / self._name(sha256)).unlink(missing_ok=True)

    def forget_plain(self) -> None:
        """Remove the decrypted copies (the application closes)."""
        d = self.tmp / "plain"
        if d.exists():
            for f in d.iterdir():
                f.unlink(missing_ok=True)

    def thumb_bytes(self, sha256: str) -> bytes | None:
        p = self.thumb_path(sha256)
        if not p.exists():
            return None
        if self.key is None:
            return p.read_bytes()
        try:
            with SealedReader(p, self.key.blob_key) as fh:
                return fh.read()
        except SealBroken:
            return None

    def store_thumb(self, sha256: str, made: Path) -> None:
        """Keep a thumbnail made at ``made`` (sealed in an encrypted data dir)."""
        dest = self.thumb_path(sha256)
        if self.key is None:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(made, dest)
            return
        try:
            seal_file(self.key.blob_key, made, dest)
        finally:
            made.unlink(missing_ok=True)

    def thumb_target(self, sha256: str) -> Path:
        """Where to make a thumbnail: its place, or a scratch file that ``store_thumb`` seals."""
        if self.key is None:
            return self.thumb_path(sha256)
        self._dirs()
        return self.tmp / f"{new_id()}.thumb.jpg"

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the writer lock (ingest, recovery)."""
        self._dirs()
        with filelock.exclusive(self.root / ".writer.lock"):
            self._ensure_ballast()
            yield

    # ------------------------------------------------------------ the ballast
    # A few megabytes kept allocated so that, when something else fills the disk in the middle of
    # an import, the database can still record what was stored before: the ballast is given up
    # for the commit, and made again once there is room.
    BALLAST = 8 * 1024 * 1024

    @property
    def _ballast(self) -> Path:
        return self.root / ".ballast"

    def _ensure_ballast(self) -> None:
        if self._ballast.exists() or free_bytes(self.root) < 4 * self.BALLAST:
            return
        tmp = self.root / ".ballast.part"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                write_all(fd, b"\0" * self.BALLAST)  # written, not sparse: the blocks are really taken
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self._ballast)
        except OSError:
            tmp.unlink(missing_ok=True)

    def release_ballast(self) -> bool:
        """Give the ballast's room to the database; False if there was none to give."""
        try:
            self._ballast.unlink()
        except FileNotFoundError:
            return False
        return True

    def put(self, src: Path, progress: Callable[[int], None] | None = None) -> tuple[str, int, bool]:
        """Store ``src``; return (sha256, size, newly stored). Call under ``writing()``, and
        ``sync()`` before committing anything that refers to the blob.

        The copy and the hash run side by side: hashing happens on a helper thread (hashlib
        releases the GIL) while this thread writes, so storing costs little more than reading.
        Nothing is stored unless every byte reached the disk: each write is completed (a full disk
        writes short), the stored size is checked against the size read and against the source's
        size when the copy began, and a failed fsync fails the file. A full disk raises DiskFull, a
        source that fails mid-read SourceReadError; either way nothing of the file is kept.
        """
        self._dirs()
        tmp = self.tmp / f"{new_id()}.part"
        size = 0
        fd = -1
        try:
            with src.open("rb") as fin:
                expected = os.fstat(fin.fileno()).st_size
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
                seal = SealWriter(self.key.blob_key, lambda b: write_all(fd, b)) if self.key is not None else None
                with _Hasher() as h:
                    while True:
                        try:
                            chunk = fin.read(CHUNK)
                        except OSError as exc:
                            raise SourceReadError(src, size, exc.strerror or str(exc)) from exc
                        if not chunk:
                            break
                        h.feed(chunk)
                        try:
                            if seal is not None:
                                seal.write(chunk)
                            else:
                                write_all(fd, chunk)
                        except OSError as exc:
                            if is_full(exc):
                                raise DiskFull(self.root, expected - size, free_bytes(self.root)) from exc
                            raise
                        size += len(chunk)
                        if progress:
                            progress(len(chunk))
                sha = h.hexdigest()
                try:
                    if seal is not None:
                        seal.close()
                    os.fsync(fd)  # an error here means the bytes may not be on the disk: the file fails
                except OSError as exc:
                    if is_full(exc):
                        raise DiskFull(self.root, expected, free_bytes(self.root)) from exc
                    raise
                stored = os.fstat(fd).st_size
                if seal is not None:
                    stored = plain_size(stored)
                os.close(fd)
                fd = -1
            if size != expected:
                raise SourceReadError(src, size, _("the file ended before its {size:,} bytes (it changed or was cut "
                                                   "short while being read)").format(size=expected))
            if stored != size:
                raise DiskFull(self.root, size - stored, free_bytes(self.root))
            dest = self.path_for(sha)
            if dest.exists():
                tmp.unlink()
                return sha, size, False
            dest.parent.mkdir(exist_ok=True)
            os.chmod(tmp, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            os.replace(tmp, dest)
            self._dirty.add(dest.parent)
            return sha, size, True
        except BaseException:
            if fd >= 0:
                os.close(fd)
            tmp.unlink(missing_ok=True)
            raise

    def remove_new(self, sha256: str) -> None:
        """Remove a blob stored by this writer that nothing will refer to (its row was not
        committed: the disk filled up). Call under ``writing()``."""
        p = self.path_for(sha256)
        if p.exists():
            os.chmod(p, stat.S_IWUSR | stat.S_IRUSR)
            p.unlink(missing_ok=True)

    def clear_derived(self) -> int:
        """Remove thumbnails and other derived files (all can be made again); returns bytes freed.
        They are the first to give way when an original needs the room."""
        freed = 0
        if self.derived.exists():
            for f in self.derived.rglob("*"):
                if f.is_file():
                    freed += f.stat().st_size
                    f.unlink(missing_ok=True)
        return freed

    def sync(self) -> None:
        """Make the renames of the blobs stored since the last call durable (one fsync a folder)."""
        for d in self._dirty:
            _fsync_dir(d)
        self._dirty.clear()

    def check(self, sha256: str) -> str:
        """'ok', 'missing' or 'modified' (the content no longer hashes to its name, or a sealed
        file no longer opens with the kit's key)."""
        p = self.path_for(sha256)
        if not p.exists():
            return "missing"
        if self.key is None:
            return "ok" if sha256_file(p) == sha256 else "modified"
        h = hashlib.sha256()
        try:
            with self.open(sha256) as fh:
                while chunk := fh.read(CHUNK):
                    h.update(chunk)
        except SealBroken:
            return "modified"
        return "ok" if h.hexdigest() == sha256 else "modified"

    def all_blobs(self) -> Iterable[str]:
        if not self.objects.exists():
            return
        for sub in self.objects.iterdir():
            if sub.is_dir():
                for f in sub.iterdir():
                    yield f.name

    def recover(self, referenced: set[str]) -> dict[str, int]:
        """Remove temporary files and unreferenced blobs. Call under ``writing()``."""
        tmp_removed = 0
        self._dirs()
        for f in self.tmp.iterdir():
            if f.is_dir():  # decrypted copies of a run that ended without removing them
                for g in f.iterdir():
                    g.unlink(missing_ok=True)
                continue
            f.unlink(missing_ok=True)
            tmp_removed += 1
        orphans = 0
        names = {self._name(sha) for sha in referenced}
        for name in list(self.all_blobs()):
            if name not in names:
                p = self.objects / name[:2] / name
                os.chmod(p, stat.S_IWUSR | stat.S_IRUSR)
                p.unlink(missing_ok=True)
                orphans += 1
        return {"temporary_files": tmp_removed, "orphan_blobs": orphans}
