"""Opening a data dir: the SQLite database, its migrations and the kit's identity."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from kit_app.db import outbox as _outbox  # noqa: F401 - every session writes the outbox
from kit_app.db.models import KitMeta
from kit_app.errors import DataDirTooNew, KitError
from kit_app.i18n import _
from kit_app.ids import new_id
from kit_app.keyring import DataKey, KitLocked, finish_pending, is_encrypted
from kit_app.settings import DATABASE_FILE
from kit_app.storage import DiskFull, ReadOnlyStore, free_bytes, is_full, is_read_only, is_read_only_dir

FULL_BELOW = 1024 * 1024  # a failed open with less than this free is taken for a full disk

log = logging.getLogger(__name__)

DB_FILE = DATABASE_FILE
_MIGRATIONS = Path(__file__).with_name("migrations")


# ---------------------------------------------------------------- which threads may use a store
class StoreAccessError(RuntimeError):
    """A thread that must not touch the database did (the window's thread, an I/O worker): a bug."""


_thread = threading.local()


def forbid_store_access(where: str) -> None:
    """From now on this thread may not use any store: every connection it asks for is refused
    (the window calls this on its GUI thread, which must never wait for the disk)."""
    _thread.forbidden = where


@contextmanager
def store_access_forbidden(where: str) -> Iterator[None]:
    """While the block runs, this thread may not use any store (the window's I/O workers)."""
    before = getattr(_thread, "forbidden", None)
    _thread.forbidden = where
    try:
        yield
    finally:
        _thread.forbidden = before


def _on_checkout(_dbapi_conn: object, _record: object, _proxy: object) -> None:
    where = getattr(_thread, "forbidden", None)
    if where is not None:
        raise StoreAccessError(f"the database was used from {where} ({threading.current_thread().name})")


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def _keyed(key: DataKey | None) -> Callable[[Any, object], None]:
    def on_connect(dbapi_conn: Any, record: object) -> None:
        if key is not None:  # SQLCipher: the raw key, before anything is read
            dbapi_conn.execute(f"PRAGMA key = \"{key.sqlcipher()}\"")
        _on_connect(dbapi_conn, record)

    return on_connect


def _dbapi(key: DataKey | None) -> Any:
    """The DB-API module: SQLCipher's for an encrypted data dir (the same API as sqlite3)."""
    if key is None:
        return sqlite3
    try:
        from sqlcipher3 import dbapi2
    except ImportError as exc:  # pragma: no cover - installed with the application
        raise KitError(_("This data directory is encrypted, and this installation lacks SQLCipher (the sqlcipher3 "
                         "package): reinstall the application.")) from exc
    return dbapi2


def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    # Let SQLAlchemy, not the sqlite3 module, open transactions (see _on_begin): otherwise DDL
    # such as a migration step or a trigger swap would run outside the transaction.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: a power cut never loses a committed transaction (evidence is sacred).
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA cache_size=-65536")  # 64 MiB: bulk imports touch many index pages
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def _on_begin(conn: Connection) -> None:
    # a writer that reads before it writes (the custody chain head) must hold the write lock from
    # the start, or two writers could both read the same head
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("immediate") else "BEGIN")


def make_engine(db_path: Path, read_only: bool = False, key: DataKey | None = None) -> Engine:
    if read_only:
        return _read_only_engine(db_path, key)
    engine = create_engine(
        f"sqlite:///{db_path}",
        connect_args={"check_same_thread": False},
        module=_dbapi(key),
    )
    event.listen(engine, "connect", _keyed(key))
    event.listen(engine, "begin", _on_begin)
    event.listen(engine, "checkout", _on_checkout)
    return engine


def _read_only_engine(db_path: Path, key: DataKey | None = None) -> Engine:
    """SQLite opened read-only. ``mode=ro`` reads a WAL left by an unclean stop if its index
    (``-shm``) is there; otherwise ``immutable=1``, which needs no file of its own on a medium
    that takes none (a write-protected drive, an archived image)."""
    uri = db_path.resolve().as_uri()
    api = _dbapi(key)

    def connect() -> sqlite3.Connection:
        def opened(how: str) -> sqlite3.Connection:
            con = api.connect(f"{uri}?{how}", uri=True, check_same_thread=False)
            if key is not None:
                con.execute(f"PRAGMA key = \"{key.sqlcipher()}\"")
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return con  # type: ignore[no-any-return]

        try:
            con = opened("mode=ro")
        except api.OperationalError:
            con = opened("immutable=1")
        con.isolation_level = None
        con.execute("PRAGMA foreign_keys=ON")
        return con

    # a pool of connections each used by one thread at a time (``sqlite://`` alone would mean
    # SingletonThreadPool, which closes a thread's connection under another's feet)
    engine = create_engine(f"sqlite:///{db_path}", creator=connect, poolclass=QueuePool, module=api)
    event.listen(engine, "begin", _on_begin)
    event.listen(engine, "checkout", _on_checkout)
    return engine


class Store:
    """A data dir: its database engine, session factory and kit id."""

    def __init__(self, data_dir: Path, engine: Engine, read_only: bool = False, key: DataKey | None = None) -> None:
        self.data_dir = data_dir
        self.engine = engine
        self.key = key  # the data key of an encrypted data dir (kit_app.keyring); None: not encrypted
        self.Session = sessionmaker(engine, expire_on_commit=False)
        self.kit_id = ""
        self.read_only = read_only  # browse and verify only (kit_app.storage.ReadOnlyStore)
        self.full = False  # read-only because the disk is full (kit_app.storage.DiskFull)
        # the kit's GNSS receiver when one is connected (the window sets it): its current fix, with
        # the satellites' time, which stamps custody events (kit_app.evidence.clock)
        self.gnss: Callable[[], dict[str, Any] | None] | None = None

    @property
    def db_path(self) -> Path:
        return self.data_dir / DB_FILE

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on any error. A write to a
        read-only store is refused by name (ReadOnlyStore), not as a database error."""
        try:
            with self.Session() as s, s.begin():
                yield s
        except OperationalError as exc:
            if is_read_only(exc):
                raise (DiskFull(self.data_dir) if self.full else ReadOnlyStore(self.data_dir)) from exc
            raise

    def require_writable(self) -> None:
        """Refuse a change to a read-only store with its name, before anything is attempted."""
        if self.read_only:
            raise DiskFull(self.data_dir) if self.full else ReadOnlyStore(self.data_dir)

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """A unit of work that takes SQLite's write lock at its start (BEGIN IMMEDIATE)."""
        self.require_writable()
        with self.engine.connect() as conn:
            conn.info["immediate"] = True
            try:
                with Session(bind=conn, expire_on_commit=False) as s, s.begin():
                    yield s
            finally:
                conn.info.pop("immediate", None)

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema up to ``revision``; refuse a database from a newer version."""
        script = ScriptDirectory.from_config(_alembic_config())
        current = self.current_revision()
        if current is not None:
            try:
                script.get_revision(current)
            except Exception as exc:  # alembic raises several kinds for an unknown revision
                raise DataDirTooNew(
                    _(
                        "The data directory {path} was written by a newer version of the "
                        "application (schema revision {rev}). Install the newer version to open it; "
                        "nothing has been changed."
                    ).format(path=self.data_dir, rev=current)
                ) from exc
        if current == script.get_current_head() and revision == "head":
            return
        log.info("migrating %s from %s to %s", self.db_path, current, revision)
        cfg = _alembic_config()
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    def ensure_kit_id(self) -> str:
        with self.session() as s:
            row = s.get(KitMeta, "kit_id")
            if row is None:
                row = KitMeta(key="kit_id", value=new_id())
                s.add(row)
            self.kit_id = row.value
        return self.kit_id

    def meta(self, key: str) -> str | None:
        with self.session() as s:
            return s.scalar(select(KitMeta.value).where(KitMeta.key == key))

    def set_meta(self, key: str, value: str) -> None:
        with self.session() as s:
            s.merge(KitMeta(key=key, value=value))

    def close(self) -> None:
        self.engine.dispose()


def _open_read_only(data_dir: Path, full: bool = False, key: DataKey | None = None) -> Store:
    """A data dir that cannot be written (a read-only medium; ``full``: a full disk): opened for
    browsing and verifying, nothing migrated."""
    store = Store(data_dir, make_engine(data_dir / DB_FILE, read_only=True, key=key), read_only=True, key=key)
    store.full = full
    current = store.current_revision()
    if current != head_revision():
        store.close()
        raise KitError(_("The data directory {path} is read-only and was written by another version of the "
                         "application (schema revision {rev}): it can be opened only by that version, or "
                         "after copying it somewhere writable.").format(path=data_dir, rev=current))
    store.kit_id = store.meta("kit_id") or ""
    log.info("opened %s read-only", data_dir)
    return store


def make_private(data_dir: Path, files: list[str] = ()) -> None:  # type: ignore[assignment]
    """The data dir is the user's alone (0700) and so are the database's files (0600): a stolen or
    shared laptop's other accounts read nothing of it. Nothing to do where POSIX modes do not
    apply (Windows keeps a user's profile private by its ACLs)."""
    if os.name != "posix":
        return
    try:
        if data_dir.stat().st_mode & 0o077:
            os.chmod(data_dir, 0o700)
        for name in files:
            p = data_dir / name
            if p.exists() and p.stat().st_mode & 0o077:
                os.chmod(p, 0o600)
    except PermissionError:
        log.warning("cannot make %s private: it belongs to another user", data_dir)


def open_store(data_dir: Path, *, upgrade: bool = True, key: DataKey | None = None) -> Store:
    """Open (creating if needed) the data dir and bring its schema up to date. An encrypted data
    dir (one with a keyring) needs its data key (``kit_app.keyring``): without it, KitLocked."""
    db = data_dir / DB_FILE
    if os.access(data_dir, os.W_OK) and finish_pending(data_dir):  # an interrupted conversion: carried through
        log.warning("%s: an interrupted conversion to an encrypted data directory was finished", data_dir)
    if is_encrypted(data_dir) and key is None:
        raise KitLocked(_("The data directory {path} is encrypted: sign in with a certificate number and password "
                          "that unlock it (on the command line: --unlock CERT_NO, the password from KIT_PASSWORD or "
                          "typed), or use the agency's recovery key.").format(path=data_dir))
    if data_dir.is_dir() and db.exists() and (is_read_only_dir(data_dir) or not os.access(db, os.W_OK)):
        return _open_read_only(data_dir, key=key)
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise KitError(
            _("Cannot create the data directory {path}: {reason}").format(
                path=data_dir, reason=exc.strerror or exc
            )
        ) from exc
    make_private(data_dir)
    store = Store(data_dir, make_engine(data_dir / DB_FILE, key=key), key=key)
    try:
        if upgrade:
            store.upgrade()
        if store.current_revision() is not None:
            store.ensure_kit_id()
    except OperationalError as exc:
        # a disk so full that SQLite cannot even make its shared-memory index: what is there can
        # still be read (and verified); what needs writing says the disk is full
        store.close()
        if db.exists() and (is_full(exc) or free_bytes(data_dir) < FULL_BELOW):
            log.warning("%s: the disk is full; opened read-only (%s)", data_dir, exc)
            return _open_read_only(data_dir, full=True, key=key)
        raise
    make_private(data_dir, [DB_FILE, DB_FILE + "-wal", DB_FILE + "-shm"])
    return store
