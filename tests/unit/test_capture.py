"""Captures from a live (simulated) camera go straight into evidence with custody, GPS and officers."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from devices.camera import CameraTap, CaptureError
from devices.registry import DeviceConfig, drivers
from kit_app.errors import ValidationError
from kit_app.evidence.exif import read_photo
from tests.unit.test_evidence import env  # noqa: F401 - the fixture

FIX = {"fix": True, "latitude": 22.81701, "longitude": 108.36652, "altitude": 85.3, "satellites": 11, "hdop": 0.8}
LOCAL = timezone(timedelta(hours=8))


def feed(tap: CameraTap, n: int, port: str = "sim:640x360@30") -> None:
    got = 0
    for item in drivers()["camera"].stream(DeviceConfig(name="cam", driver="camera", port=port),
                                           stop=lambda: got >= n):  # noqa: B023
        tap.feed(item)
        got += 1


def test_still_carries_time_place_and_officers(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    _store, ev, case, li, wf = env
    tap = CameraTap()
    with pytest.raises(CaptureError, match="no current picture"):
        tap.still(tmp_path, datetime.now(LOCAL), make="Kit", model="SIM", serial=None, gps=None)
    feed(tap, 3)
    when = datetime.now(LOCAL)
    path = tap.still(ev.blobs.scratch(), when, make="Kit", model="SIM", serial="SN-7", gps=FIX)
    data = path.read_bytes()
    res = ev.add_capture(case.id, [li, wf], path, kind="photo", captured_at=when, device="Kit SIM #SN-7", gps=FIX,
                         capture={"camera": "cam", "width": 640, "height": 360})
    assert res.status == "ok" and res.warnings == [] and res.sha256 == hashlib.sha256(data).hexdigest()
    assert not path.exists()  # moved into the store
    item = ev.show(res.evidence_id)
    assert item["kind"] == "photo" and item["media_type"] == "image/jpeg" and item["device"] == "Kit SIM #SN-7"
    assert item["latitude"] == FIX["latitude"] and item["altitude"] == 85.3 and item["captured_offset_min"] == 480
    assert [o["name"] for o in item["officers"]] == ["李明", "韦芳"]
    [event] = item["custody"]
    assert event["kind"] == "collected" and [a["name"] for a in event["actors"]] == ["李明", "韦芳"]
    assert event["place"]["latitude"] == FIX["latitude"] and event["place"]["satellites"] == 11
    assert event["device"] == "Kit SIM #SN-7" and event["details"]["capture"]["width"] == 640
    # the original itself says when, where and with what (EXIF)
    pm = read_photo(Path(item["stored_path"]))
    assert pm.make == "Kit" and pm.model == "SIM" and pm.serial == "SN-7" and pm.offset_min == 480
    assert abs(pm.latitude - FIX["latitude"]) < 1e-5 and abs(pm.longitude - FIX["longitude"]) < 1e-5
    assert pm.captured_at == when.replace(microsecond=0).astimezone(UTC)
    assert ev.blobs.thumb_path(res.sha256).exists()
    assert ev.verify(case.id).ok


def test_clip_and_no_fix(env) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    _store, ev, case, li, _wf = env
    tap = CameraTap()
    feed(tap, 2)
    when = datetime.now(LOCAL)
    tap.start_clip(ev.blobs.scratch(), when)
    with pytest.raises(CaptureError, match="already"):
        tap.start_clip(ev.blobs.scratch(), when)
    feed(tap, 20)
    clip = tap.stop_clip()
    assert clip.frames == 20 and (clip.width, clip.height) == (640, 360)
    res = ev.add_capture(case.id, [li], clip.path, kind="video", captured_at=when, device="Kit SIM", gps=None,
                         capture={"frames": clip.frames, "seconds": clip.seconds})
    assert res.warnings == ["no GPS fix: the place of the capture is not recorded"]
    item = ev.show(res.evidence_id)
    assert item["kind"] == "video" and item["latitude"] is None and item["custody"][0]["place"] is None
    import cv2

    cap = cv2.VideoCapture(item["stored_path"])
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 20
    cap.release()
    assert ev.blobs.thumb_path(res.sha256).exists()
    with pytest.raises(CaptureError, match="no clip"):
        tap.stop_clip()
    with pytest.raises(ValidationError):
        ev.add_capture(case.id, [], clip.path, kind="video", captured_at=when, device="x", gps=None)


def test_stale_frame_is_not_captured(tmp_path: Path) -> None:
    tap = CameraTap()
    feed(tap, 1)
    assert tap.latest() is not None
    time.sleep(0.1)
    assert tap.latest(max_age=0.05) is None
