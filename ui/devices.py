"""Devices in the app: each open device runs in its own session thread (``devices.session``); this
module adapts them to Qt — signals for readings, states and preview frames — and shows them: a
table of the kit's devices, a live camera preview with photo and clip capture, the latest values
and a plot of an instrument with measurement recording, and the GPS fix.

Preview frames are scaled on the camera's thread to the size of the preview and dropped (never
queued) while the GUI has not painted the previous one, so a fast camera cannot flood the GUI.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QPainter,
    QPaintEvent,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from devices import session as S
from devices.camera import CameraTap, CaptureError
from devices.gps import GpsTracker
from devices.reader import PROTOCOLS
from devices.registry import DeviceConfig, DeviceConfigs
from devices.values import numeric_values
from kit_app.dto import OfficerInfo
from kit_app.i18n import _
from kit_app.storage import DiskFull, require_space
from kit_app.timeutil import LOCAL_TZ, format_local
from ui.panes import Pane
from ui.plot import SeriesPlot
from ui.services import Services
from ui.tasks import TaskRunner, describe_error

log = logging.getLogger(__name__)

STATE_COLOURS = {S.LIVE: "#1b7f3b", S.SILENT: "#b26a00", S.NOISE: "#b26a00", S.RECONNECTING: "#c62828",
                 S.FAILED: "#c62828", S.CONNECTING: "#555555", S.STOPPED: "#777777"}


def device_kind(config: DeviceConfig) -> str:
    if config.driver == "camera":
        return "camera"
    if config.protocol == "nmea":
        return "gps"
    return "instrument"


def kind_label(kind: str) -> str:
    return {"camera": _("Camera"), "gps": _("GNSS receiver"), "instrument": _("Instrument")}[kind]


# ---------------------------------------------------------------- adapters
class DeviceWorker(QObject):
    """One open device: its session (own thread) and the signals the GUI listens to."""

    item_received = Signal(object)  # a decoded message (not camera frames)
    state_changed = Signal(str, str)
    frame_ready = Signal(QImage)

    def __init__(self, config: DeviceConfig, gps: GpsTracker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.config = config
        self.kind = device_kind(config)
        self.gps = gps
        self.tap = CameraTap() if self.kind == "camera" else None
        self.session = S.DeviceSession(config, on_item=self._on_item, on_state=self._on_state,
                                       stamp=gps.current if self.kind == "instrument" else None)
        self._pending = threading.Event()  # a preview frame is on its way to the GUI
        self._pending_since = 0.0
        self.previewing = False  # a preview widget is attached
        self._target = (960, 540)
        self.preview_shown = 0
        self.preview_dropped = 0
        self.frame_size: tuple[int, int] | None = None

    def set_preview_size(self, width: int, height: int) -> None:
        self._target = (max(16, width), max(16, height))

    def start(self) -> None:
        self.session.start()

    def stop(self) -> None:
        self.session.stop()

    # called on the session's thread
    def _on_item(self, item: dict[str, Any]) -> None:
        if self.tap is not None:
            self.tap.feed(item)
            frame = item.get("frame")
            if frame is None:
                return
            if not self.previewing:
                return
            if self._pending.is_set() and time.monotonic() - self._pending_since < 0.5:
                self.preview_dropped += 1
                return
            self._pending_since = time.monotonic()
            self._pending.set()
            self.frame_ready.emit(self._preview(frame))
            return
        if self.kind == "gps":
            self.gps.feed(item)
        self.item_received.emit(item)

    def _preview(self, frame: Any) -> QImage:
        import cv2

        h, w = frame.shape[:2]
        self.frame_size = (w, h)
        tw, th = self._target
        scale = min(tw / w, th / h)
        if abs(scale - 1) > 0.01:
            frame = cv2.resize(frame, (max(1, int(w * scale)), max(1, int(h * scale))),
                               interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        h, w = frame.shape[:2]
        return QImage(frame.data, w, h, frame.strides[0], QImage.Format.Format_BGR888).copy()

    def _on_state(self, state: str, detail: str) -> None:
        self.state_changed.emit(state, detail)

    def frame_painted(self) -> None:
        self.preview_shown += 1
        self._pending.clear()


class DeviceHub(QObject):
    """The kit's configured devices and the open ones; one per app, owned by the main window."""

    devices_changed = Signal()
    state_changed = Signal(str, str, str)  # name, state, detail

    def __init__(self, data_dir: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = DeviceConfigs(data_dir)
        self.gps = GpsTracker()
        self.workers: dict[str, DeviceWorker] = {}
        try:
            self.configs = self.store.load()
            self.load_error: str | None = None
        except ValueError as exc:
            self.configs, self.load_error = [], str(exc)

    def config(self, name: str) -> DeviceConfig | None:
        return next((c for c in self.configs if c.name == name), None)

    def open(self, name: str) -> DeviceWorker:
        w = self.workers.get(name)
        if w is None:
            cfg = self.config(name)
            if cfg is None:
                raise KeyError(name)
            w = DeviceWorker(cfg, self.gps, self)
            w.state_changed.connect(lambda st, d, n=name: self.state_changed.emit(n, st, d))
            self.workers[name] = w
        w.start()
        return w

    def close(self, name: str) -> None:
        w = self.workers.pop(name, None)
        if w is not None:
            w.session._stop.set()  # the thread ends by itself; do not block the GUI waiting for it
            threading.Thread(target=w.stop, daemon=True).start()
            self.state_changed.emit(name, S.STOPPED, "")

    def add(self, cfg: DeviceConfig) -> None:
        self.close(cfg.name)
        self.store.add(cfg)
        self.configs = self.store.load()
        self.devices_changed.emit()

    def remove(self, name: str) -> None:
        self.close(name)
        self.store.remove(name)
        self.configs = self.store.load()
        self.devices_changed.emit()

    def state(self, name: str) -> tuple[str, str]:
        w = self.workers.get(name)
        return (w.session.state, w.session.detail) if w else (S.STOPPED, "")

    def autostart(self) -> None:
        for c in self.configs:
            if c.options.get("autostart"):
                self.open(c.name)

    def shutdown(self) -> None:
        for w in self.workers.values():
            w.session._stop.set()
        for w in self.workers.values():
            w.stop()
        self.workers.clear()

    def summary(self) -> str:
        live = sum(1 for w in self.workers.values() if w.session.state == S.LIVE)
        trouble = sum(1 for w in self.workers.values() if w.session.state in (S.RECONNECTING, S.NOISE, S.SILENT,
                                                                              S.FAILED))
        text = _("Devices: {live} receiving").format(live=live)
        if trouble:
            text += _(", {n} need attention").format(n=trouble)
        return text


class DeviceTableModel(QAbstractTableModel):
    """The configured devices with their live state and counters (refreshed once a second)."""

    def __init__(self, hub: DeviceHub, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.hub = hub
        self.headers = [_("Name"), _("Type"), _("Port"), _("Protocol"), _("State"), _("Received"), _("Damaged"),
                        _("Skipped bytes"), _("Reconnects")]
        hub.devices_changed.connect(self._reset)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(1000)

    def _reset(self) -> None:
        self.beginResetModel()
        self.endResetModel()

    def refresh(self) -> None:
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 4), self.index(self.rowCount() - 1, len(self.headers) - 1))

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.hub.configs)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers[section]
        return None

    def config_at(self, row: int) -> DeviceConfig:
        return self.hub.configs[row]

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        cfg = self.hub.configs[index.row()]
        w = self.hub.workers.get(cfg.name)
        state, detail = self.hub.state(cfg.name)
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return cfg.name
            if col == 1:
                return kind_label(device_kind(cfg))
            if col == 2:
                return cfg.port
            if col == 3:
                return cfg.protocol or ("OpenCV" if cfg.driver == "camera" else "")
            if col == 4:
                return _(S.STATE_LABELS[state])
            if w is None:
                return ""
            c = w.session.counters
            if cfg.driver == "camera":
                return {5: f"{w.preview_shown}", 6: "", 7: "", 8: str(c.reconnects)}.get(col, "")
            return str({5: c.messages, 6: c.invalid, 7: c.skipped_bytes, 8: c.reconnects}[col])
        if role == Qt.ItemDataRole.ForegroundRole and col == 4:
            return QColor(STATE_COLOURS.get(state, "#000"))
        if role == Qt.ItemDataRole.ToolTipRole and col == 4:
            return detail or None
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= 5:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


# ---------------------------------------------------------------- widgets
class PreviewWidget(QWidget):
    """Paints the newest preview frame as it is (already scaled on the camera's thread)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("camera_preview")
        self.setMinimumSize(480, 270)
        self.image: QImage | None = None
        self.worker: DeviceWorker | None = None
        self.recording_since: float | None = None
        self.painted = 0
        self._times: deque[float] = deque(maxlen=40)
        self.message = _("No camera open")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def attach(self, worker: DeviceWorker | None) -> None:
        if self.worker is worker:
            return
        if self.worker is not None:
            self.worker.previewing = False
            self.worker.frame_ready.disconnect(self.show_frame)
        self.worker = worker
        self.image = None
        self._times.clear()
        if worker is not None:
            worker.frame_ready.connect(self.show_frame)
            worker.frame_painted()
            worker.previewing = True
            worker.set_preview_size(self.width(), self.height())
        self.update()

    @property
    def fps(self) -> float:
        t = self._times
        return (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 and t[-1] > t[0] else 0.0

    def show_frame(self, image: QImage) -> None:
        self.image = image
        self._times.append(time.monotonic())
        self.repaint()  # paint now, then let the camera thread send the next one
        self.painted += 1
        if self.worker is not None:
            self.worker.frame_painted()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        if self.worker is not None:
            self.worker.set_preview_size(event.size().width(), event.size().height())
        super().resizeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#111"))
        if self.image is None:
            p.setPen(QColor("#bbb"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
            return
        x = (self.width() - self.image.width()) // 2
        y = (self.height() - self.image.height()) // 2
        p.drawImage(x, y, self.image)
        if self.recording_since is not None:
            secs = int(time.monotonic() - self.recording_since)
            p.setBrush(QColor("#e53935"))
            p.setPen(Qt.PenStyle.NoPen)
            p.drawEllipse(QPointF(x + 22, y + self.image.height() - 22), 8, 8)
            p.setPen(QColor("white"))
            f = QFont(self.font())
            f.setBold(True)
            p.setFont(f)
            p.drawText(x + 36, y + self.image.height() - 16, f"REC {secs // 60:02d}:{secs % 60:02d}")


# ---------------------------------------------------------------- dialogs
class DeviceDialog(QDialog):
    """Add (or change) a device: what it is, where it is plugged in and how it speaks."""

    def __init__(self, runner: TaskRunner, config: DeviceConfig | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Device"))
        self.runner = runner
        form = QFormLayout()
        self.name = QLineEdit(config.name if config else "")
        self.kind = QComboBox()
        for k in ("instrument", "gps", "camera"):
            self.kind.addItem(kind_label(k), k)
        self.port = QComboBox()
        self.port.setEditable(True)
        self.port.setObjectName("device_port")
        self.protocol = QComboBox()
        for p in PROTOCOLS:
            if p != "nmea":
                self.protocol.addItem({"hj212": "HJ 212", "modbus": "Modbus RTU", "ascii": _("vendor ASCII")}[p], p)
        self.baud = QComboBox()
        for b in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200):
            self.baud.addItem(str(b), b)
        self.baud.setCurrentText("9600")
        self.model = QComboBox()
        self.model.setEditable(True)
        from devices.modbus import register_maps

        self.model.addItems(sorted(register_maps()))
        self.unit = QSpinBox()
        self.unit.setRange(1, 247)
        self.pattern = QLineEdit()
        self.pattern.setPlaceholderText(_("regular expression with a (?P<value>…) group (optional)"))
        self.serial = QLineEdit()
        self.calibrated = QLineEdit()
        self.calibrated.setPlaceholderText("2026-10-15")
        form.addRow(_("Name"), self.name)
        form.addRow(_("Type"), self.kind)
        form.addRow(_("Port or camera"), self.port)
        form.addRow(_("Protocol"), self.protocol)
        form.addRow(_("Baud rate"), self.baud)
        form.addRow(_("Model / register map"), self.model)
        form.addRow(_("Modbus unit address"), self.unit)
        form.addRow(_("Line pattern"), self.pattern)
        form.addRow(_("Serial number"), self.serial)
        form.addRow(_("Calibrated on"), self.calibrated)
        self.error = QLabel()
        self.error.setStyleSheet("color: #c62828")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        if config is not None:
            self.kind.setCurrentIndex(self.kind.findData(device_kind(config)))
            self.port.setEditText(config.port)
            if config.protocol and config.protocol != "nmea":
                self.protocol.setCurrentIndex(self.protocol.findData(config.protocol))
            self.baud.setCurrentText(str(config.baud))
            self.model.setEditText(config.model or "")
            self.unit.setValue(config.unit)
            self.pattern.setText(config.pattern or "")
            self.serial.setText(config.serial or "")
            self.calibrated.setText(config.calibrated or "")
        self._kind_changed()
        self._discover()

    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        for w in (self.protocol, self.model, self.unit, self.pattern):
            w.setEnabled(kind == "instrument")
        self.baud.setEnabled(kind != "camera")
        if kind == "gps" and self.baud.currentText() == "9600" and not self.port.currentText():
            self.baud.setCurrentText("9600")

    def _discover(self) -> None:
        from devices.registry import drivers

        def work() -> list[str]:
            found = []
            for d in drivers().values():
                try:
                    found += [f.port for f in d.discover()]
                except Exception:  # noqa: BLE001 - discovery is a convenience
                    log.exception("device discovery failed")
            return found + ["sim:1280x720@25"]

        def done(ports: list[str]) -> None:
            current = self.port.currentText()
            self.port.addItems(ports)
            self.port.setEditText(current)

        self.runner.run(work, done, lambda _e: None, io=True)

    def config(self) -> DeviceConfig:
        kind = self.kind.currentData()
        return DeviceConfig(
            name=self.name.text().strip(), driver="camera" if kind == "camera" else "serial",
            port=self.port.currentText().strip(),
            protocol=None if kind == "camera" else ("nmea" if kind == "gps" else self.protocol.currentData()),
            baud=int(self.baud.currentData() or 9600), model=self.model.currentText().strip() or None,
            unit=self.unit.value(), pattern=self.pattern.text().strip() or None,
            serial=self.serial.text().strip() or None, calibrated=self.calibrated.text().strip() or None)

    def _accept(self) -> None:
        cfg = self.config()
        if not cfg.name:
            self.error.setText(_("Give the device a name."))
            return
        if not cfg.port:
            self.error.setText(_("Choose the port (or camera) the device is on."))
            return
        if cfg.calibrated:
            try:
                datetime.strptime(cfg.calibrated, "%Y-%m-%d")
            except ValueError:
                self.error.setText(_("The calibration date is written YYYY-MM-DD."))
                return
        self.accept()


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
                require_space(self.services.evidence.blobs.root, 1024 * 1024)  # refused before it starts
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
            path = tap.still(ev.blobs.scratch(), when, make=make, model=model, serial=cfg.serial, gps=gps)
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
                tap.start_clip(ev.blobs.scratch(), self.clip_started)
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
