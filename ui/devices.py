"""The Devices pane: a table of the kit's devices with their state, and the selected device's page
(``ui.device_pages``: camera, instrument or GNSS receiver). The devices' Qt side (workers, hub,
table model, preview widget) is ``ui.device_hub``; adding or editing a device is ``ui.device_dialog``.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import (
    Qt,
    QTimer,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from devices import session as S
from devices.manager import CAMERA, GPS, INSTRUMENT, TROUBLE, device_kind
from devices.registry import DeviceConfig
from kit_app.dto import OfficerInfo
from kit_app.i18n import _
from kit_app.services.lifecycle import accepts_evidence
from ui.device_dialog import DeviceDialog
from ui.device_hub import (
    STATE_COLOURS,
    DeviceHub,
    DeviceTableModel,
    DeviceWorker,
)
from ui.device_pages import CameraPage, CaptureTarget, DevicePage, GpsPage, InstrumentPage
from ui.panes import Pane
from ui.services import Services
from ui.tasks import TaskRunner

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- the pane
class DevicesPane(Pane):
    """The kit's devices: state, live view, and capture straight into the chosen case."""

    def __init__(self, services: Services, runner: TaskRunner, officer: OfficerInfo, hub: DeviceHub,
                 parent: QWidget | None = None) -> None:
        super().__init__(services, runner, officer, parent)
        self.hub = hub
        self.worker: DeviceWorker | None = None
        self.on_duty: list[OfficerInfo] = [officer]

        # the case evidence goes to, and who is on duty
        self.case = QComboBox()
        self.case.setObjectName("capture_case")
        self.case.setMinimumWidth(380)
        self.case.currentIndexChanged.connect(self._case_changed)
        self._wanted: str | None = None  # the case chosen, kept across reloads of the list
        self.duty = QLabel()
        self.duty.setObjectName("on_duty")
        top = QHBoxLayout()
        top.addWidget(QLabel(_("Evidence goes to case:")))
        top.addWidget(self.case, 1)
        top.addWidget(self.duty, 1)

        # the device table
        self.model = DeviceTableModel(hub, self)
        self.table = QTableView()
        self.table.setObjectName("device_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(lambda *_a: self._select())
        self.add_btn = QPushButton(_("Add device…"))
        self.add_btn.clicked.connect(self.add_device)
        self.edit_btn = QPushButton(_("Change…"))
        self.edit_btn.clicked.connect(self.edit_device)
        self.remove_btn = QPushButton(_("Remove"))
        self.remove_btn.clicked.connect(self.remove_device)
        self.connect_btn = QPushButton(_("Connect"))
        self.connect_btn.setObjectName("connect_device")
        self.connect_btn.clicked.connect(self.toggle_connection)
        buttons = QHBoxLayout()
        for b in (self.connect_btn, self.add_btn, self.edit_btn, self.remove_btn):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.state_line = QLabel()
        self.state_line.setObjectName("device_state")
        self.state_line.setWordWrap(True)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.table, 1)
        lv.addLayout(buttons)
        lv.addWidget(self.state_line)

        # detail pages
        self.pages = QStackedWidget()
        self.empty = QLabel(_("Choose a device on the left, or add one.\nIn demo mode, simulated devices are set up."))
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pages.addWidget(self.empty)
        target = CaptureTarget(services, runner, hub.gps, case_id=lambda: self.case.currentData(),
                               on_duty=lambda: list(self.on_duty))
        self.camera = CameraPage(target)
        self.instrument = InstrumentPage(target)
        self.gnss = GpsPage(target)
        self.page_of: dict[str, DevicePage] = {CAMERA: self.camera, INSTRUMENT: self.instrument, GPS: self.gnss}
        for page in self.page_of.values():
            self.pages.addWidget(page)
            page.status_message.connect(self.status_message)
            page.evidence_saved.connect(lambda: self.data_changed.emit("evidence"))

        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.pages)
        split.setStretchFactor(1, 2)
        split.setSizes([520, 780])
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)

        hub.state_changed.connect(self._state_changed)
        hub.devices_changed.connect(self._select)
        self.tick = QTimer(self)
        self.tick.timeout.connect(self._tick)
        self.tick.start(500)
        self.load_cases()
        if hub.configs:
            self.table.selectRow(0)
        if hub.load_error:
            self.state_line.setText(hub.load_error)

    # ------------------------------------------------------------ cases and officers on duty
    def load_cases(self) -> None:

        def done(rows: list[Any]) -> None:
            self.case.blockSignals(True)
            self.case.clear()
            for r in rows:
                if accepts_evidence(r.status):
                    self.case.addItem(f"{r.number} · {r.party_name} · {r.title}", r.id)
            i = self.case.findData(self._wanted)
            self.case.setCurrentIndex(i if i >= 0 else 0 if self.case.count() else -1)
            self.case.blockSignals(False)
            self._case_changed()

        self.runner.run(lambda: self.services.cases.find(), done, self.fail)

    def select_case(self, case_id: str) -> None:
        """Capture to ``case_id`` — now, or once the case list has it (a case just opened)."""
        self._wanted = case_id
        i = self.case.findData(case_id)
        if i >= 0:
            self.case.setCurrentIndex(i)
        else:
            self.load_cases()

    def _case_changed(self) -> None:
        case_id = self.case.currentData()
        self._wanted = case_id
        if not case_id:
            self.on_duty = [self.officer]
            self._show_duty()
            return

        def work() -> list[OfficerInfo]:
            detail = self.services.cases.get(case_id)
            others = [self.services.officers.get(o.id) for o in detail.officers if o.id != self.officer.id]
            return [self.officer, *others]

        def done(officers: list[OfficerInfo]) -> None:
            self.on_duty = officers
            self._show_duty()

        self.runner.run(work, done, self.fail)

    def _show_duty(self) -> None:
        self.duty.setText(_("On duty: {names}").format(names="、".join(o.name for o in self.on_duty)))

    def on_data_changed(self, what: str) -> None:
        if what == "cases":
            self.load_cases()

    # ------------------------------------------------------------ devices
    def current_config(self) -> DeviceConfig | None:
        idx = self.table.currentIndex()
        return self.model.config_at(idx.row()) if idx.isValid() and idx.row() < len(self.hub.configs) else None

    def _select(self) -> None:
        cfg = self.current_config()
        self.camera.detach()
        self.instrument.detach()
        self.worker = self.hub.workers.get(cfg.name) if cfg else None
        if cfg is None:
            self.pages.setCurrentIndex(0)
            self._update_buttons()
            return
        page = self.page_of[device_kind(cfg)]
        self.pages.setCurrentWidget(page)
        page.show_device(cfg, self.worker)
        self._update_buttons()
        self._tick()

    def _update_buttons(self) -> None:
        cfg = self.current_config()
        open_ = cfg is not None and cfg.name in self.hub.workers
        self.connect_btn.setEnabled(cfg is not None)
        self.connect_btn.setText(_("Disconnect") if open_ else _("Connect"))
        self.edit_btn.setEnabled(cfg is not None and not open_)
        self.remove_btn.setEnabled(cfg is not None)
        has_case = bool(self.case.currentData())
        for page in self.page_of.values():
            page.update_buttons(open_ and page is self.pages.currentWidget(), has_case)

    def toggle_connection(self) -> None:
        cfg = self.current_config()
        if cfg is None:
            return
        if cfg.name in self.hub.workers:
            if self.page_of[device_kind(cfg)].busy():
                QMessageBox.information(self, _("Recording"), _("Stop the recording first."))
                return
            self.hub.close(cfg.name)
        else:
            self.hub.open(cfg.name)
        self._select()

    def add_device(self) -> None:
        dlg = DeviceDialog(self.runner, parent=self)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self._save(dlg.config())

    def edit_device(self) -> None:
        cfg = self.current_config()
        if cfg is None:
            return
        dlg = DeviceDialog(self.runner, cfg, parent=self)
        dlg.name.setReadOnly(True)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            new = dlg.config()
            new.options = cfg.options
            self._save(new)

    def _save(self, cfg: DeviceConfig) -> None:
        try:
            self.hub.add(cfg)
        except (ValueError, OSError) as exc:
            QMessageBox.warning(self, _("Device"), str(exc))
            return
        self._log_change(cfg.name, {"saved": {k: v for k, v in vars(cfg).items() if k != "options"}})
        row = next(i for i, c in enumerate(self.hub.configs) if c.name == cfg.name)
        self.table.selectRow(row)

    def remove_device(self) -> None:
        cfg = self.current_config()
        if cfg is None:
            return
        if QMessageBox.question(self, _("Remove device"), _("Remove {name} from this kit?").format(name=cfg.name)) \
                != QMessageBox.StandardButton.Yes:
            return
        self.hub.remove(cfg.name)
        self._log_change(cfg.name, {"removed": True})

    def _log_change(self, name: str, details: dict[str, Any]) -> None:
        """A device configuration change goes into the administration log, with who made it."""
        from kit_app.services.admin import AdminService

        admin, officer = AdminService(self.services.store), self.officer
        self.runner.run(lambda: admin.record(officer, "device.config", name, details),
                        lambda _r: self.data_changed.emit("devices"), self.fail)

    def _state_changed(self, name: str, state: str, detail: str) -> None:
        cfg = self.current_config()
        if cfg is not None and cfg.name == name:
            if self.worker is None and name in self.hub.workers:
                self._select()
            self._tick()
        if state in TROUBLE:
            self.status_message.emit(f"{name}: {_(S.STATE_LABELS[state])} — {detail}")

    def _tick(self) -> None:
        cfg = self.current_config()
        if cfg is None:
            return
        state, detail = self.hub.state(cfg.name)
        colour = STATE_COLOURS.get(state, "#000")
        self.state_line.setText(f"<b style='color:{colour}'>{_(S.STATE_LABELS[state])}</b>"
                                + (f" — {detail}" if detail else ""))
        self.page_of[device_kind(cfg)].tick()
        self._update_buttons()
