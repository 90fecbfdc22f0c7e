"""The server's evidence storage on a full disk (a small tmpfs, filled to the byte): a refusal the
kit understands (507), nothing half-stored, the upload's offset unmoved, and every stored blob
still hashing to its name."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx

from central.service import BlobStore, Central
from kit_app.db import Store
from kit_app.sync.client import auth_header, enrol
from tests.central.conftest import Server
from tests.helpers import fs

MB = 1024 * 1024


def test_a_full_server_disk_refuses_cleanly(tmp_path: Path, store: Store) -> None:
    with fs.tmpfs(tmp_path / "disk", 24 * MB) as disk:
        with Server(f"sqlite:///{tmp_path / 'central.sqlite3'}", disk / "blobs") as srv:
            c: Central = srv.app.state.central
            c.add_agency("45", "广西")
            enrol(store, srv.base, c.make_enrol_code("45")["code"])
            h = auth_header(store)
            big = os.urandom(6 * MB)
            sha = hashlib.sha256(big).hexdigest()
            r = httpx.put(f"{srv.base}/api/v1/blobs/{sha}", params={"offset": 0, "size": len(big)},
                          content=big[:2 * MB], headers=h)
            assert r.json()["offset"] == 2 * MB
            fs.fill(disk, 512 * 1024)
            r = httpx.put(f"{srv.base}/api/v1/blobs/{sha}", params={"offset": 2 * MB, "size": len(big)},
                          content=big[2 * MB:4 * MB], headers=h)
            assert r.status_code == 507 and "full" in r.json()["detail"]
            assert httpx.get(f"{srv.base}/api/v1/blobs/{sha}", headers=h).json()["offset"] == 2 * MB
            small = [os.urandom(300 * 1024) for _ in range(4)]
            head = ("[" + ",".join(f'{{"sha256": "{hashlib.sha256(b).hexdigest()}", "size": {len(b)}}}'
                                   for b in small) + "]\n").encode()
            r = httpx.post(f"{srv.base}/api/v1/blobs", content=head + b"".join(small), headers=h)
            assert r.status_code == 507
            blobs: BlobStore = srv.app.state.blobs
            assert blobs.verify()["problems"] == []
            assert list((blobs.root / "incoming" / "_bundles").glob("*")) == []  # nothing half-stored
