"""Checklists and the violation catalogue as data: enough of them, each citing its law, each
item's violations in the catalogue, chosen by the party's categories; damaged files refused."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from forms.inspection import CHECKLIST_DIR, catalogue, checklists, for_party, parse_catalogue, parse_checklist


def test_the_shipped_checklists_and_catalogue() -> None:
    cls = checklists()
    assert list(cls) == ["eia", "permit", "wastewater", "waste_gas", "solid_waste", "noise", "online_monitoring",
                         "risk"]
    items = [it for cl in cls.values() for it in cl.items]
    assert len(items) >= 80 and all(it.basis and it.check and it.how and it.check_en for it in items)
    assert sum(it.required for it in items) >= 40 and any(it.photos for it in items) and any(it.reading for it in items)
    cat = catalogue()
    assert len(cat.violations) >= 30 and cat.ref == "violation_catalogue@3"
    assert all(v.breaches.startswith("《") and v.penalty_basis.startswith("《") for v in cat.violations.values())
    assert all(len(v.questions) >= 2 for v in cat.violations.values())
    used = {v for it in items for v in it.violations}
    assert len(used) >= 30  # the checklists lead to most of the catalogue
    exceed = cat.violations["water_exceed"]
    assert exceed.penalty_basis.endswith("第八十三条第（二）项") and (exceed.fine_min, exceed.fine_max) == (100000, 1000000)
    assert cat.violations["eia_unapproved"].fine_rule == "investment_1_5_percent"


def test_checklists_follow_the_partys_categories() -> None:
    assert [c.id for c in for_party([])] == ["eia", "permit", "risk"]
    assert [c.id for c in for_party(["water", "key_monitored"])] == ["eia", "permit", "wastewater",
                                                                      "online_monitoring", "risk"]
    assert len(for_party(["water", "air", "waste", "noise", "key_monitored"])) == 8


def raw(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((CHECKLIST_DIR / f"{name}.json").read_text(encoding="utf-8")))


@pytest.mark.parametrize(("damage", "message"), [
    (lambda d: d["items"][0].update({"basis": ""}), "cites no legal basis"),
    (lambda d: d.update({"applies": ["mars"]}), "unknown categories ['mars']"),
    (lambda d: d["items"].append(dict(d["items"][0])), "is there twice"),
    (lambda d: d.pop("items"), "'items' is missing"),
])
def test_a_damaged_checklist_is_refused_by_name(damage: Any, message: str) -> None:
    d = raw("wastewater")
    damage(d)
    with pytest.raises(ValueError) as err:
        parse_checklist(d, "wastewater.json")
    assert str(err.value).startswith("wastewater.json: ") and message in str(err.value)


def test_a_damaged_catalogue_is_refused_by_name() -> None:
    from forms.inspection import CATALOGUE

    d = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    d["violations"][0]["fine_min"] = 10 ** 9
    with pytest.raises(ValueError, match="violations.json: violation no_permit: the fine range is upside down"):
        parse_catalogue(d, "violations.json")
