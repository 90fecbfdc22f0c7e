"""The pre-flight check: each check green, amber or red from real parts — simulated instruments and a
GNSS receiver on pseudo-terminals, the simulated camera, the store's number blocks, sync state and
signing key — and the command line's exit status."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from devices.registry import DeviceConfig, DeviceConfigs
from kit_app.cli import main
from kit_app.db import Store
from kit_app.evidence import clock as T
from kit_app.power import Battery, battery
from kit_app.services.numbering import NumberingService
from kit_app.services.officers import OfficerService
from kit_app.services.preflight import AMBER, GREEN, RED, PreflightService
from kit_app.timeutil import local_today, utcnow
from tests.helpers.sim import simulator


def _levels(rep) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {c.key: c.level for c in rep.checks}


def test_devices_that_answer_and_those_that_do_not(demo_store: Store) -> None:
    today = local_today()
    with simulator("nmea", "--rate", "5") as gps, simulator("hj212", "--rate", "5") as inst:
        DeviceConfigs(demo_store.data_dir).save([
            DeviceConfig("GNSS", "serial", gps, protocol="nmea", baud=9600),
            DeviceConfig("烟气分析仪", "serial", inst, protocol="hj212", baud=9600,
                         calibrated=(today - timedelta(days=100)).isoformat()),
            DeviceConfig("pH 计", "serial", "/dev/nonexistent-port", protocol="modbus", model="generic-ph",
                         calibrated=(today - timedelta(days=400)).isoformat()),
            DeviceConfig("摄像机", "camera", "sim"),
        ])
        svc = PreflightService(demo_store)
        facts = svc.collect()
        probes = svc.probe(facts.devices, seconds=6)
    rep = svc.assess(facts, probes, power=lambda: Battery(90, False))
    by = {c.key: c for c in rep.checks}
    assert by["gnss"].level == GREEN and "satellites" in by["gnss"].summary
    # the clock is compared with the satellites' time the simulator sends (the machine's own clock)
    assert by["clock"].level == GREEN and abs(by["clock"].figures["gnss_offset_s"]) < 5
    inst = by["instruments"]
    assert inst.level == RED and inst.figures == {"configured": 2, "answering": 1}
    assert "烟气分析仪: answered" in inst.summary and "calibration expired" in inst.summary
    assert "pH 计" in inst.advice and by["camera"].level == GREEN and by["battery"].level == GREEN
    assert rep.level == RED


def test_numbers_sync_clock_battery_and_disk(demo_store: Store) -> None:
    admin = OfficerService(demo_store).login("GXADMIN001", "demo1234")
    svc = PreflightService(demo_store)
    facts = svc.collect()
    rep = svc.assess(facts, [], power=lambda: Battery(20, False), video_minutes=10**6)
    lv = _levels(rep)
    # no number blocks: the documents of an inspection cannot be issued on the spot
    assert lv["numbers"] == RED and lv["battery"] == RED and lv["disk"] == AMBER
    assert PreflightService._disk(100 * 1024**2, 120).level == RED  # room for less than half an hour
    assert lv["sync"] == AMBER and lv["clock"] == AMBER and lv["gnss"] == AMBER and lv["camera"] == AMBER
    assert lv["key"] == GREEN  # a new kit's key is made by the check
    assert lv["encryption"] == AMBER  # a plain data dir without evidence yet
    year = local_today().year
    for t, prefix, n in (("order_to_correct", "青环责改", 2), ("evidence_preservation_notice", "青环先保", 20),
                         ("seizure_decision", "青环查扣", 20)):
        NumberingService(demo_store).add_block(agency_code="450103", doc_type=t, year=year, prefix=prefix, first=1,
                                               last=n, actor=admin)
    with demo_store.write_session() as s:  # the offset a sync measured, six minutes off
        T.write_offset(s, T.Offset(-361.0, 0.05, utcnow().isoformat()))
    rep = svc.assess(svc.collect(), [], power=lambda: Battery(55, True))
    by = {c.key: c for c in rep.checks}
    assert by["numbers"].level == AMBER and by["numbers"].figures["order_to_correct"] == 2
    assert by["clock"].level == RED and "-361.0 s" in by["clock"].summary and by["battery"].level == AMBER


def test_battery_read_from_the_operating_system(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name, files in (("AC", {"type": "Mains", "online": "0"}),
                        ("BAT0", {"type": "Battery", "present": "1", "capacity": "47", "status": "Discharging"})):
        d = tmp_path / name
        d.mkdir()
        for k, v in files.items():
            (d / k).write_text(v + "\n")
    assert battery(tmp_path) == Battery(47, False)
    (tmp_path / "AC" / "online").write_text("1\n")
    assert battery(tmp_path) == Battery(47, True)
    assert battery(tmp_path / "none") is None


def test_the_command_line_exits_1_on_red(demo_store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--data-dir", str(demo_store.data_dir), "preflight", "--json", "--probe-seconds", "1"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["level"] == RED and out["ready"] is False
    assert {c["check"] for c in out["checks"]} == {"disk", "battery", "clock", "gnss", "instruments", "camera",
                                                   "numbers", "sync", "encryption", "key"}
    assert all(c["advice"] for c in out["checks"] if c["level"] != GREEN)
    assert date.fromisoformat(out["at"][:10])


def test_encryption_and_its_recovery_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kit_app.keyring import Keyring, make_recovery_key
    from kit_app.services.vault import Vault

    store = Vault(tmp_path / "kit").create(name="管理员", cert_no="GXADMIN001", password="admin-password")
    try:
        svc = PreflightService(store)
        enc = {c.key: c for c in svc.assess(svc.collect(), [], power=lambda: None).checks}["encryption"]
        assert enc.level == AMBER and "no recovery key" in enc.summary and enc.figures["unlocked_by"] == 1
        ring = Keyring.load(store.data_dir)
        fp = ring.set_recovery(store.key, make_recovery_key()[1])
        ring.save()
        enc = {c.key: c for c in svc.assess(svc.collect(), [], power=lambda: None).checks}["encryption"]
        assert enc.level == GREEN and fp in enc.summary
    finally:
        store.close()
