"""The kit's data key and who may unlock it.

Everything a stolen laptop would give away is encrypted with one random 256-bit **data key** per
kit: the database (SQLCipher, the key given raw), and every original and thumbnail (AES-256-GCM in
chunks, ``kit_app.evidence.sealed``), stored under names that are keyed hashes (HMAC) of their
SHA-256, so not even which files the kit holds can be confirmed without the key. Content hashes stay
those of the plaintext originals.

The data key is never stored as it is. ``keys/keyring.json`` holds it **wrapped** (AES-256-GCM):

- once for each officer who has signed in on this kit, under a key derived from their password
  (scrypt, n=2^15, r=8, p=1 — about a tenth of a second, 32 MiB, on each attempt);
- once for the agency's **recovery key** (X25519: only the public key is on the kit; the private key
  is kept by the provincial office), so a forgotten password never destroys evidence
  (``kit-app keys recover``, see the README).

Unlocking needs a certificate number and its password (or the recovery key). Failed attempts while
the kit is locked are kept beside the keyring (they cannot be written to the locked database) and
go into the access log at the next unlock; five in a row lock that certificate number out for
fifteen minutes, as a sign-in does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from kit_app.errors import AuthenticationError, KitError
from kit_app.i18n import _
from kit_app.storage import write_private

KEYRING_FILE = Path("keys") / "keyring.json"
FAILURES_FILE = Path("keys") / "unlock-failures.jsonl"
FORMAT = 1
SCRYPT = {"n": 2**15, "r": 8, "p": 1}
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)


class KitLocked(KitError):
    """The data dir is encrypted and no key was given to open it."""

    exit_code = 2


class KeyringError(KitError):
    """The keyring cannot be read or used (damaged, or a recovery key that does not fit)."""


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _unb64(s: str) -> bytes:
    return base64.b64decode(s.encode("ascii"), validate=True)


def _hkdf(raw: bytes, info: bytes, salt: bytes | None = None) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(raw)


class DataKey:
    """The kit's data key (32 bytes) and the keys derived from it."""

    def __init__(self, raw: bytes) -> None:
        if len(raw) != 32:
            raise ValueError("a data key is 32 bytes")
        self._raw = raw

    @classmethod
    def generate(cls) -> DataKey:
        return cls(os.urandom(32))

    def sqlcipher(self) -> str:
        """The key as SQLCipher takes it raw (no key derivation on each open)."""
        return f"x'{self._raw.hex()}'"

    @cached_property
    def blob_key(self) -> bytes:
        return _hkdf(self._raw, b"kit evidence blobs v1")

    @cached_property
    def _name_key(self) -> bytes:
        return _hkdf(self._raw, b"kit evidence names v1")

    def name(self, sha256: str) -> str:
        """The stored name of the original whose SHA-256 is ``sha256``."""
        return hmac.new(self._name_key, sha256.encode("ascii"), hashlib.sha256).hexdigest()

    @property
    def raw(self) -> bytes:
        return self._raw

    def __repr__(self) -> str:  # never printed, never logged
        return "DataKey(…)"


def _aad(kind: str, who: str) -> bytes:
    return f"kit-keyring-v{FORMAT}|{kind}|{who}".encode()


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=128 * 1024 * 1024, dklen=32)


def is_encrypted(data_dir: Path) -> bool:
    """The data dir's database and originals are sealed (or a conversion to that has passed its
    commit point and is finished when the data dir is next opened)."""
    return (data_dir / KEYRING_FILE).exists() or (data_dir / JOURNAL_FILE).exists()


# ---------------------------------------------------------------- recovery keys (X25519)
def make_recovery_key(passphrase: str | None = None) -> tuple[bytes, str]:
    """A new recovery key pair: (private key PEM, encrypted with ``passphrase`` if given; public key PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    key = X25519PrivateKey.generate()
    enc = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
           else serialization.NoEncryption())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def _x25519_public(pem: str) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError:
        key = None
    if not isinstance(key, X25519PublicKey):
        raise KeyringError(_("this is not a recovery public key (an X25519 key in PEM)"))
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public_raw: bytes) -> str:
    h = hashlib.sha256(public_raw).hexdigest()[:32]
    return " ".join(h[i:i + 4] for i in range(0, 32, 4))


@dataclass(frozen=True)
class Wrap:
    kind: str  # officer, recovery
    who: str  # certificate number, or the recovery key's fingerprint
    data: dict[str, Any]


class Keyring:
    def __init__(self, data_dir: Path, doc: dict[str, Any]) -> None:
        self.data_dir = data_dir
        self.doc = doc

    @property
    def path(self) -> Path:
        return self.data_dir / KEYRING_FILE

    # ------------------------------------------------------------ files
    @classmethod
    def load(cls, data_dir: Path) -> Keyring:
        if (data_dir / JOURNAL_FILE).exists():
            finish_pending(data_dir)
        path = data_dir / KEYRING_FILE
        try:
            doc = json.loads(path.read_text("utf-8"))
            if doc.get("format") != FORMAT or not isinstance(doc.get("wraps"), list):
                raise ValueError("format")
        except FileNotFoundError:
            raise KitLocked(_("The data directory {path} is not encrypted.").format(path=data_dir)) from None
        except (ValueError, OSError) as exc:
            raise KeyringError(_("The keyring {path} cannot be read ({reason}): restore it from the kit's backup, "
                                 "or unlock with the agency's recovery key.").format(path=path, reason=exc)) from None
        return cls(data_dir, doc)

    @classmethod
    def create(cls, data_dir: Path, cert_no: str, password: str, recovery_public_pem: str | None = None,
               ) -> tuple[Keyring, DataKey]:
        """A new data key, wrapped for its first officer (and the recovery key); not yet saved."""
        ring = cls(data_dir, {"format": FORMAT, "created_at": datetime.now(UTC).isoformat(), "wraps": []})
        key = DataKey.generate()
        ring.add_officer(key, cert_no, password)
        if recovery_public_pem:
            ring.set_recovery(key, recovery_public_pem)
        return ring, key

    def save(self) -> None:
        write_private(self.path, json.dumps(self.doc, ensure_ascii=False, indent=1).encode("utf-8"))

    # ------------------------------------------------------------ wraps
    def wraps(self, kind: str | None = None) -> list[Wrap]:
        return [Wrap(w["kind"], w["who"], w) for w in self.doc["wraps"] if kind is None or w["kind"] == kind]

    def officers(self) -> list[str]:
        return sorted(w.who for w in self.wraps("officer"))

    def recovery(self) -> str | None:
        """The recovery key's fingerprint, if one is set."""
        got = self.wraps("recovery")
        return got[0].who if got else None

    def _put(self, wrap: dict[str, Any]) -> None:
        self.doc["wraps"] = [w for w in self.doc["wraps"] if (w["kind"], w["who"]) != (wrap["kind"], wrap["who"])]
        self.doc["wraps"].append(wrap)

    def add_officer(self, key: DataKey, cert_no: str, password: str) -> None:
        """Wrap the data key for ``cert_no`` under ``password`` (replacing an earlier wrap)."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        cert_no = cert_no.strip()
        salt, nonce = os.urandom(16), os.urandom(12)
        kek = _scrypt(password, salt, **SCRYPT)
        wrapped = AESGCM(kek).encrypt(nonce, key.raw, _aad("officer", cert_no))
        self._put({"kind": "officer", "who": cert_no, "kdf": "scrypt", **SCRYPT, "salt": _b64(salt),
                   "nonce": _b64(nonce), "wrapped": _b64(wrapped)})

    def remove_officer(self, cert_no: str) -> bool:
        before = len(self.doc["wraps"])
        self.doc["wraps"] = [w for w in self.doc["wraps"] if not (w["kind"] == "officer" and w["who"] == cert_no)]
        return len(self.doc["wraps"]) != before

    def opens_with(self, cert_no: str, password: str) -> bool:
        try:
            self._unwrap_officer(cert_no.strip(), password)
        except AuthenticationError:
            return False
        return True

    def set_recovery(self, key: DataKey, public_pem: str) -> str:
        """Wrap the data key for the agency's recovery key (replacing any other); its fingerprint."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        recipient = _x25519_public(public_pem)
        eph = X25519PrivateKey.generate()
        eph_pub = eph.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        kek = _hkdf(eph.exchange(X25519PublicKey.from_public_bytes(recipient)), b"kit recovery v1", eph_pub + recipient)
        fp = fingerprint(recipient)
        nonce = os.urandom(12)
        self.doc["wraps"] = [w for w in self.doc["wraps"] if w["kind"] != "recovery"]
        self._put({"kind": "recovery", "who": fp, "algorithm": "X25519-HKDF-SHA256-AES256GCM",
                   "public": _b64(recipient), "ephemeral": _b64(eph_pub), "nonce": _b64(nonce),
                   "wrapped": _b64(AESGCM(kek).encrypt(nonce, key.raw, _aad("recovery", fp)))})
        return fp

    # ------------------------------------------------------------ unlocking
    def unlock(self, cert_no: str, password: str) -> DataKey:
        """The data key, unwrapped with an officer's password; AuthenticationError (and the attempt
        kept for the access log) if it does not fit or the number is locked out."""
        cert_no = cert_no.strip()
        recent = [f for f in self.failures() if f.get("cert_no") == cert_no
                  and datetime.fromisoformat(f["at"]) > datetime.now(UTC) - LOCKOUT]
        if len(recent) >= MAX_FAILURES:
            until = datetime.fromisoformat(recent[-1]["at"]) + LOCKOUT
            from kit_app.timeutil import format_local

            raise AuthenticationError(_("Too many failed attempts: the account is locked until {time}. Try again "
                                        "then, or ask an administrator.").format(time=format_local(until)))
        try:
            return self._unwrap_officer(cert_no, password)
        except AuthenticationError:
            self._failed(cert_no)
            raise

    def _unwrap_officer(self, cert_no: str, password: str) -> DataKey:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        w = next((w.data for w in self.wraps("officer") if w.who == cert_no), None)
        if w is None:
            raise AuthenticationError(_(
                "This kit's data is encrypted and {cert} has not unlocked it before: an officer who has signs in "
                "first (your own sign-in then works), or an administrator unlocks it with the recovery key.").format(
                cert=cert_no))
        try:
            kek = _scrypt(password, _unb64(w["salt"]), int(w["n"]), int(w["r"]), int(w["p"]))
            return DataKey(AESGCM(kek).decrypt(_unb64(w["nonce"]), _unb64(w["wrapped"]), _aad("officer", cert_no)))
        except (InvalidTag, ValueError, KeyError) as exc:
            raise AuthenticationError(_("Wrong certificate number or password.")) from exc

    def unlock_recovery(self, private_pem: bytes, passphrase: str | None = None) -> DataKey:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            key = serialization.load_pem_private_key(private_pem, passphrase.encode() if passphrase else None)
        except (TypeError, ValueError):
            raise KeyringError(_("This file is not a recovery key the kit can read, or its passphrase "
                                 "(KIT_RECOVERY_PASSPHRASE) is wrong.")) from None
        if not isinstance(key, X25519PrivateKey):
            raise KeyringError(_("This is not a recovery key (an X25519 private key)."))
        mine = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        w = next((w.data for w in self.wraps("recovery")), None)
        if w is None or _unb64(w["public"]) != mine:
            raise KeyringError(_("This recovery key does not open this kit (its key is {fp}).").format(
                fp=w["who"] if w else _("not set")))
        eph = _unb64(w["ephemeral"])
        kek = _hkdf(key.exchange(X25519PublicKey.from_public_bytes(eph)), b"kit recovery v1", eph + mine)
        try:
            return DataKey(AESGCM(kek).decrypt(_unb64(w["nonce"]), _unb64(w["wrapped"]), _aad("recovery", w["who"])))
        except InvalidTag:
            raise KeyringError(_("The keyring's recovery entry is damaged.")) from None

    # ------------------------------------------------------------ failed attempts while locked
    @property
    def _failures_path(self) -> Path:
        return self.data_dir / FAILURES_FILE

    def _failed(self, cert_no: str) -> None:
        line = json.dumps({"cert_no": cert_no[:32], "at": datetime.now(UTC).isoformat()}) + "\n"
        try:
            with self._failures_path.open("a", encoding="utf-8") as fh:
                fh.write(line)
        except OSError:
            pass  # a read-only medium: the refusal still stands

    def failures(self) -> list[dict[str, str]]:
        try:
            text = self._failures_path.read_text("utf-8")
        except OSError:
            return []
        out = []
        for line in text.splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def clear_failures(self) -> None:
        self._failures_path.unlink(missing_ok=True)


# ---------------------------------------------------------------- converting a plain data dir
JOURNAL_FILE = Path("keys") / "encrypting.journal.json"
STAGING_DIR = "encrypting"


def write_journal(data_dir: Path, moves: list[tuple[str, str]], deletes: list[str]) -> None:
    """The commit point of a conversion: once this file exists, ``finish_pending`` carries the
    conversion through (file moves into place, then the plaintext removed), however often it is
    interrupted; before it exists, the staging folder is simply thrown away."""
    write_private(data_dir / JOURNAL_FILE, json.dumps({"moves": moves, "deletes": deletes}).encode("utf-8"))


def finish_pending(data_dir: Path) -> bool:
    """Carry through (or throw away) a conversion to an encrypted data dir that was interrupted;
    True if there was one. Every step is idempotent; run before the data dir is opened."""
    import shutil

    journal = data_dir / JOURNAL_FILE
    staging = data_dir / STAGING_DIR
    if not journal.exists():
        if staging.exists():  # interrupted before its commit point: the data dir is as it was
            shutil.rmtree(staging, ignore_errors=True)
            return True
        return False
    doc = json.loads(journal.read_text("utf-8"))
    for src, dst in doc["moves"]:
        s, d = data_dir / src, data_dir / dst
        if s.exists():
            d.parent.mkdir(parents=True, exist_ok=True)
            os.replace(s, d)
    for rel in doc["deletes"]:
        p = data_dir / rel
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        elif p.exists():
            p.chmod(0o600)  # originals are read-only, and Windows deletes no read-only file
            p.unlink()
    shutil.rmtree(staging, ignore_errors=True)
    journal.unlink()
    return True


# ---------------------------------------------------------------- keeping the wraps up to date
_ring_lock = threading.Lock()


def keep_wrap(data_dir: Path, key: DataKey | None, cert_no: str, password: str) -> bool:
    """Let ``cert_no`` unlock the kit with ``password`` (an officer just signed in, was added, or
    got a new password); True if the keyring changed. Nothing to do on an unencrypted data dir."""
    if key is None:
        return False
    with _ring_lock:
        ring = Keyring.load(data_dir)
        if ring.opens_with(cert_no, password):
            return False
        ring.add_officer(key, cert_no, password)
        ring.save()
        return True


def drop_wrap(data_dir: Path, key: DataKey | None, cert_no: str) -> bool:
    """``cert_no`` no longer unlocks the kit (the officer was deactivated)."""
    if key is None:
        return False
    with _ring_lock:
        ring = Keyring.load(data_dir)
        if not ring.remove_officer(cert_no):
            return False
        ring.save()
        return True


__all__ = ["DataKey", "KeyringError", "Keyring", "KitLocked", "drop_wrap", "finish_pending", "fingerprint",
           "is_encrypted", "keep_wrap", "make_recovery_key", "write_journal"]
