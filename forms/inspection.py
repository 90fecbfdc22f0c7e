"""Inspection checklists and the violation catalogue, as versioned data citing their law.

``forms/checklists/*.json``: one checklist per subject (EIA and the "three simultaneities",
emission permit, wastewater, waste gas, solid and hazardous waste, noise, online monitoring,
environmental risk). Each item says what to check, how, and on what legal basis; whether it must
be answered before an inspection can finish; the photos it needs (a shot list); whether an
instrument reading serves as its evidence; and the violations a "non-compliant" answer suggests.

``forms/catalogue/violations.json``: each violation with the provision it breaches, the provision
that penalises it and the statutory fine range, and the questions an inquiry transcript asks.

A checklist applies to a party by its categories: ``always``, or one of a source's pollution
categories (``water``, ``air``, ``waste``, ``noise``) or ``key_monitored`` (a key polluter with
online monitoring).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
CHECKLIST_DIR = HERE / "checklists"
CATALOGUE = HERE / "catalogue" / "violations.json"
APPLIES = frozenset({"always", "water", "air", "waste", "noise", "key_monitored"})


@dataclass(frozen=True)
class Item:
    id: str
    check: str
    check_en: str
    how: str
    how_en: str
    basis: str
    required: bool
    violations: tuple[str, ...]
    photos: tuple[str, ...] = ()
    reading: bool = False  # an instrument reading is its evidence


@dataclass(frozen=True)
class Checklist:
    id: str
    version: int
    title: str
    title_en: str
    applies: frozenset[str]
    items: tuple[Item, ...]
    order: int = 0  # where it comes in an inspection

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"


@dataclass(frozen=True)
class Violation:
    id: str
    category: str
    title: str
    title_en: str
    breaches: str
    penalty_basis: str
    penalty: str
    fine_min: int | None
    fine_max: int | None
    questions: tuple[str, ...]
    fine_rule: str | None = None  # a fine computed otherwise (share of investment, multiple of disposal cost)
    note: str | None = None  # e.g. when the case is also transferred to the police


@dataclass(frozen=True)
class Catalogue:
    id: str
    version: int
    title: str
    discretion: str
    categories: dict[str, tuple[str, str]]
    violations: dict[str, Violation]

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"


def _fail(name: str, message: str) -> ValueError:
    return ValueError(f"{name}: {message}")


def parse_checklist(d: dict[str, Any], name: str = "checklist") -> Checklist:
    try:
        items = tuple(Item(id=i["id"], check=i["check"], check_en=i["check_en"], how=i["how"], how_en=i["how_en"],
                           basis=i["basis"], required=bool(i.get("required", True)),
                           violations=tuple(i.get("violations", ())), photos=tuple(i.get("photos", ())),
                           reading=bool(i.get("reading"))) for i in d["items"])
        cl = Checklist(id=d["id"], version=int(d["version"]), title=d["title"], title_en=d["title_en"],
                       applies=frozenset(d["applies"]), items=items, order=int(d.get("order", 0)))
    except KeyError as exc:
        raise _fail(name, f"{exc.args[0]!r} is missing") from None
    if unknown := sorted(cl.applies - APPLIES):
        raise _fail(name, f"applies to unknown categories {unknown}")
    seen: set[str] = set()
    for it in cl.items:
        if it.id in seen:
            raise _fail(name, f"item {it.id} is there twice")
        seen.add(it.id)
        if not it.basis:
            raise _fail(name, f"item {it.id} cites no legal basis")
    return cl


def parse_catalogue(d: dict[str, Any], name: str = "catalogue") -> Catalogue:
    try:
        cats = {k: (v[0], v[1]) for k, v in d["categories"].items()}
        violations = {v["id"]: Violation(
            id=v["id"], category=v["category"], title=v["title"], title_en=v["title_en"], breaches=v["breaches"],
            penalty_basis=v["penalty_basis"], penalty=v["penalty"], fine_min=v.get("fine_min"),
            fine_max=v.get("fine_max"), questions=tuple(v.get("questions", ())), fine_rule=v.get("fine_rule"),
            note=v.get("note")) for v in d["violations"]}
        cat = Catalogue(id=d["id"], version=int(d["version"]), title=d["title"], discretion=d.get("discretion", ""),
                        categories=cats, violations=violations)
    except KeyError as exc:
        raise _fail(name, f"{exc.args[0]!r} is missing") from None
    if len(violations) != len(d["violations"]):
        raise _fail(name, "a violation id is there twice")
    for v in violations.values():
        if v.category not in cats:
            raise _fail(name, f"violation {v.id} has an unknown category {v.category!r}")
        if not (v.breaches and v.penalty_basis and v.penalty):
            raise _fail(name, f"violation {v.id} lacks its provisions or penalty")
        if v.fine_min is not None and v.fine_max is not None and v.fine_min > v.fine_max:
            raise _fail(name, f"violation {v.id}: the fine range is upside down")
    return cat


@cache
def catalogue() -> Catalogue:
    return parse_catalogue(json.loads(CATALOGUE.read_text(encoding="utf-8")), CATALOGUE.name)


@cache
def checklists() -> dict[str, Checklist]:
    """Every shipped checklist, by id; each item's violations exist in the catalogue."""
    out: dict[str, Checklist] = {}
    known = catalogue().violations
    item_ids: set[str] = set()
    for path in sorted(CHECKLIST_DIR.glob("*.json")):
        cl = parse_checklist(json.loads(path.read_text(encoding="utf-8")), path.name)
        for it in cl.items:
            if it.id in item_ids:
                raise _fail(path.name, f"item {it.id} is also in another checklist")
            item_ids.add(it.id)
            if unknown := [v for v in it.violations if v not in known]:
                raise _fail(path.name, f"item {it.id} names violations not in the catalogue: {unknown}")
        out[cl.id] = cl
    return dict(sorted(out.items(), key=lambda kv: (kv[1].order, kv[0])))


def for_party(categories: Iterable[str]) -> list[Checklist]:
    """The checklists that apply to a party with these categories (``water``, ``air``, ``waste``,
    ``noise``, ``key_monitored``), in the order an inspection takes them."""
    cats = set(categories) | {"always"}
    return [cl for cl in checklists().values() if cl.applies & cats]


__all__ = ["Catalogue", "Checklist", "Item", "Violation", "catalogue", "checklists", "for_party"]
