"""Reading a serial port (``COM3``, ``/dev/ttyUSB0``, a pty, or ``socket://host:port``) with one
protocol, one reading at a time. Garbage and damaged frames are reported and skipped; readings
already received are never lost; a vanished port or a silent instrument ends with a clear error."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from devices.items import PortStatus, Reading
from kit_app.errors import DeviceError
from kit_app.i18n import _

PROTOCOLS = ("hj212", "nmea", "modbus", "ascii")
MAX_LINE = 4096  # an NMEA sentence is at most 82 characters; vendor lines are short too


class PortError(DeviceError):
    """The port cannot be opened, went away, or stays silent; the message says which."""


class ConfigError(PortError):
    """The device's configuration is wrong (unknown model or protocol): retrying cannot help."""


def open_port(port: str, baud: int) -> Any:
    import serial

    try:
        return serial.serial_for_url(port, baudrate=baud, timeout=0.2)
    except (serial.SerialException, ValueError, OSError) as exc:
        raise PortError(_("cannot open {port}: {reason}").format(port=port, reason=exc)) from exc


def readings(
    port: str,
    protocol: str,
    *,
    baud: int = 9600,
    timeout: float | None = 10.0,
    model: str = "generic-ph",
    unit: int = 1,
    pattern: str | None = None,
    interval: float = 1.0,
    stop: Callable[[], bool] | None = None,
    heartbeat: float | None = None,
) -> Iterator[Reading | PortStatus]:
    """Yield one ``Reading`` per message: decoded (``valid``) or damaged with its error; each
    carries ``received_at`` (UTC) and ``raw`` (the bytes as hex).

    With ``heartbeat`` (seconds), a ``PortStatus`` is also yielded that often, so a caller can tell
    a silent port from one that receives only noise (a wrong baud rate). ``timeout`` None: silence
    never ends the stream.
    """
    import serial

    if protocol not in PROTOCOLS:
        raise ConfigError(_("unknown protocol {name} (known: {known})").format(name=protocol,
                                                                             known=", ".join(PROTOCOLS)))
    ser = open_port(port, baud)
    last_data = time.monotonic()
    last_beat = last_data
    total = skipped = 0
    try:
        if protocol == "modbus":
            yield from _modbus(ser, model, unit, interval, timeout, stop, heartbeat)
            return
        if protocol == "hj212":
            from devices.hj212 import Packet, StreamDecoder, answer

            dec = StreamDecoder()
        else:
            from devices.ascii import AsciiProtocol
            from devices.nmea import NMEAError
            from devices.nmea import parse as nmea_parse

            ascii_proto = AsciiProtocol(pattern) if pattern else AsciiProtocol()
        line = b""
        while not (stop and stop()):
            try:
                chunk = ser.read(4096) if protocol == "hj212" else ser.readline()
            except (serial.SerialException, OSError) as exc:
                raise PortError(_("the port {port} went away: {reason}").format(port=port, reason=exc)) from exc
            mono = time.monotonic()
            if heartbeat is not None and mono - last_beat >= heartbeat:
                last_beat = mono
                yield PortStatus(bytes=total, silent_for=round(mono - last_data, 1),
                                 skipped_bytes=dec.skipped if protocol == "hj212" else skipped)
            if not chunk:
                if timeout is not None and mono - last_data > timeout:
                    raise PortError(_("no data from {port} for {s:.0f} s (instrument off, or a wrong baud rate?)")
                                    .format(port=port, s=timeout))
                continue
            last_data = mono
            total += len(chunk)
            now = datetime.now(UTC).isoformat()
            if protocol == "hj212":
                for item in dec.feed(chunk):
                    if isinstance(item, Packet):
                        reply = answer(item)
                        if reply:
                            ser.write(reply)
                        yield Reading.decoded(item.as_dict(), now, raw=item.raw.hex(), skipped_bytes=dec.skipped)
                    else:
                        yield Reading.damaged(str(item), now)
                continue
            line += chunk
            if not line.endswith(b"\n"):
                if len(line) > MAX_LINE:  # no line end in sight: noise (a wrong baud rate?)
                    skipped += len(line)
                    line = b""
                continue  # a line cut by the read timeout: wait for its end
            text, line = line, b""
            try:
                out = nmea_parse(text).as_dict() if protocol == "nmea" else ascii_proto.parse(text)
            except (NMEAError, ValueError) as exc:
                yield Reading.damaged(str(exc), now, raw=text.hex())
                continue
            yield Reading.decoded(out, now, raw=text.hex())
    finally:
        ser.close()


def _modbus(ser: Any, model: str, unit: int, interval: float, timeout: float | None,
            stop: Callable[[], bool] | None, heartbeat: float | None = None) -> Iterator[Reading | PortStatus]:
    from devices import modbus

    maps = modbus.register_maps()
    if model not in maps:
        raise ConfigError(_("unknown instrument model {model} (known: {known})").format(
            model=model, known=", ".join(sorted(maps))))
    rmap = maps[model]
    start, count = rmap.span
    req = modbus.read_request(unit, start, count)
    want = 5 + 2 * count
    import serial

    silent_since = time.monotonic()
    total = 0
    while not (stop and stop()):
        try:
            ser.reset_input_buffer()
            ser.write(req)
            resp = b""
            deadline = time.monotonic() + 1.0
            while len(resp) < want and time.monotonic() < deadline:
                resp += ser.read(want - len(resp))
        except (serial.SerialException, OSError) as exc:
            raise PortError(_("the port {port} went away: {reason}").format(port=ser.port, reason=exc)) from exc
        total += len(resp)
        now = datetime.now(UTC).isoformat()
        if heartbeat is not None:
            yield PortStatus(bytes=total, skipped_bytes=0, silent_for=round(time.monotonic() - silent_since, 1))
        if not resp:
            if timeout is not None and time.monotonic() - silent_since > timeout:
                raise PortError(_("no answer from unit {unit} for {s:.0f} s (address, wiring or baud rate?)").format(
                    unit=unit, s=timeout))
        else:
            silent_since = time.monotonic()
            try:
                values = rmap.decode(modbus.parse_response(resp, unit, count))
                yield Reading(valid=True, received_at=now, fields={"model": model, "unit": unit, "values": values},
                              raw=resp.hex())
            except modbus.ModbusError as exc:
                yield Reading.damaged(str(exc), now, raw=resp.hex())
        time.sleep(interval)
