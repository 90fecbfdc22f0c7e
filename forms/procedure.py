"""The case procedure as data (``forms/procedures/case_procedure.json``, versioned, each step citing
its law): the states a case passes through, the actions that move it (who may take them, what must
exist first, what they record), the outcomes of a decision and the legal deadlines.

This module reads and checks the definition; ``kit_app.services.lifecycle`` enforces it. A
definition that names an unknown state, action, requirement or deadline is refused by name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

PROCEDURE_DIR = Path(__file__).with_name("procedures")
PREVIOUS = "@previous"  # "to" of an action that returns to the state before the last suspension

ROLES = frozenset({"officer", "reviewer", "agency_head", "admin"})
# what an action may require before it is taken (checked by kit_app.services.lifecycle)
REQUIREMENTS = frozenset({"evidence", "investigator", "two_investigators", "not_investigator", "outcome",
                          "notice_period_over", "served", "performed", "hearing_notice", "inspection_complete",
                          "findings", "no_findings", "review_approved", "legal_review_approved"})
REQUIREMENT_PREFIXES = ("document:", "within:")
# what an action may record besides its reason
FIELDS = frozenset({"outcome", "fine_yuan", "hearing_date", "place", "witness", "paid_on"})
DEADLINE_KINDS = ("due", "wait", "watch")  # due: act by then; wait: the party's time; watch: the party's deadline


@dataclass(frozen=True)
class State:
    id: str
    label: str
    label_en: str
    final: bool = False
    evidence: bool = False  # evidence may still be collected
    documents: tuple[str, ...] = ()  # the documents this step makes, in the order they are usually made


@dataclass(frozen=True)
class Action:
    id: str
    label: str
    label_en: str
    from_states: tuple[str, ...]
    to: str | None  # None: a fact recorded without changing the state
    roles: frozenset[str]
    requires: tuple[str, ...] = ()
    reason: bool = False  # a reason must be given
    fields: tuple[str, ...] = ()
    extends: str | None = None  # the deadline it extends
    basis: str = ""
    outcome: str | None = None  # the outcome the step sets (an inspection's end)


@dataclass(frozen=True)
class Outcome:
    id: str
    label: str
    label_en: str
    notice: bool = False  # the party must have been notified first (告知)
    decision: bool = True  # a decision's outcome (else an inspection's)


@dataclass(frozen=True)
class DeadlineRule:
    id: str
    label: str
    label_en: str
    start: str  # "discovered", "action:ID" or "document:TYPE"
    days: int | None = None
    working: bool = False  # working days (《行政处罚法》第八十五条), else calendar days
    extension_days: int = 0
    met_by: tuple[str, ...] = ()
    kind: str = "due"
    # "fine": when the decision imposes a fine; "violation": a case, or an inspection that found one
    when: str | None = None
    surcharge_per_day: float = 0.0
    until_field: str | None = None  # the deadline is a date field of the starting document
    paused_by: str | None = None
    resumed_by: str | None = None
    basis: str = ""


@dataclass(frozen=True)
class Procedure:
    id: str
    version: int
    title: str
    title_en: str
    basis: str
    initial: str
    initial_by_kind: dict[str, str]
    states: dict[str, State]
    actions: dict[str, Action]
    outcomes: dict[str, Outcome]
    deadlines: tuple[DeadlineRule, ...]

    @property
    def ref(self) -> str:
        """What a case records of the procedure it follows: ``id@version``."""
        return f"{self.id}@{self.version}"

    def initial_for(self, kind: str) -> str:
        """Where a case of this kind starts (an inspection at 现场检查)."""
        return self.initial_by_kind.get(kind, self.initial)

    def actions_from(self, state: str) -> list[Action]:
        return [a for a in self.actions.values() if state in a.from_states]

    def accepts_evidence(self, state: str) -> bool:
        """Evidence may still be collected for a case in this state (not once it is decided)."""
        s = self.states.get(state)
        return bool(s and s.evidence)


def _fail(name: str, message: str) -> ValueError:
    return ValueError(f"{name}: {message}")


def parse(d: dict[str, Any], name: str = "procedure") -> Procedure:
    """A procedure from its JSON, checked; ValueError names what is wrong."""
    try:
        states = {s["id"]: State(s["id"], s["label"], s["label_en"], bool(s.get("final")), bool(s.get("evidence")),
                                 tuple(s.get("documents", ())))
                  for s in d["states"]}
        actions = {a["id"]: Action(
            id=a["id"], label=a["label"], label_en=a["label_en"], from_states=tuple(a["from"]), to=a.get("to"),
            roles=frozenset(a["roles"]), requires=tuple(a.get("requires", ())), reason=bool(a.get("reason")),
            fields=tuple(a.get("fields", ())), extends=a.get("extends"), basis=a.get("basis", ""),
            outcome=a.get("outcome"))
            for a in d["actions"]}
        outcomes = {o["id"]: Outcome(o["id"], o["label"], o["label_en"], bool(o.get("notice")),
                                     bool(o.get("decision", True))) for o in d["outcomes"]}
        deadlines = tuple(DeadlineRule(
            id=r["id"], label=r["label"], label_en=r["label_en"], start=r["from"], days=r.get("days"),
            working=bool(r.get("working")), extension_days=int(r.get("extension_days", 0)),
            met_by=tuple(r.get("met_by", ())), kind=r.get("kind", "due"), when=r.get("when"),
            surcharge_per_day=float(r.get("surcharge_per_day", 0.0)), until_field=r.get("until_field"),
            paused_by=r.get("paused_by"), resumed_by=r.get("resumed_by"), basis=r.get("basis", ""))
            for r in d["deadlines"])
        proc = Procedure(id=d["id"], version=int(d["version"]), title=d["title"], title_en=d["title_en"],
                         basis=d.get("basis", ""), initial=d["initial"],
                         initial_by_kind=dict(d.get("initial_by_kind", {})), states=states, actions=actions,
                         outcomes=outcomes, deadlines=deadlines)
    except KeyError as exc:
        raise _fail(name, f"{exc.args[0]!r} is missing") from None
    _check(proc, name)
    return proc


def _check(p: Procedure, name: str) -> None:
    for start in (p.initial, *p.initial_by_kind.values()):
        if start not in p.states:
            raise _fail(name, f"the initial state {start!r} is not a state")
    rules = {r.id for r in p.deadlines}
    for a in p.actions.values():
        where = f"action {a.id}"
        if unknown := [s for s in a.from_states if s not in p.states]:
            raise _fail(name, f"{where} starts from unknown states {unknown}")
        if a.to is not None and a.to != PREVIOUS and a.to not in p.states:
            raise _fail(name, f"{where} leads to the unknown state {a.to!r}")
        if unknown := sorted(a.roles - ROLES):
            raise _fail(name, f"{where} names unknown roles {unknown}")
        for req in a.requires:
            if req.startswith("within:") and req.split(":", 1)[1] not in rules:
                raise _fail(name, f"{where} requires an unknown deadline {req!r}")
            if req not in REQUIREMENTS and not req.startswith(REQUIREMENT_PREFIXES):
                raise _fail(name, f"{where} has an unknown requirement {req!r}")
        if unknown := [f for f in a.fields if f not in FIELDS]:
            raise _fail(name, f"{where} records unknown fields {unknown}")
        if a.extends is not None and a.extends not in rules:
            raise _fail(name, f"{where} extends an unknown deadline {a.extends!r}")
        if not a.basis:
            raise _fail(name, f"{where} cites no legal basis")
        if a.outcome is not None and a.outcome not in p.outcomes:
            raise _fail(name, f"{where} sets an unknown outcome {a.outcome!r}")
    for r in p.deadlines:
        where = f"deadline {r.id}"
        if unknown := [m for m in (*r.met_by, r.paused_by, r.resumed_by) if m is not None and m not in p.actions]:
            raise _fail(name, f"{where} names unknown actions {unknown}")
        if r.kind not in DEADLINE_KINDS:
            raise _fail(name, f"{where} has an unknown kind {r.kind!r}")
        if not (r.start == "discovered" or r.start.startswith(("action:", "document:"))):
            raise _fail(name, f"{where} starts from {r.start!r} (discovered, action:ID or document:TYPE)")
        if r.start.startswith("action:") and r.start.split(":", 1)[1] not in p.actions:
            raise _fail(name, f"{where} starts from an unknown action {r.start!r}")
        if (r.days is None) == (r.until_field is None):
            raise _fail(name, f"{where} needs either days or until_field")
        if not r.basis:
            raise _fail(name, f"{where} cites no legal basis")


@cache
def case_procedure() -> Procedure:
    """The procedure shipped with this version."""
    path = PROCEDURE_DIR / "case_procedure.json"
    return parse(json.loads(path.read_text(encoding="utf-8")), path.name)


__all__ = ["Action", "DeadlineRule", "Outcome", "PREVIOUS", "Procedure", "State", "case_procedure", "parse"]
