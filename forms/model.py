"""Loading document definitions, validating payloads against them (errors name the field), and
their JSON Schema."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from kit_app.errors import ValidationError
from kit_app.i18n import _

DEFINITIONS = Path(__file__).with_name("definitions")
FIELD_TYPES = ("text", "textarea", "date", "datetime", "int", "number", "choice", "officers", "qa", "table",
               "signing")

# How the party signed a paper (field type "signing"), and what the printed document says for it. A refusal
# or an absence is noted on the paper with a witness (《行政处罚法》第六十一条；《行政强制法》第十八条、第二十四条;
# 《民事诉讼法》第八十九条 for 留置送达); the reason is the party's own.
SIGNING_STATUSES = ("signed", "refused", "absent", "left")
SIGNING_NEEDS_REASON = ("refused", "left")
SIGNING_NEEDS_WITNESS = ("refused", "absent", "left")
SIGNING_PRINTED = {"signed": "", "refused": "拒绝签名", "absent": "不在场", "left": "拒绝签收，已留置送达"}
SIGNING_KEYS = ("status", "reason", "witness", "witness_id_no", "witness_unit", "photo", "photo_label")


class FormError(ValidationError, ValueError):
    """A payload does not fit its definition; ``field`` is the path of the offending field."""

    def __init__(self, field_path: str, message: str) -> None:
        super().__init__(_("{field}: {message}").format(field=field_path, message=message), field_path)
        self.message = message


@dataclass(frozen=True)
class FieldDef:
    name: str
    label: str
    type: str = "text"
    required: bool = False
    max_length: int | None = None
    source: str | None = None  # where the editor fills it from, e.g. "case.party.name"
    choices: tuple[str, ...] = ()
    columns: tuple[FieldDef, ...] = ()  # for tables
    help: str | None = None
    default: Any = None
    after: str | None = None  # a date/datetime field this one may not precede
    statuses: tuple[str, ...] = ()  # for "signing": the ways this paper may be signed
    left_method: tuple[str, str] | None = None  # for "signing": (field, value) that means 留置送达, both ways
    # a legal period: this date at most ``days`` (working days if ``working``) after the date ``field``,
    # counted from the day after it, or counting that day too when ``inclusive``; ``rule`` cites the law
    within: dict[str, Any] | None = None
    # a number's legal ceiling, by another field's value: {"by": f, "max": {value: n}, "rule": law}
    limit: dict[str, Any] | None = None
    # a value that follows from others: {"days_between": [from, to]} or {"product": [a, b]}
    derived: dict[str, Any] | None = None

    def signing_statuses(self) -> tuple[str, ...]:
        return self.statuses or ("signed", "refused", "absent")

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> FieldDef:
        if d.get("type", "text") not in FIELD_TYPES:
            raise ValueError(f"field {d.get('name')}: unknown type {d.get('type')}")
        return cls(name=d["name"], label=d["label"], type=d.get("type", "text"), required=d.get("required", False),
                   max_length=d.get("max_length"), source=d.get("source"), choices=tuple(d.get("choices", ())),
                   columns=tuple(cls.from_json(c) for c in d.get("columns", ())), help=d.get("help"),
                   default=d.get("default"), after=d.get("after"), statuses=tuple(d.get("statuses", ())),
                   left_method=(d["left_method"][0], d["left_method"][1]) if d.get("left_method") else None,
                   within=d.get("within"), limit=d.get("limit"), derived=d.get("derived"))


@dataclass(frozen=True)
class DocumentDef:
    id: str
    version: int
    title: str
    kind: str  # transcript | decision | notice | list | sheet | record
    fields: tuple[FieldDef, ...]
    layout: tuple[dict[str, Any], ...]
    example: dict[str, Any]
    number: dict[str, Any] | None = None  # {"code": "责改"}: numbered 〔year〕n号
    page_signatures: tuple[str, ...] = ()
    copies: str | None = None
    description: str = ""
    titles: dict[str, Any] | None = None  # {"field": f, "values": {value: title}}: the title follows a choice
    # papers of the case this one follows, each a set of alternatives ("penalty_decision|daily_penalty_decision")
    requires: tuple[tuple[str, ...], ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def title_for(self, data: dict[str, Any]) -> str:
        """The title as printed for this payload (e.g. 行政处罚事先告知书 when no hearing is offered)."""
        if self.titles:
            return str(self.titles["values"].get(data.get(self.titles["field"]), self.title))
        return self.title

    @staticmethod
    def shows(block: dict[str, Any], data: dict[str, Any]) -> bool:
        """A layout block is printed unless its ``when`` says otherwise: {"field": f, "in": [values]}, or
        {"field": f, "filled": true | false}."""
        when = block.get("when")
        if not when:
            return True
        value = data.get(when["field"])
        if "filled" in when:
            return (value not in (None, "", [])) == bool(when["filled"])
        return value in when["in"]

    def field(self, name: str) -> FieldDef:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    # ------------------------------------------------------------ validation
    def validate(self, payload: Any) -> dict[str, Any]:
        """The payload, checked and normalised; FormError names the first field that is wrong."""
        if not isinstance(payload, dict):
            raise FormError("$", _("the payload must be a JSON object"))
        known = {f.name for f in self.fields}
        for key in payload:
            if key not in known:
                raise FormError(key, _("not a field of {title}").format(title=self.title))
        out: dict[str, Any] = {}
        for f in self.fields:
            value = payload.get(f.name, f.default)
            out[f.name] = _check(f, value, f.name)
        for f in self.fields:
            if f.after and out.get(f.name) and out.get(f.after) and out[f.name] < out[f.after]:
                raise FormError(f.name, _("is earlier than {other} ({label})").format(
                    other=self.field(f.after).label, label=f.label))
            if f.within and out.get(f.name) and out.get(f.within["field"]):
                _check_within(self, f, out)
            if f.limit and out.get(f.name) is not None:
                ceiling = f.limit["max"].get(out.get(f.limit["by"]))
                if ceiling is not None and out[f.name] > ceiling:
                    raise FormError(f.name, _("may be at most {max} when {other} is {value} ({rule})").format(
                        max=ceiling, other=self.field(f.limit["by"]).label, value=out.get(f.limit["by"]),
                        rule=f.limit["rule"]))
            if f.derived and out.get(f.name) is not None:
                expected = _derive(f.derived, out)
                if expected is not None and abs(out[f.name] - expected) > 1e-6:
                    raise FormError(f.name, _("should be {expected}, from {sources}").format(
                        expected=expected, sources="、".join(self.field(n).label for n in _derived_from(f.derived))))
            if f.left_method:
                method, value = f.left_method
                left = (out.get(f.name) or {}).get("status") == "left"
                if left != (out.get(method) == value):
                    raise FormError(f.name, _("{value} ({method}) is chosen exactly when the party refused to "
                                              "accept and the paper was left with a witness").format(
                        value=value, method=self.field(method).label))
        return out

    def content_hash(self, payload: dict[str, Any], doc_id: str, number: str | None) -> str:
        """SHA-256 of the document's content: definition id and version, id, number and payload."""
        body = {"definition": self.id, "version": self.version, "id": doc_id, "number": number, "payload": payload}
        return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
                              .encode("utf-8")).hexdigest()

    # ------------------------------------------------------------ schema
    def json_schema(self) -> dict[str, Any]:
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"urn:kit-app:forms:{self.id}:v{self.version}",
            "title": self.title,
            "description": self.description,
            "type": "object",
            "additionalProperties": False,
            "required": [f.name for f in self.fields if f.required],
            "properties": {f.name: _schema(f) for f in self.fields},
        }


_EMPTY: tuple[object, ...] = (None, "", [])


def _check(f: FieldDef, value: Any, path: str) -> Any:
    if value in _EMPTY:
        if f.required:
            raise FormError(path, _("is required ({label})").format(label=f.label))
        return [] if f.type in ("officers", "qa", "table") else None
    t = f.type
    if t == "signing":
        return _check_signing(f, value, path)
    if t in ("text", "textarea", "choice"):
        if not isinstance(value, str):
            raise FormError(path, _("must be text"))
        value = value.strip() if t != "textarea" else value.rstrip()
        if f.required and not value:
            raise FormError(path, _("is required ({label})").format(label=f.label))
        if f.max_length and len(value) > f.max_length:
            raise FormError(path, _("is {n} characters long; at most {max} are allowed").format(
                n=len(value), max=f.max_length))
        if t == "choice" and value not in f.choices:
            raise FormError(path, _("must be one of: {choices}").format(choices="、".join(f.choices)))
        return value
    if t == "date":
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise FormError(path, _("is not a date (YYYY-MM-DD): {value!r}").format(value=value)) from None
    if t == "datetime":
        try:
            dt = datetime.fromisoformat(str(value))
        except ValueError:
            raise FormError(path, _("is not a date and time (YYYY-MM-DDTHH:MM): {value!r}").format(
                value=value)) from None
        return dt.isoformat(timespec="seconds" if dt.second else "minutes")
    if t in ("int", "number"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                (t == "int" and not isinstance(value, int)):
            raise FormError(path, _("must be a number"))
        return value
    if not isinstance(value, list):
        raise FormError(path, _("must be a list"))
    if t == "officers":
        out = []
        for i, o in enumerate(value):
            p = f"{path}[{i}]"
            if not isinstance(o, dict) or not str(o.get("name", "")).strip():
                raise FormError(p, _("an officer needs a name"))
            cert = str(o.get("cert_no", "")).strip()
            if not cert:
                raise FormError(f"{p}.cert_no", _("the enforcement certificate number (执法证号) is required"))
            out.append({"name": str(o["name"]).strip(), "cert_no": cert})
        if f.required and len(out) < 2:
            raise FormError(path, _("two officers at least must take part (行政处罚法 art. 42)"))
        return out
    if t == "qa":
        out = []
        for i, qa in enumerate(value):
            if not isinstance(qa, dict):
                raise FormError(f"{path}[{i}]", _("must be an object with q and a"))
            q, a = qa.get("q"), qa.get("a", "")
            if not isinstance(q, str) or not q.strip():
                raise FormError(f"{path}[{i}].q", _("the question is empty"))
            if not isinstance(a, str):
                raise FormError(f"{path}[{i}].a", _("must be text"))
            out.append({"q": q.strip(), "a": a.strip()})
        return out
    # table
    rows = []
    for i, row in enumerate(value):
        if not isinstance(row, dict):
            raise FormError(f"{path}[{i}]", _("a row must be an object"))
        for key in row:
            if key not in {c.name for c in f.columns}:
                raise FormError(f"{path}[{i}].{key}", _("not a column of this table"))
        rows.append({c.name: _check(c, row.get(c.name), f"{path}[{i}].{c.name}") for c in f.columns})
    return rows


def _check_within(defn: DocumentDef, f: FieldDef, out: dict[str, Any]) -> None:
    """A date within its legal period, the rule named when it is not."""
    from kit_app import workdays

    w = f.within or {}
    start, value = date.fromisoformat(out[w["field"]][:10]), date.fromisoformat(out[f.name][:10])
    days = int(w["days"])
    if w.get("least"):  # a notice period: at least ``days`` before the act (e.g. a hearing's 7 days)
        first = workdays.add_workdays(start, days).day if w.get("working") else start + timedelta(days=days)
        if value < first:
            raise FormError(f.name, _("must be at least {days} days after {other}, that is on or after {first} "
                                      "({rule})").format(days=days, other=defn.field(w["field"]).label,
                                                         first=first.isoformat(), rule=w["rule"]))
        return
    if w.get("working"):
        last = workdays.add_workdays(start, days).day
        message = _("may be at most {days} working days after {other}, that is on or before {last} ({rule})")
    else:
        last = start + timedelta(days=days - 1 if w.get("inclusive") else days)
        message = _("may be at most {days} days after {other}, that is on or before {last} ({rule})")
    if value > last:
        raise FormError(f.name, message.format(days=days, other=defn.field(w["field"]).label,
                                               last=last.isoformat(), rule=w["rule"]))


def derive(f: FieldDef, data: dict[str, Any]) -> float | None:
    """The value ``f`` follows from (e.g. 计罚日数 from two dates), or None while its sources are missing."""
    return _derive(f.derived, data) if f.derived else None


def _derived_from(rule: dict[str, Any]) -> list[str]:
    return list(rule.get("days_between") or rule.get("product") or ())


def _derive(rule: dict[str, Any], out: dict[str, Any]) -> float | None:
    """The value a derived field must have, or None while its sources are not all given."""
    names = _derived_from(rule)
    if any(out.get(n) in (None, "") for n in names):
        return None
    if "days_between" in rule:  # counted from the day after the first (按日连续处罚: 送达次日起至复查之日)
        first, last = (date.fromisoformat(str(out[n])[:10]) for n in names)
        return float((last - first).days)
    x, y = (float(out[n]) for n in names)
    return x * y


def _check_signing(f: FieldDef, value: Any, path: str) -> dict[str, str] | None:
    """How the party signed: a refusal names its reason, a refusal or an absence its witness."""
    if not isinstance(value, dict):
        raise FormError(path, _("must be an object with the signing status"))
    for key in value:
        if key not in SIGNING_KEYS:
            raise FormError(f"{path}.{key}", _("not part of how a paper was signed"))
    status = value.get("status") or "signed"
    if status not in f.signing_statuses():
        raise FormError(f"{path}.status", _("must be one of: {choices}").format(
            choices="、".join(f.signing_statuses())))
    out = {"status": status}
    for key, limit in (("reason", 200), ("witness", 40), ("witness_id_no", 18), ("witness_unit", 100),
                       ("photo", 40), ("photo_label", 200)):
        v = value.get(key)
        if v in (None, ""):
            continue
        if not isinstance(v, str):
            raise FormError(f"{path}.{key}", _("must be text"))
        if len(v.strip()) > limit:
            raise FormError(f"{path}.{key}", _("is {n} characters long; at most {max} are allowed").format(
                n=len(v.strip()), max=limit))
        if status != "signed" and v.strip():
            out[key] = v.strip()
    if status in SIGNING_NEEDS_REASON and not out.get("reason"):
        raise FormError(f"{path}.reason", _("say why the party refused, in the party's words"))
    if status in SIGNING_NEEDS_WITNESS and not out.get("witness"):
        raise FormError(f"{path}.witness", _("name the witness who saw it"))
    return out if status != "signed" else None


def _schema(f: FieldDef) -> dict[str, Any]:
    base: dict[str, Any] = {"title": f.label}
    if f.help:
        base["description"] = f.help
    t = f.type
    if t in ("text", "textarea"):
        base["type"] = "string"
        if f.max_length:
            base["maxLength"] = f.max_length
    elif t == "choice":
        base |= {"type": "string", "enum": list(f.choices)}
    elif t == "date":
        base |= {"type": "string", "format": "date"}
    elif t == "datetime":
        base |= {"type": "string", "format": "date-time"}
    elif t == "int":
        base["type"] = "integer"
    elif t == "number":
        base["type"] = "number"
    elif t == "officers":
        base |= {"type": "array", "items": {"type": "object", "required": ["name", "cert_no"], "properties": {
            "name": {"type": "string"}, "cert_no": {"type": "string"}}}}
        if f.required:
            base["minItems"] = 2
    elif t == "qa":
        base |= {"type": "array", "items": {"type": "object", "required": ["q"], "properties": {
            "q": {"type": "string"}, "a": {"type": "string"}}}}
    elif t == "signing":
        base |= {"type": "object", "additionalProperties": False, "required": ["status"], "properties": {
            "status": {"type": "string", "enum": list(f.signing_statuses())},
            **{k: {"type": "string"} for k in SIGNING_KEYS if k != "status"}}}
    elif t == "table":
        base |= {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                            "required": [c.name for c in f.columns if c.required],
                                            "properties": {c.name: _schema(c) for c in f.columns}}}
    return base


_ID = re.compile(r"^[a-z][a-z0-9_]*$")


EXTRA_DIRS: list[Path] = []  # definitions pulled from the central server (newer versions win)


def parse(d: dict[str, Any], name: str = "definition") -> DocumentDef:
    """A definition from its JSON, checked: ids, field types, the layout naming only defined fields,
    and its example fitting it. ValueError names what is wrong."""
    if not _ID.match(str(d.get("id", ""))):
        raise ValueError(f"{name}: bad id {d.get('id')!r}")
    try:
        doc = DocumentDef(id=d["id"], version=int(d["version"]), title=d["title"], kind=d["kind"],
                          fields=tuple(FieldDef.from_json(f) for f in d["fields"]), layout=tuple(d["layout"]),
                          example=d["example"], number=d.get("number"),
                          page_signatures=tuple(d.get("page_signatures", ())), copies=d.get("copies"),
                          description=d.get("description", ""), titles=d.get("titles"),
                          requires=tuple(tuple(r.split("|")) for r in d.get("requires", ())), raw=d)
    except KeyError as exc:
        raise ValueError(f"{name}: {exc.args[0]!r} is missing") from None
    names = {f.name for f in doc.fields}
    for block in doc.layout:
        refs = [block["field"]] if "field" in block else []
        for row in block.get("rows", ()):
            for item in row:
                refs += item["fields"] if isinstance(item, dict) else [item]
        if block.get("when"):
            refs.append(block["when"]["field"])
        signing = block.get("signing")
        if signing:
            refs.append(signing["field"] if isinstance(signing, dict) else signing)
        if missing := [r for r in refs if r and r not in names]:
            raise ValueError(f"{name}: the layout names fields that are not defined: {missing}")
        if signing and doc.field(refs[-1]).type != "signing":
            raise ValueError(f"{name}: {refs[-1]} is not a signing field")
    for f in doc.fields:
        if f.type == "signing" and not set(f.signing_statuses()) <= set(SIGNING_STATUSES):
            raise ValueError(f"{name}: {f.name}: unknown signing statuses {f.statuses}")
        if f.within and (f.within.get("field") not in names or not f.within.get("rule") or
                         f.type not in ("date", "datetime") or int(f.within.get("days", 0)) < 1):
            raise ValueError(f"{name}: {f.name}: within needs a date field, days and the rule it cites")
        if f.limit and (f.limit.get("by") not in names or not f.limit.get("rule") or f.type not in ("int", "number")):
            raise ValueError(f"{name}: {f.name}: limit needs a number field, the field it depends on and its rule")
        if f.derived and (not _derived_from(f.derived) or any(n not in names for n in _derived_from(f.derived))):
            raise ValueError(f"{name}: {f.name}: derived names undefined fields")
        if f.left_method and (f.left_method[0] not in names or "left" not in f.signing_statuses()):
            raise ValueError(f"{name}: {f.name}: left_method names {f.left_method[0]} or lacks the status left")
    if doc.titles and doc.titles.get("field") not in names:
        raise ValueError(f"{name}: titles names an undefined field {doc.titles.get('field')!r}")
    try:
        doc.validate(doc.example)  # a definition's example always fits it
    except FormError as exc:
        raise ValueError(f"{name}: its example does not fit it: {exc}") from None
    return doc


@cache
def definitions() -> dict[str, DocumentDef]:
    """Every definition shipped, by id, and those pulled from the central server where newer."""
    out: dict[str, DocumentDef] = {}
    for path in sorted(DEFINITIONS.glob("*.json")):
        doc = parse(json.loads(path.read_text(encoding="utf-8")), path.name)
        out[doc.id] = doc
    for extra in EXTRA_DIRS:
        for path in sorted(extra.glob("*.json")):
            try:
                doc = parse(json.loads(path.read_text(encoding="utf-8")), path.name)
            except (OSError, ValueError):
                continue  # checked when pulled; a damaged copy never hides the shipped definition
            if doc.id not in out or doc.version > out[doc.id].version:
                out[doc.id] = doc
    return out


def use_directory(path: Path) -> None:
    """Also read definitions from ``path`` (the kit's pulled definitions)."""
    if path not in EXTRA_DIRS:
        EXTRA_DIRS.append(path)
    definitions.cache_clear()


def get(type_id: str) -> DocumentDef:
    try:
        return definitions()[type_id]
    except KeyError:
        raise KeyError(_("unknown document type {id} (known: {known})").format(
            id=type_id, known=", ".join(definitions()))) from None
