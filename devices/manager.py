"""The kit's devices as the application runs them: the configured ones (``devices.json``), the open
ones each with its session thread, the GNSS fix they share, and what to say about them.

No Qt here. An open device routes what it receives itself — camera frames to its capture tap,
receiver sentences to the GNSS tracker — then hands each item to a listener the front-end sets
(the window's adapter turns items and state changes into signals). Everything a listener gets
runs on the device's own thread and must be quick.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from devices import session as S
from devices.camera import CameraTap
from devices.gps import GpsTracker
from devices.items import Frame, Reading
from devices.registry import DeviceConfig, DeviceConfigs
from kit_app.errors import KitError
from kit_app.i18n import _

CAMERA, GPS, INSTRUMENT = "camera", "gps", "instrument"
TROUBLE = (S.RECONNECTING, S.NOISE, S.SILENT, S.FAILED)

ItemListener = Callable[[Reading | Frame], None]
StateListener = Callable[[str, str, str], None]  # name, state, detail


def device_kind(config: DeviceConfig) -> str:
    """camera, gps (an NMEA receiver) or instrument."""
    if config.driver == "camera":
        return CAMERA
    if config.protocol == "nmea":
        return GPS
    return INSTRUMENT


def kind_label(kind: str) -> str:
    return {CAMERA: _("Camera"), GPS: _("GNSS receiver"), INSTRUMENT: _("Instrument")}[kind]


class OpenDevice:
    """One open device: its session (a thread of its own), and for a camera the tap that takes
    stills and records clips. Instruments' readings are stamped with the current GNSS fix."""

    def __init__(self, config: DeviceConfig, gps: GpsTracker, on_state: StateListener | None = None) -> None:
        self.config = config
        self.kind = device_kind(config)
        self.gps = gps
        self.tap = CameraTap() if self.kind == CAMERA else None
        self.listener: ItemListener | None = None  # the front-end's, set before start()
        self._on_state = on_state
        self.session = S.DeviceSession(config, on_item=self._item, on_state=self._state,
                                       stamp=gps.current if self.kind == INSTRUMENT else None)

    @property
    def name(self) -> str:
        return self.config.name

    def start(self) -> None:
        self.session.start()

    def stop(self, wait: float = 5.0) -> None:
        self.session.stop(wait)

    def stop_soon(self) -> None:
        """Ask the session to end and return at once; its thread finishes by itself."""
        self.session.request_stop()
        threading.Thread(target=self.stop, daemon=True, name=f"close-{self.name}").start()

    # on the session's thread
    def _item(self, item: Reading | Frame) -> None:
        if isinstance(item, Frame):
            if self.tap is not None:
                self.tap.feed(item)
        elif self.kind == GPS:
            self.gps.feed(item)
        listener = self.listener
        if listener is not None:
            listener(item)

    def _state(self, state: str, detail: str) -> None:
        if self._on_state is not None:
            self._on_state(self.name, state, detail)


class DeviceManager:
    """The configured devices and the open ones; one per running application."""

    def __init__(self, data_dir: Path, on_state: StateListener | None = None) -> None:
        self.store = DeviceConfigs(data_dir)
        self.gps = GpsTracker()
        self.open_devices: dict[str, OpenDevice] = {}
        self.on_state = on_state
        self.configs: list[DeviceConfig] = []
        self.load_error: str | None = None
        self.reload()

    def reload(self) -> None:
        """Read ``devices.json`` again; a damaged or newer file is said (``load_error``), not fatal."""
        try:
            self.configs, self.load_error = self.store.load(), None
        except KitError as exc:
            self.configs, self.load_error = [], str(exc)

    def config(self, name: str) -> DeviceConfig | None:
        return next((c for c in self.configs if c.name == name), None)

    def get(self, name: str) -> OpenDevice | None:
        return self.open_devices.get(name)

    def open(self, name: str, prepare: Callable[[OpenDevice], None] | None = None) -> OpenDevice:
        """The device, opened (its session started) if it was not; ``prepare`` runs on a newly
        opened device before its session starts (to attach a listener)."""
        dev = self.open_devices.get(name)
        if dev is None:
            cfg = self.config(name)
            if cfg is None:
                raise KeyError(name)
            dev = OpenDevice(cfg, self.gps, self._state)
            if prepare is not None:
                prepare(dev)
            self.open_devices[name] = dev
        dev.start()
        return dev

    def close(self, name: str) -> bool:
        """Close without waiting for the device's thread; False if it was not open."""
        dev = self.open_devices.pop(name, None)
        if dev is None:
            return False
        dev.stop_soon()
        self._state(name, S.STOPPED, "")
        return True

    def add(self, cfg: DeviceConfig) -> None:
        """Configure a device (replacing one of the same name, which is closed first)."""
        self.close(cfg.name)
        self.store.add(cfg)
        self.reload()

    def remove(self, name: str) -> None:
        self.close(name)
        self.store.remove(name)
        self.reload()

    def state(self, name: str) -> tuple[str, str]:
        dev = self.open_devices.get(name)
        return (dev.session.state, dev.session.detail) if dev else (S.STOPPED, "")

    def autostart_names(self) -> list[str]:
        return [c.name for c in self.configs if c.options.get("autostart")]

    def shutdown(self) -> None:
        """Close every device and wait for their threads (at most a few seconds each)."""
        for dev in self.open_devices.values():
            dev.session.request_stop()
        for dev in self.open_devices.values():
            dev.stop()
        self.open_devices.clear()

    def summary(self) -> str:
        """One line for the status bar."""
        live = sum(1 for d in self.open_devices.values() if d.session.state == S.LIVE)
        trouble = sum(1 for d in self.open_devices.values() if d.session.state in TROUBLE)
        text = _("Devices: {live} receiving").format(live=live)
        if trouble:
            text += _(", {n} need attention").format(n=trouble)
        return text

    def _state(self, name: str, state: str, detail: str) -> None:
        if self.on_state is not None:
            self.on_state(name, state, detail)


__all__ = ["CAMERA", "GPS", "INSTRUMENT", "DeviceManager", "OpenDevice", "device_kind", "kind_label"]
