"""Opening and creating encrypted data dirs (``kit_app.keyring``): a new data dir is encrypted from its
first byte, with its first administrator's password (and the agency's recovery key, when given)
able to unlock it; an encrypted one opens with the certificate number and password of an officer
who has unlocked it before, or with the recovery key. Failed attempts made while it was locked go
into the access log once it is open."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from kit_app.db import Store, open_store
from kit_app.db.access import FAILED, add
from kit_app.keyring import DataKey, Keyring, is_encrypted
from kit_app.settings import DATABASE_FILE


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
                try:
                    ev.at = datetime.fromisoformat(f["at"])
                except (KeyError, ValueError):
                    pass
        ring.clear_failures()
