"""What the kit checks in an enterprise's data logger records (``forms/monitoring_checks/logger_checks.json``):
each check's name, its thresholds and the provisions it rests on, and the violation a suspicion
points to for a flue-gas (ST 31) or waste-water (ST 32) source — versioned data, like the
checklists."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

PATH = Path(__file__).parent / "monitoring_checks" / "logger_checks.json"
KNOWN = ("analyzer", "limit", "flat", "flags", "gaps", "clock", "state", "aggregates")


@dataclass(frozen=True)
class CheckDef:
    id: str
    title: str
    title_en: str
    basis: str
    params: dict[str, Any]


@dataclass(frozen=True)
class LoggerChecks:
    id: str
    version: int
    title: str
    title_en: str
    basis: str
    violations: dict[str, str]  # system code (ST) → violation id in the catalogue
    checks: tuple[CheckDef, ...]

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    def get(self, check_id: str) -> CheckDef:
        return next(c for c in self.checks if c.id == check_id)


def parse(d: dict[str, Any], name: str = PATH.name) -> LoggerChecks:
    try:
        checks = tuple(CheckDef(id=c["id"], title=c["title"], title_en=c["title_en"], basis=c["basis"],
                                params=dict(c["params"])) for c in d["checks"])
        out = LoggerChecks(id=d["id"], version=int(d["version"]), title=d["title"], title_en=d["title_en"],
                           basis=d["basis"], violations=dict(d["violations"]), checks=checks)
    except KeyError as exc:
        raise ValueError(f"{name}: {exc.args[0]!r} is missing") from None
    ids = [c.id for c in checks]
    if sorted(ids) != sorted(KNOWN):
        raise ValueError(f"{name}: the checks must be exactly {', '.join(KNOWN)} (have {', '.join(ids)})")
    for c in checks:
        if not c.basis:
            raise ValueError(f"{name}: check {c.id} cites no basis")
    from forms.inspection import catalogue

    if unknown := sorted(v for v in out.violations.values() if v not in catalogue().violations):
        raise ValueError(f"{name}: violations not in the catalogue: {unknown}")
    return out


@cache
def logger_checks() -> LoggerChecks:
    return parse(json.loads(PATH.read_text(encoding="utf-8")))
