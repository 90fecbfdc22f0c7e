"""The per-field conflict rules (docs/sync.md): append-only refused, workflow forward only,
descriptive fields deterministic and independent of clocks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit_app.sync.conflicts import ConflictError, merge_versions, three_way


def case(**kw: object) -> dict:  # type: ignore[type-arg]
    return {"id": "c1", "number": "450103-2026-ABCDEF-0001", "title": "t", "status": "open", "closed_at": None,
            "row_version": 1, "updated_at": "2026-11-29T10:00:00+00:00"} | kw


def test_newer_row_version_wins_whatever_the_clocks_say() -> None:
    held = case(title="旧", row_version=3, updated_at="2026-11-29T20:00:00+00:00")  # a clock hours ahead
    new = case(title="新", row_version=4, updated_at="2026-11-29T09:00:00+00:00")
    assert merge_versions("case", held, new)["title"] == "新"
    assert merge_versions("case", new, held)["title"] == "新"  # arriving late changes nothing


def test_workflow_only_moves_forward() -> None:
    closed = case(status="closed", closed_at="2026-11-29T11:00:00+00:00", row_version=5)
    reopened = case(status="open", title="改了标题", row_version=6)
    merged = merge_versions("case", closed, reopened)
    assert merged["status"] == "closed" and merged["closed_at"] == "2026-11-29T11:00:00+00:00"
    assert merged["title"] == "改了标题"  # the descriptive change still lands


def test_the_longer_history_wins_and_a_rewritten_history_is_refused() -> None:
    opened = {"seq": 1, "action": "open", "to_state": "filing", "at": "2026-11-20T01:00:00+00:00"}
    filed = {"seq": 2, "action": "approve_filing", "to_state": "investigating", "at": "2026-11-21T01:00:00+00:00"}
    concluded = {"seq": 3, "action": "conclude_investigation", "to_state": "investigation_closed",
                 "at": "2026-11-28T01:00:00+00:00"}
    further = case(status="investigation_closed", history=[opened, filed, concluded], row_version=4)
    stale = case(status="investigating", history=[opened, filed], title="补记地址", row_version=5)
    merged = merge_versions("case", further, stale)
    assert merged["status"] == "investigation_closed" and merged["history"] == [opened, filed, concluded]
    assert merged["title"] == "补记地址"
    assert merge_versions("case", stale, further)["history"] == [opened, filed, concluded]
    forged = case(status="investigating", history=[opened, filed | {"at": "2026-11-19T01:00:00+00:00"}],
                  row_version=6)
    with pytest.raises(ConflictError, match="history"):
        merge_versions("case", further, forged)


def test_append_only_fields_are_refused() -> None:
    with pytest.raises(ConflictError, match="number"):
        merge_versions("case", case(), case(number="OTHER", row_version=2))
    with pytest.raises(ConflictError, match="sha256"):
        merge_versions("evidence", {"id": "e", "sha256": "a" * 64, "row_version": 1},
                       {"id": "e", "sha256": "b" * 64, "row_version": 2})


def test_three_way_by_ownership() -> None:
    base = {"title": "例行检查", "party_address": "1号", "officers": ["a"], "note": ""}
    local = base | {"title": "例行检查（到场）", "party_address": "1号东门"}
    remote = base | {"title": "夜查", "party_address": "2号", "officers": ["a", "b"]}
    merged, both = three_way(base, local, remote)
    assert merged["title"] == "夜查"  # both changed: the supervisor owns the task
    assert merged["party_address"] == "1号东门"  # both changed: the officer on site owns the party
    assert merged["officers"] == ["a", "b"]  # server only
    assert sorted(both) == ["party_address", "title"]


values = st.one_of(st.none(), st.sampled_from(["x", "y", "z"]))


@given(values, values, values)
def test_three_way_is_deterministic_and_keeps_one_sided_changes(b: object, l_: object, r: object) -> None:
    for f in ("title", "party_address"):
        merged, both = three_way({f: b}, {f: l_}, {f: r}, fields=(f,))
        assert merged == three_way({f: b}, {f: l_}, {f: r}, fields=(f,))[0]
        if r == b:
            assert merged[f] == l_
        elif l_ == b:
            assert merged[f] == r
        elif l_ != r:
            assert both == [f] and merged[f] == (r if f == "title" else l_)
