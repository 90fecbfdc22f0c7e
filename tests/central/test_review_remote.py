"""Review from home through the central server: a city reviewer signs in there, sees the county's case
waiting for review, sends steps the server checks; the county's kit takes them at its next sync —
checked again there — and a step that no longer applies becomes a comment saying why."""

from __future__ import annotations

import pytest

from central.service import Central
from kit_app.db import Store
from kit_app.errors import KitError
from kit_app.evidence.service import EvidenceService
from kit_app.services.cases import CaseService
from kit_app.services.lifecycle import CaseLifecycle
from kit_app.services.officers import OfficerService
from kit_app.services.review import apply_review_steps
from kit_app.sync import remote_review as remote
from kit_app.sync.client import enrol, pull, sync
from tests.central.test_pull import PW, province  # noqa: F401 - the fixture


def test_a_reviewer_at_the_central_server_takes_the_case_the_kit_applies_it(server, province, store: Store) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    c: Central = province
    c.add_officer(cert_no="45010320001", name="黄局长", roles="agency_head", agency="450103", password=PW)
    enrol(store, server.base, c.make_enrol_code("450103")["code"], name="青秀一号")
    task = c.assign_case(agency="450103", title="超标排放", party_name="青秀区绿源化工有限公司",
                         officers=["45010320231", "45010320232"])
    pull(store)
    officers = OfficerService(store)
    li, head = officers.login("45010320231", PW), officers.login("45010320001", PW)
    life = CaseLifecycle(store)
    EvidenceService(store).add_physical(task["id"], li, seal_no="GX-1", description="废水样品")
    life.act(task["id"], "approve_filing", head)
    life.act(task["id"], "conclude_investigation", li)
    import forms
    from kit_app.services.documents import DocumentService

    docs = DocumentService(store)
    paper = docs.issue(task["id"], li, "inspection_record", forms.get("inspection_record").example)
    assert sync(store)["status"]["synced"]

    # the city reviewer, from home: the county's case waits for "take for review"
    token = remote.sign_in(store, "45010000001", PW)
    [row] = remote.queue(store, token)
    assert (row["id"], row["step"], row["status"], row["pending"]) == (task["id"], "start_review",
                                                                       "investigation_closed", [])
    detail = remote.case(store, token, task["id"])
    assert detail["case"]["number"] == row["number"]
    # the completeness as the server holds it: the paper signed, its signed copy not yet attached
    from kit_app.services.review import ReviewService

    checks = {ch.id: ch for ch in ReviewService(store).check_remote(detail)}
    assert list(checks) == ["documents", "evidence", "signatures", "deadlines", "custody"]
    assert checks["signatures"].details == ("现场检查（勘察）笔录: signed, but the signed copy is not attached",)
    assert checks["deadlines"].ok and checks["custody"].ok and "missing: photo or video" in checks["evidence"].details
    from tests.helpers.photos import make_jpeg

    docs.attach_signed_copy(paper.id, li, make_jpeg(store.data_dir.parent / "signed.jpg", seed=3))
    sync(store)
    again = {ch.id: ch for ch in ReviewService(store).check_remote(remote.case(store, token, task["id"]))}
    assert again["signatures"].ok and "missing: photo or video" not in again["evidence"].details
    # its deadlines, computed from the record the server holds, are those the case's own kit computes

    [seen] = ReviewService(store).remote_rows([row | {"id": "another-kit-s-case"}]) or [None]
    here = sorted((d for d in life.status(task["id"]).deadlines if d.open), key=lambda d: d.due)[0]
    assert seen is not None and (seen.due, seen.due_label, seen.remote) == (here.due, here.label, True)
    with pytest.raises(KitError, match="not possible while the case is at investigation_closed"):
        remote.send_step(store, token, task["id"], "approve_review")
    with pytest.raises(KitError, match="not a review step"):
        remote.send_step(store, token, task["id"], "archive")
    step = remote.send_step(store, token, task["id"], "start_review")
    assert [p["id"] for p in remote.queue(store, token)[0]["pending"]] == [step["id"]]
    # a second reviewer takes it too before the kit has synced: the server still sees it waiting
    other = remote.send_step(store, remote.sign_in(store, "45000000001", PW), task["id"], "start_review")
    # an officer may not; a reviewer of another county sees no such case
    with pytest.raises(KitError, match="only review staff"):
        remote.queue(store, remote.sign_in(store, "45010320232", PW))
    with pytest.raises(KitError, match="refused"):
        remote.send_step(store, remote.sign_in(store, "45020220001", PW), task["id"], "review_opinion",
                         reason="x")

    # the county's kit syncs: the first is taken (the reviewer its actor, the step's id kept), the
    # second no longer applies and says so as a comment
    sync(store)
    assert apply_review_steps(store) == {"taken": 1, "refused": 1}
    st = life.status(task["id"])
    last = st.history[-1]
    assert (st.state, last.action, last.actor, last.actor_cert) == ("under_review", "start_review", "吴科长",
                                                                     "45010000001")
    [note] = CaseService(store).comments(task["id"])
    assert note["author_name"] == "周审核" and "could not be taken" in note["text"]
    assert apply_review_steps(store) == {"taken": 0, "refused": 0}  # taken once
    # the next sync pushes the history: the server's queue moves on, nothing pending
    sync(store)
    [row] = remote.queue(store, token)
    assert (row["status"], row["step"], row["pending"]) == ("under_review", "approve_review", [])
    assert other["id"] != step["id"]
    # sent back with a reason, from home
    with pytest.raises(KitError, match="give the reason"):
        remote.send_step(store, token, task["id"], "return_to_investigation")
    remote.send_step(store, token, task["id"], "return_to_investigation", reason="补充询问笔录")
    sync(store)
    assert apply_review_steps(store) == {"taken": 1, "refused": 0}
    assert life.status(task["id"]).state == "investigating"
    sync(store)
    assert remote.queue(store, token) == []


def test_signing_in_with_a_wrong_password_says_so(server, province, store: Store) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    c: Central = province
    enrol(store, server.base, c.make_enrol_code("450103")["code"])
    with pytest.raises(KitError, match="sign in again"):
        remote.sign_in(store, "45010000001", "wrong-password")
    assert isinstance(remote.sign_in(store, "45010000001", PW), str)
