"""The Devices pane's detail pages, one widget per kind of device: the camera (live preview, photo
and clip into the case), the instrument (latest values, a plot, measurement recording into the
case) and the GNSS receiver (the fix).

A page is shown with the selected device's configuration and, when it is open, its worker; it
asks the pane (``CaptureTarget``) which case evidence goes to and who is on duty, and says what it
saved through its signals.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from devices.camera import CaptureError
from devices.gps import GpsTracker
from devices.items import Reading
from devices.registry import DeviceConfig
from devices.values import numeric_values
from kit_app.dto import OfficerInfo
from kit_app.i18n import _
from kit_app.storage import DiskFull
from kit_app.timeutil import LOCAL_TZ, format_local
from ui.device_hub import DeviceWorker, PreviewWidget
from ui.models import image_of
from ui.plot import SeriesPlot
from ui.services import Services
from ui.tasks import IO, TaskRunner, describe_error


@dataclass
class CaptureTarget:
    """What a page needs from the pane: where evidence goes and who takes it."""

    services: Services
    runner: TaskRunner
    gps: GpsTracker
    case_id: Callable[[], str | None]
    on_duty: Callable[[], list[OfficerInfo]]


class DevicePage(QWidget):
    """Base of the pages: the device shown, and reporting what was saved or went wrong."""

    status_message = Signal(str)
    evidence_saved = Signal()

    def __init__(self, target: CaptureTarget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.target = target
        self.config: DeviceConfig | None = None
        self.worker: DeviceWorker | None = None

    def show_device(self, config: DeviceConfig, worker: DeviceWorker | None) -> None:
        self.config, self.worker = config, worker

    def tick(self) -> None:
        """Twice a second while shown: refresh what changes."""

    def update_buttons(self, open_: bool, has_case: bool) -> None:
        """Enable what can be done now."""

    def busy(self) -> bool:
        """Recording: the device must not be disconnected."""
        return False

    def _saved(self, res: Any, label: QLabel) -> None:
        text = _("Saved as evidence {name}").format(name=res.path)
        if res.warnings:
            text += " — " + "; ".join(res.warnings)
        label.setText(text)
        self.status_message.emit(text)
        self.evidence_saved.emit()

    def _save_failed(self, exc: BaseException, label: QLabel) -> None:
        label.setText(describe_error(exc))
        self.status_message.emit(label.text())


class CameraPage(DevicePage):
    """The live preview; a photo (full resolution, EXIF with time and GPS) or a clip into the case."""

    def __init__(self, target: CaptureTarget, parent: QWidget | None = None) -> None:
        super().__init__(target, parent)
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
        self.caption = QLineEdit()
        self.caption.setObjectName("capture_caption")
        self.caption.setPlaceholderText(_("Caption: what the next photos show (e.g. the main outfall's effluent)"))
        self.caption.setClearButtonEnabled(True)
        self.caption.setMaxLength(200)
        self.last_shot = QLabel()  # the last capture, as a thumbnail, as soon as it is saved
        self.last_shot.setObjectName("last_capture")
        self.last_shot.setFixedSize(96, 72)
        self.last_shot.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.last_shot.setStyleSheet("border: 1px solid #bbb; background: #f4f4f4;")
        self.clip_started: datetime | None = None
        self.clip_gps: dict[str, Any] | None = None
        row = QHBoxLayout()
        row.addWidget(self.photo_btn)
        row.addWidget(self.clip_btn)
        row.addWidget(self.caption, 1)
        row.addWidget(self.camera_info)
        result = QHBoxLayout()
        result.addWidget(self.last_shot)
        result.addWidget(self.capture_result, 1)
        v = QVBoxLayout(self)
        v.addWidget(self.preview, 1)
        v.addLayout(row)
        v.addLayout(result)

    def show_device(self, config: DeviceConfig, worker: DeviceWorker | None) -> None:
        super().show_device(config, worker)
        self.preview.message = _("Not connected: press Connect")
        self.preview.attach(worker)

    def detach(self) -> None:
        self.preview.attach(None)

    def tick(self) -> None:
        size = self.worker.frame_size if self.worker else None
        self.camera_info.setText(
            (f"{size[0]}×{size[1]} · " if size else "") + _("{fps:.1f} fps").format(fps=self.preview.fps))
        if self.preview.recording_since is not None:
            self.preview.update()

    def _saved(self, res: Any, label: QLabel) -> None:
        super()._saved(res, label)
        if not res.sha256:
            return
        blobs, sha = self.target.services.evidence.blobs, res.sha256

        def shown(img: QImage) -> None:
            if not img.isNull():
                self.last_shot.setPixmap(QPixmap.fromImage(img).scaled(
                    self.last_shot.size(), Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation))
                self.last_shot.setToolTip(res.path)

        self.target.runner.run(lambda: image_of(blobs.thumb_bytes(sha)), shown, lane=IO)

    def update_buttons(self, open_: bool, has_case: bool) -> None:
        self.photo_btn.setEnabled(open_ and has_case)
        self.clip_btn.setEnabled(open_ and has_case)

    def busy(self) -> bool:
        return bool(self.worker and self.worker.tap is not None and self.worker.tap.recording)

    def _identity(self, cfg: DeviceConfig) -> tuple[str, str, str]:
        model = cfg.model or ("KIT-CAM SIM" if cfg.port.startswith("sim") else _("camera {port}").format(port=cfg.port))
        device = " ".join(x for x in (model, f"#{cfg.serial}" if cfg.serial else "", f"({cfg.name})") if x)
        return "Enforcement Evidence Kit" if cfg.port.startswith("sim") else "", model, device

    def take_photo(self) -> None:
        cfg, w = self.config, self.worker
        if cfg is None or w is None or w.tap is None:
            return
        t = self.target
        case_id, on_duty, gps = t.case_id(), t.on_duty(), t.gps.current()
        make, model, device = self._identity(cfg)
        when = datetime.now(LOCAL_TZ)
        tap, ev = w.tap, t.services.evidence
        size = w.frame_size
        caption = self.caption.text().strip() or None
        self.capture_result.setText(_("Saving the photo…"))

        def work() -> Any:
            path = tap.still(ev.scratch_dir(), when, make=make, model=model, serial=cfg.serial, gps=gps)
            return ev.add_capture(case_id, on_duty, path, kind="photo", captured_at=when, device=device, gps=gps,
                                  description=caption,
                                  capture={"camera": cfg.name, "port": cfg.port,
                                           "width": size[0] if size else None, "height": size[1] if size else None})

        t.runner.run(work, lambda r: self._saved(r, self.capture_result),
                     lambda e: self._save_failed(e, self.capture_result))

    def toggle_clip(self) -> None:
        cfg, w = self.config, self.worker
        if cfg is None or w is None or w.tap is None:
            self.clip_btn.setChecked(False)
            return
        t = self.target
        tap, ev = w.tap, t.services.evidence
        if not tap.recording:
            self.clip_started = datetime.now(LOCAL_TZ)
            self.clip_gps = t.gps.current()
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
        case_id, on_duty = t.case_id(), t.on_duty()
        gps = t.gps.current() or self.clip_gps
        caption = self.caption.text().strip() or None
        started = self.clip_started
        _make, _model, device = self._identity(cfg)
        self.capture_result.setText(_("Saving the clip…"))

        def work() -> Any:
            clip = tap.stop_clip()
            warnings = [_("the recording stopped early: the disk was nearly full")] if clip.cut_short else []
            return ev.add_capture(case_id, on_duty, clip.path, kind="video", captured_at=started, device=device,
                                  gps=gps, description=caption,
                                  capture={"camera": cfg.name, "port": cfg.port, "frames": clip.frames,
                                           "seconds": clip.seconds, "fps": clip.fps,
                                           "width": clip.width, "height": clip.height,
                                           "cut_short": clip.cut_short}, warnings=warnings)

        t.runner.run(work, lambda r: self._saved(r, self.capture_result),
                     lambda e: self._save_failed(e, self.capture_result))


class InstrumentPage(DevicePage):
    """The latest values, a plot of one quantity, and recording the readings into the case."""

    def __init__(self, target: CaptureTarget, parent: QWidget | None = None) -> None:
        super().__init__(target, parent)
        self.series: dict[str, list[tuple[float, float]]] = {}
        self.series_meta: dict[str, tuple[str, str]] = {}
        self._items_from: DeviceWorker | None = None
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
        v = QVBoxLayout(self)
        v.addWidget(self.instrument_info)
        v.addWidget(self.values)
        v.addLayout(row)
        v.addWidget(self.plot, 1)
        v.addLayout(rec)

    def show_device(self, config: DeviceConfig, worker: DeviceWorker | None) -> None:
        super().show_device(config, worker)
        self.instrument_info.setText(self._describe(config))
        self.values.setRowCount(0)
        self.quantity.clear()
        self.series, self.series_meta = {}, {}
        self.plot.set_series("", "", [])
        if worker is not None:
            worker.item_received.connect(self.show_reading)
            self._items_from = worker
            latest = worker.session.latest
            if isinstance(latest, Reading):
                self.show_reading(latest)

    def detach(self) -> None:
        if self._items_from is not None:
            self._items_from.item_received.disconnect(self.show_reading)
            self._items_from = None

    @staticmethod
    def _describe(cfg: DeviceConfig) -> str:
        parts = [cfg.model or cfg.protocol or "", _("serial number {sn}").format(sn=cfg.serial) if cfg.serial
                 else _("no serial number"),
                 _("calibrated {date}").format(date=cfg.calibrated) if cfg.calibrated
                 else _("calibration date not set")]
        return " · ".join(p for p in parts if p)

    def tick(self) -> None:
        w = self.worker
        if w is not None and w.session.recording:
            self.record_info.setText(_("Recording: {n} messages").format(n=w.session.recorded_count()))

    def update_buttons(self, open_: bool, has_case: bool) -> None:
        self.record_btn.setEnabled(open_ and (has_case or self.busy()))

    def busy(self) -> bool:
        return bool(self.worker and self.worker.session.recording)

    def show_reading(self, item: Reading) -> None:
        vals = numeric_values(item.record())
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
        cfg, w = self.config, self.worker
        if cfg is None or w is None:
            self.record_btn.setChecked(False)
            return
        t = self.target
        if not w.session.recording:
            try:
                t.services.evidence.require_space(1024 * 1024)  # refused before it starts
            except DiskFull as exc:
                self.record_btn.setChecked(False)
                self.record_info.setText(str(exc))
                return
            w.session.start_recording()
            self.record_btn.setText(_("Stop and save as evidence"))
            self.record_info.setText(_("Recording: {n} messages").format(n=0))
            return
        readings = [r.record() for r in w.session.stop_recording()]
        self.record_btn.setText(_("Start recording"))
        self.record_btn.setChecked(False)
        case_id = t.case_id()
        if not readings:
            self.record_info.setText(_("Nothing was received while recording; nothing saved."))
            return
        gps = t.gps.current()
        instrument = {"model": cfg.model if cfg.protocol == "modbus" else (cfg.model or None), "serial": cfg.serial,
                      "calibrated": cfg.calibrated, "device": cfg.name}
        on_duty = t.on_duty()
        self.record_info.setText(_("Saving {n} messages…").format(n=len(readings)))

        def work() -> Any:
            return t.services.evidence.add_readings(
                case_id, on_duty[0], readings, instrument=instrument, protocol=cfg.protocol or "", port=cfg.port,
                gps=gps, others=on_duty[1:])

        info = self.record_info
        t.runner.run(work, lambda r: self._saved(r, info), lambda e: self._save_failed(e, info))


class GpsPage(DevicePage):
    """The GNSS receiver's current fix, in full."""

    def __init__(self, target: CaptureTarget, parent: QWidget | None = None) -> None:
        super().__init__(target, parent)
        self.gps_info = QLabel()
        self.gps_info.setObjectName("gps_info")
        self.gps_info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.gps_info.setStyleSheet("font-size: 15px;")
        self.gps_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        v = QVBoxLayout(self)
        v.addWidget(self.gps_info, 1)

    def tick(self) -> None:
        self.gps_info.setText(self.describe())

    def describe(self) -> str:
        gps = self.target.gps
        fix = gps.current()
        if fix is None:
            return gps.describe()
        lines = [_("Latitude {lat:.6f}°, longitude {lon:.6f}°").format(lat=fix["latitude"], lon=fix["longitude"])]
        if fix.get("altitude") is not None:
            lines.append(_("Altitude {alt:.1f} m").format(alt=fix["altitude"]))
        if fix.get("satellites") is not None:
            lines.append(_("{n} satellites, HDOP {hdop}").format(n=fix["satellites"], hdop=fix.get("hdop")))
        if fix.get("time"):
            lines.append(_("GNSS time {time}").format(time=format_local(datetime.fromisoformat(fix["time"]))))
        lines.append(_("Fix {age:.0f} s old").format(age=fix.get("age_s", 0)))
        return "\n".join(lines)


__all__ = ["CameraPage", "CaptureTarget", "DevicePage", "GpsPage", "InstrumentPage"]
