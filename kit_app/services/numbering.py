"""Document numbers: the blocks reserved for each kit and the next free number in them.

Numbers are ``<prefix>〔<year>〕<seq>号`` (e.g. 南环罚告〔2026〕12号), unique per agency, document type
and year. Kits work offline, so each kit draws only from the number blocks reserved for it; blocks of
one agency, type and year never overlap — the provincial office hands them out (the central server,
once kits sync; ``kit-app numbers add`` meanwhile).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from kit_app import roles as R
from kit_app.db import Store
from kit_app.db.models import Agency, Document, NumberBlock
from kit_app.dto import OfficerInfo
from kit_app.errors import NotFound, ValidationError
from kit_app.i18n import _
from kit_app.timeutil import utcnow


def format_number(prefix: str, year: int, seq: int) -> str:
    return f"{prefix}〔{year}〕{seq}号"


class NumberingService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def add_block(self, *, agency_code: str, doc_type: str, year: int, prefix: str, first: int, last: int,
                  kit_id: str | None = None, actor: OfficerInfo | None = None, also: Any = None) -> dict[str, Any]:
        """Reserve numbers first–last of (agency, type, year) for a kit (this one by default);
        ``also(session)`` writes what goes with it in the same transaction (the log)."""
        import forms

        R.require(actor, "numbers.assign")
        try:
            defn = forms.get(doc_type)
        except KeyError as exc:
            raise ValidationError(str(exc.args[0]), "type") from None
        if not defn.number:
            raise ValidationError(_("{title} carries no document number.").format(title=defn.title), "type")
        if not prefix.strip():
            raise ValidationError(_("The number prefix (e.g. 南环罚告) is missing."), "prefix")
        if first < 1 or last < first:
            raise ValidationError(_("A block runs from a first number ≥ 1 to a last number ≥ the first."), "range")
        now = utcnow()
        with self.store.write_session() as s:
            if s.scalar(select(Agency.id).where(Agency.code == agency_code)) is None:
                raise NotFound(_("No agency with code {code}.").format(code=agency_code))
            clash = s.scalar(select(NumberBlock).where(
                NumberBlock.agency_code == agency_code, NumberBlock.doc_type == doc_type, NumberBlock.year == year,
                NumberBlock.first <= last, NumberBlock.last >= first))
            if clash is not None:
                msg = _("Numbers {a}–{b} overlap the block {c}–{d} already assigned to kit {kit}.")
                raise ValidationError(msg.format(a=first, b=last, c=clash.first, d=clash.last, kit=clash.kit_id[:8]),
                                      "range")
            same = s.scalar(select(NumberBlock).where(  # numbers are unique: one prefix, one type
                NumberBlock.prefix == prefix.strip(), NumberBlock.year == year, NumberBlock.doc_type != doc_type,
                NumberBlock.first <= last, NumberBlock.last >= first))
            if same is not None:
                raise ValidationError(_("The prefix {prefix} already numbers {title} {a}–{b} in {year}: two papers "
                                        "would carry the same number. Choose this type's own prefix.").format(
                    prefix=prefix.strip(), title=_forms_title(same.doc_type), a=same.first, b=same.last, year=year),
                    "prefix")
            block = NumberBlock(agency_code=agency_code, doc_type=doc_type, year=year, prefix=prefix.strip(),
                                first=first, last=last, kit_id=kit_id or self.store.kit_id,
                                assigned_by=actor.id if actor else None, created_at=now, updated_at=now,
                                origin_kit=self.store.kit_id)
            s.add(block)
            s.flush()
            if also is not None:
                also(s)
            return _block_dict(block, 0)

    def blocks(self) -> list[dict[str, Any]]:
        with self.store.session() as s:
            out = []
            for b in s.scalars(select(NumberBlock).order_by(NumberBlock.agency_code, NumberBlock.doc_type,
                                                            NumberBlock.year, NumberBlock.first)):
                used = s.scalar(select(func.count()).select_from(Document).where(
                    Document.agency_code == b.agency_code, Document.doc_type == b.doc_type,
                    Document.year == b.year, Document.seq.between(b.first, b.last))) or 0
                out.append(_block_dict(b, used))
            return out

    def without_numbers(self, agency_code: str, doc_types: tuple[str, ...], year: int) -> list[str]:
        """The titles of those ``doc_types`` this kit has no free number for (agency, year)."""
        out = []
        with self.store.session() as s:
            for t in doc_types:
                try:
                    self.next_number(s, agency_code, t, year)
                except ValidationError:
                    out.append(_forms_title(t))
        return out

    def next_number(self, s: Any, agency_code: str, doc_type: str, year: int) -> tuple[int, str]:
        """The next free number of this kit's blocks, read in session ``s`` (the issuing transaction)."""
        blocks = s.scalars(select(NumberBlock).where(
            NumberBlock.agency_code == agency_code, NumberBlock.doc_type == doc_type, NumberBlock.year == year,
            NumberBlock.kit_id == self.store.kit_id).order_by(NumberBlock.first)).all()
        for b in blocks:
            top = s.scalar(select(func.max(Document.seq)).where(
                Document.agency_code == agency_code, Document.doc_type == doc_type, Document.year == year,
                Document.seq.between(b.first, b.last)))
            seq = (top or b.first - 1) + 1
            if seq <= b.last:
                number = format_number(b.prefix, year, seq)
                taken = s.scalar(select(Document.doc_type).where(Document.number == number))
                if taken is not None:  # a block from elsewhere that shares another type's prefix
                    raise ValidationError(_("The number {number} is already carried by a {title}: the number "
                                            "blocks of two types share a prefix. Ask the provincial office to "
                                            "correct the block.").format(number=number, title=_forms_title(taken)),
                                          "number")
                return seq, number
        raise ValidationError(
            _("This kit has no free document number for {type} of agency {agency} in {year}. Ask the provincial "
              "office for a block of numbers; it reaches this kit with the next sync with the central server.").format(
                type=_forms_title(doc_type), agency=agency_code, year=year), "number")


def _block_dict(b: NumberBlock, used: int) -> dict[str, Any]:
    return {"id": b.id, "agency_code": b.agency_code, "type": b.doc_type, "year": b.year, "prefix": b.prefix,
            "first": b.first, "last": b.last, "kit_id": b.kit_id, "used": used, "left": b.last - b.first + 1 - used,
            "example": format_number(b.prefix, b.year, b.first)}


def _forms_title(doc_type: str) -> str:
    """A document type as the officer knows it (its title), not its id."""
    import forms

    try:
        return forms.get(doc_type).title
    except KeyError:
        return doc_type
