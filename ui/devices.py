"""The Devices pane: a table of the kit's devices, a live camera preview with photo and clip capture,
the latest values and a plot of an instrument with measurement recording, and the GPS fix. The
devices' Qt side (workers, hub, table model, preview widget) is ``ui.device_hub``; adding or editing
a device is ``ui.device_dialog``.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
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
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from devices import session as S
from devices.camera import CaptureError
from devices.registry import DeviceConfig
from devices.values import numeric_values
from kit_app.dto import OfficerInfo
from kit_app.i18n import _
from kit_app.storage import DiskFull
from kit_app.timeutil import LOCAL_TZ, format_local
from ui.device_dialog import DeviceDialog
from ui.device_hub import (
    STATE_COLOURS,
    DeviceHub,
    DeviceTableModel,
    DeviceWorker,
    PreviewWidget,
    device_kind,
)
from ui.panes import Pane
from ui.plot import SeriesPlot
from ui.services import Services
from ui.tasks import TaskRunner, describe_error

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- the pane
class DevicesPane(Pane):
    """The kit's devices: state, live view, and capture straight into the chosen case."""

    def __init__(self, services: Services, runner: TaskRunner, officer: OfficerInfo, hub: DeviceHub,
                 parent: QWidget | None = None) -> None:
        super().__init__(services, runner, officer, parent)
        self.hub = hub
        self.worker: DeviceWorker | None = None
        self._items_from: DeviceWorker | None = None
        self.on_duty: list[OfficerInfo] = [officer]
        self.series: dict[str, list[tuple[float, float]]] = {}
        self.series_meta: dict[str, tuple[str, str]] = {}

        # the case evidence goes to, and who is on duty
        self.case = QComboBox()
        self.case.setObjectName("capture_case")
        self.case.setMinimumWidth(380)
        self.case.currentIndexChanged.connect(self._case_changed)
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
        self.pages.addWidget(self._camera_page())
        self.pages.addWidget(self._instrument_page())
        self.pages.addWidget(self._gps_page())

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

    # ------------------------------------------------------------ pages
    def _camera_page(self) -> QWidget:
        page = QWidget()
        self.preview = PreviewWidget()
        self.photo_btn = QPushButton(_("Take photo"))
        self.photo_btn.setObjectName("take_photo")
        self.photo_btn.clicked.connect(self.take_photo)
        self.clip_btn = QPushButton(_("Record clip"))
        self.clip_btn.setObjectName("record_clip")
        self.clip_btn.setCheckable(True)
        self.clip_btn.clicked.connect(self.toggle_clip)
        self.camera_info = QLabel()
        self.camera_info.setObjectName("camera_info")
        self.capture_result = QLabel()
        self.capture_result.setObjectName("capture_result")
        self.capture_result.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.photo_btn)
        row.addWidget(self.clip_btn)
        row.addWidget(self.capture_result, 1)
        row.addWidget(self.camera_info)
        v = QVBoxLayout(page)
        v.addWidget(self.preview, 1)
        v.addLayout(row)
        return page

    def _instrument_page(self) -> QWidget:
        page = QWidget()
        self.instrument_info = QLabel()
        self.instrument_info.setWordWrap(True)
        self.values = QTableWidget(0, 3)
        self.values.setObjectName("latest_values")
        self.values.setHorizontalHeaderLabels([_("Quantity"), _("Value"), _("Unit")])
        self.values.verticalHeader().hide()
        self.values.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.values.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.values.setMaximumHeight(200)
        self.quantity = QComboBox()
        self.quantity.setObjectName("plot_quantity")
        self.quantity.currentIndexChanged.connect(self._plot_quantity)
        self.plot = SeriesPlot()
        self.record_btn = QPushButton(_("Start recording"))
        self.record_btn.setObjectName("record_readings")
        self.record_btn.setCheckable(True)
        self.record_btn.clicked.connect(self.toggle_recording)
        self.record_info = QLabel()
        self.record_info.setObjectName("record_info")
        row = QHBoxLayout()
        row.addWidget(QLabel(_("Plot:")))
        row.addWidget(self.quantity, 1)
        rec = QHBoxLayout()
        rec.addWidget(self.record_btn)
        rec.addWidget(self.record_info, 1)
        v = QVBoxLayout(page)
        v.addWidget(self.instrument_info)
        v.addWidget(self.values)
        v.addLayout(row)
        v.addWidget(self.plot, 1)
        v.addLayout(rec)
        return page

    def _gps_page(self) -> QWidget:
        page = QWidget()
        self.gps_info = QLabel()
        self.gps_info.setObjectName("gps_info")
        self.gps_info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.gps_info.setStyleSheet("font-size: 15px;")
        self.gps_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        v = QVBoxLayout(page)
        v.addWidget(self.gps_info, 1)
        return page

    # ------------------------------------------------------------ cases and officers on duty
    def load_cases(self) -> None:
        current = self.case.currentData()

        def done(rows: list[Any]) -> None:
            self.case.blockSignals(True)
            self.case.clear()
            for r in rows:
                if r.status == "open":
                    self.case.addItem(f"{r.number} · {r.party_name} · {r.title}", r.id)
            i = self.case.findData(current)
            self.case.setCurrentIndex(i if i >= 0 else 0 if self.case.count() else -1)
            self.case.blockSignals(False)
            self._case_changed()

        self.runner.run(lambda: self.services.cases.list(), done, self.fail)

    def select_case(self, case_id: str) -> None:
        i = self.case.findData(case_id)
        if i >= 0:
            self.case.setCurrentIndex(i)

    def _case_changed(self) -> None:
        case_id = self.case.currentData()
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
        if self._items_from is not None:
            self._items_from.item_received.disconnect(self._item)
            self._items_from = None
        self.worker = self.hub.workers.get(cfg.name) if cfg else None
        if cfg is None or device_kind(cfg) != "camera":
            self.preview.attach(None)
        if cfg is None:
            self.pages.setCurrentIndex(0)
            self._update_buttons()
            return
        kind = device_kind(cfg)
        self.pages.setCurrentIndex({"camera": 1, "instrument": 2, "gps": 3}[kind])
        if kind == "camera":
            self.preview.message = _("Not connected: press Connect")
            self.preview.attach(self.worker)
        elif kind == "instrument":
            self.instrument_info.setText(self._describe_instrument(cfg))
            self.values.setRowCount(0)
            self.quantity.clear()
            self.series, self.series_meta = {}, {}
            self.plot.set_series("", "", [])
            if self.worker is not None:
                self.worker.item_received.connect(self._item)
                self._items_from = self.worker
                if self.worker.session.latest:
                    self._item(self.worker.session.latest)
        self._update_buttons()
        self._tick()

    def _describe_instrument(self, cfg: DeviceConfig) -> str:
        parts = [cfg.model or cfg.protocol or "", _("serial number {sn}").format(sn=cfg.serial) if cfg.serial
                 else _("no serial number"),
                 _("calibrated {date}").format(date=cfg.calibrated) if cfg.calibrated
                 else _("calibration date not set")]
        return " · ".join(p for p in parts if p)

    def _update_buttons(self) -> None:
        cfg = self.current_config()
        open_ = cfg is not None and cfg.name in self.hub.workers
        self.connect_btn.setEnabled(cfg is not None)
        self.connect_btn.setText(_("Disconnect") if open_ else _("Connect"))
        self.edit_btn.setEnabled(cfg is not None and not open_)
        self.remove_btn.setEnabled(cfg is not None)
        has_case = bool(self.case.currentData())
        self.photo_btn.setEnabled(open_ and has_case)
        self.clip_btn.setEnabled(open_ and has_case)
        recording = bool(self.worker and self.worker.session.recording)
        self.record_btn.setEnabled(open_ and (has_case or recording))

    def toggle_connection(self) -> None:
        cfg = self.current_config()
        if cfg is None:
            return
        if cfg.name in self.hub.workers:
            w = self.hub.workers[cfg.name]
            if w.session.recording or (w.tap is not None and w.tap.recording):
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

    def _state_changed(self, name: str, state: str, detail: str) -> None:
        cfg = self.current_config()
        if cfg is not None and cfg.name == name:
            if self.worker is None and name in self.hub.workers:
                self._select()
            self._tick()
        if state in (S.RECONNECTING, S.NOISE, S.SILENT, S.FAILED):
            self.status_message.emit(f"{name}: {_(S.STATE_LABELS[state])} — {detail}")

    def _tick(self) -> None:
        cfg = self.current_config()
        if cfg is None:
            return
        state, detail = self.hub.state(cfg.name)
        colour = STATE_COLOURS.get(state, "#000")
        self.state_line.setText(f"<b style='color:{colour}'>{_(S.STATE_LABELS[state])}</b>"
                                + (f" — {detail}" if detail else ""))
        w = self.hub.workers.get(cfg.name)
        kind = device_kind(cfg)
        if kind == "camera":
            size = w.frame_size if w else None
            self.camera_info.setText(
                (f"{size[0]}×{size[1]} · " if size else "") + _("{fps:.1f} fps").format(fps=self.preview.fps))
            if self.preview.recording_since is not None:
                self.preview.update()
        elif kind == "gps":
            self.gps_info.setText(self._describe_gps())
        elif kind == "instrument" and w is not None and w.session.recording:
            self.record_info.setText(_("Recording: {n} messages").format(n=w.session.recorded_count()))
        self._update_buttons()

    def _describe_gps(self) -> str:
        fix = self.hub.gps.current()
        if fix is None:
            return self.hub.gps.describe()
        lines = [_("Latitude {lat:.6f}°, longitude {lon:.6f}°").format(lat=fix["latitude"], lon=fix["longitude"])]
        if fix.get("altitude") is not None:
            lines.append(_("Altitude {alt:.1f} m").format(alt=fix["altitude"]))
        if fix.get("satellites") is not None:
            lines.append(_("{n} satellites, HDOP {hdop}").format(n=fix["satellites"], hdop=fix.get("hdop")))
        if fix.get("time"):
            lines.append(_("GNSS time {time}").format(time=format_local(datetime.fromisoformat(fix["time"]))))
        lines.append(_("Fix {age:.0f} s old").format(age=fix.get("age_s", 0)))
        return "\n".join(lines)

    # ------------------------------------------------------------ readings
    def _item(self, item: dict[str, Any]) -> None:
        vals = numeric_values(item)
        if not vals:
            return
        t = time.time()
        if self.values.rowCount() != len(vals) or list(self.series_meta) != list(vals):
            self.values.setRowCount(len(vals))
            self.quantity.blockSignals(True)
            keep = self.quantity.currentData()
            self.quantity.clear()
            for key, (label, _v, unit) in vals.items():
                self.quantity.addItem(label, key)
                self.series_meta[key] = (label, unit)
            i = self.quantity.findData(keep)
            self.quantity.setCurrentIndex(max(i, 0))
            self.quantity.blockSignals(False)
        for row, (key, (label, value, unit)) in enumerate(vals.items()):
            for col, text in enumerate((label, f"{value:g}", unit)):
                cell = self.values.item(row, col)
                if cell is None:
                    self.values.setItem(row, col, QTableWidgetItem(text))
                else:
                    cell.setText(text)
            pts = self.series.setdefault(key, [])
            pts.append((t, value))
            if len(pts) > 20000:
                del pts[:1000]
        key = self.quantity.currentData()
        if key in vals:
            if self.plot.label != self.series_meta[key][0]:
                self._plot_quantity()
            else:
                self.plot.add(t, vals[key][1])

    def _plot_quantity(self) -> None:
        key = self.quantity.currentData()
        if key is None:
            return
        label, unit = self.series_meta.get(key, (key, ""))
        self.plot.set_series(label, unit, self.series.get(key, []))

    def toggle_recording(self) -> None:
        cfg, w = self.current_config(), self.worker
        if cfg is None or w is None:
            self.record_btn.setChecked(False)
            return
        if not w.session.recording:
            try:
                self.services.evidence.require_space(1024 * 1024)  # refused before it starts
            except DiskFull as exc:
                self.record_btn.setChecked(False)
                self.record_info.setText(str(exc))
                return
            w.session.start_recording()
            self.record_btn.setText(_("Stop and save as evidence"))
            self.record_info.setText(_("Recording: {n} messages").format(n=0))
            return
        readings = w.session.stop_recording()
        self.record_btn.setText(_("Start recording"))
        self.record_btn.setChecked(False)
        case_id = self.case.currentData()
        if not readings:
            self.record_info.setText(_("Nothing was received while recording; nothing saved."))
            return
        gps = self.hub.gps.current()
        instrument = {"model": cfg.model if cfg.protocol == "modbus" else (cfg.model or None), "serial": cfg.serial,
                      "calibrated": cfg.calibrated, "device": cfg.name}
        on_duty = list(self.on_duty)
        self.record_info.setText(_("Saving {n} messages…").format(n=len(readings)))

        def work() -> Any:
            return self.services.evidence.add_readings(
                case_id, on_duty[0], readings, instrument=instrument, protocol=cfg.protocol or "", port=cfg.port,
                gps=gps, others=on_duty[1:])

        info = self.record_info
        self.runner.run(work, lambda r: self._saved(r, info), lambda e: self._save_failed(e, info))

    # ------------------------------------------------------------ camera
    def _camera_identity(self, cfg: DeviceConfig) -> tuple[str, str, str]:
        model = cfg.model or ("KIT-CAM SIM" if cfg.port.startswith("sim") else _("camera {port}").format(port=cfg.port))
        device = " ".join(x for x in (model, f"#{cfg.serial}" if cfg.serial else "", f"({cfg.name})") if x)
        return "Enforcement Evidence Kit" if cfg.port.startswith("sim") else "", model, device

    def take_photo(self) -> None:
        cfg, w = self.current_config(), self.worker
        if cfg is None or w is None or w.tap is None:
            return
        case_id, on_duty, gps = self.case.currentData(), list(self.on_duty), self.hub.gps.current()
        make, model, device = self._camera_identity(cfg)
        when = datetime.now(LOCAL_TZ)
        tap, ev = w.tap, self.services.evidence
        size = w.frame_size
        self.capture_result.setText(_("Saving the photo…"))

        def work() -> Any:
            path = tap.still(ev.scratch_dir(), when, make=make, model=model, serial=cfg.serial, gps=gps)
            return ev.add_capture(case_id, on_duty, path, kind="photo", captured_at=when, device=device, gps=gps,
                                  capture={"camera": cfg.name, "port": cfg.port,
                                           "width": size[0] if size else None, "height": size[1] if size else None})

        self.runner.run(work, lambda r: self._saved(r, self.capture_result),
                        lambda e: self._save_failed(e, self.capture_result))

    def toggle_clip(self) -> None:
        cfg, w = self.current_config(), self.worker
        if cfg is None or w is None or w.tap is None:
            self.clip_btn.setChecked(False)
            return
        tap, ev = w.tap, self.services.evidence
        if not tap.recording:
            self.clip_started = datetime.now(LOCAL_TZ)
            self.clip_gps = self.hub.gps.current()
            try:
                tap.start_clip(ev.scratch_dir(), self.clip_started)
            except CaptureError as exc:
                self.clip_btn.setChecked(False)
                self._save_failed(exc, self.capture_result)
                return
            self.preview.recording_since = time.monotonic()
            self.clip_btn.setText(_("Stop clip and save"))
            return
        self.preview.recording_since = None
        self.clip_btn.setText(_("Record clip"))
        self.clip_btn.setChecked(False)
        case_id, on_duty = self.case.currentData(), list(self.on_duty)
        gps = self.hub.gps.current() or self.clip_gps
        started = self.clip_started
        _make, _model, device = self._camera_identity(cfg)
        self.capture_result.setText(_("Saving the clip…"))

        def work() -> Any:
            clip = tap.stop_clip()
            warnings = [_("the recording stopped early: the disk was nearly full")] if clip.cut_short else []
            return ev.add_capture(case_id, on_duty, clip.path, kind="video", captured_at=started, device=device,
                                  gps=gps, capture={"camera": cfg.name, "port": cfg.port, "frames": clip.frames,
                                                    "seconds": clip.seconds, "fps": clip.fps,
                                                    "width": clip.width, "height": clip.height,
                                                    "cut_short": clip.cut_short}, warnings=warnings)

        self.runner.run(work, lambda r: self._saved(r, self.capture_result),
                        lambda e: self._save_failed(e, self.capture_result))

    def _saved(self, res: Any, label: QLabel) -> None:
        text = _("Saved as evidence {name}").format(name=res.path)
        if res.warnings:
            text += " — " + "; ".join(res.warnings)
        label.setText(text)
        self.status_message.emit(text)
        self.data_changed.emit("evidence")

    def _save_failed(self, exc: BaseException, label: QLabel) -> None:
        label.setText(describe_error(exc))
        self.status_message.emit(label.text())
