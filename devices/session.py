"""An open device: its driver's stream run on a thread of its own, with a state the officer can
read, counters of what was received and skipped, and reconnection when the port comes back.

No Qt here: the UI adapts a session by passing callbacks (called on the session's thread) that
forward to signals. Nothing received is lost on a reconnect: readings recorded so far stay in the
recording, and the counters carry on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from devices.items import Frame, Item, PortStatus, Reading
from devices.reader import ConfigError, PortError
from devices.registry import DeviceConfig, Driver, drivers
from kit_app.i18n import N_, _

log = logging.getLogger(__name__)

# states (the UI translates the labels)
STOPPED = "stopped"
CONNECTING = "connecting"
LIVE = "live"
SILENT = "silent"  # the port is open, nothing arrives (instrument off or stalled)
NOISE = "noise"  # bytes arrive, but no valid message (wrong baud rate or protocol)
RECONNECTING = "reconnecting"  # the port went away or cannot be opened; trying again
FAILED = "failed"  # a configuration error no retry can mend

STATE_LABELS = {
    STOPPED: N_("stopped"),
    CONNECTING: N_("connecting"),
    LIVE: N_("receiving"),
    SILENT: N_("no data"),
    NOISE: N_("no valid data (baud rate?)"),
    RECONNECTING: N_("disconnected, retrying"),
    FAILED: N_("failed"),
}

RETRY_DELAYS = (0.5, 1.0, 2.0, 5.0)  # then every 5 s


@dataclass
class Counters:
    messages: int = 0  # messages decoded (valid or not)
    valid: int = 0
    invalid: int = 0  # damaged messages (bad CRC, bad field…), kept in a recording
    skipped_bytes: int = 0  # noise between messages, across reconnects
    reconnects: int = 0
    last_valid_at: float | None = None  # time.monotonic()


class DeviceSession:
    """Runs ``driver.stream(config)`` on a daemon thread until ``stop``.

    ``on_item(item)`` gets every reading, valid or damaged (or camera frame), ``on_state(state,
    detail)`` every change of state. Both run on the session's thread and must be quick. With
    ``stamp``, every reading recorded carries ``gps``: what ``stamp()`` said when it arrived.
    """

    def __init__(
        self,
        config: DeviceConfig,
        driver: Driver | None = None,
        *,
        on_item: Callable[[Reading | Frame], None] | None = None,
        on_state: Callable[[str, str], None] | None = None,
        silent_after: float = 5.0,
        noise_after: float = 5.0,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        stamp: Callable[[], Mapping[str, Any] | None] | None = None,
    ) -> None:
        self.config = config
        self.driver = driver or drivers()[config.driver]
        self.on_item = on_item
        self.on_state = on_state
        self.silent_after = silent_after
        self.noise_after = noise_after
        self.retry_delays = retry_delays
        self.stamp = stamp  # the current GPS fix, put on every recorded message
        self.counters = Counters()
        self.state = STOPPED
        self.detail = ""
        self.latest: Reading | Frame | None = None  # the last valid reading (or frame)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._recording: list[Reading] | None = None
        self._skipped_base = 0  # skipped bytes of earlier connections

    # ------------------------------------------------------------ control
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"device-{self.config.name}", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the thread to end, without waiting for it."""
        self._stop.set()

    def stop(self, wait: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(wait)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ------------------------------------------------------------ recording
    def start_recording(self) -> None:
        with self._lock:
            self._recording = []

    def stop_recording(self) -> list[Reading]:
        """The readings received since ``start_recording`` (valid and damaged), in order."""
        with self._lock:
            out, self._recording = self._recording or [], None
        return out

    @property
    def recording(self) -> bool:
        return self._recording is not None

    def recorded_count(self) -> int:
        with self._lock:
            return len(self._recording or ())

    def status(self) -> dict[str, Any]:
        c = asdict(self.counters)
        c.pop("last_valid_at")
        return {"name": self.config.name, "driver": self.config.driver, "port": self.config.port,
                "protocol": self.config.protocol, "state": self.state, "detail": self.detail} | c

    # ------------------------------------------------------------ the thread
    def _set_state(self, state: str, detail: str = "") -> None:
        if state == self.state and detail == self.detail:
            return
        self.state, self.detail = state, detail
        log.info("device %s: %s %s", self.config.name, state, detail)
        if self.on_state is not None:
            self.on_state(state, detail)

    def _run(self) -> None:
        attempt = 0
        try:
            while not self._stop.is_set():
                self._set_state(CONNECTING if attempt == 0 else RECONNECTING, self.detail if attempt else "")
                try:
                    self._stream()
                    if self._stop.is_set():
                        break
                    detail = _("the stream ended")
                except ConfigError as exc:  # retrying cannot help
                    self._set_state(FAILED, str(exc))
                    return
                except PortError as exc:
                    detail = str(exc)
                except Exception as exc:  # noqa: BLE001 - a driver bug must not take the app down
                    log.exception("device %s failed", self.config.name)
                    detail = _("driver error: {error}").format(error=exc)
                if self._stop.is_set():
                    break
                self.counters.reconnects += attempt > 0 or self.counters.messages > 0
                self._set_state(RECONNECTING, detail)
                delay = self.retry_delays[min(attempt, len(self.retry_delays) - 1)]
                attempt += 1
                self._stop.wait(delay)
        finally:
            if self.state != FAILED:
                self._set_state(STOPPED, "")

    def _stream(self) -> None:
        opened_at = time.monotonic()
        last_valid = None
        conn_skipped = 0
        try:
            self._consume(opened_at, last_valid, conn_skipped)
        finally:
            self._skipped_base = self.counters.skipped_bytes

    def _consume(self, opened_at: float, last_valid: float | None, conn_skipped: int) -> None:
        for item in self._items():
            now = time.monotonic()
            if isinstance(item, PortStatus):
                conn_skipped = item.skipped_bytes
                self.counters.skipped_bytes = self._skipped_base + conn_skipped
                since_valid = now - (last_valid or opened_at)
                if item.silent_for >= self.silent_after:
                    self._set_state(SILENT, _("nothing received for {s:.0f} s").format(s=item.silent_for))
                elif since_valid >= self.noise_after and item.bytes > 0:
                    self._set_state(NOISE, _("{n} bytes skipped, no valid message for {s:.0f} s").format(
                        n=self.counters.skipped_bytes, s=since_valid))
                continue
            self.counters.messages += 1
            if isinstance(item, Frame) or item.valid:
                self.counters.valid += 1
                last_valid = self.counters.last_valid_at = now
                self.latest = item
                self._set_state(LIVE)
            else:
                self.counters.invalid += 1
            if isinstance(item, Reading):
                if item.skipped_bytes is not None:
                    conn_skipped = item.skipped_bytes
                    self.counters.skipped_bytes = self._skipped_base + conn_skipped
                with self._lock:
                    if self._recording is not None:
                        self._recording.append(item.stamped(self.stamp()) if self.stamp else item)
            if self.on_item is not None:
                self.on_item(item)

    def _items(self) -> Generator[Item, None, None]:
        """The driver's stream; serial drivers get heartbeats and no silence timeout."""
        stream: Callable[..., Iterator[Item]] = self.driver.stream
        try:
            gen = stream(self.config, self._stop.is_set, heartbeat=1.0)
        except TypeError:  # a third-party driver without heartbeats
            gen = stream(self.config, self._stop.is_set)
        try:
            yield from gen
        finally:
            close = getattr(gen, "close", None)
            if close is not None:
                close()


__all__ = ["DeviceSession", "Counters", "STATE_LABELS", "STOPPED", "CONNECTING", "LIVE", "SILENT", "NOISE",
           "RECONNECTING", "FAILED"]
