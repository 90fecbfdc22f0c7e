"""The case procedure as data: it parses, every action and deadline cites its law, and a damaged
definition is refused by name."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from forms.procedure import PROCEDURE_DIR, case_procedure, parse


def action(d: dict[str, Any], action_id: str) -> dict[str, Any]:
    return next(a for a in d["actions"] if a["id"] == action_id)


def raw() -> dict[str, Any]:
    return copy.deepcopy(json.loads((PROCEDURE_DIR / "case_procedure.json").read_text(encoding="utf-8")))


def test_the_shipped_procedure() -> None:
    p = case_procedure()
    assert p.ref == "case_procedure@3" and p.initial == "filing" and p.initial_for("inspection") == "inspecting"
    assert {"filing", "investigating", "under_review", "notified", "hearing", "decided", "served", "closed",
            "archived", "suspended", "revoked", "not_filed"} <= set(p.states)
    assert all(a.basis for a in p.actions.values()) and all(d.basis for d in p.deadlines)
    assert all(a.label and a.label_en for a in p.actions.values())
    # every state but the final ones has a way on; every final one has none
    for sid, state in p.states.items():
        assert bool(p.actions_from(sid)) != state.final, sid
    assert p.accepts_evidence("investigating") and not p.accepts_evidence("decided")
    assert {d.id for d in p.deadlines} >= {"filing", "decision", "hearing_request", "service", "payment",
                                           "preservation", "seizure", "correction"}


@pytest.mark.parametrize(("damage", "message"), [
    (lambda d: action(d, "approve_filing").update({"to": "nowhere"}), "action approve_filing leads to the unknown state 'nowhere'"),
    (lambda d: action(d, "approve_filing").update({"requires": ["luck"]}), "unknown requirement 'luck'"),
    (lambda d: action(d, "approve_filing").update({"roles": ["mayor"]}), "unknown roles ['mayor']"),
    (lambda d: action(d, "approve_filing").update({"basis": ""}), "action approve_filing cites no legal basis"),
    (lambda d: d["deadlines"][0].update({"met_by": ["wish"]}), "deadline filing names unknown actions ['wish']"),
    (lambda d: d.update({"initial": "limbo"}), "the initial state 'limbo' is not a state"),
    (lambda d: d.pop("states"), "'states' is missing"),
])
def test_a_damaged_procedure_is_refused_by_name(damage: Any, message: str) -> None:
    d = raw()
    damage(d)
    with pytest.raises(ValueError) as err:
        parse(d, "case_procedure.json")
    assert str(err.value).startswith("case_procedure.json: ") and message in str(err.value)


def test_each_step_names_documents_that_exist() -> None:
    """The editor offers a step's documents first, in order: each is a shipped definition."""
    import forms

    p = case_procedure()
    named = [t for s in p.states.values() for t in s.documents]
    assert named and set(named) <= set(forms.definitions())
    assert p.states["decided"].documents[0] == "penalty_decision"
    assert p.states["filing"].documents[0] == "case_approval"
