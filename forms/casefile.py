"""The order of a case file (案卷) as data (``forms/archive/case_file.json``, versioned, citing the
rule): the main volume's parts in turn, each naming the document types it holds, and the side
volume; service receipts follow the document they served. A definition that names an unknown
document type, or one type twice, is refused by name."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from kit_app.errors import KitError

ARCHIVE_DIR = Path(__file__).with_name("archive")


class CaseFileError(KitError, ValueError):
    """The case-file definition is wrong (the message names where)."""


@dataclass(frozen=True)
class Part:
    id: str
    label: str
    types: tuple[str, ...]
    side: bool = False
    annex: bool = False  # the evidence not yet on any issued paper is appended here
    rest: bool = False  # issued documents no part names come here


@dataclass(frozen=True)
class CaseFileDef:
    id: str
    version: int
    title: str
    basis: str
    retention: str
    parts: tuple[Part, ...]
    receipt: str

    def part_of(self, doc_type: str) -> Part:
        """The part a document type is filed in (the ``rest`` part for one no part names)."""
        for p in self.parts:
            if doc_type in p.types:
                return p
        return next(p for p in self.parts if p.rest)


def parse(raw: dict[str, Any], where: str = "case_file.json") -> CaseFileDef:
    import forms

    known = set(forms.definitions())
    seen: set[str] = set()
    parts: list[Part] = []
    try:
        for side, key in ((False, "main"), (True, "side")):
            for p in raw[key]:
                for t in p["types"]:
                    if t not in known:
                        raise CaseFileError(f"{where}: part {p['id']}: unknown document type {t}")
                    if t in seen:
                        raise CaseFileError(f"{where}: document type {t} is named twice")
                    seen.add(t)
                parts.append(Part(id=str(p["id"]), label=str(p["label"]), types=tuple(p["types"]), side=side,
                                  annex=bool(p.get("annex")), rest=bool(p.get("rest"))))
        if raw["receipt"] not in known:
            raise CaseFileError(f"{where}: unknown receipt type {raw['receipt']}")
        if sum(p.rest for p in parts) != 1 or sum(p.annex for p in parts) != 1:
            raise CaseFileError(f"{where}: exactly one part takes the rest, and one the evidence annex")
        return CaseFileDef(id=str(raw["id"]), version=int(raw["version"]), title=str(raw["title"]),
                           basis=str(raw["basis"]), retention=str(raw.get("retention") or ""), parts=tuple(parts),
                           receipt=str(raw["receipt"]))
    except KeyError as exc:
        raise CaseFileError(f"{where}: {exc.args[0]} is missing") from None


@cache
def case_file() -> CaseFileDef:
    """The case-file order shipped with this version."""
    path = ARCHIVE_DIR / "case_file.json"
    return parse(json.loads(path.read_text(encoding="utf-8")), path.name)


__all__ = ["CaseFileDef", "CaseFileError", "Part", "case_file", "parse"]
