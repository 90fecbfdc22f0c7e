"""Modbus RTU master: CRC-16/MODBUS, read-holding-registers requests and responses, and
per-model register maps kept as data (``resources/devices/modbus_maps.json``)."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import resources
from kit_app.errors import ProtocolError
from kit_app.i18n import _


class ModbusError(ProtocolError):
    """A Modbus frame that cannot be trusted; the message names what is wrong."""


def crc16_modbus(data: bytes) -> int:
    reg = 0xFFFF
    for b in data:
        reg ^= b
        for _i in range(8):
            reg = (reg >> 1) ^ 0xA001 if reg & 1 else reg >> 1
    return reg


def with_crc(frame: bytes) -> bytes:
    return frame + struct.pack("<H", crc16_modbus(frame))  # low byte first


def read_request(unit: int, address: int, count: int) -> bytes:
    """Function 03, read ``count`` holding registers from ``address``."""
    if not (1 <= unit <= 247 and 0 <= address <= 0xFFFF and 1 <= count <= 125):
        raise ModbusError(_("bad request: unit {u}, address {a}, count {c}").format(u=unit, a=address, c=count))
    return with_crc(struct.pack(">BBHH", unit, 3, address, count))


def parse_response(frame: bytes, unit: int, count: int) -> list[int]:
    """Registers from a function-03 response; exceptions and damage raise ModbusError."""
    if len(frame) < 5:
        raise ModbusError(_("the response is too short ({n} bytes)").format(n=len(frame)))
    body, crc = frame[:-2], struct.unpack("<H", frame[-2:])[0]
    if crc16_modbus(body) != crc:
        raise ModbusError(_("CRC mismatch: expected {want:04X}, got {got:04X}").format(
            want=crc16_modbus(body), got=crc))
    if body[0] != unit:
        raise ModbusError(_("the response comes from unit {got}, not {want}").format(got=body[0], want=unit))
    if body[1] == 0x83:
        raise ModbusError(_("the instrument answered with exception code {code}").format(code=body[2]))
    if body[1] != 3 or body[2] != 2 * count or len(body) != 3 + 2 * count:
        raise ModbusError(_("unexpected response layout"))
    return list(struct.unpack(f">{count}H", body[3:]))


@dataclass(frozen=True)
class Register:
    name: str
    address: int
    type: str
    unit: str
    scale: float = 1.0
    word_order: str = "big"

    @property
    def width(self) -> int:
        return 2 if self.type == "float32" else 1

    def decode(self, words: list[int]) -> float:
        if self.type == "uint16":
            return round(words[0] * self.scale, 6)
        if self.type == "int16":
            v = words[0] - 0x10000 if words[0] & 0x8000 else words[0]
            return round(v * self.scale, 6)
        if self.type == "float32":
            hi, lo = (words[0], words[1]) if self.word_order == "big" else (words[1], words[0])
            value: float = struct.unpack(">f", struct.pack(">HH", hi, lo))[0]
            return round(value, 6)
        raise ModbusError(_("unknown register type {t}").format(t=self.type))

    def encode(self, value: float) -> list[int]:
        if self.type in ("uint16", "int16"):
            return [int(round(value / self.scale)) & 0xFFFF]
        hi, lo = struct.unpack(">HH", struct.pack(">f", value))
        return [hi, lo] if self.word_order == "big" else [lo, hi]


@dataclass(frozen=True)
class RegisterMap:
    model: str
    label: str
    registers: tuple[Register, ...]

    @property
    def span(self) -> tuple[int, int]:
        start = min(r.address for r in self.registers)
        end = max(r.address + r.width for r in self.registers)
        return start, end - start

    def decode(self, words: list[int]) -> dict[str, dict[str, Any]]:
        start, _count = self.span
        return {r.name: {"value": r.decode(words[r.address - start:r.address - start + r.width]), "unit": r.unit}
                for r in self.registers}


@lru_cache(maxsize=1)
def register_maps() -> dict[str, RegisterMap]:
    with resources.path("devices", "modbus_maps.json").open(encoding="utf-8") as fh:
        data = json.load(fh)
    return {
        model: RegisterMap(model, spec["label"], tuple(
            Register(r["name"], r["address"], r["type"], r.get("unit", ""), r.get("scale", 1.0),
                     r.get("word_order", "big")) for r in spec["registers"]))
        for model, spec in data.items() if not model.startswith("_")
    }
