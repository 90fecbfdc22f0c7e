"""The case file and the court pack from the cases pane, driven offscreen."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

import forms
from kit_app.dto import OfficerInfo
from tests.helpers.photos import make_jpeg
from tests.unit.test_courtpack import verify
from ui.main_window import MainWindow
from ui.services import Services
from ui.tasks import TaskRunner

pytestmark = pytest.mark.gui


def test_case_file_preview_and_court_pack_with_progress(qtbot: QtBot, services: Services, runner: TaskRunner,
                                                        officer: OfficerInfo, tmp_path: Path) -> None:
    case = services.cases.create(party="南宁市绿源化工有限公司", title="案卷界面", actor=officer)
    services.documents.issue(case.id, officer, "inspection_record", forms.get("inspection_record").example)
    shots = [make_jpeg(tmp_path / f"IMG_{k}.jpg", taken=datetime.now() - timedelta(minutes=5), seed=k)
             for k in range(3)]
    services.evidence.ingest(case.id, officer, shots)
    w = MainWindow(services, runner, officer)
    qtbot.addWidget(w)
    w.show()
    pane = w.cases
    qtbot.waitUntil(lambda: any(r.id == case.id for r in pane.model.rows), timeout=5000)
    pane.view.selectRow(next(i for i, r in enumerate(pane.model.rows) if r.id == case.id))
    assert pane.casefile_btn.isEnabled() and pane.pack_btn.isEnabled()
    said: list[str] = []
    pane.status_message.connect(said.append)
    pane.casefile_btn.click()
    busy = pane.casefile_progress
    qtbot.waitUntil(lambda: "preview" in busy.state or bool(said), timeout=20000)
    assert not said, said
    preview = busy.state["preview"]
    assert preview.pages >= 6 and "Case file of" in preview.list.item(0).text()  # cover, contents, papers, annex
    preview.close()
    target = tmp_path / "pack.zip"
    progress = pane.export_court_pack(target)
    qtbot.waitUntil(lambda: getattr(progress, "box", None) is not None, timeout=20000)
    assert "checking program" in progress.box.text() and "python" not in progress.box.text().lower()
    assert progress.maximum() == 3 + 4  # the case file, 4 originals (3 photos, 1 paper), the rest
    assert verify(target, tmp_path)[0] == 0
