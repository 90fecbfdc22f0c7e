"""Kits made of data only, for tests and benchmarks that need many at once."""

from __future__ import annotations

from kit_app.ids import new_id


def synthetic_kit(i: int) -> dict:  # type: ignore[type-arg]
    """A kit made of data only (its key, a case, two items, three signed custody events), for tests
    and benchmarks that need many kits at once."""
    import base64
    import hashlib

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kit_app.evidence.custody import GENESIS, canonical

    key = Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    kit_id, case_id = new_id(), new_id()
    items = [new_id(), new_id()]
    records = [{"entity": "case", "id": case_id, "row_version": 1,
                "body": {"id": case_id, "number": f"450103-2026-{i:06d}-0001", "title": "超标排放", "status": "open",
                         "party_name": "南宁市绿源化工有限公司", "agency_code": "450103"}}]
    records += [{"entity": "evidence", "id": e, "row_version": 1,
                 "body": {"id": e, "case_id": case_id, "kind": "photo", "sha256": hashlib.sha256(e.encode()).hexdigest(),
                          "size": 4_000_000}} for e in items]
    custody, prev = [], GENESIS
    for seq, e in enumerate(items + items[:1], start=1):
        ev_id = new_id()
        body = canonical({"seq": seq, "kit_id": kit_id, "id": ev_id, "prev_hash": prev, "evidence_id": e,
                          "case_id": case_id, "kind": "collected", "at": "2026-11-29T10:00:00+08:00"}).decode()
        h = hashlib.sha256(body.encode()).hexdigest()
        custody.append({"seq": seq, "id": ev_id, "body": body, "hash": h,
                        "signature": base64.b64encode(key.sign(h.encode("ascii"))).decode()})
        prev = h
    return {"kit_id": kit_id, "pem": pem, "batch": {"batch_id": new_id(), "records": records, "custody": custody}}
