"""Work-arounds for defects of the Qt binding in use, each probed at start so a fixed binding
switches its work-around off by itself.

PySide6 6.12.0: ``SignalInstance.emit()`` returns ``True`` without taking a reference to it, so
every emit from Python drops one reference to ``True`` that was never taken. After a few thousand
emits (a camera preview makes 30 a second) the interpreter finds ``True`` deallocated and aborts
("bool_dealloc: deallocating True or False"). All of our emits go through ``emit`` below, which
gives the reference back when the probe found the defect.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal


class _Probe(QObject):
    ping = Signal()


def _emit_drops_a_reference() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.ping.emit()
    lost = before - sys.getrefcount(True)
    for _ in range(max(lost, 0)):  # give back what the probe itself cost
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    return lost >= 8


EMIT_DROPS_A_REFERENCE = _emit_drops_a_reference()
_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None


def emit(signal: Any, *args: Any) -> None:
    """``signal.emit(*args)``, without the binding's reference leak."""
    result = signal.emit(*args)
    if EMIT_DROPS_A_REFERENCE and (result is True or result is False):
        _incref(result)
