"""The evidence panel of a case, driven offscreen."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from kit_app.dto import OfficerInfo
from tests.helpers.photos import make_jpeg
from ui.evidence import EvidencePanel, PhysicalItemDialog, TransferDialog
from ui.services import Services
from ui.tasks import TaskRunner

pytestmark = pytest.mark.gui


@pytest.fixture
def panel(qtbot: QtBot, services: Services, runner: TaskRunner, officer: OfficerInfo) -> EvidencePanel:
    case = services.cases.create(party="测试当事人", title="证据面板", actor=officer)
    p = EvidencePanel(services.evidence, runner, officer, services.officers.list)
    qtbot.addWidget(p)
    p.resize(1000, 600)
    p.show()
    p.set_case(case.id, case.number)
    return p


def test_import_folder_with_progress_then_thumbnails_and_detail(qtbot: QtBot, panel: EvidencePanel,
                                                                tmp_path: Path) -> None:
    folder = tmp_path / "DCIM"
    folder.mkdir()
    now = datetime.now() - timedelta(minutes=5)
    for i in range(6):
        make_jpeg(folder / f"IMG_{i}.JPG", taken=now, lat=22.8, lon=108.3, seed=i)
    (folder / "notes.txt").write_text("x")
    with qtbot.waitSignal(panel.imported, timeout=20000) as blocker:
        panel.import_paths([folder])
    results = blocker.args[0]
    assert sorted(r.status for r in results) == ["error"] + ["ok"] * 6
    qtbot.waitUntil(lambda: panel.model.rowCount() == 6, timeout=5000)
    # thumbnails arrive from the I/O pool and replace the placeholders
    first = panel.model.index(0)
    panel.model.data(first, Qt.ItemDataRole.DecorationRole)
    qtbot.waitUntil(lambda: panel.model.items[0]["sha256"] in panel.model._icons, timeout=5000)
    panel.view.setCurrentIndex(first)
    qtbot.waitUntil(lambda: "SHA-256" in panel.detail.toPlainText(), timeout=5000)
    text = panel.detail.toPlainText()
    assert "Canon EOS 90D" in text and "imported" in text and "李明" in text
    # opening the original is recorded in its custody
    with qtbot.waitSignal(panel.opened, timeout=5000) as opened:
        panel.open_btn.click()
    assert Path(opened.args[0]).exists()
    qtbot.waitUntil(lambda: "viewed" in panel.detail.toPlainText(), timeout=5000)


def test_physical_item_and_transfer(qtbot: QtBot, panel: EvidencePanel, services: Services,
                                    runner: TaskRunner, officer: OfficerInfo) -> None:
    dlg = PhysicalItemDialog(services.evidence, runner, officer, panel.case_id, panel)  # type: ignore[arg-type]
    qtbot.addWidget(dlg)
    dlg.show()
    ok = dlg.buttons.button(QDialogButtonBox.StandardButton.Ok)
    ok.click()  # nothing filled in: the core says what is missing
    qtbot.waitUntil(lambda: dlg.error.isVisible(), timeout=5000)
    assert "seal number" in dlg.error.text()
    dlg.seal.setText("GXQX-0001")
    dlg.description.setText("废水样品 500 mL × 2 瓶")
    with qtbot.waitSignal(dlg.recorded, timeout=5000) as blocker:
        ok.click()
    item = services.evidence.show(blocker.args[0])
    officers = services.officers.list()
    t = TransferDialog(services.evidence, runner, officer, item, officers, panel)
    t.to.setCurrentIndex(t.to.findText("韦芳（45010320232）"))
    t.reason.setText("移交送检")
    with qtbot.waitSignal(t.transferred, timeout=5000) as b2:
        t.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert b2.args[0]["details"]["to"]["name"] == "韦芳"
    assert [e["kind"] for e in services.evidence.show(item["id"])["custody"]] == ["collected", "sealed", "transferred"]


def test_reviewer_cannot_import(qtbot: QtBot, services: Services, runner: TaskRunner, reviewer: OfficerInfo) -> None:
    p = EvidencePanel(services.evidence, runner, reviewer, services.officers.list)
    qtbot.addWidget(p)
    assert not p.import_files_btn.isVisibleTo(p) and p.verify_btn.isVisibleTo(p)


def test_warnings_are_answered_and_items_excluded_from_the_panel(qtbot: QtBot, panel: EvidencePanel, services: Services,
                                                                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A warned item offers Explain / Keep / Exclude; each is recorded in its custody and the grid says what was
    done (red: unanswered, grey and struck through: excluded); a caption replaces the name under the thumbnail."""
    from PySide6.QtWidgets import QInputDialog

    now = datetime.now() - timedelta(minutes=5)
    edited = make_jpeg(tmp_path / "edited.jpg", modified=now, software="Adobe Photoshop 25.0", seed=1)
    plain = make_jpeg(tmp_path / "plain.jpg", taken=now, seed=2)
    with qtbot.waitSignal(panel.imported, timeout=20000):
        panel.import_paths([edited, plain])
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=5000)
    row = {it["original_name"]: k for k, it in enumerate(panel.model.items)}
    red = panel.model.data(panel.model.index(row["edited.jpg"]), Qt.ItemDataRole.ForegroundRole)
    assert red is not None and red.name() == "#b3261e"
    panel.view.setCurrentIndex(panel.model.index(row["edited.jpg"]))
    qtbot.waitUntil(lambda: panel.explain_btn.isVisible(), timeout=5000)
    assert panel.keep_btn.isVisible() and panel.exclude_btn.text() == "Exclude…"
    monkeypatch.setattr(QInputDialog, "getMultiLineText", lambda *a, **k: ("原图经压缩发送，已另行提取原始文件", True))
    panel.explain_btn.click()
    qtbot.waitUntil(lambda: "Warnings explained by 李明" in panel.detail.toPlainText(), timeout=5000)
    assert "warnings explained：原图经压缩发送" in panel.detail.toPlainText()  # the custody timeline
    assert not panel.explain_btn.isVisible()  # answered
    assert panel.model.data(panel.model.index(row["edited.jpg"]), Qt.ItemDataRole.ForegroundRole) is None
    # the plain photo: excluded, then its caption given
    panel.view.setCurrentIndex(panel.model.index(row["plain.jpg"]))
    qtbot.waitUntil(lambda: panel.exclude_btn.isVisible() and not panel.explain_btn.isVisible(), timeout=5000)
    monkeypatch.setattr(QInputDialog, "getMultiLineText", lambda *a, **k: ("误拍", True))
    panel.exclude_btn.click()
    qtbot.waitUntil(lambda: panel.exclude_btn.text() == "Use as evidence again…", timeout=5000)
    index = panel.model.index(row["plain.jpg"])
    assert panel.model.data(index, Qt.ItemDataRole.FontRole).strikeOut()
    assert "Excluded from the case's evidence" in panel.detail.toPlainText()
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("车间西侧雨水排口", True))
    panel.caption_btn.click()
    qtbot.waitUntil(lambda: panel.model.data(panel.model.index(row["plain.jpg"])) == "车间西侧雨水排口", timeout=5000)
    kinds = [(e["kind"], e["details"].get("disposition")) for e in services.evidence.show(
        panel.model.items[row["plain.jpg"]]["id"])["custody"]]
    assert kinds == [("imported", None), ("annotated", "excluded"), ("annotated", None)]
