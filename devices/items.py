"""What a device's stream yields: readings from instruments and receivers, frames from cameras,
and the port's status between them.

A reading's decoded fields depend on its protocol (an HJ 212 packet, an NMEA sentence, a Modbus
register map, a vendor line) and stay a mapping; what every reading has — valid or not, when it
arrived, its raw bytes, the error of a damaged one — is typed. ``record()`` is the JSON object a
recording keeps and the command line prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class Reading:
    """One message from an instrument or a GNSS receiver, decoded (``valid``) or damaged."""

    valid: bool
    received_at: str  # UTC, ISO 8601
    fields: Mapping[str, Any] = field(default_factory=dict)  # the decoded message (see the protocol module)
    error: str | None = None  # why a damaged message was refused
    raw: str | None = None  # the bytes received, as hex
    skipped_bytes: int | None = None  # noise skipped on this connection so far (HJ 212)
    gps: Mapping[str, Any] | None = None  # where the kit was when it arrived (in a recording)

    @classmethod
    def decoded(cls, message: Mapping[str, Any], received_at: str, *, raw: str | None = None,
                skipped_bytes: int | None = None) -> Reading:
        """From a protocol module's dict (``valid`` and ``error`` among its keys)."""
        fields = {k: v for k, v in message.items() if k not in ("valid", "error")}
        return cls(valid=bool(message.get("valid")), received_at=received_at, fields=fields,
                   error=message.get("error"), raw=raw, skipped_bytes=skipped_bytes)

    @classmethod
    def damaged(cls, error: str, received_at: str, raw: str | None = None) -> Reading:
        return cls(valid=False, received_at=received_at, error=error, raw=raw)

    def get(self, key: str, default: Any = None) -> Any:
        """A decoded field, or ``default``."""
        return self.fields.get(key, default)

    def stamped(self, gps: Mapping[str, Any] | None) -> Reading:
        return replace(self, gps=gps)

    def record(self) -> dict[str, Any]:
        """The JSON object kept in a recording: the decoded fields with ``valid``, ``error`` (when
        damaged), ``received_at``, ``raw``, ``skipped_bytes`` and ``gps`` (when known)."""
        out: dict[str, Any] = {"valid": self.valid, **self.fields}
        if self.error is not None:
            out["error"] = self.error
        out["received_at"] = self.received_at
        if self.raw is not None:
            out["raw"] = self.raw
        if self.skipped_bytes is not None:
            out["skipped_bytes"] = self.skipped_bytes
        if self.gps is not None:
            out["gps"] = dict(self.gps)
        return out


@dataclass(frozen=True, slots=True)
class Frame:
    """One camera frame at full resolution (BGR, as OpenCV gives it)."""

    image: np.ndarray[Any, Any]
    index: int  # 1, 2, … since the camera was opened
    received_at: str  # UTC, ISO 8601


@dataclass(frozen=True, slots=True)
class PortStatus:
    """A serial port's heartbeat: bytes received, noise skipped, seconds since the last byte."""

    bytes: int
    skipped_bytes: int
    silent_for: float


Item = Reading | Frame | PortStatus

__all__ = ["Frame", "Item", "PortStatus", "Reading"]
