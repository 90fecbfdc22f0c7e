"""The data logger cross-checks as data: each named, with its thresholds and basis; a suspicion
points to a violation that is in the catalogue."""

from __future__ import annotations

import copy
import json

import pytest

from forms.inspection import catalogue
from forms.monitoring import PATH, logger_checks, parse


def test_the_shipped_checks() -> None:
    c = logger_checks()
    assert c.ref == "logger_checks@2" and "HJ 212-2017" in c.basis
    assert [x.id for x in c.checks] == ["analyzer", "limit", "flat", "flags", "gaps", "clock", "state",
                                          "aggregates"]
    assert all(x.title and x.title_en and x.basis and x.params for x in c.checks)
    for st, vid in c.violations.items():
        v = catalogue().violations[vid]
        assert v.category == {"31": "air", "32": "water"}[st] and v.fine_min == 100_000 and "第" in v.penalty_basis


@pytest.mark.parametrize("change, message", [
    (lambda d: d["checks"].pop(), "must be exactly"),
    (lambda d: d["checks"][0].update(basis=""), "cites no basis"),
    (lambda d: d["violations"].update({"31": "no_such_violation"}), "not in the catalogue"),
    (lambda d: d.pop("version"), "'version' is missing"),
])
def test_a_broken_definition_is_named(change, message: str) -> None:  # type: ignore[no-untyped-def]
    d = copy.deepcopy(json.loads(PATH.read_text(encoding="utf-8")))
    change(d)
    with pytest.raises(ValueError, match=message):
        parse(d)
