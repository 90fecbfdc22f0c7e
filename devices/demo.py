"""The demo kit's devices: the shipped simulators on pseudo-terminals (a GNSS receiver, a flue gas
analyser speaking HJ 212, a water quality probe on Modbus RTU, a sound level meter sending ASCII
lines) and the simulated camera, configured on the demo data dir and started with the app.

Beside them, an enterprise's data logger to read (not one of the kit's devices: its port and MN are
written to ``demo/logger.json`` for the data logger dialog). Its plant's sulphur dioxide runs over a
limit of 50 mg/m³ that the logger reports just under; the demo analyser measures the same plant —
the falsification the cross-check is there to find, for training.

Pseudo-terminals exist on Linux and macOS; elsewhere only the simulated camera is set up.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from devices.registry import DeviceConfig, DeviceConfigs
from kit_app.i18n import _

log = logging.getLogger(__name__)

DEMO_PLANT = ["--seed", "1", "--cap", "a21026=50"]
DEMO_LOGGER_MN = "45010300000000000000D001"


def _demo_devices() -> list[tuple[DeviceConfig, list[str]]]:
    """(configuration, simulator arguments) — the port is filled in when the simulator runs."""
    return [
        (DeviceConfig(name=_("GNSS receiver (simulated)"), driver="serial", port="", protocol="nmea", baud=9600,
                      model="UM980", serial="SIM-GNSS-01", options={"demo": True, "autostart": True}),
         ["nmea", "--rate", "1"]),
        (DeviceConfig(name=_("Flue gas analyser (simulated)"), driver="serial", port="", protocol="hj212",
                      baud=9600, model="Laoying 3012H", serial="SIM-FG-3012", calibrated="2026-10-15",
                      options={"demo": True, "autostart": True}),
         ["hj212", "--rate", "0.5", "--garbage", "0.02", "--bad-crc", "0.02", "--plant", *DEMO_PLANT]),
        (DeviceConfig(name=_("Water quality probe (simulated)"), driver="serial", port="", protocol="modbus",
                      baud=9600, model="generic-ph", unit=1, serial="SIM-PH-07", calibrated="2026-11-02",
                      options={"demo": True, "interval": 2.0}),
         ["modbus", "--model", "generic-ph"]),
        (DeviceConfig(name=_("Sound level meter (simulated)"), driver="serial", port="", protocol="ascii",
                      baud=9600, model="AWA5688", serial="SIM-AWA-11", calibrated="2026-09-20",
                      options={"demo": True}),
         ["ascii", "--rate", "1"]),
    ]


class DemoRig:
    """Starts the simulators, writes their ports into the kit's device configuration, stops them."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.configs = DeviceConfigs(data_dir)
        self.procs: list[subprocess.Popen[str]] = []

    def start(self) -> list[DeviceConfig]:
        made: list[DeviceConfig] = []
        if os.name == "posix":
            for cfg, args in _demo_devices():
                try:
                    cfg.port = self._spawn(args)
                except (OSError, RuntimeError) as exc:
                    log.warning("demo simulator %s did not start: %s", args[0], exc)
                    continue
                made.append(cfg)
            try:
                port = self._spawn(["logger", "--mn", DEMO_LOGGER_MN, "--days", "2", "--upload", "30", *DEMO_PLANT])
                where = self.data_dir / "demo"
                where.mkdir(parents=True, exist_ok=True)
                (where / "logger.json").write_text(json.dumps({"port": port, "mn": DEMO_LOGGER_MN}), encoding="utf-8")
            except (OSError, RuntimeError) as exc:
                log.warning("demo data logger did not start: %s", exc)
        made.append(DeviceConfig(name=_("Camera (simulated)"), driver="camera", port="sim:1280x720@25",
                                 model="KIT-CAM SIM", serial="SIM-CAM-01", options={"demo": True, "autostart": True}))
        try:
            kept = [c for c in self.configs.load() if not c.options.get("demo")]
        except ValueError:
            kept = []
        self.configs.save(made + kept)
        return made

    def _spawn(self, args: list[str]) -> str:
        # the simulator ends when its stdin closes: when we stop it, and when this process ends in any
        # way (a crash, a kill), so no simulator outlives the application
        p = subprocess.Popen([sys.executable, "-m", "devices.sim", *args, "--pty", "--wait", "0", "--exit-with-parent"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.procs.append(p)
        assert p.stdout is not None
        port = p.stdout.readline().strip()
        if not port:
            raise RuntimeError("no port")
        return port

    def stop(self) -> None:
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait()
            for pipe in (p.stdin, p.stdout):
                if pipe is not None:
                    pipe.close()
        self.procs.clear()


def demo_logger(data_dir: Path) -> dict[str, str] | None:
    """The demo data logger's port and MN, while the demo runs (None otherwise)."""
    try:
        got = json.loads((data_dir / "demo" / "logger.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return got if isinstance(got, dict) and Path(str(got.get("port"))).exists() else None

