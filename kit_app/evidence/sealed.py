"""Files sealed with the kit's data key: AES-256-GCM over chunks of 256 KiB.

Layout: ``KITSEAL1`` (8 bytes), an 8-byte random file id, then each chunk's ciphertext with its
16-byte tag (reading a photo's EXIF decrypts its first chunk or two, not the whole file). Chunk
``i`` is sealed with the nonce file id ‖ i (32-bit big-endian) and the associated data magic ‖
file id ‖ i ‖ last-chunk flag, so chunks cannot be reordered, dropped, swapped between files or the
file cut short without the tag failing. Every chunk is full except the last (an empty file is one
empty last chunk), so the plaintext size follows from the file's size and any offset can be read by
decrypting one chunk (seek)."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path
from typing import Any

from kit_app.errors import KitError
from kit_app.i18n import _

MAGIC = b"KITSEAL1"
HEADER = len(MAGIC) + 8
CHUNK = 256 * 1024
TAG = 16


class SealBroken(KitError):
    """A sealed file does not open with the kit's key: altered, cut short or not a sealed file."""


def _aead(key: bytes) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key)


def _nonce_aad(file_id: bytes, i: int, last: bool) -> tuple[bytes, bytes]:
    n = struct.pack(">I", i)
    return file_id + n, MAGIC + file_id + n + (b"\x01" if last else b"\x00")


class SealWriter:
    """Seal a stream into an open file descriptor, chunk by chunk (call ``close`` to seal the last)."""

    def __init__(self, key: bytes, write: Any) -> None:
        self._aead = _aead(key)
        self._write = write
        self._id = os.urandom(8)
        self._buf = bytearray()
        self._i = 0
        self.plain_size = 0
        write(MAGIC + self._id)

    def write(self, data: bytes | memoryview) -> None:
        self._buf += data
        self.plain_size += len(data)
        pos, view = 0, memoryview(self._buf)
        while len(self._buf) - pos > CHUNK:  # keep at least one byte back: the last chunk is sealed as last
            self._seal(view[pos:pos + CHUNK], last=False)
            pos += CHUNK
        view.release()
        if pos:
            del self._buf[:pos]

    def _seal(self, chunk: bytes | memoryview, last: bool) -> None:
        nonce, aad = _nonce_aad(self._id, self._i, last)
        self._write(self._aead.encrypt(nonce, chunk, aad))
        self._i += 1

    def close(self) -> None:
        self._seal(bytes(self._buf), last=True)
        self._buf.clear()


def plain_size(sealed_size: int) -> int:
    body = sealed_size - HEADER
    if body < TAG:
        raise SealBroken(_("a sealed file is shorter than its header"))
    chunks = max(1, -(-body // (CHUNK + TAG)))
    return body - chunks * TAG


class SealedReader(io.RawIOBase):
    """The plaintext of a sealed file, read (and seeked) as a binary file."""

    def __init__(self, path: Path, key: bytes) -> None:
        super().__init__()
        self._fh = path.open("rb")
        self._path = path
        head = self._fh.read(HEADER)
        if head[:len(MAGIC)] != MAGIC or len(head) != HEADER:
            self._fh.close()
            raise SealBroken(_("{name} is not a sealed file").format(name=path.name))
        self._id = head[len(MAGIC):]
        self._aead = _aead(key)
        self.size = plain_size(os.fstat(self._fh.fileno()).st_size)
        self._chunks = max(1, -(-self.size // CHUNK)) if self.size else 1
        self._pos = 0
        self._cache: tuple[int, bytes] | None = None
        if self.size == 0:  # an empty file's one chunk still proves it is whole (and not cut short)
            try:
                self._chunk(0)
            except SealBroken:
                self._fh.close()
                raise

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def _chunk(self, i: int) -> bytes:
        if self._cache is not None and self._cache[0] == i:
            return self._cache[1]
        from cryptography.exceptions import InvalidTag

        last = i == self._chunks - 1
        self._fh.seek(HEADER + i * (CHUNK + TAG))
        data = self._fh.read(CHUNK + TAG)
        nonce, aad = _nonce_aad(self._id, i, last)
        try:
            plain: bytes = self._aead.decrypt(nonce, data, aad)
        except InvalidTag:
            raise SealBroken(_("{name} does not open with this kit's key at byte {offset:,}: it was altered or cut "
                               "short").format(name=self._path.name, offset=i * CHUNK)) from None
        self._cache = (i, plain)
        return plain

    def readinto(self, b: Any) -> int:
        if self._pos >= self.size:
            return 0
        i, off = divmod(self._pos, CHUNK)
        chunk = self._chunk(i)
        n = min(len(b), len(chunk) - off)
        b[:n] = chunk[off:off + n]
        self._pos += n
        return n

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.size - self._pos
        out = bytearray()
        while len(out) < size:
            piece = bytearray(min(size - len(out), CHUNK))
            n = self.readinto(piece)
            if not n:
                break
            out += piece[:n]
        return bytes(out)

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._fh.close()
        self._cache = None
        super().close()


def seal_file(key: bytes, src: Path, dest: Path) -> None:
    """Seal ``src`` into ``dest`` (written privately, fsynced, renamed into place)."""
    tmp = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as out, src.open("rb") as fin:
            w = SealWriter(key, out.write)
            while block := fin.read(CHUNK):
                w.write(block)
            w.close()
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def unseal_to(key: bytes, src: Path, dest: Path) -> None:
    """Write the plaintext of ``src`` to ``dest`` (private; renamed into place when whole)."""
    tmp = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as out, SealedReader(src, key) as fin:
            while block := fin.read(CHUNK):
                out.write(block)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
