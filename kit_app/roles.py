"""Roles and what they may do, enforced here in the core (the UI only mirrors it)."""

from __future__ import annotations

from kit_app.dto import OfficerInfo
from kit_app.errors import PermissionDenied
from kit_app.i18n import N_, _

OFFICER = "officer"
REVIEWER = "reviewer"
AGENCY_HEAD = "agency_head"  # 机关负责人: approves filing, decides, closes
ADMIN = "admin"
ROLES = (OFFICER, REVIEWER, AGENCY_HEAD, ADMIN)

ROLE_LABELS = {OFFICER: N_("Officer"), REVIEWER: N_("Reviewer"), AGENCY_HEAD: N_("Agency head"),
               ADMIN: N_("Administrator")}

# action -> roles allowed to perform it
PERMISSIONS: dict[str, frozenset[str]] = {
    "officers.manage": frozenset({ADMIN}),
    "basedata.import": frozenset({ADMIN}),
    "basedata.edit": frozenset({ADMIN}),
    "project.accept": frozenset({OFFICER, ADMIN}),
    "case.create": frozenset({OFFICER}),
    "evidence.collect": frozenset({OFFICER}),
    "document.issue": frozenset({OFFICER}),
    "numbers.assign": frozenset({ADMIN}),
}

ACTION_LABELS = {
    "officers.manage": N_("manage officers"),
    "basedata.import": N_("import base data"),
    "basedata.edit": N_("edit base data"),
    "project.accept": N_("record a completion acceptance"),
    "case.create": N_("open a case"),
    "evidence.collect": N_("collect evidence"),
    "document.issue": N_("issue a document"),
    "numbers.assign": N_("assign document numbers"),
}


def can(actor: OfficerInfo | None, action: str) -> bool:
    """``None`` is the local system administrator (the command line without --officer)."""
    if actor is None:
        return True
    return actor.active and bool(PERMISSIONS[action].intersection(actor.roles))


def require(actor: OfficerInfo | None, action: str) -> None:
    if not can(actor, action):
        assert actor is not None
        needed = ", ".join(_(ROLE_LABELS[r]) for r in ROLES if r in PERMISSIONS[action])
        raise PermissionDenied(
            _("{name} may not {action}: this needs the role {roles}.").format(
                name=actor.name, action=_(ACTION_LABELS[action]), roles=needed
            )
        )


def parse_roles(text: str) -> tuple[str, ...]:
    roles = tuple(r.strip() for r in text.split(",") if r.strip())
    return tuple(r for r in ROLES if r in roles)
