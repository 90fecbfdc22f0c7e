"""Case numbers, drawn by the kit that opens the case (also for a case born from a pulled assignment)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kit_app.db.models import KitMeta
from kit_app.timeutil import to_local, utcnow

PROVINCE_CODE = "450000"  # the agency code of a case no agency claims


def next_case_number(s: Session, kit_id: str, agency_code: str) -> str:
    """``<agency code>-<year>-<kit>-<seq>``: unique across kits without a server.

    The kit part is six hex digits of the kit's random id; the sequence counts per kit and year
    and is taken in the same transaction as the case it numbers.
    """
    year = to_local(utcnow()).year  # type: ignore[union-attr]
    key = f"case_seq:{year}"
    meta = s.get(KitMeta, key)
    seq = int(meta.value) + 1 if meta else 1
    if meta:
        meta.value = str(seq)
    else:
        s.add(KitMeta(key=key, value=str(seq)))
    kit = kit_id.replace("-", "")[-6:].upper()
    return f"{agency_code}-{year}-{kit}-{seq:04d}"
