"""A city reviewer on a kit of their own reviews a county kit's case through the central server, in the
Review pane, offscreen; the county kit takes the step at its next sync."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QInputDialog
from pytestqt.qtbot import QtBot

from central.service import Central
from kit_app.db import Store, open_store
from kit_app.evidence.service import EvidenceService
from kit_app.services.lifecycle import CaseLifecycle
from kit_app.services.officers import OfficerService
from kit_app.services.review import apply_review_steps
from kit_app.sync.client import enrol, pull, sync
from tests.central.test_pull import PW, province  # noqa: F401 - the fixture
from ui.review import ReviewPane
from ui.services import Services
from ui.tasks import TaskRunner

pytestmark = pytest.mark.gui


@pytest.fixture
def runner(qapp) -> Iterator[TaskRunner]:  # type: ignore[no-untyped-def]
    r = TaskRunner()
    yield r
    r.wait(10000)


def test_review_from_another_kit_through_the_central_server(qtbot: QtBot, server, province, store: Store,  # type: ignore[no-untyped-def]  # noqa: F811
                                                            runner: TaskRunner, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    c: Central = province
    c.add_officer(cert_no="45010320001", name="黄局长", roles="agency_head", agency="450103", password=PW)
    enrol(store, server.base, c.make_enrol_code("450103")["code"], name="青秀一号")
    task = c.assign_case(agency="450103", title="超标排放", party_name="青秀区绿源化工有限公司",
                         officers=["45010320231", "45010320232"])
    pull(store)
    li, head = OfficerService(store).login("45010320231", PW), OfficerService(store).login("45010320001", PW)
    EvidenceService(store).add_physical(task["id"], li, seal_no="GX-1", description="废水样品")
    life = CaseLifecycle(store)
    life.act(task["id"], "approve_filing", head)
    life.act(task["id"], "conclude_investigation", li)
    sync(store)

    city = open_store(tmp_path / "city-kit")
    try:
        enrol(city, server.base, c.make_enrol_code("4501")["code"], name="南宁市局审核")
        pull(city)
        reviewer = OfficerService(city).login("45010000001", PW)
        pane = ReviewPane(Services.build(city), runner, reviewer)
        qtbot.addWidget(pane)
        pane.show()
        qtbot.waitUntil(lambda: pane.count.text() == "0 cases waiting", timeout=5000)  # none on this kit
        monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (PW, True))
        said: list[str] = []
        pane.status_message.connect(said.append)
        pane.remote_btn.click()
        # the count is said first, then the queue is read again with the remote rows in it
        qtbot.waitUntil(lambda: pane.model.rowCount() == 1 or any("cannot" in m or "refused" in m for m in said),
                        timeout=15000)
        assert pane.model.rowCount() == 1, said
        row = pane.model.rows[0]
        assert row.remote and row.case_id == task["id"] and row.step == "start_review"
        pane.view.selectRow(0)
        qtbot.waitUntil(lambda: "Held by another kit" in pane.detail.toPlainText(), timeout=10000)
        assert "Completeness" in pane.detail.toPlainText() and not pane.file_btn.isEnabled()
        pane.act_btn.click()
        qtbot.waitUntil(lambda: pane.model.rowCount() == 1 and pane.model.rows[0].pending == 1, timeout=10000)
        assert "waiting for the case's kit" in pane.model.data(pane.model.index(0, 4))
    finally:
        runner.wait(10000)
        city.close()
    # the county's kit takes it at its next sync
    sync(store)
    assert apply_review_steps(store) == {"taken": 1, "refused": 0}
    assert life.status(task["id"]).history[-1].actor == "吴科长"
