"""Asking a configured device whether it answers, once, within a few seconds (the pre-flight
check): an instrument's first valid message, a GNSS receiver's fix, a camera's first frame."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from devices.gps import GpsTracker
from devices.items import Frame, Reading
from devices.manager import device_kind
from devices.registry import DeviceConfig, drivers
from kit_app.errors import KitError
from kit_app.i18n import _


@dataclass(frozen=True)
class ProbeResult:
    name: str
    kind: str  # instrument, gps, camera
    answered: bool
    detail: str  # what it said, or why not, in the officer's words
    fix: dict[str, Any] | None = None  # a GNSS receiver's fix, when it has one


def probe(config: DeviceConfig, seconds: float = 8.0) -> ProbeResult:
    """Open the device, wait at most ``seconds`` for it to answer, close it. Never raises for a
    device that cannot be used: that is the answer."""
    kind = device_kind(config)
    deadline = time.monotonic() + seconds
    stop = threading.Event()
    tracker = GpsTracker()
    damaged = valid = 0
    try:
        driver = drivers()[config.driver]
    except KeyError:
        return ProbeResult(config.name, kind, False, _("no driver {name} on this kit").format(name=config.driver))

    def expired() -> bool:
        return stop.is_set() or time.monotonic() > deadline

    try:
        for item in driver.stream(config, expired):
            if isinstance(item, Frame):
                h, w = item.image.shape[:2]
                return ProbeResult(config.name, kind, True, _("camera sends {w}×{h} images").format(w=w, h=h))
            if not isinstance(item, Reading):
                continue
            if not item.valid:
                damaged += 1
            elif kind == "gps":
                valid += 1
                tracker.feed(item)
                fix = tracker.current()
                if fix is not None and fix.get("time"):
                    return ProbeResult(config.name, kind, True, _("fix with {n} satellites").format(
                        n=fix.get("satellites") or "?"), fix)
            else:
                return ProbeResult(config.name, kind, True, _("answered"))
            if expired():
                break
    except (KitError, OSError) as exc:
        return ProbeResult(config.name, kind, False, str(exc))
    finally:
        stop.set()
    if valid:  # a receiver that talks but has no fix: it answers; the fix is the GPS check's business
        return ProbeResult(config.name, kind, True, _("answers, no fix yet"))
    if damaged:
        return ProbeResult(config.name, kind, False, _("{n} damaged messages and no valid one (baud rate or "
                                                       "protocol?)").format(n=damaged))
    return ProbeResult(config.name, kind, False, _("no answer within {s:.0f} s").format(s=seconds))
