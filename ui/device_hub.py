"""The devices' Qt side: each open device runs in its own session thread (``devices.session``); a
worker adapts it to Qt — signals for readings, states and preview frames — the hub owns the
workers, and the table model and preview widget show them.

Preview frames are scaled on the camera's thread to the size of the preview and dropped (never
queued) while the GUI has not painted the previous one, so a fast camera cannot flood the GUI.
"""

from __future__ import annotations

import threading
import time
from collections import deque
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
    QWidget,
)

from devices import session as S
from devices.camera import CameraTap
from devices.gps import GpsTracker
from devices.registry import DeviceConfig, DeviceConfigs
from kit_app.errors import KitError
from kit_app.i18n import _

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
        except KitError as exc:  # devices.json damaged or from a newer version: said, not fatal
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
