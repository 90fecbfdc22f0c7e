"""Originals uploaded by kits: resumable, checked, within each kit's quota."""

from __future__ import annotations

import abc
import contextlib
import hashlib
import logging
import os
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import update

from central.db import (
    Kit,
)
from central.service.common import CentralError, valid_sha256, valid_uuid
from central.signing import Signer
from kit_app.i18n import _
from kit_app.storage import is_full, write_all

if TYPE_CHECKING:
    from central.service.admin import Central


# ---------------------------------------------------------------- evidence blobs
CHUNK_LIMIT = 16 * 1024 * 1024


KIT_QUOTA = int(os.environ.get("KIT_CENTRAL_KIT_QUOTA_GB") or 500) * 1024**3  # originals a kit may store


PART_LIFETIME = timedelta(days=7)  # an upload left unfinished this long is removed


class BlobBackend(abc.ABC):
    """What every evidence store shares — the proof-of-possession challenge, the kit's quota, the
    accounting, checking a proof and verifying every blob — over what each store implements:
    ``has``, ``size``, ``read``, ``offset``, ``in_progress``, ``append``, ``finish``,
    ``put_many``, ``expire`` and ``names``. A receipt is signed only after ``finish`` or
    ``put_many`` said the bytes are held whole, checked against their SHA-256, and durable."""

    @abc.abstractmethod
    def has(self, sha: str) -> bool:
        """Whether the blob is stored."""

    @abc.abstractmethod
    def size(self, sha: str) -> int | None:
        """The stored blob's size, or None if it is not held."""

    @abc.abstractmethod
    def read(self, sha: str) -> Iterator[bytes]:
        """The stored blob's bytes, in blocks."""

    @abc.abstractmethod
    def names(self) -> Iterator[str]:
        """The SHA-256 of every stored blob."""

    @abc.abstractmethod
    def in_progress(self, kit_id: str) -> int:
        """The bytes of the kit's unfinished uploads."""

    @abc.abstractmethod
    def offset(self, kit_id: str, sha: str) -> int:
        """How many bytes of the kit's upload of ``sha`` are held."""

    @abc.abstractmethod
    def append(self, kit_id: str, sha: str, offset: int, chunks: Any, size: int | None = None) -> int:
        """Append a chunk at ``offset`` (what is held); the new size."""

    @abc.abstractmethod
    def finish(self, central: Central | None, kit_id: str, sha: str, size: int) -> bool:
        """Check a complete upload's SHA-256 and keep it; False (and the upload dropped) if wrong."""

    @abc.abstractmethod
    def put_many(self, items: list[tuple[str, bytes]], central: Central | None = None,
                 kit_id: str | None = None) -> list[str | None]:
        """Store small blobs whole; per blob None (kept) or what was wrong."""

    @abc.abstractmethod
    def expire(self, older_than: timedelta = PART_LIFETIME) -> int:
        """Remove uploads left unfinished for longer than ``older_than``; how many."""

    @staticmethod
    def _new_whole(items: list[tuple[str, bytes]], has: Any) -> tuple[list[str | None], list[tuple[str, bytes]]]:
        """Of a bundle: per blob None (its bytes hash to its name) or what is wrong, and the blobs
        to write — each once, and only those the store does not hold yet."""
        results: list[str | None] = []
        new: list[tuple[str, bytes]] = []
        seen: set[str] = set()
        for sha, data in items:
            if hashlib.sha256(data).hexdigest() != valid_sha256(sha):
                results.append(f"the bytes sent do not have the SHA-256 {sha}")
                continue
            results.append(None)
            if sha not in seen and not has(sha):
                new.append((sha, data))
            seen.add(sha)
        return results, new

    # ------------------------------------------------------------ proof of possession
    @staticmethod
    def challenge(signer: Signer, kit_id: str, sha: str, hour: int | None = None) -> str:
        """A nonce for this kit and file, valid for this hour and the next (no state kept)."""
        import hmac
        import time

        hour = int(time.time() // 3600) if hour is None else hour
        key = hashlib.sha256(b"blob-challenge" + signer.key.private_bytes_raw()).digest()
        return hmac.new(key, f"{kit_id}:{sha}:{hour}".encode(), hashlib.sha256).hexdigest()

    def check_proof(self, signer: Signer, kit_id: str, sha: str, challenge: str, proof: str, size: int) -> bool:
        """Whether the server holds the file and the kit proved it holds it too: ``proof`` is the
        SHA-256 of the challenge's bytes followed by the file's. A kit without the bytes learns
        nothing, not even whether the server has the file."""
        import hmac
        import time

        now = int(time.time() // 3600)
        if not any(hmac.compare_digest(challenge, self.challenge(signer, kit_id, sha, h)) for h in (now, now - 1)):
            return False
        if self.size(valid_sha256(sha)) != size:
            return False
        h = hashlib.sha256(bytes.fromhex(challenge))
        for block in self.read(sha):
            h.update(block)
        return hmac.compare_digest(h.hexdigest(), proof)

    # ------------------------------------------------------------ quota
    def check_quota(self, central: Central, kit_id: str, adding: int) -> None:
        """A kit stores at most KIT_QUOTA bytes of originals (its unfinished uploads count)."""
        parts = self.in_progress(valid_uuid(kit_id))
        with central.sessions() as s:
            kit = s.get(Kit, kit_id)
            stored = kit.stored_bytes if kit is not None else 0
        if stored + parts + adding > KIT_QUOTA:
            raise CentralError(_("this kit's storage quota ({gb} GB) is used up: ask the administrator").format(
                gb=KIT_QUOTA // 1024**3), 413)

    @staticmethod
    def _account(central: Central, kit_id: str, n: int) -> None:
        if n:
            with central.sessions.begin() as s:
                s.execute(update(Kit).where(Kit.id == kit_id).values(stored_bytes=Kit.stored_bytes + n))

    def verify(self) -> dict[str, Any]:
        """Recompute every stored blob's SHA-256 (it names the blob)."""
        checked, bad, size = 0, [], 0
        for name in sorted(self.names()):
            h = hashlib.sha256()
            for block in self.read(name):
                h.update(block)
                size += len(block)
            checked += 1
            if h.hexdigest() != name:
                bad.append({"sha256": name, "problem": f"its content hashes to {h.hexdigest()}"})
        return {"blobs_checked": checked, "bytes_checked": size, "problems": bad}


class BlobStore(BlobBackend):
    """Evidence originals on the server's filesystem, content-addressed like the kit's
    (``objects/ab/<sha256>``); uploads in progress live in ``incoming/<kit>/<sha256>.part``.
    Every path is built from validated components and checked to stay under the root."""

    def __init__(self, root: Path) -> None:
        (root / "objects").mkdir(parents=True, exist_ok=True)
        (root / "incoming").mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()

    def __str__(self) -> str:
        return str(self.root)

    def _inside(self, *parts: str) -> Path:
        """A path under the store's root from validated components (an identifier never becomes a
        path unchecked), and checked to stay there (lexically: no component may be '..' or
        absolute; the store's own directories are not links)."""
        if any(not p or p in (".", "..") or "/" in p or "\\" in p or "\x00" in p for p in parts):
            raise CentralError(_("refused: a path outside the evidence store"), 422)
        return self.root.joinpath(*parts)

    def path(self, sha: str) -> Path:
        return self._inside("objects", valid_sha256(sha)[:2], sha)

    def _part(self, kit_id: str, sha: str) -> Path:
        d = self._inside("incoming", valid_uuid(kit_id))
        d.mkdir(parents=True, exist_ok=True)
        return self._inside("incoming", kit_id, f"{valid_sha256(sha)}.part")

    def has(self, sha: str) -> bool:
        return self.path(sha).exists()

    def size(self, sha: str) -> int | None:
        p = self.path(sha)
        return p.stat().st_size if p.exists() else None

    def read(self, sha: str) -> Iterator[bytes]:
        with self.path(sha).open("rb") as fh:
            yield from iter(lambda: fh.read(1 << 20), b"")

    def names(self) -> Iterator[str]:
        return (p.name for p in (self.root / "objects").glob("*/*"))

    def offset(self, kit_id: str, sha: str) -> int:
        p = self._part(kit_id, sha)
        return p.stat().st_size if p.exists() else 0

    def in_progress(self, kit_id: str) -> int:
        d = self._inside("incoming", valid_uuid(kit_id))
        return sum(f.stat().st_size for f in d.glob("*.part")) if d.exists() else 0

    # ------------------------------------------------------------ writing
    def append(self, kit_id: str, sha: str, offset: int, chunks: Any, size: int | None = None) -> int:
        """Append a chunk stream at ``offset`` (must equal what is held); returns the new size."""
        p = self._part(kit_id, sha)
        have = p.stat().st_size if p.exists() else 0
        if offset != have:
            raise CentralError(_("the upload of {sha} continues at byte {have}, not {offset}").format(
                sha=sha[:12], have=have, offset=offset), 409)
        n = 0
        with p.open("ab") as fh:
            try:
                for chunk in chunks:
                    n += len(chunk)
                    if n > CHUNK_LIMIT:
                        fh.truncate(have)
                        raise CentralError(_("a chunk may not exceed {CHUNK_LIMIT} bytes").format(
                            CHUNK_LIMIT=CHUNK_LIMIT), 413)
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            except OSError as exc:  # nothing of this chunk counts: the upload goes on from `have`
                with contextlib.suppress(OSError):
                    fh.truncate(have)
                raise _storage_error(exc) from exc
        return have + n

    def put_many(self, items: list[tuple[str, bytes]], central: Central | None = None,
                 kit_id: str | None = None) -> list[str | None]:
        """Store small blobs whole (a bundle): each checked against its SHA-256, written, fsynced,
        then renamed into place; returns per blob None (received whole) or what was wrong."""
        results, new = self._new_whole(items, self.has)
        staged: list[tuple[Path, Path]] = []
        tmpdir = self._inside("incoming", "_bundles")
        tmpdir.mkdir(parents=True, exist_ok=True)
        added = 0
        for sha, data in new:
            tmp = tmpdir / f"{sha}.{secrets.token_hex(4)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            try:
                write_all(fd, data)  # every byte, or an error (os.write alone may write short)
                os.fsync(fd)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                for staged_tmp, _dest in staged:
                    staged_tmp.unlink(missing_ok=True)
                raise _storage_error(exc) from exc
            finally:
                os.close(fd)
            staged.append((tmp, self.path(sha)))
            added += len(data)
        dirs = set()
        for tmp, dest in staged:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, dest)
            dirs.add(dest.parent)
        for d in dirs:  # the renames themselves survive a power cut
            fd = os.open(d, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        if central is not None and kit_id is not None:
            self._account(central, kit_id, added)
        return results

    def finish(self, central: Central | None, kit_id: str, sha: str, size: int) -> bool:
        """Check the SHA-256 of a complete upload and store it (if the server holds the file
        already, the upload proved the kit has it and is dropped); False (and the part removed)
        if wrong."""
        p = self._part(kit_id, sha)
        if not p.exists() or p.stat().st_size != size:
            return False
        h = hashlib.sha256()
        with p.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        if h.hexdigest() != sha:
            p.unlink()
            return False
        dest = self.path(sha)
        if dest.exists():
            p.unlink()
            return True
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(p, dest)
        os.chmod(dest, 0o444)
        if central is not None:
            self._account(central, kit_id, size)
        return True

    def expire(self, older_than: timedelta = PART_LIFETIME) -> int:
        """Remove uploads left unfinished for longer than ``older_than``; returns how many."""
        import time

        cutoff = time.time() - older_than.total_seconds()
        removed = 0
        for p in (self.root / "incoming").glob("*/*"):
            try:
                if p.is_file() and p.stat().st_mtime < cutoff:
                    p.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed


def _storage_error(exc: OSError) -> CentralError:
    """The server's disk refused a write: a named condition for the kit (it retries later)."""
    logging.getLogger("central.storage").error("evidence storage: %s", exc)
    if is_full(exc):
        return CentralError(_("the central server's evidence storage is full: the kit keeps its originals and "
                              "sends them at a later sync (the server's log records it for its administrator)"), 507)
    return CentralError(_("the central server cannot write its evidence storage now ({reason}): the kit sends the "
                          "originals at a later sync").format(reason=exc.strerror or exc), 503)
