"""The devices' Qt side: the device manager (``devices.manager``, Qt-free) runs each open device in
its own session thread; here a worker adapts an open device to Qt — signals for readings and
preview frames — the hub adapts the manager, and the table model and preview widget show them.

Preview frames are scaled on the camera's thread to the size of the preview and dropped (never
queued) while the GUI has not painted the previous one, so a fast camera cannot flood the GUI.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from pathlib import Path
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
from devices.items import Frame, Reading
from devices.manager import DeviceManager, OpenDevice, device_kind, kind_label
from devices.registry import DeviceConfig
from kit_app.i18n import _

STATE_COLOURS = {S.LIVE: "#1b7f3b", S.SILENT: "#b26a00", S.NOISE: "#b26a00", S.RECONNECTING: "#c62828",
                 S.FAILED: "#c62828", S.CONNECTING: "#555555", S.STOPPED: "#777777"}


# ---------------------------------------------------------------- adapters
class DeviceWorker(QObject):
    """One open device (``devices.manager.OpenDevice``) seen from Qt: its readings and preview
    frames as signals. Preview frames are scaled on the camera's thread and dropped while the GUI
    has not painted the previous one."""

    item_received = Signal(object)  # a Reading (camera frames go to the preview instead)
    frame_ready = Signal(QImage)

    def __init__(self, device: OpenDevice, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.device = device
        self._pending = threading.Event()  # a preview frame is on its way to the GUI
        self._pending_since = 0.0
        self.previewing = False  # a preview widget is attached
        self._target = (960, 540)
        self.preview_shown = 0
        self.preview_dropped = 0
        self.frame_size: tuple[int, int] | None = None
        device.listener = self._on_item

    @property
    def config(self) -> DeviceConfig:
        return self.device.config

    @property
    def kind(self) -> str:
        return self.device.kind

    @property
    def session(self) -> S.DeviceSession:
        return self.device.session

    @property
    def tap(self) -> CameraTap | None:
        return self.device.tap

    def set_preview_size(self, width: int, height: int) -> None:
        self._target = (max(16, width), max(16, height))

    # called on the session's thread
    def _on_item(self, item: Reading | Frame) -> None:
        if isinstance(item, Reading):
            self.item_received.emit(item)
            return
        if not self.previewing:
            return
        if self._pending.is_set() and time.monotonic() - self._pending_since < 0.5:
            self.preview_dropped += 1
            return
        self._pending_since = time.monotonic()
        self._pending.set()
        self.frame_ready.emit(self._preview(item.image))

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

    def frame_painted(self) -> None:
        self.preview_shown += 1
        self._pending.clear()


class DeviceHub(QObject):
    """The device manager (``devices.manager``) seen from Qt: its changes and the devices' state
    changes as signals, a worker per open device. One per app, owned by the main window."""

    devices_changed = Signal()
    state_changed = Signal(str, str, str)  # name, state, detail (emitted from device threads: queued)

    def __init__(self, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.manager = DeviceManager(data_dir, on_state=self.state_changed.emit)
        self.workers: dict[str, DeviceWorker] = {}

    @property
    def configs(self) -> list[DeviceConfig]:
        return self.manager.configs

    @property
    def load_error(self) -> str | None:
        return self.manager.load_error

    @property
    def gps(self) -> GpsTracker:
        return self.manager.gps

    def config(self, name: str) -> DeviceConfig | None:
        return self.manager.config(name)

    def reload(self) -> None:
        self.manager.reload()
        self.devices_changed.emit()

    def open(self, name: str) -> DeviceWorker:
        def adapt(device: OpenDevice) -> None:
            self.workers[name] = DeviceWorker(device, self)

        self.manager.open(name, prepare=adapt)
        return self.workers[name]

    def close(self, name: str) -> None:
        self.manager.close(name)
        self.workers.pop(name, None)

    def add(self, cfg: DeviceConfig) -> None:
        self.workers.pop(cfg.name, None)
        self.manager.add(cfg)
        self.devices_changed.emit()

    def remove(self, name: str) -> None:
        self.workers.pop(name, None)
        self.manager.remove(name)
        self.devices_changed.emit()

    def state(self, name: str) -> tuple[str, str]:
        return self.manager.state(name)

    def autostart(self) -> None:
        for name in self.manager.autostart_names():
            self.open(name)

    def shutdown(self) -> None:
        self.manager.shutdown()
        self.workers.clear()

    def summary(self) -> str:
        return self.manager.summary()


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
