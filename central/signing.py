"""The server's receipt-signing key (Ed25519). It lives in a file readable by the server's user
only — never in the database, so a database backup cannot forge receipts — optionally encrypted
with a passphrase from the environment (``KIT_CENTRAL_KEY_PASSPHRASE``). Kits pin its public key
at enrolment (the person enrolling compares the fingerprint) and check every receipt with it."""

from __future__ import annotations

import base64
import logging
import os
import stat
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kit_app.errors import KitError
from kit_app.i18n import _
from kit_app.sync.trust import fingerprint

log = logging.getLogger(__name__)

ENV_PASSPHRASE = "KIT_CENTRAL_KEY_PASSPHRASE"
ENV_KEY_FILE = "KIT_CENTRAL_SIGNING_KEY"


class KeyFileError(KitError):
    """The key file cannot be used (unreadable, readable by others, wrong passphrase)."""


class Signer:
    def __init__(self, key: Ed25519PrivateKey, path: Path) -> None:
        self.key = key
        self.path = path

    def sign(self, digest: str) -> str:
        return base64.b64encode(self.key.sign(digest.encode("ascii"))).decode()

    def public_pem(self) -> str:
        return self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def public_raw(self) -> bytes:
        return self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def fingerprint(self) -> str:
        return fingerprint(self.public_raw())

    # ------------------------------------------------------------ the file
    @classmethod
    def load_or_create(cls, path: Path, sessions: Any = None) -> Signer:
        """The key in ``path``; made on first use — from a key an older version kept in the
        database (``server_meta``: moved out and deleted there), else new."""
        passphrase = os.environ.get(ENV_PASSPHRASE, "").encode() or None
        if not path.exists():
            legacy = _take_from_database(sessions) if sessions is not None else None
            key = legacy or Ed25519PrivateKey.generate()
            enc = (serialization.BestAvailableEncryption(passphrase) if passphrase
                   else serialization.NoEncryption())
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another worker made it a moment ago
                return cls.load_or_create(path)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
                fh.flush()
                os.fsync(fh.fileno())
            if legacy is not None:
                _delete_from_database(sessions)
            log.warning("receipt-signing key written to %s", path)
        if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
            raise KeyFileError(_("the signing key {path} is readable by other users: chmod 600 it").format(path=path))
        try:
            loaded = serialization.load_pem_private_key(path.read_bytes(), passphrase)
        except (TypeError, ValueError) as exc:
            raise KeyFileError(_("cannot read the signing key {path}: {reason} (is {env} right?)").format(
                path=path, reason=exc, env=ENV_PASSPHRASE)) from None
        if not isinstance(loaded, Ed25519PrivateKey):
            raise KeyFileError(_("the signing key {path} is not an Ed25519 key").format(path=path))
        return cls(loaded, path)


def _take_from_database(sessions: Any) -> Ed25519PrivateKey | None:
    from central.db import ServerMeta

    with sessions() as s:
        row = s.get(ServerMeta, "signing_key")
        if row is None:
            return None
        key = serialization.load_pem_private_key(row.value.encode(), None)
        return key if isinstance(key, Ed25519PrivateKey) else None


def _delete_from_database(sessions: Any) -> None:
    from central.db import ServerMeta

    with sessions.begin() as s:
        row = s.get(ServerMeta, "signing_key")
        if row is not None:
            s.delete(row)
    log.warning("receipt-signing key removed from the database")
