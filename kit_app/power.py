"""The laptop's battery, as the operating system reports it (Linux's power-supply class, Windows'
GetSystemPowerStatus); None where there is no battery to report."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Battery:
    percent: int
    charging: bool  # on mains power (charging or full)


def battery(root: Path = Path("/sys/class/power_supply")) -> Battery | None:
    if os.name == "nt":  # pragma: no cover - Windows only
        return _windows()
    try:
        supplies = sorted(root.iterdir())
    except OSError:
        return None
    on_mains = False
    found: list[tuple[int, str]] = []
    for d in supplies:
        try:
            kind = (d / "type").read_text().strip()
            if kind == "Mains" and (d / "online").read_text().strip() == "1":
                on_mains = True
            elif kind == "Battery" and (d / "present").read_text().strip() != "0":
                found.append((int((d / "capacity").read_text().strip()), (d / "status").read_text().strip()))
        except (OSError, ValueError):
            continue
    if not found:
        return None
    percent = min(p for p, _s in found)
    charging = on_mains or any(s in ("Charging", "Full", "Not charging") for _p, s in found)
    return Battery(max(0, min(100, percent)), charging)


def _windows() -> Battery | None:  # pragma: no cover - Windows only
    import ctypes

    class Status(ctypes.Structure):
        _fields_ = [("ACLineStatus", ctypes.c_ubyte), ("BatteryFlag", ctypes.c_ubyte),
                    ("BatteryLifePercent", ctypes.c_ubyte), ("SystemStatusFlag", ctypes.c_ubyte),
                    ("BatteryLifeTime", ctypes.c_ulong), ("BatteryFullLifeTime", ctypes.c_ulong)]

    st = Status()
    if not ctypes.windll.kernel32.GetSystemPowerStatus(ctypes.byref(st)):  # type: ignore[attr-defined]
        return None
    if st.BatteryFlag == 128 or st.BatteryLifePercent == 255:  # no battery, or unknown
        return None
    return Battery(int(st.BatteryLifePercent), st.ACLineStatus == 1)
