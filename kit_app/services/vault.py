"""Opening and creating encrypted data dirs (``kit_app.keyring``): a new data dir is encrypted from its
first byte, with its first administrator's password (and the agency's recovery key, when given)
able to unlock it; an encrypted one opens with the certificate number and password of an officer
who has unlocked it before, or with the recovery key. Failed attempts made while it was locked go
into the access log once it is open."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from kit_app.db import Store, open_store
from kit_app.db.access import FAILED, add
from kit_app.keyring import DataKey, Keyring, is_encrypted
from kit_app.settings import DATABASE_FILE


def _when(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


class Vault:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    @property
    def encrypted(self) -> bool:
        return is_encrypted(self.data_dir)

    @property
    def fresh(self) -> bool:
        """Nothing here yet: no database, no keyring."""
        return not self.encrypted and not (self.data_dir / DATABASE_FILE).exists()

    def unlock(self, cert_no: str, password: str) -> DataKey:
        return Keyring.load(self.data_dir).unlock(cert_no, password)

    def open(self, cert_no: str, password: str) -> Store:
        """The encrypted data dir, opened with an officer's password (AuthenticationError if it does
        not unlock it)."""
        return self.open_with(self.unlock(cert_no, password))

    def open_with(self, key: DataKey) -> Store:
        store = open_store(self.data_dir, key=key)
        try:
            self._fold_failures(store)
        except Exception:
            store.close()
            raise
        return store

    def open_recovery(self, private_pem: bytes, passphrase: str | None = None) -> Store:
        return self.open_with(Keyring.load(self.data_dir).unlock_recovery(private_pem, passphrase))

    def create(self, *, name: str, cert_no: str, password: str, recovery_public_pem: str | None = None,
               agency_code: str | None = None) -> Store:
        """A new encrypted data dir and its first administrator (who can unlock it)."""
        from kit_app.services.officers import OfficerService, validate_new

        name, cert_no = validate_new(name, cert_no, ["admin", "officer"], password)  # before anything is made
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        store = self.create_empty(cert_no, password, recovery_public_pem)
        try:
            OfficerService(store).add(name=name, cert_no=cert_no, roles=["admin", "officer"], password=password,
                                      agency_code=agency_code)
        except Exception:
            store.close()
            raise
        return store

    def create_empty(self, cert_no: str, password: str, recovery_public_pem: str | None = None) -> Store:
        """A new encrypted data dir that ``cert_no`` with ``password`` unlocks (its officer is added
        by the caller: the demo data, the first administrator)."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        ring, key = Keyring.create(self.data_dir, cert_no, password, recovery_public_pem)
        ring.save()
        return open_store(self.data_dir, key=key)

    def encrypt_existing(self, cert_no: str, password: str, recovery_public_pem: str | None = None,
                         progress: Any = None) -> Store:
        """Convert an unencrypted data dir (made by an earlier version) in place: the database is
        exported into SQLCipher, every original and thumbnail sealed, the keyring made for the
        administrator who asks (others are wrapped at their next sign-in). Everything is staged
        beside the data first; a journal written last is the commit point, from which the switch is
        carried through even if the laptop dies half-way (``kit_app.keyring.finish_pending``). The
        plaintext files are then deleted (their sectors are not overwritten: see the README)."""
        import shutil
        import sqlite3

        from sqlalchemy import select

        from kit_app import roles as R
        from kit_app.db.models import EvidenceItem
        from kit_app.errors import UsageError
        from kit_app.evidence.blobs import BlobStore
        from kit_app.evidence.sealed import seal_file
        from kit_app.i18n import _
        from kit_app.keyring import FORMAT, JOURNAL_FILE, KEYRING_FILE, STAGING_DIR, write_journal
        from kit_app.services.officers import OfficerService

        if self.encrypted or self.fresh:
            raise UsageError(_("{path} holds no unencrypted data directory: nothing was changed.").format(
                path=self.data_dir))
        store = open_store(self.data_dir)
        try:
            R.require(OfficerService(store).login(cert_no, password), "officers.manage")
            with store.session() as s:
                shas = sorted({sha for sha in s.scalars(select(EvidenceItem.sha256)) if sha})
        finally:
            store.close()
        plain = BlobStore(self.data_dir)
        with plain.writing():  # no import runs meanwhile
            con = sqlite3.connect(self.data_dir / DATABASE_FILE)
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            con.close()
            staging = self.data_dir / STAGING_DIR
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(mode=0o700)
            key = DataKey.generate()
            sealed = BlobStore(staging, key)  # the sealed layout, under the staging folder
            from sqlcipher3 import dbapi2

            con = dbapi2.connect(str(self.data_dir / DATABASE_FILE))
            try:
                con.execute(f"ATTACH DATABASE ? AS sealed KEY \"{key.sqlcipher()}\"",
                            (str(staging / DATABASE_FILE),))
                con.execute("SELECT sqlcipher_export('sealed')")
                con.execute("DETACH DATABASE sealed")
            finally:
                con.close()
            moves: list[tuple[str, str]] = []
            deletes: list[str] = []
            rel = self.data_dir
            final = BlobStore(self.data_dir, key)  # where the sealed files go in the end
            for i, sha in enumerate(shas):
                for place in ("path_for", "thumb_path"):  # the original, then its thumbnail
                    src = getattr(plain, place)(sha)
                    if not src.exists():
                        continue
                    dest = getattr(sealed, place)(sha)
                    seal_file(key.blob_key, src, dest)
                    moves.append((str(dest.relative_to(rel)), str(getattr(final, place)(sha).relative_to(rel))))
                    deletes.append(str(src.relative_to(rel)))
                if progress:
                    progress(i + 1, len(shas))
            ring = Keyring(staging, {"format": FORMAT, "created_at": datetime.now().astimezone().isoformat(),
                                     "converted": True, "wraps": []})
            ring.add_officer(key, cert_no, password)
            if recovery_public_pem:
                ring.set_recovery(key, recovery_public_pem)
            (staging / "keyring.json").write_bytes(json.dumps(ring.doc, ensure_ascii=False, indent=1).encode())
            for f in [*staging.rglob("*")]:
                if f.is_file():
                    with f.open("rb+") as fh:
                        os.fsync(fh.fileno())
            for suffix in ("-wal", "-shm"):
                deletes.append(DATABASE_FILE + suffix)
            moves = [(f"{STAGING_DIR}/{DATABASE_FILE}", DATABASE_FILE), *moves,
                     (f"{STAGING_DIR}/keyring.json", str(KEYRING_FILE))]
            write_journal(self.data_dir, moves, deletes)  # the commit point
            assert (self.data_dir / JOURNAL_FILE).exists()
        return self.open(cert_no, password)  # finishes the switch, then opens with the key

    def _fold_failures(self, store: Store) -> None:
        if store.read_only:
            return
        ring = Keyring.load(self.data_dir)
        failures = ring.failures()
        if not failures:
            return
        with store.write_session() as s:
            for f in failures:
                ev = add(s, store.kit_id, None, "login.failed", outcome=FAILED, target=str(f.get("cert_no", ""))[:32],
                         details={"reason": "wrong password", "while": "locked"})
                ev.at = _when(f.get("at")) or ev.at  # the attempt's own time; a damaged line keeps now
        ring.clear_failures()
