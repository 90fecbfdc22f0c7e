"""The kit's Ed25519 signing key: generated at first run, kept in the data dir."""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kit_app.storage import write_private

KEY_FILE = Path("keys") / "kit-ed25519.pem"


class KitKey:
    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = private.public_key()
        self.public_raw = self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.public_raw).decode()

    def public_pem(self) -> str:
        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self._private.sign(data)).decode()

    @classmethod
    def load_or_create(cls, data_dir: Path, persist: bool = True) -> KitKey:
        """The data dir's key, made at first use. With ``persist`` False (a read-only store, which
        signs nothing) a missing key is not written: the one returned signs nothing that lasts."""
        path = data_dir / KEY_FILE
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            assert isinstance(key, Ed25519PrivateKey)
            return cls(key)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        if persist:
            write_private(path, pem)
        return cls(key)


def raw_from_pem(pem: str | None) -> bytes | None:
    """The raw bytes of an Ed25519 public key in PEM, or None if it is not one."""
    if not pem:
        return None
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError:
        return None
    if not isinstance(key, Ed25519PublicKey):
        return None
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def verifier(public_raw: bytes):  # type: ignore[no-untyped-def]
    """A function (data, b64 signature) -> bool for a raw Ed25519 public key."""
    pub = Ed25519PublicKey.from_public_bytes(public_raw)

    def verify(data: bytes, signature_b64: str) -> bool:
        try:
            pub.verify(base64.b64decode(signature_b64, validate=True), data)
        except (InvalidSignature, ValueError):
            return False
        return True

    return verify
