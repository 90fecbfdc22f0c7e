"""The desktop application driven as an officer would, offscreen, on generated demo data."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QFontDatabase, QRawFont
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from kit_app.dto import OfficerInfo
from kit_app.timeutil import local_today
from ui.dialogs import AcceptanceDialog, LoginDialog, NewCaseDialog
from ui.main_window import MainWindow
from ui.models import ProjectTableModel, SourceTableModel
from ui.services import Services
from ui.tasks import TaskRunner

from .conftest import wait_rows

pytestmark = pytest.mark.gui


def test_bundled_font_renders_chinese(kit_qapp: QApplication) -> None:
    assert QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese)
    font = kit_qapp.font()
    assert "Noto Sans SC" in font.family()
    assert QRawFont.fromFont(font).supportsCharacter(ord("笔"))


def test_login_wrong_then_right(qtbot: QtBot, services: Services, runner: TaskRunner) -> None:
    dlg = LoginDialog(services, runner, "en", demo=True)
    qtbot.addWidget(dlg)
    dlg.show()
    assert "45010320231" in dlg.hint.text()
    dlg.cert.setText("45010320231")
    dlg.password.setText("wrong")
    dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: dlg.error.isVisible(), timeout=5000)
    assert "4 attempts left" in dlg.error.text()
    dlg.password.setText("demo1234")
    with qtbot.waitSignal(dlg.logged_in, timeout=5000) as blocker:
        dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert blocker.args[0].name == "李明"


def test_login_language_switch(qtbot: QtBot, services: Services, runner: TaskRunner) -> None:
    from kit_app import i18n

    dlg = LoginDialog(services, runner, "en")
    qtbot.addWidget(dlg)
    dlg.language_changed.connect(lambda lang: (i18n.set_language(lang), dlg.retranslate()))
    dlg.lang.setCurrentIndex(0)  # 简体中文
    assert dlg.cert_label.text() == "执法证号"
    assert dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).text() == "登录"


def test_source_model_passes_qt_model_tester(qtmodeltester, services: Services, runner: TaskRunner,  # type: ignore[no-untyped-def]
                                             qtbot: QtBot) -> None:
    m = SourceTableModel(runner, services.sources.browse)
    m.start_browsing()
    wait_rows(qtbot, m, SourceTableModel.PAGE)
    qtmodeltester.check(m, force_py=True)
    # the tester asked for more: the page arrives asynchronously and is checked on insertion
    wait_rows(qtbot, m, 2 * SourceTableModel.PAGE)


def test_project_model_passes_qt_model_tester(qtmodeltester, services: Services) -> None:  # type: ignore[no-untyped-def]
    p = ProjectTableModel()
    p.set_rows(services.projects.find(limit=50))
    qtmodeltester.check(p, force_py=True)


def test_browse_is_paged_never_whole_table(qtbot: QtBot, services: Services, runner: TaskRunner) -> None:
    m = SourceTableModel(runner, services.sources.browse)
    m.start_browsing()
    wait_rows(qtbot, m, SourceTableModel.PAGE)
    assert m.rowCount() == SourceTableModel.PAGE and m.canFetchMore()
    m.fetchMore()
    wait_rows(qtbot, m, 2 * SourceTableModel.PAGE)
    names = [r.name for r in m.rows]
    assert names == sorted(names) and len(set(r.id for r in m.rows)) == len(m.rows)


@pytest.fixture
def window(qtbot: QtBot, services: Services, runner: TaskRunner, officer: OfficerInfo) -> MainWindow:
    w = MainWindow(services, runner, officer)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_search_as_you_type_and_detail(qtbot: QtBot, window: MainWindow) -> None:
    pane = window.sources
    wait_rows(qtbot, pane.model)  # browsing first
    qtbot.keyClicks(pane.search, "nnsqx")
    qtbot.waitUntil(lambda: "found" in pane.count.text(), timeout=5000)
    assert pane.model.rowCount() > 0
    assert all(r.name.startswith("南宁市青秀区") for r in pane.model.rows[:5])
    qtbot.waitUntil(lambda: pane.model.rows[0].name in pane.detail.toPlainText(), timeout=5000)
    assert "Credit code" in pane.detail.toPlainText()
    assert pane.new_case_btn.isEnabled()
    # clearing the search goes back to browsing the whole table in name order
    pane.search.clear()
    qtbot.waitUntil(lambda: "pollution sources" in pane.count.text(), timeout=5000)
    assert "3," in pane.count.text()  # 3,xxx sources in the demo data


def test_new_case_from_source(qtbot: QtBot, window: MainWindow) -> None:
    pane = window.sources
    pane.search.insert("有限公司")  # committed by the input method
    qtbot.waitUntil(lambda: pane.model.rowCount() > 0 and pane.selected_row() is not None, timeout=5000)
    source = pane.selected_row()
    assert source is not None
    pane.new_case()
    dlg = pane.findChild(NewCaseDialog)
    assert dlg is not None
    ok = dlg.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()  # no title yet
    dlg.case_title.insert("涉嫌超标排放水污染物")
    qtbot.waitUntil(lambda: dlg.others.count() > 0, timeout=5000)
    dlg.others.item(0).setCheckState(Qt.CheckState.Checked)
    assert ok.isEnabled()
    with qtbot.waitSignal(dlg.created, timeout=5000) as blocker:
        ok.click()
    case = blocker.args[0]
    assert case.party["source_id"] == source.id and case.title == "涉嫌超标排放水污染物"
    assert [o.name for o in case.officers] == ["李明", "韦芳"]
    # the cases pane and the source detail both show it
    qtbot.waitUntil(lambda: any(r.id == case.id for r in window.cases.model.rows), timeout=5000)
    qtbot.waitUntil(lambda: case.number in pane.detail.toPlainText(), timeout=5000)


def test_new_case_for_unlisted_party_validates_as_you_type(qtbot: QtBot, window: MainWindow) -> None:
    dlg = window.cases.new_case()
    ok = dlg.buttons.button(QDialogButtonBox.StandardButton.Ok)
    dlg.unlisted.setChecked(True)
    dlg.case_title.insert("夜间偷排")
    assert not ok.isEnabled()
    dlg.party_name.insert("无证小作坊")
    assert ok.isEnabled()
    qtbot.keyClicks(dlg.party_code, "91450103MA5K0000X0")  # bad check digit
    assert not ok.isEnabled() and dlg.error.isVisible() and "check digit" in dlg.error.text()
    dlg.party_code.clear()
    with qtbot.waitSignal(dlg.created, timeout=5000) as blocker:
        ok.click()
    assert blocker.args[0].party == {"source_id": None, "name": "无证小作坊", "credit_code": None,
                                     "address": None, "listed": False}


def test_record_acceptance(qtbot: QtBot, window: MainWindow, services: Services, runner: TaskRunner,
                           officer: OfficerInfo) -> None:
    window.nav.setCurrentRow(1)
    pane = window.projects
    pane.status.setCurrentIndex(pane.status.findData("trial_operation"))
    qtbot.waitUntil(lambda: pane.model.rowCount() > 0 and all(
        r.status == "trial_operation" for r in pane.model.rows), timeout=5000)
    project = pane.model.rows[0]
    pane.view.selectRow(0)
    assert pane.accept_btn.isEnabled()
    dlg = AcceptanceDialog(services, runner, officer, project)
    qtbot.addWidget(dlg)
    dlg.date.setDate(dlg.date.maximumDate())
    with qtbot.waitSignal(dlg.recorded, timeout=5000) as blocker:
        dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    row, source_id, _created = blocker.args[0]
    assert row.status == "accepted" and row.acceptance_date == local_today()  # the kit's day, not the laptop's zone
    assert services.sources.get(source_id).projects


def test_reviewer_sees_no_case_or_acceptance_actions(qtbot: QtBot, services: Services, runner: TaskRunner,
                                                     reviewer: OfficerInfo) -> None:
    w = MainWindow(services, runner, reviewer)
    qtbot.addWidget(w)
    assert not w.cases.new_btn.isVisibleTo(w)
    assert not w.sources.new_case_btn.isVisibleTo(w)
    assert not w.projects.accept_btn.isVisibleTo(w)


def test_screenshot_main_window(qtbot: QtBot, window: MainWindow, tmp_path) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: window.sources.model.rowCount() > 0, timeout=5000)
    img = window.grab().toImage()
    assert img.width() >= 1000
    # something is drawn beyond the background: the table is not blank
    colors = {img.pixel(x, y) for x in range(300, 700, 7) for y in range(100, 300, 7)}
    assert len(colors) > 5


def test_qt_standard_dialogs_speak_chinese(kit_qapp: QApplication) -> None:
    from PySide6.QtCore import QCoreApplication

    from ui.app import Translators

    t = Translators(kit_qapp)
    t.set("zh_CN")
    try:
        assert t.installed
        assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"
    finally:
        t.set("en")
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Cancel"


def test_logout_closes_the_window_saying_so(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.closed, timeout=2000) as blocker:
        window.findChild(QAction, "logout").trigger()
    assert blocker.args == [True] and not window.isVisible()
    window.show()
    with qtbot.waitSignal(window.closed, timeout=2000) as blocker:
        window.findChild(QAction, "quit").trigger()
    assert blocker.args == [False] and not window.isVisible()


def test_row_version_counts_updates(services: Services) -> None:
    from sqlalchemy import select

    from kit_app.db.models import Officer

    with services.store.session() as s:
        before = s.scalar(select(Officer.row_version).where(Officer.cert_no == "45010320231"))
    services.officers.login("45010320231", "demo1234")
    with services.store.session() as s:
        after = s.scalar(select(Officer.row_version).where(Officer.cert_no == "45010320231"))
    assert after == before + 1


def test_a_new_data_dir_says_where_base_data_comes_from(qtbot: QtBot, store, runner: TaskRunner,  # type: ignore[no-untyped-def]
                                                        window: MainWindow) -> None:
    empty = Services.build(store)
    empty.officers.add(name="管理员", cert_no="ADMIN01", roles=["admin", "officer"], password="a-long-password")
    w = MainWindow(empty, runner, empty.officers.login("ADMIN01", "a-long-password"))
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: "no base data yet" in w.sources.detail.toPlainText(), timeout=5000)
    assert w.sources.count.text() == "0 pollution sources"
    # with base data, the usual prompt
    qtbot.waitUntil(lambda: window.sources.count.text().endswith("pollution sources"), timeout=5000)
    assert "Select a pollution source" in window.sources.detail.toPlainText()
