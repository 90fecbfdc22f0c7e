"""The driver interface, the registry of drivers (built-in, plus third-party drivers from the
``kit_app.devices`` entry-point group) and the kit's saved device configuration."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

from devices.items import Frame, Item, PortStatus, Reading
from devices.reader import PortError
from kit_app.errors import DeviceError
from kit_app.i18n import _
from kit_app.settings import DEVICES_FILE, DEVICES_SCHEMA

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "kit_app.devices"
CONFIG_FILE = DEVICES_FILE
CONFIG_SCHEMA = DEVICES_SCHEMA  # a file without "schema" is the first format, the same as 1


@dataclass(frozen=True)
class DeviceInfo:
    """Something found on this machine: a serial port or a camera."""

    kind: str  # serial | camera
    port: str
    description: str = ""
    hwid: str = ""


@dataclass
class DeviceConfig:
    """A device the kit uses, as the officer configured it (saved per kit)."""

    name: str
    driver: str  # the registered driver's name
    port: str
    protocol: str | None = None
    baud: int = 9600
    model: str | None = None  # instrument model or Modbus register map
    unit: int = 1
    pattern: str | None = None
    serial: str | None = None
    calibrated: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


class Driver(Protocol):
    """What a driver provides: discovery and a stream of readings (or frames) for a config."""

    name: str
    label: str

    def discover(self) -> list[DeviceInfo]: ...

    def stream(self, config: DeviceConfig, stop: Callable[[], bool]) -> Iterator[Item]: ...


class SerialInstrumentDriver:
    """Instruments and GNSS receivers on serial ports (HJ 212, NMEA 0183, Modbus RTU, vendor ASCII)."""

    name = "serial"
    label = "Serial instrument"

    def discover(self) -> list[DeviceInfo]:
        try:
            from serial.tools import list_ports
        except ImportError:  # pragma: no cover
            return []
        return [DeviceInfo("serial", p.device, p.description or "", p.hwid or "") for p in list_ports.comports()]

    def stream(self, config: DeviceConfig, stop: Callable[[], bool],
               heartbeat: float | None = None) -> Iterator[Reading | PortStatus]:
        """Readings; with ``heartbeat``, port statuses too and silence never ends the stream (the
        session shows it as a state instead)."""
        from devices.reader import readings

        yield from readings(config.port, config.protocol or "ascii", baud=config.baud,
                            model=config.model or "generic-ph", unit=config.unit, pattern=config.pattern,
                            stop=stop, heartbeat=heartbeat, timeout=None if heartbeat else 10.0,
                            interval=float(config.options.get("interval", 1.0)))


class CameraDriver:
    """USB/UVC cameras by index (found by probing) and IP cameras by URL (configured)."""

    name = "camera"
    label = "Camera"

    def discover(self, indexes: range = range(4)) -> list[DeviceInfo]:
        found: list[DeviceInfo] = []
        if os.name != "nt" and not any(Path("/dev").glob("video*")):
            return found  # nothing to probe (and OpenCV would only print warnings)
        import cv2

        for i in indexes:
            cap = cv2.VideoCapture(i)
            try:
                if cap.isOpened():
                    found.append(DeviceInfo("camera", str(i), f"camera {i}"))
            finally:
                cap.release()
        return found

    def stream(self, config: DeviceConfig, stop: Callable[[], bool]) -> Iterator[Frame]:
        """Frames (BGR arrays) from a camera index, an RTSP/HTTP URL, a video file (played in a
        loop at its own speed) or the simulated camera (``sim``, ``sim:1280x720@25``)."""
        cap = open_camera(config)
        try:
            n = 0
            while not stop():
                ok, frame = cap.read()
                if not ok or frame is None:
                    raise PortError(_("the camera {port} stopped sending frames").format(port=config.port))
                n += 1
                yield Frame(image=frame, index=n, received_at=datetime.now(UTC).isoformat())
        finally:
            cap.release()


class Capture(Protocol):
    """What the kit uses of a camera: OpenCV's VideoCapture, or a simulated camera."""

    def isOpened(self) -> bool: ...  # noqa: N802 - OpenCV's name
    def read(self) -> tuple[bool, Any]: ...
    def get(self, prop: int) -> float: ...
    def set(self, prop: int, value: float) -> bool: ...
    def release(self) -> None: ...


def open_camera(config: DeviceConfig) -> Capture:
    """An opened capture (OpenCV, or a simulated camera with the same methods); PortError if not."""
    from devices.sim.camera import LoopingVideo, SyntheticCamera, is_sim, is_video_file

    if is_sim(config.port):
        return SyntheticCamera.from_port(config.port)
    cap: Capture
    if is_video_file(config.port):
        cap = LoopingVideo(config.port)
    else:
        import cv2

        source: int | str = int(config.port) if config.port.isdigit() else config.port
        cap = cv2.VideoCapture(source)
        for key, prop in (("width", cv2.CAP_PROP_FRAME_WIDTH), ("height", cv2.CAP_PROP_FRAME_HEIGHT),
                          ("fps", cv2.CAP_PROP_FPS)):
            if config.options.get(key):
                cap.set(prop, float(config.options[key]))
    if not cap.isOpened():
        cap.release()
        raise PortError(_("cannot open the camera {port}").format(port=config.port))
    return cap


BUILTIN: tuple[Driver, ...] = (SerialInstrumentDriver(), CameraDriver())


def drivers() -> dict[str, Driver]:
    """Built-in drivers, then those third parties register under ``kit_app.devices``."""
    out: dict[str, Driver] = {d.name: d for d in BUILTIN}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            drv = obj() if isinstance(obj, type) else obj
            out[drv.name] = drv
        except Exception:  # a broken plug-in must not take the kit down
            log.exception("cannot load device driver %s", ep.name)
    return out


class DeviceConfigs:
    """The kit's configured devices, in ``DATA_DIR/devices.json`` (written atomically)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / CONFIG_FILE

    def load(self) -> list[DeviceConfig]:
        if not self.path.exists():
            return []
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            schema = raw.get("schema", 1)
        except (ValueError, TypeError, AttributeError, OSError) as exc:
            raise DeviceError(_("{file} is damaged: {reason}").format(file=self.path, reason=exc)) from exc
        if not isinstance(schema, int) or schema > CONFIG_SCHEMA:
            raise DeviceError(_("{file} was written by a newer version of the application (format {schema}): "
                                "install that version to change the devices; nothing was changed.").format(
                file=self.path, schema=schema))
        try:
            return [DeviceConfig(**d) for d in raw.get("devices", [])]
        except (ValueError, TypeError, AttributeError) as exc:
            raise DeviceError(_("{file} is damaged: {reason}").format(file=self.path, reason=exc)) from exc

    def save(self, configs: list[DeviceConfig]) -> None:
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump({"schema": CONFIG_SCHEMA, "devices": [asdict(c) for c in configs]}, fh, ensure_ascii=False,
                      indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def add(self, config: DeviceConfig) -> None:
        if config.driver not in drivers():
            raise DeviceError(_("unknown driver {name}").format(name=config.driver))
        items = [c for c in self.load() if c.name != config.name]
        items.append(config)
        self.save(items)

    def remove(self, name: str) -> bool:
        items = self.load()
        kept = [c for c in items if c.name != name]
        self.save(kept)
        return len(kept) != len(items)
