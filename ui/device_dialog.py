"""Adding or editing a device: its kind, port (with discovery), model, serial number and calibration."""

from __future__ import annotations

import logging
from datetime import datetime

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from devices.manager import device_kind, kind_label
from devices.reader import PROTOCOLS
from devices.registry import DeviceConfig
from kit_app.i18n import _
from ui.tasks import IO, TaskRunner

# ---------------------------------------------------------------- dialogs
log = logging.getLogger(__name__)


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

        self.runner.run(work, done, lambda _e: None, lane=IO)

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
