"""What the central server's parts share: its error, identifiers and agency scopes."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from central.db import (
    Sequence,
)
from central.schemas import SHA256_PATTERN, UUID_PATTERN
from kit_app.i18n import _

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone


CODE_LIFETIME = timedelta(days=7)


LAST_SEEN_RESOLUTION = timedelta(minutes=1)


class CentralError(Exception):
    """A request the server refuses; ``status`` is the HTTP status it maps to."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def valid_uuid(value: str) -> str:
    """A kit's, case's or record's id as the server accepts it: a UUID in lower-case hex."""
    if not isinstance(value, str) or not re.fullmatch(UUID_PATTERN, value):
        raise CentralError(_("{value!r} is not an id (a UUID in lower-case hex)").format(value=str(value)[:80]), 422)
    return value


def valid_sha256(value: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(SHA256_PATTERN, value):
        raise CentralError(_("a blob is named by its SHA-256 in lower-case hex"), 422)
    return value


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch in CODE_ALPHABET)


def next_seq(s: Session) -> int:
    """The next server sequence number. One UPDATE … RETURNING: the increment and the read are one
    statement, which takes the row's lock (PostgreSQL) or the database's write lock (SQLite) until
    the transaction ends — so concurrent transactions never draw the same number, and numbers
    become visible in order."""
    got = s.execute(update(Sequence).where(Sequence.name == "server").values(value=Sequence.value + 1)
                    .returning(Sequence.value)).scalar()
    if got is None:  # a database made before the row was created by the migration
        s.add(Sequence(name="server", value=1))
        s.flush()
        return 1
    return int(got)


def receipt_seq(s: Session) -> int:
    """A number for a receipt (a kit's batch, an original received): unique and increasing, but —
    unlike the feed's — not needed to become visible in order (nothing reads receipts by a cursor).
    On PostgreSQL it comes from a sequence, which locks nothing, so that a province's kits pushing
    at once do not queue behind one counter through each other's commits; on SQLite (one writer
    at a time anyway) from the server's counter."""
    if s.get_bind().dialect.name == "postgresql":
        return int(s.execute(text("SELECT nextval('receipt_seq')")).scalar_one())
    return next_seq(s)


def receipt_numbers(s: Session) -> tuple[int, int]:
    """A receipt's number and where the feed stands, in one round trip on PostgreSQL."""
    if s.get_bind().dialect.name == "postgresql":
        got = s.execute(text("SELECT nextval('receipt_seq'), (SELECT value FROM server_sequence "
                             "WHERE name = 'server')")).one()
        return int(got[0]), int(got[1] or 0)
    return receipt_seq(s), feed_position(s)


def feed_position(s: Session) -> int:
    """Where the feed stands (the last committed number), read without taking the counter: what a
    record pushed now is stamped with (review steps numbered above it were sent after it)."""
    return int(s.scalar(select(Sequence.value).where(Sequence.name == "server")) or 0)


# ---------------------------------------------------------------- the hierarchy
def scope(code: str | None) -> str:
    """The prefix a division code stands for: 450000 and 45 → 45 (province), 450100 and 4501 →
    4501 (city), 450103 → 450103 (county). Everything under an agency starts with its prefix."""
    if not code:
        return ""
    if len(code) == 6 and code.endswith("0000"):
        return code[:2]
    if len(code) == 6 and code.endswith("00"):
        return code[:4]
    return code


def within(viewer: str | None, item: str | None) -> bool:
    """Whether an agency (``viewer``; None = the provincial administrator) may see an item of
    agency ``item``: a county sees its county, a city its counties, the province everything."""
    if viewer is None:
        return True
    return scope(item).startswith(scope(viewer))


def ancestors(code: str) -> list[str]:
    """The prefixes of the agencies above ``code`` and its own (45, 4501, 450103)."""
    p = scope(code)
    return [p[:n] for n in (2, 4, 6) if n <= len(p)]


def _system_actor() -> Any:
    from kit_app.dto import OfficerInfo

    return OfficerInfo(id="central", name="central", cert_no="central", roles=("admin",), agency_code=None,
                       agency_name=None, active=True)


def kit_code(code: str) -> str:
    """The kit's six-digit form of a division code: 45 → 450000, 4501 → 450100."""
    return code.ljust(6, "0")
