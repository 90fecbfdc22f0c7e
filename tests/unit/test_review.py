"""Review staff's queue and the completeness check a reviewer makes before approving."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import forms
from kit_app.db.models import Finding
from kit_app.services.cases import CaseService
from kit_app.services.review import ReviewService
from tests.helpers.photos import make_jpeg
from tests.unit.test_lifecycle import at, clock, team  # noqa: F401 - fixtures


def by_id(checks: list[Any]) -> dict[str, Any]:
    return {c.id: c for c in checks}


def test_the_queue_most_urgent_first_and_the_completeness_check(team: dict[str, Any], clock: Any,  # noqa: F811
                                                                tmp_path: Path) -> None:
    t, life = team, team["life"]
    li, wf, chen, head = t["li"], t["wf"], t["chen"], t["head"]
    review = ReviewService(t["store"])
    made = []
    for k, day in enumerate(("2026-09-28", "2026-09-10")):  # the second filed earlier: its 90 days end first
        clock.move_to(at(day))
        c = CaseService(t["store"]).create(party="南宁市绿源化工有限公司", title=f"案{k}", actor=li, officer_ids=[wf.id])
        t["docs"].evidence.add_physical(c.id, li, seal_no=f"S-{k}", description="废水样品")
        life.act(c.id, "approve_filing", head)
        life.act(c.id, "conclude_investigation", li)
        made.append(c)
    clock.move_to(at("2026-10-12"))
    first, second = made
    life.act(second.id, "start_review", chen)
    rows = review.queue(chen)
    assert [r.number for r in rows] == [second.number, first.number]  # the nearer decision deadline first
    assert [(r.state, r.step) for r in rows] == [("under_review", "approve_review"), ("investigation_closed",
                                                                                      "start_review")]
    assert rows[0].due is not None and rows[0].days_left is not None and not rows[0].overdue
    assert [r.number for r in review.queue(chen, step="approve_review")] == [second.number]
    assert review.queue(chen, due_within=3) == []

    # what the second case still lacks: the papers, a photo, and — once a water violation is found —
    # monitoring data
    with t["store"].session() as s:
        s.add(Finding(case_id=second.id, violation_id="water_exceed", description="总排口 COD 超标"))
        s.commit()
    checks = by_id(review.check(second.id, chen))
    assert not checks["documents"].ok and any("立案审批表" in d for d in checks["documents"].details)
    assert any("现场采样记录 or 现场监测（仪器读数）记录" in d for d in checks["documents"].details)
    assert not checks["evidence"].ok and "missing: photo or video" in checks["evidence"].details
    assert "missing: instrument readings or documentary evidence" in checks["evidence"].details
    assert checks["custody"].ok and checks["deadlines"].ok
    # a paper signed by the party, without its signed copy
    ex = forms.get("inspection_record").example | {"party_signing": {"status": "signed"}}
    doc = t["docs"].issue(second.id, li, "inspection_record", ex)
    sig = by_id(review.check(second.id, chen))["signatures"]
    assert not sig.ok and sig.details == ("现场检查（勘察）笔录: signed, but the signed copy is not attached",)
    t["docs"].attach_signed_copy(doc.id, li, make_jpeg(tmp_path / "signed.jpg", seed=1))
    t["docs"].evidence.ingest(second.id, li, [make_jpeg(tmp_path / "outfall.jpg", seed=2)])
    checks = by_id(review.check(second.id, chen))
    assert checks["signatures"].ok and "missing: photo or video" not in checks["evidence"].details
