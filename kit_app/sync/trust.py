"""What the kit trusts of the central server, and how it checks it.

- The server's address: ``https://`` (certificates verified, against the system's roots or a CA
  file given at enrolment); ``http://`` only on the loopback interface (a test, a tunnel).
- The server's receipt-signing key: fetched at enrolment, its fingerprint shown to the person
  enrolling (and compared with the administrator's when given), then pinned. Every receipt is
  checked against it — signature, this kit, the exact batch, the content's SHA-256, each
  original's SHA-256 and size — before anything is marked as synced.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from kit_app.errors import KitError
from kit_app.evidence.custody import canonical
from kit_app.i18n import _


class TrustError(KitError):
    """The server (or something pretending to be it) cannot be trusted with this; says why."""


def fingerprint(public_raw: bytes) -> str:
    """SHA-256 of the raw Ed25519 public key, 128 bits in groups of four hex digits."""
    h = hashlib.sha256(public_raw).hexdigest()[:32]
    return " ".join(h[i:i + 4] for i in range(0, 32, 4))


def normalise_fingerprint(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch in "0123456789abcdef")


def public_raw_from_pem(pem: str) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(pem.encode())
    except ValueError:
        raise TrustError(_("the central server's key is not a PEM public key")) from None
    if not isinstance(key, Ed25519PublicKey):
        raise TrustError(_("the central server's key is not an Ed25519 key"))
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def content_sha256(records: list[dict[str, Any]], custody: list[dict[str, Any]]) -> str:
    """The SHA-256 a batch receipt names: of the canonical JSON of what was sent."""
    return hashlib.sha256(canonical({"records": records, "custody": custody})).hexdigest()


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    """The server address as the kit accepts it; TrustError naming what is wrong."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise TrustError(_("the server address {url} is not an https:// address").format(url=url))
    if parts.scheme == "http" and not is_loopback(url):
        raise TrustError(_("the server address {url} is not encrypted (http://): use https:// — plain http is "
                           "accepted only on this computer (127.0.0.1, localhost)").format(url=url))
    return url


# ---------------------------------------------------------------- receipts
def signature_ok(receipt: dict[str, Any], signature: str, server_raw: bytes) -> bool:
    from kit_app.evidence.keys import verifier

    digest = hashlib.sha256(canonical(receipt)).hexdigest()
    return bool(verifier(server_raw)(digest.encode("ascii"), signature))


def check_batch_receipt(receipt: dict[str, Any], signature: str, server_raw: bytes, *, kit_id: str,
                        batch_id: str, digest: str, custody_to: int | None) -> None:
    """Raise TrustError unless the receipt is the server's, for this kit and exactly this batch."""
    why = None
    if not isinstance(receipt, dict) or not isinstance(signature, str):
        why = _("it is not a receipt")
    elif not signature_ok(receipt, signature, server_raw):
        why = _("its signature is not the server's pinned key")
    elif receipt.get("kit_id") != kit_id:
        why = _("it names another kit")
    elif receipt.get("batch_id") != batch_id:
        why = _("it names another batch")
    elif receipt.get("content_sha256") != digest:
        why = _("it acknowledges other content than was sent")
    elif (receipt.get("custody") or {}).get("to") != custody_to:
        why = _("it acknowledges other custody events than were sent")
    if why is not None:
        raise TrustError(_("the central server's receipt for batch {batch} fails its check: {why}. Nothing is "
                           "marked as synced; tell the administrator").format(batch=batch_id[:8], why=why))


def check_blob_receipt(receipt: Any, server_raw: bytes, *, kit_id: str, sha256: str, size: int) -> str:
    """Raise TrustError unless the receipt says the server holds exactly this original for this
    kit; returns the signature (the receipt is kept without it)."""
    why = None
    signature = receipt.get("signature") if isinstance(receipt, dict) else None
    body = {k: v for k, v in receipt.items() if k != "signature"} if isinstance(receipt, dict) else {}
    if not isinstance(signature, str):
        why = _("it is not a receipt")
    elif not signature_ok(body, signature, server_raw):
        why = _("its signature is not the server's pinned key")
    elif body.get("kind") != "blob" or body.get("kit_id") != kit_id:
        why = _("it names another kit")
    elif body.get("sha256") != sha256 or body.get("size") != size:
        why = _("it names another file or size")
    if why is not None:
        raise TrustError(_("the central server's receipt for original {sha} fails its check: {why}. Nothing is "
                           "marked as uploaded; tell the administrator").format(sha=sha256[:12], why=why))
    return str(signature)


def check_head(body: Any, signature: Any, server_raw: bytes, *, kit_id: str, seq: int, head_hash: str) -> datetime:
    """Raise TrustError unless ``body`` is the server's countersignature of exactly this head of
    this kit's chain; returns the server's time it names."""
    why = None
    when = None
    if not isinstance(body, dict) or not isinstance(signature, str):
        why = _("it is not a countersignature")
    elif not signature_ok(body, signature, server_raw):
        why = _("its signature is not the server's pinned key")
    elif body.get("kind") != "custody_head" or body.get("kit_id") != kit_id:
        why = _("it names another kit")
    elif body.get("seq") != seq or body.get("hash") != head_hash:
        why = _("it names another head of the chain")
    else:
        try:
            when = datetime.fromisoformat(str(body.get("countersigned_at")))
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            why = _("it gives no time")
    if why is not None or when is None:
        raise TrustError(_("the central server's countersignature of the custody chain fails its check: {why}. "
                           "Tell the administrator").format(why=why))
    return when


def receipt_json(receipt: dict[str, Any]) -> str:
    return json.dumps(receipt, ensure_ascii=False)
