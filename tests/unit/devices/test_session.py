"""Device sessions over real pseudo-terminals: states, counters, reconnection, nothing lost."""

from __future__ import annotations

import os
import random
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path

from devices import session as S
from devices.gps import GpsTracker
from devices.items import Reading
from devices.registry import DeviceConfig
from devices.session import DeviceSession
from tests.helpers.sim import simulator


def wait_for(cond: Callable[[], bool], timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def hj212(port: str) -> DeviceConfig:
    return DeviceConfig(name="flue", driver="serial", port=port, protocol="hj212", baud=115200)


def test_unplug_and_plug_back_reconnects_and_loses_nothing(tmp_path: Path) -> None:
    """The port is a stable name (like /dev/serial/by-id/…) pointing at whichever pty is live."""
    link = tmp_path / "ttyKIT0"
    states: list[str] = []
    sess = DeviceSession(hj212(str(link)), on_state=lambda st, _d: states.append(st),
                         retry_delays=(0.2, 0.3))
    with simulator("hj212", "--rate", "20", "--disconnect-after", "15", "--seed", "5", "--wait", "1.0") as port:
        link.symlink_to(port)
        sess.start_recording()
        sess.start()
        assert wait_for(lambda: sess.state == S.RECONNECTING and sess.counters.valid >= 15, 15), (states, sess.status())
    # the cable is out: the session says so and keeps trying, without taking anything down
    link.unlink()
    first = sess.counters.valid
    time.sleep(0.8)
    assert sess.state == S.RECONNECTING and sess.running
    assert "cannot open" in sess.detail or "went away" in sess.detail or sess.detail
    with simulator("hj212", "--rate", "20", "--count", "200", "--seed", "6", "--wait", "1.0") as port:
        link.symlink_to(port)
        assert wait_for(lambda: sess.counters.valid >= first + 10, 15), sess.status()
        assert sess.state == S.LIVE
        recorded = sess.stop_recording()
        sess.stop()
    assert sess.state == S.STOPPED
    assert sess.counters.reconnects >= 1
    valid = [r for r in recorded if r.valid]
    assert len(valid) >= first + 10
    mns_qns = [r.get("qn") for r in valid]
    assert mns_qns == sorted(mns_qns)  # in order, across the reconnect
    assert states[:2] == [S.CONNECTING, S.LIVE]
    assert S.RECONNECTING in states and states[-1] == S.STOPPED


def _pty() -> tuple[int, str]:
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    return master, os.ttyname(slave)


def test_noise_only_is_a_wrong_baud_rate_and_silence_is_shown() -> None:
    master, port = _pty()
    stop = threading.Event()

    def noise() -> None:
        rng = random.Random(1)
        while not stop.is_set():
            os.write(master, bytes(rng.randrange(256) for _ in range(64)).replace(b"#", b"x"))
            time.sleep(0.02)

    sess = DeviceSession(hj212(port), silent_after=1.5, noise_after=1.5)
    sess.start()
    t = threading.Thread(target=noise, daemon=True)
    try:
        t.start()
        assert wait_for(lambda: sess.state == S.NOISE, 8), sess.status()
        assert sess.counters.skipped_bytes > 500 and sess.counters.valid == 0
        assert "bytes skipped" in sess.detail
        stop.set()
        t.join()
        assert wait_for(lambda: sess.state == S.SILENT, 8), sess.status()
        assert sess.running
    finally:
        stop.set()
        sess.stop()
        os.close(master)


def test_a_port_that_does_not_exist_keeps_retrying_and_stops_cleanly() -> None:
    sess = DeviceSession(hj212("/dev/ttyKIT-nope"), retry_delays=(0.1,))
    sess.start()
    assert wait_for(lambda: sess.state == S.RECONNECTING and "cannot open" in sess.detail, 5)
    sess.stop()
    assert not sess.running and sess.state == S.STOPPED


def test_bad_configuration_fails_without_retrying() -> None:
    cfg = DeviceConfig(name="ph", driver="serial", port="/dev/null", protocol="modbus", model="no-such-model")
    with simulator("modbus", "--count", "5") as port:
        cfg.port = port
        sess = DeviceSession(cfg, retry_delays=(0.1,))
        sess.start()
        assert wait_for(lambda: sess.state == S.FAILED, 5), sess.status()
        assert "unknown instrument model no-such-model" in sess.detail
        sess.stop()


def test_gps_tracker_follows_the_receiver() -> None:
    gps = GpsTracker(max_age=1.0)
    assert gps.current() is None and gps.describe() == "GPS: no receiver"
    with simulator("nmea", "--rate", "5") as port:
        sess = DeviceSession(DeviceConfig(name="gps", driver="serial", port=port, protocol="nmea"),
                             on_item=gps.feed)
        sess.start()
        assert wait_for(lambda: "time" in (gps.current() or {}), 10)  # GGA and RMC both heard
        assert gps.describe().startswith("GPS 22.8")
        fix = gps.current()
        assert fix is not None and 22.8 < fix["latitude"] < 22.84 and 108.35 < fix["longitude"] < 108.38
        assert fix["satellites"] >= 8 and fix["hdop"] is not None and "T" in fix["time"]
        sess.stop()
    time.sleep(1.2)
    assert gps.current() is None  # an old fix is not passed off as current


def test_gps_no_fix_is_never_zero_zero() -> None:
    gps = GpsTracker()
    def gga(**fields: object) -> Reading:
        return Reading(valid=True, received_at="2026-11-30T03:00:00+00:00", fields=fields)

    gps.feed(gga(sentence="GGA", fix=True, latitude=22.8, longitude=108.3, satellites=9))
    assert gps.current() is not None
    gps.feed(gga(sentence="GGA", fix=False, latitude=None, longitude=None))
    assert gps.current() is None
    gps.feed(gga(sentence="GSA", fix=False))
    assert gps.current() is None
    gps.feed(gga(sentence="GGA", fix=True, latitude=22.8, longitude=108.3, satellites=9))
    gps.feed(Reading.damaged("checksum mismatch", "2026-11-30T03:00:01+00:00"))  # a damaged sentence changes nothing
    assert gps.current() is not None and gps.current()["latitude"] == 22.8
