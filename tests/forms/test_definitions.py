"""Document definitions: each shipped one parses, its schema says what it checks, validation names
the field that is wrong, a damaged definition is refused by name, and a pulled newer version wins."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import forms
from forms import FormError
from forms.model import EXTRA_DIRS, parse, use_directory


@pytest.fixture
def pulled(tmp_path: Path) -> Iterator[Path]:
    d = tmp_path / "pulled"
    d.mkdir()
    use_directory(d)
    yield d
    EXTRA_DIRS.remove(d)
    forms.definitions.cache_clear()


def raw(type_id: str) -> dict[str, Any]:
    return copy.deepcopy(forms.get(type_id).raw)


def test_every_shipped_definition_parses_and_its_example_fits() -> None:
    defs = forms.definitions()
    assert len(defs) >= 13 and {"inspection_record", "interview_record", "penalty_notice"} <= set(defs)
    for d in defs.values():
        assert d.validate(d.example)  # parse() checked it too
        assert d.title and d.version >= 1 and d.kind


def test_schema_matches_the_definition() -> None:
    defn = forms.get("interview_record")
    schema = defn.json_schema()
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) >= {"agency_name", "interviewee", "id_no", "officers", "qa"}
    assert schema["properties"]["sex"]["enum"] == ["男", "女"]
    assert schema["properties"]["officers"]["minItems"] == 2
    assert schema["properties"]["qa"]["items"]["required"] == ["q"]


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"party_name": ""}, "party_name", "is required"),
    ({"start_time": "昨天上午"}, "start_time", "not a date and time"),
    ({"officers": [{"name": "李明", "cert_no": "45010320231"}]}, "officers", "two officers at least"),
    ({"officers": [{"name": "李明", "cert_no": ""}, {"name": "韦芳", "cert_no": "1"}]}, "officers[0].cert_no",
     "certificate number"),
    ({"findings": "x" * 50001}, "findings", "at most 50000"),
    ({"colour": "red"}, "colour", "not a field"),
])
def test_validation_names_the_field(change: dict[str, Any], field: str, message: str) -> None:
    defn = forms.get("inspection_record")
    with pytest.raises(FormError) as err:
        defn.validate(defn.example | change)
    assert err.value.field == field and message in str(err.value)


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(FormError) as err:
        forms.get("inspection_record").validate(["not", "an", "object"])
    assert err.value.field == "$"


def test_the_content_hash_covers_payload_number_id_and_version() -> None:
    defn = forms.get("order_to_correct")
    payload = defn.validate(defn.example)
    h = defn.content_hash(payload, "doc-1", "桂环责改〔2026〕1号")
    assert h == defn.content_hash(dict(reversed(list(payload.items()))), "doc-1", "桂环责改〔2026〕1号")
    assert h != defn.content_hash(payload, "doc-1", "桂环责改〔2026〕2号")
    assert h != defn.content_hash(payload, "doc-2", "桂环责改〔2026〕1号")
    assert h != defn.content_hash(payload | {"party_name": payload["party_name"] + "有限公司"}, "doc-1",
                                  "桂环责改〔2026〕1号")


@pytest.mark.parametrize(("damage", "message"), [
    (lambda d: d.update(id="Bad Id"), "bad id"),
    (lambda d: d.pop("title"), "'title' is missing"),
    (lambda d: d["layout"].append({"kind": "text", "field": "no_such_field"}), "not defined"),
    (lambda d: d["example"].update(party_name=""), "its example does not fit it"),
])
def test_a_damaged_definition_is_refused_by_name(damage: Any, message: str) -> None:
    d = raw("inspection_record")
    damage(d)
    with pytest.raises(ValueError) as err:
        parse(d, "inspection_record.json")
    assert str(err.value).startswith("inspection_record.json: ") and message in str(err.value)


def test_a_pulled_newer_version_wins_and_a_damaged_one_never_hides_the_shipped(pulled: Path) -> None:
    shipped = forms.get("order_to_correct")
    newer = raw("order_to_correct") | {"version": shipped.version + 1, "title": shipped.title + "（修订）"}
    (pulled / "order_to_correct.json").write_text(json.dumps(newer, ensure_ascii=False), encoding="utf-8")
    damaged = raw("penalty_notice") | {"version": 99}
    damaged["layout"] = [{"kind": "text", "field": "missing"}]
    (pulled / "penalty_notice.json").write_text(json.dumps(damaged, ensure_ascii=False), encoding="utf-8")
    older = raw("seizure_list") | {"version": 0, "title": "旧版"}
    (pulled / "seizure_list.json").write_text(json.dumps(older, ensure_ascii=False), encoding="utf-8")
    forms.definitions.cache_clear()
    assert forms.get("order_to_correct").version == shipped.version + 1
    assert forms.get("order_to_correct").title.endswith("（修订）")
    assert forms.get("penalty_notice").version != 99  # the shipped one
    assert forms.get("seizure_list").title != "旧版"


def test_an_unknown_type_names_the_known_ones() -> None:
    with pytest.raises(KeyError) as err:
        forms.get("no_such_document")
    assert "no_such_document" in str(err.value) and "inspection_record" in str(err.value)


@pytest.mark.parametrize("within", [{"field": "nope", "days": 7, "rule": "r"}, {"field": "issue_date", "days": 7},
                                    {"field": "issue_date", "days": 0, "rule": "r"}])
def test_a_legal_period_names_its_start_its_length_and_its_rule(within: dict[str, Any]) -> None:
    d = raw("evidence_preservation_notice")
    next(f for f in d["fields"] if f["name"] == "handle_date")["within"] = within
    with pytest.raises(ValueError, match="within needs"):
        parse(d, "bad.json")


def test_wording_and_titles_name_only_defined_fields() -> None:
    d = raw("penalty_notice")
    d["layout"][-2]["when"] = {"field": "nope", "in": ["有"]}
    with pytest.raises(ValueError, match="nope"):
        parse(d, "bad.json")
    d = raw("penalty_notice")
    d["titles"]["field"] = "nope"
    with pytest.raises(ValueError, match="nope"):
        parse(d, "bad.json")
