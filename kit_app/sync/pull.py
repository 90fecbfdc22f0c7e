"""Pull: what the central server sends down, applied in the kit's database incrementally since
the last server sequence number (kept in ``kit_meta.sync_pulled``). Each page is applied in one
transaction together with the new sequence number, so a pull killed at any moment either applied
a page completely (and will not ask for it again) or not at all.

Kinds: agencies, officers (with their password hash: officers sign in on the kit as themselves,
offline), sources, projects, checklists and document definitions, this kit's number blocks,
assignments (opened as cases, merged by the rules in kit_app.sync.conflicts) and review comments.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from forms.procedure import case_procedure
from kit_app.db import Store
from kit_app.db.history import open_history
from kit_app.db.models import (
    Agency,
    Case,
    CaseAssignment,
    CaseComment,
    CaseOfficer,
    CentralItem,
    KitMeta,
    NumberBlock,
    Officer,
    Project,
    Source,
)
from kit_app.db.numbering import PROVINCE_CODE, next_case_number
from kit_app.i18n import _
from kit_app.timeutil import utcnow

SOURCE_FIELDS = ("name", "credit_code", "address", "industry", "longitude", "latitude", "permit_no", "legal_rep",
                 "contact_phone", "cat_water", "cat_air", "cat_waste", "cat_noise", "key_monitored", "mn_codes",
                 "logger_pw")
PROJECT_FIELDS = ("name", "developer", "developer_credit_code", "address", "industry", "longitude", "latitude",
                  "eia_approval_no", "eia_approval_date", "status", "acceptance_date")


def forms_dir(store: Store) -> Path:
    return store.data_dir / "forms"


class Applier:
    def __init__(self, store: Store, s: Session) -> None:
        self.store, self.s = store, s
        self.agencies = dict(s.execute(select(Agency.code, Agency.id)).all())
        self.counts: dict[str, int] = {}
        self.notes: list[str] = []

    def apply(self, item: dict[str, Any]) -> None:
        getattr(self, f"_{item['kind']}")(item, item["body"])
        self.counts[item["kind"]] = self.counts.get(item["kind"], 0) + 1

    # ------------------------------------------------------------ base data
    def _agency(self, item: dict[str, Any], b: dict[str, Any]) -> None:
        code = b["code"]
        aid = self.agencies.get(code)
        row = self.s.get(Agency, aid) if aid else None
        if row is None:
            level = "province" if code.endswith("0000") else "city" if code.endswith("00") else "county"
            row = Agency(code=code, division_name=b["name"], name=b["name"], level=level,
                         parent_id=self.agencies.get(b.get("parent") or ""), origin_kit="central")
            self.s.add(row)
            self.s.flush()
            self.agencies[code] = row.id
        elif row.name != b["name"]:
            row.name = b["name"]
        # what its decisions name as remedies, and its seal's words (checked: short text)
        for attr in ("court", "review_body", "seal_text"):
            value = b.get(attr)
            if value is None or (isinstance(value, str) and len(value) <= 60):
                setattr(row, attr, value.strip() or None if isinstance(value, str) else None)
            else:
                self.notes.append(_("agency {code}: its {what} was not text of at most 60 characters; ignored").format(
                    code=code, what=attr))

    def _officer(self, item: dict[str, Any], b: dict[str, Any]) -> None:
        row = self.s.scalar(select(Officer).where(Officer.cert_no == b["cert_no"]))
        # the verifier for offline sign-in on this kit (its own salt: not what the server checks);
        # none, and the officer cannot sign in here
        values = {"name": b["name"], "roles": b["roles"], "password_hash": b.get("kit_verifier") or "",
                  "active": bool(b["active"]), "agency_id": self.agencies.get(b.get("agency_code") or "")}
        if row is None:
            self.s.add(Officer(id=b["id"], cert_no=b["cert_no"], origin_kit="central", **values))
        else:
            for k, v in values.items():
                if getattr(row, k) != v:
                    setattr(row, k, v)

    def _source(self, item: dict[str, Any], b: dict[str, Any]) -> None:
        from kit_app.pinyin import full_and_initials

        row = self.s.scalar(select(Source).where(Source.id == b["id"]))
        if row is None and b.get("credit_code"):
            row = self.s.scalar(select(Source).where(Source.credit_code == b["credit_code"]))
        values = {k: b.get(k) for k in SOURCE_FIELDS} | {"county_id": self.agencies.get(b.get("county_code") or "")}
        values = {k: (bool(v) if k.startswith("cat_") or k == "key_monitored" else v) for k, v in values.items()}
        py, abbr = full_and_initials(b["name"])
        values |= {"name_py": py, "name_abbr": abbr}
        if row is None:
            self.s.add(Source(id=b["id"], origin_kit="central", **values))
        else:
            for k, v in values.items():
                if getattr(row, k) != v:
                    setattr(row, k, v)

    def _project(self, item: dict[str, Any], b: dict[str, Any]) -> None:
        row = self.s.get(Project, b["id"])
        if row is None and b.get("eia_approval_no"):
            row = self.s.scalar(select(Project).where(Project.eia_approval_no == b["eia_approval_no"]))
        values: dict[str, Any] = {k: b.get(k) for k in PROJECT_FIELDS}
        for k in ("eia_approval_date", "acceptance_date"):
            if values[k]:
                values[k] = date.fromisoformat(values[k])
        values["county_id"] = self.agencies.get(b.get("county_code") or "")
        if row is None:
            self.s.add(Project(id=b["id"], origin_kit="central", **values))
        else:
            for k, v in values.items():
                if getattr(row, k) != v:
                    setattr(row, k, v)

    # ------------------------------------------------------------ definitions
    def _definition(self, item: dict[str, Any], b: dict[str, Any]) -> None:
        row = self.s.get(CentralItem, (item["kind"], item["key"]))
        if row is not None and (row.version or 0) > int(b.get("version") or 0):
            return  # never step back to an older version
        if row is None:
            self.s.add(CentralItem(kind=item["kind"], key=item["key"], version=b.get("version"),
                                   server_seq=item["seq"], body=json.dumps(b, ensure_ascii=False)))
        else:
            row.version, row.server_seq, row.body = b.get("version"), item["seq"], json.dumps(b, ensure_ascii=False)
        if item["kind"] == "form":
            from forms.model import parse

            try:
                parse(b, item["key"])
            except ValueError as exc:
                self.notes.append(_("form definition {id} not used: {why}").format(id=item["key"], why=exc))
                return
            self.store_form(item["key"], b)

    _checklist = _definition
    _form = _definition

    def store_form(self, key: str, body: dict[str, Any]) -> None:
        import os

        d = forms_dir(self.store)
        d.mkdir(parents=True, exist_ok=True)
        tmp = d / f".{key}.json.tmp"
        with tmp.open("wb") as fh:
            fh.write(json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, d / f"{key}.json")

    def _number_block(self, item: dict[str, Any], b: dict[str, Any]) -> None:
        if b["kit_id"] != self.store.kit_id or self.s.get(NumberBlock, b["id"]) is not None:
            return
        now = utcnow()
        self.s.add(NumberBlock(id=b["id"], agency_code=b["agency_code"], doc_type=b["doc_type"], year=b["year"],
                               prefix=b["prefix"], first=b["first"], last=b["last"], kit_id=b["kit_id"],
                               created_at=now, updated_at=now, origin_kit="central"))

    # ------------------------------------------------------------ assignments and comments
    def _assignment(self, item: dict[str, Any], b: dict[str, Any]) -> None:
        from kit_app.sync.conflicts import three_way

        officers = []
        for cert in b.get("officers", ()):
            oid = self.s.scalar(select(Officer.id).where(Officer.cert_no == cert))
            if oid is None:
                self.notes.append(_("assignment {title}: officer {cert} is not known on this kit").format(
                    title=b["title"], cert=cert))
            else:
                officers.append(oid)
        remote = {k: b.get(k) for k in ("title", "party_name", "party_credit_code", "party_address", "note")}
        remote["officers"] = officers
        case = self.s.get(Case, b["id"])
        base_row = self.s.get(CaseAssignment, b["id"])
        if case is None:
            agency_code = b.get("agency_code") or PROVINCE_CODE
            src = self.s.scalar(select(Source).where(Source.id == b["source_id"])) if b.get("source_id") else None
            case = Case(id=b["id"], number=next_case_number(self.s, self.store.kit_id, agency_code),
                        title=b["title"], source_id=src.id if src else None,
                        party_name=b["party_name"], party_credit_code=b.get("party_credit_code"),
                        party_address=b.get("party_address"), agency_id=self.agencies.get(agency_code),
                        origin_kit=self.store.kit_id)
            case.officers = [CaseOfficer(officer_id=o, position=i) for i, o in enumerate(officers)]
            procedure = case_procedure()
            open_history(case, state=procedure.initial, procedure=procedure.ref, action="assigned", at=utcnow(),
                         kit_id=self.store.kit_id, actor_name=b.get("assigned_by"))
            self.s.add(case)
            self.s.flush()
        else:
            base = json.loads(base_row.body) if base_row else None
            local = {"title": case.title, "party_name": case.party_name, "party_credit_code": case.party_credit_code,
                     "party_address": case.party_address, "officers": [o.officer_id for o in case.officers],
                     "note": (base or {}).get("note")}
            merged, both = three_way(base, local, remote)
            for f in ("title", "party_name", "party_credit_code", "party_address"):
                if getattr(case, f) != merged[f]:
                    setattr(case, f, merged[f])
            if merged["officers"] != local["officers"]:
                case.officers = [CaseOfficer(officer_id=o, position=i) for i, o in enumerate(merged["officers"])]
            if both:
                self.notes.append(_("case {number}: changed here and on the server ({fields}); resolved by the "
                                    "sync rules").format(number=case.number, fields=", ".join(both)))
        body = remote | {"source_id": b.get("source_id"), "assigned_at": b.get("assigned_at")}
        if base_row is None:
            self.s.add(CaseAssignment(case_id=b["id"], server_seq=item["seq"],
                                      body=json.dumps(body, ensure_ascii=False), applied_at=utcnow().isoformat()))
        else:
            base_row.server_seq, base_row.body = item["seq"], json.dumps(body, ensure_ascii=False)
            base_row.applied_at = utcnow().isoformat()

    def _comment(self, item: dict[str, Any], b: dict[str, Any]) -> None:
        if self.s.get(CaseComment, b["id"]) is None:
            self.s.add(CaseComment(id=b["id"], case_id=b["case_id"], author_name=b["author_name"],
                                   author_cert=b.get("author_cert"), at=b["at"], text=b["text"],
                                   server_seq=item["seq"]))


    def _review_step(self, item: dict[str, Any], b: dict[str, Any]) -> None:
        """A step a reviewer took at the central server for one of this kit's cases: kept, then taken
        — checked against the case as it stands here — after the sync (``kit_app.services.review``)."""
        if not isinstance(b.get("id"), str) or not isinstance(b.get("case_id"), str) or \
                not isinstance(b.get("action"), str) or not isinstance(b.get("actor"), dict):
            self.notes.append(_("a review step from the central server was not understood; ignored"))
            return
        if self.s.get(CentralItem, ("review_step", b["id"])) is None:
            self.s.add(CentralItem(kind="review_step", key=b["id"], version=None, server_seq=item["seq"],
                                   body=json.dumps(b, ensure_ascii=False)))


ORDER = {"agency": 0, "officer": 1, "source": 2, "project": 3, "checklist": 4, "form": 5, "number_block": 6,
         "assignment": 7, "comment": 8, "review_step": 9}


def pulled_since(store: Store) -> int:
    with store.session() as s:
        row = s.get(KitMeta, "sync_pulled")
        return int(row.value) if row else 0


def apply_page(store: Store, page: dict[str, Any]) -> tuple[dict[str, int], list[str]]:
    """Apply one page and remember its sequence number, in one transaction."""
    with store.write_session() as s:
        a = Applier(store, s)
        for item in sorted(page["items"], key=lambda i: (ORDER.get(i["kind"], 9), i["seq"])):
            if item["kind"] not in ORDER or item.get("deleted"):
                continue
            a.apply(item)
            s.flush()
        row = s.get(KitMeta, "sync_pulled")
        if row is None:
            s.add(KitMeta(key="sync_pulled", value=str(page["next"])))
        else:
            row.value = str(page["next"])
    if a.counts.get("form"):
        import forms.model

        forms.model.use_directory(forms_dir(store))
    return a.counts, a.notes
