"""What an officer sees when the disk fills during an import, and on a read-only data dir."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from kit_app.db import open_store
from kit_app.services.demo import DemoGenerator
from tests.helpers import fs
from ui.evidence import EvidencePanel
from ui.main_window import MainWindow
from ui.services import Services
from ui.tasks import TaskRunner

pytestmark = pytest.mark.gui
MB = 1024 * 1024


def test_a_full_disk_during_an_import_is_said_with_what_to_do(qtbot: QtBot, runner: TaskRunner,
                                                               tmp_path: Path) -> None:
    with fs.tmpfs(tmp_path / "disk", 64 * MB) as disk:
        store = open_store(disk / "kit")
        DemoGenerator(store, seed=1).ensure_officers()
        services = Services.build(store)
        officer = services.officers.login("45010320231", "demo1234")
        case = services.cases.create(party="测试当事人", title="存储已满", actor=officer)
        panel = EvidencePanel(services.evidence, runner, officer, services.officers.list)
        qtbot.addWidget(panel)
        panel.show()
        panel.set_case(case.id, case.number)
        card = tmp_path / "card"
        card.mkdir()
        for i in range(8):
            (card / f"IMG_{i}.JPG").write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(2 * MB))
        said: list[str] = []
        panel.status_message.connect(said.append)
        services.evidence.BATCH_FILES = 2  # type: ignore[misc]
        filler = fs.fill(disk, 20 * MB)  # 16 MB of photos and the 16 MB reserve do not fit: refused upfront
        panel.import_paths([card])
        qtbot.waitUntil(lambda: bool(said), timeout=10000)
        assert "is full" in said[-1] and "are needed" in said[-1] and "Free some space" in said[-1], said[-1]
        assert "Traceback" not in said[-1] and "Error" not in said[-1]
        assert services.evidence.list_for_case(case.id) == []
        filler.unlink()
        said.clear()
        fs.fill(disk, 40 * MB)  # now the import starts ...
        orig = services.evidence._prepare

        def prepare(*a, **kw):  # type: ignore[no-untyped-def]
            res = orig(*a, **kw)
            if str(a[1]).endswith("IMG_3.JPG"):
                fs.fill(disk, 0, name="video.mp4")  # ... and a recording elsewhere fills the disk
            return res

        services.evidence._prepare = prepare  # type: ignore[method-assign]
        with qtbot.waitSignal(panel.imported, timeout=30000) as blocker:
            panel.import_paths([card])
        results = blocker.args[0]
        assert [r.status for r in results][:4] == ["ok"] * 4
        qtbot.waitUntil(lambda: any("disk filled up" in m for m in said), timeout=5000)
        assert "4 files were imported whole, 4 were not; they need 24.0 MB of free space" in said[-1], said[-1]
        assert "import the same files again" in said[-1]
        store.close()


def test_a_read_only_data_dir_says_so(qtbot: QtBot, runner: TaskRunner, tmp_path: Path) -> None:
    with fs.tmpfs(tmp_path / "disk", 32 * MB) as disk:
        store = open_store(disk / "kit")
        DemoGenerator(store, seed=1).ensure_officers()
        rw = Services.build(store)
        made = rw.cases.create(party="某化工有限公司", title="超标排放", actor=rw.officers.login("45010320231", "demo1234"))
        store.close()
        fs.remount_read_only(disk)
        try:
            ro = open_store(disk / "kit")
            services = Services.build(ro)
            officer = services.officers.login("45010320231", "demo1234")
            w = MainWindow(services, runner, officer)
            qtbot.addWidget(w)
            w.show()
            status = w.findChild(type(w.sync_status), "status_data_dir")
            assert "read-only" in status.text()
            assert not w.sync.timer.isActive()
            # browsing works; a change is refused with its reason, before anything is tried
            assert [c.id for c in services.cases.find()] == [made.id]
            with pytest.raises(Exception) as refused:
                services.cases.create(party="某公司", title="只读", actor=officer)
            assert "read-only" in str(refused.value) and "browsed and verified" in str(refused.value)
            w.close()
            runner.wait()
            ro.close()
        finally:
            fs.remount_read_write(disk)
