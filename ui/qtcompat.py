"""A work-around for a reference-counting defect of the Qt binding, probed at start so that a fixed
binding (or Python ≥ 3.12) switches it off by itself.

PySide6 6.12.0 on Python 3.11: functions that return nothing hand back ``None`` without taking a
reference to it, and ``SignalInstance.emit()`` does the same with ``True``. Each call then drops a
reference nobody took. Python 3.12 made ``None``, ``True`` and ``False`` immortal, so there it is
harmless; on 3.11 the interpreter aborts once the count reaches zero ("none_dealloc: deallocating
None") — after a few thousand calls for ``True`` (two minutes of camera preview) and some hours
for ``None``. We do what Python 3.12 does: give the three singletons a reference count so large
that no run of the program can drain it (2^40 drops: years at ten thousand calls a second).
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

IMMORTAL = 1 << 40


class _Probe(QObject):
    ping = Signal()


def _drops(obj: object, call: object, n: int = 16) -> int:
    before = sys.getrefcount(obj)
    for _ in range(n):
        call()  # type: ignore[operator]
    return before - sys.getrefcount(obj)


def binding_drops_references() -> bool:
    probe = _Probe()
    return (_drops(None, lambda: probe.setObjectName("probe")) >= 16
            or _drops(True, probe.ping.emit) >= 16)


def immortalise_singletons() -> bool:
    """Raise the reference counts of None, True and False out of reach; True if it was needed."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False  # immortal already
    if not binding_drops_references():
        return False
    for obj in (None, True, False):
        count = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt, the first field of every object
        if count.value < IMMORTAL:
            count.value += IMMORTAL
    return True


APPLIED = immortalise_singletons()
