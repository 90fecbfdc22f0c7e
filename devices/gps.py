"""The kit's current position, from the NMEA messages of its GNSS receiver.

A fix is current for ``max_age`` seconds after the receiver last reported it; after that, or when
the receiver says it has no fix, ``current()`` is None — never a position of 0,0 and never an old
position passed off as new.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from devices.items import Frame, Reading
from kit_app.i18n import _


class GpsTracker:
    def __init__(self, max_age: float = 10.0) -> None:
        self.max_age = max_age
        self._lock = threading.Lock()
        self._fix: dict[str, Any] | None = None
        self._at = 0.0  # time.monotonic() of the last fix
        self._time_at = 0.0  # of the last full UTC time (RMC)
        self._heard = 0.0  # of the last sentence of any kind
        self._no_fix_reported = False

    def feed(self, item: Reading | Frame) -> None:
        """Take one reading of the receiver (an NMEA sentence); anything else is ignored."""
        if not isinstance(item, Reading) or not item.valid:
            return
        kind = item.get("sentence")
        now = time.monotonic()
        with self._lock:
            self._heard = now
            if kind not in ("GGA", "RMC"):
                return
            if not item.get("fix"):
                self._fix = None
                self._no_fix_reported = True
                return
            fix = dict(self._fix or {})
            fix.update({k: item.get(k) for k in ("latitude", "longitude") if item.get(k) is not None})
            if kind == "GGA":
                fix.update({k: item.get(k) for k in ("altitude", "quality", "satellites", "hdop")})
            elif item.get("time") and "T" in str(item.get("time")):
                fix["time"] = item.get("time")  # RMC carries the date: a full UTC time
                self._time_at = now
            fix["fix"] = True
            self._fix, self._at, self._no_fix_reported = fix, now, False

    def current(self) -> dict[str, Any] | None:
        """The fix to stamp on a capture or reading now, or None."""
        with self._lock:
            if self._fix is None or time.monotonic() - self._at > self.max_age:
                return None
            now = time.monotonic()
            out = dict(self._fix) | {"age_s": round(now - self._at, 1)}
            if "time" in out:  # how long ago the satellites' time was heard (the kit's clock is checked by it)
                out["time_age_s"] = round(now - self._time_at, 3)
            return out

    def describe(self) -> str:
        """One line for the status bar."""
        fix = self.current()
        if fix is not None:
            sats = fix.get("satellites")
            return _("GPS {lat:.5f}, {lon:.5f}").format(lat=fix["latitude"], lon=fix["longitude"]) + (
                _(" · {n} satellites").format(n=sats) if sats else "")
        with self._lock:
            heard = self._heard and time.monotonic() - self._heard <= self.max_age
        if heard:
            return _("GPS: no fix")
        return _("GPS: no receiver")
