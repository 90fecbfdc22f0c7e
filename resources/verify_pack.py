#!/usr/bin/env python3
"""Verify a court pack (法庭证据包) of the Enforcement Evidence Kit, without the kit.

    python3 verify_pack.py PACK.zip        (or the folder it was unpacked to)

Needs Python 3.9 or newer and one package, ``cryptography`` (pip install cryptography), for the
Ed25519 signatures. Checks, and names every problem it finds:

1. manifest.json is signed (manifest.sig) by the kit key it names; the key's fingerprint is printed
   so it can be compared with the one on the printed verification page and the central server's
   record of the kit.
2. Every file the manifest lists is present, of its size and SHA-256; a file it does not list is
   named too.
3. custody.jsonl: every event's hash is the SHA-256 of its body, its signature is the kit's,
   consecutive events link (prev_hash), each names this case, and every original in the pack is the
   one its custody events record (item_sha256).
4. receipts.json: each receipt of the central server is signed by the server key it names and is
   for an original in the pack.
5. custody-heads.json: each head of the kit's custody chain the central server countersigned at a
   sync is signed by the server key it names, and every event of this case at a countersigned
   position is the one the server countersigned (history rewritten after a sync fails here).

Exit status 0 when everything holds, 1 when anything does not, 2 when the pack cannot be read.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import zipfile
from pathlib import Path, PurePosixPath

SELF = {"manifest.json", "manifest.sig"}


class Pack:
    """The files of a pack, from a zip or a folder, by their relative POSIX path."""

    def __init__(self, where: Path) -> None:
        self.zip = zipfile.ZipFile(where) if where.is_file() else None
        self.root = where

    def names(self) -> list[str]:
        if self.zip is not None:
            return [n for n in self.zip.namelist() if not n.endswith("/")]
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())

    def digest(self, name: str) -> tuple[str, int]:
        h, size = hashlib.sha256(), 0
        with (self.zip.open(name) if self.zip is not None else (self.root / name).open("rb")) as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
                size += len(block)
        return h.hexdigest(), size

    def read(self, name: str) -> bytes:
        if self.zip is not None:
            return self.zip.read(name)
        return (self.root / name).read_bytes()


def canonical(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def verifier(public_b64: str):  # type: ignore[no-untyped-def]
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64))

    def ok(data: bytes, signature_b64: str) -> bool:
        try:
            key.verify(base64.b64decode(signature_b64, validate=True), data)
        except (InvalidSignature, ValueError):
            return False
        return True

    return ok


def fingerprint(public_b64: str) -> str:
    digest = hashlib.sha256(base64.b64decode(public_b64)).hexdigest()
    return " ".join(digest[i:i + 4] for i in range(0, 32, 4))  # as the kit and the server show it


def verify(where: Path) -> tuple[list[str], list[str]]:
    """(what was checked, the problems found)."""
    done: list[str] = []
    problems: list[str] = []
    pack = Pack(where)
    names = set(pack.names())
    manifest_raw = pack.read("manifest.json")
    manifest = json.loads(manifest_raw)
    key = manifest["kit"]["public_key"]
    kit_ok = verifier(key)
    signature = pack.read("manifest.sig").decode("ascii").strip()
    if kit_ok(hashlib.sha256(manifest_raw).hexdigest().encode("ascii"), signature):
        done.append(f"manifest.json is signed by kit {manifest['kit']['id']} (key fingerprint {fingerprint(key)})")
    else:
        problems.append("manifest.json: its signature (manifest.sig) is not the kit key's: the manifest was altered")
    listed = {f["path"]: f for f in manifest["files"]}
    for path, f in sorted(listed.items()):
        if PurePosixPath(path).is_absolute() or ".." in PurePosixPath(path).parts:
            problems.append(f"{path}: a path outside the pack")
            continue
        if path not in names:
            problems.append(f"{path}: missing from the pack")
            continue
        sha, size = pack.digest(path)
        if sha != f["sha256"] or size != f["size"]:
            problems.append(f"{path}: altered (SHA-256 {sha} instead of {f['sha256']})")
    for path in sorted(names - set(listed) - SELF):
        problems.append(f"{path}: not listed in the manifest (added to the pack)")
    done.append(f"{len(listed)} files checked against their SHA-256")

    # the chain of custody of the case
    lines = [json.loads(x) for x in pack.read("custody.jsonl").decode("utf-8").splitlines() if x.strip()]
    header, events = lines[0], lines[1:]
    if header.get("public_key") != key:
        problems.append("custody.jsonl: signed by another key than the manifest's")
    previous: dict[str, object] | None = None
    recorded: dict[str, set[str]] = {}
    for e in events:
        body = json.loads(e["body"])
        where_ = f"custody event #{body.get('seq')}"
        if hashlib.sha256(e["body"].encode("utf-8")).hexdigest() != e["hash"]:
            problems.append(f"{where_}: its hash does not match its content (altered)")
        if not kit_ok(e["hash"].encode("ascii"), e["signature"]):
            problems.append(f"{where_}: its signature is not the kit's")
        if body.get("case_id") != manifest["case"]["id"]:
            problems.append(f"{where_}: belongs to another case")
        linked = previous is not None and body.get("seq") == previous["seq"] + 1
        if linked and body.get("prev_hash") != previous["hash"]:  # type: ignore[index]
            problems.append(f"{where_}: does not follow event #{previous['seq']} (the chain is broken)")
        if previous is not None and body.get("seq", 0) <= previous["seq"]:
            problems.append(f"{where_}: out of order")
        previous = {"seq": body.get("seq", 0), "hash": e["hash"]}
        if body.get("item_sha256"):
            recorded.setdefault(body["evidence_id"], set()).add(body["item_sha256"])
    done.append(f"{len(events)} custody events: hashes, signatures and links")
    for f in listed.values():
        if f.get("evidence_id") and f["sha256"] not in recorded.get(f["evidence_id"], set()):
            problems.append(f"{f['path']}: no custody event records this original")

    # the central server's receipts
    if "receipts.json" in names:
        receipts = json.loads(pack.read("receipts.json"))
        originals = {f["sha256"] for f in listed.values() if f.get("evidence_id")}
        if receipts.get("server_key"):
            server_ok = verifier(receipts["server_key"])
            for r in receipts.get("receipts", []):
                body = r["body"]
                if not server_ok(hashlib.sha256(canonical(body)).hexdigest().encode("ascii"), r["signature"]):
                    problems.append(f"receipt for {body.get('sha256', '?')[:16]}: not signed by the server key")
                elif body.get("sha256") not in originals:
                    problems.append(f"receipt for {body.get('sha256', '?')[:16]}: for no original in the pack")
            done.append(f"{len(receipts.get('receipts', []))} receipts of the central server "
                        f"(key fingerprint {fingerprint(receipts['server_key'])})")
    # the heads of the custody chain the central server countersigned at each sync
    if "custody-heads.json" in names:
        heads = json.loads(pack.read("custody-heads.json"))
        server_ok = verifier(heads["server_key"]) if heads.get("server_key") else None
        ours = {json.loads(e["body"]).get("seq"): e["hash"] for e in events}
        latest = None
        for h in heads.get("heads", []):
            body = h["body"]
            signed = server_ok is not None and server_ok(
                hashlib.sha256(canonical(body)).hexdigest().encode("ascii"), h["signature"])
            if not signed or body.get("kit_id") != manifest["kit"]["id"]:
                problems.append(f"countersigned head #{body.get('seq')}: not signed by the server key for this kit")
                continue
            if body.get("seq") in ours and ours[body["seq"]] != body.get("hash"):
                problems.append(f"custody event #{body['seq']}: not the one the central server countersigned on "
                                f"{body.get('countersigned_at')} (the history was rewritten)")
                continue
            latest = body if latest is None or body["seq"] > latest["seq"] else latest
        if latest is not None:
            within = sum(1 for seq in ours if isinstance(seq, int) and seq <= latest["seq"])
            done.append(f"the central server countersigned the kit's custody chain up to event #{latest['seq']} on "
                        f"{latest.get('countersigned_at')}; {within} of this case's {len(ours)} events lie within it")
    return done, problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    try:
        done, problems = verify(Path(argv[1]))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        print(f"The pack cannot be read: {type(exc).__name__}: {exc}")
        return 2
    for line in done:
        print(f"checked: {line}")
    for p in problems:
        print(f"PROBLEM: {p}")
    print("THE PACK VERIFIES." if not problems else f"THE PACK DOES NOT VERIFY: {len(problems)} problems.")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
