"""Reading a data logger as its platform would, through a pseudo-terminal and over TCP, against
the shipped logger simulator; and every cross-check firing on its falsification, quiet on honest data."""

from __future__ import annotations

import contextlib
import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices import hj212
from devices.logger import Link, LoggerError, LoggerRefused, decode, endpoint_url, read_logger
from devices.sim.logger import History, Line, Logger, Settings, true_value
from kit_app.services.monitoring import FIRED, LoggerData, run_checks
from tests.helpers.logger import MN, logger_sim


def period(hours: float = 3) -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(hours=hours), now


def packets(entries: list[dict[str, object]], direction: str) -> list[hj212.Packet]:
    dec = hj212.StreamDecoder()
    out: list[hj212.Packet] = []
    for e in entries:
        if e["type"] == direction:
            out += [p for p in dec.feed(bytes.fromhex(str(e["hex"]))) if isinstance(p, hj212.Packet)]
    return out


@pytest.mark.parametrize("tcp", [False, True], ids=["pty", "tcp"])
def test_reads_time_and_history_and_records_every_byte(tcp: bool) -> None:
    with logger_sim(tcp=tcp) as url:
        exchange, summary = read_logger(url, ["minute", "hour", "state"], *period(), mn=MN, overtime=2)
    assert "error" not in summary and summary["mn"] == MN and summary["st"] == "31"
    assert abs(summary["clock"]["offset_s"]) < 2 and summary["clock"]["uncertainty_s"] < 1
    assert [(r["kind"], r["exe_rtn"], r["complete"]) for r in summary["requests"]] == [
        ("minute", "1", True), ("hour", "1", True), ("state", "1", True)]
    entries = [e.record() for e in exchange.entries]
    got = decode(entries)
    assert 178 <= len(got["minute"]) <= 181 and len(got["hour"]) in (2, 3) and got["damaged"] == 0
    row = got["minute"][-1]
    assert set(row["values"]) == {"a21026", "a21002", "a34013", "a19001", "a00000"}
    assert {"Avg", "Min", "Max", "Flag"} <= set(row["values"]["a21026"]) and "Cou" in row["values"]["a00000"]
    # the host's side: one request per question, a 9014 for every data packet the logger asked about
    sent = packets(entries, "tx")
    received = packets(entries, "rx")
    assert [p.cn for p in sent if p.cn != "9014"] == ["1011", "2051", "2061", "2021"]
    data = [p for p in received if p.cn not in ("9011", "9012") and p.needs_answer]
    assert sorted(p.qn or "" for p in sent if p.cn == "9014") == sorted(p.qn or "" for p in data)
    # the record is verbatim: its bytes are what crossed the line, each with its time, in order
    assert sum(len(bytes.fromhex(e["hex"])) for e in entries if e["type"] == "rx") == summary["bytes_received"]
    times = [e["at"] for e in entries]
    assert times == sorted(times)


def test_split_packets_are_joined_and_mn_is_learnt_from_uploads() -> None:
    with logger_sim("--max-data", "120", "--upload", "0.3") as url:
        exchange, summary = read_logger(url, ["minute"], *period(1), overtime=2, listen=5)
    assert summary["mn"] == MN and summary["uploads"] >= 1
    entries = [e.record() for e in exchange.entries]
    parts = [p for p in packets(entries, "rx") if p.cn == "2051"]
    assert parts and all(p.pnum and p.pno for p in parts) and max(p.pnum or 0 for p in parts) >= 3
    rows = decode(entries)["minute"]
    assert len(rows) >= 58 and all(len(r["values"]) == 5 for r in rows)  # every part of every minute joined


def test_refusals_name_what_is_wrong_and_the_system_code_is_found() -> None:
    with logger_sim("--st", "32") as url:
        with pytest.raises(LoggerRefused) as err:
            with Link(url, mn=MN, pw="000000", overtime=2) as link:
                link.clock()
        assert err.value.code == "3" and "password" in str(err.value)
        with pytest.raises(LoggerRefused) as err:
            with Link(url, mn="45010300000000000000B999", overtime=2) as link:
                link.clock()
        assert err.value.code == "4" and "MN" in str(err.value)
        with Link(url, mn=MN, overtime=2) as link:  # 31 is refused as the wrong system; 32 is taken
            link.clock()
            assert link.st == "32"


def test_a_silent_port_ends_after_the_retries() -> None:
    master, slave = os.openpty()
    try:
        with pytest.raises(LoggerError) as err:
            with Link(os.ttyname(slave), mn=MN, overtime=0.3, recount=2) as link:
                link.clock()
        assert "did not answer (after 3 tries" in str(err.value)
        sent = os.read(master, 65536)
        assert sent.count(b"CN=1011") == 3  # the request, sent again twice
    finally:
        os.close(master)
        os.close(slave)


def test_a_lost_request_is_sent_again() -> None:
    """The logger misses the first request (noise on the line): the host's retry gets the answer."""
    import tty

    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    line = Line(master, None)
    deaf = {"left": 1}

    def reader(timeout: float) -> bytes | None:
        data = line.read(timeout)
        if data and b"CN=1011" in data and deaf["left"]:
            deaf["left"] -= 1
            return b""
        return data

    sim = Logger(Settings(mn=MN), line.write, reader)
    t = threading.Thread(target=lambda: _serve(sim), daemon=True)
    t.start()
    try:
        with Link(os.ttyname(slave), mn=MN, overtime=0.5, recount=3) as link:
            clock = link.clock()
        assert abs(clock.offset) < 2
        assert len([e for e in link.exchange.entries if e.direction == "tx" and b"CN=1011" in e.data]) == 2
    finally:
        os.close(slave)
        t.join(5)
        os.close(master)


def _serve(sim: Logger) -> None:
    with contextlib.suppress(OSError):  # the test closed the pseudo-terminal: the simulator's thread ends
        sim.serve()


# ---------------------------------------------------------------- the checks
CASES = [
    ((), set()),
    (("--cap", "a21026=50"), {"analyzer", "limit"}),
    (("--flat", "2"), {"flat"}),
    (("--flags", "M:5"), {"flags"}),
    (("--clock", "3"), {"clock"}),
    (("--gap", "2"), {"gaps"}),
    (("--hourly-off", "10"), {"aggregates"}),
    (("--stopped", "2"), {"state"}),
]


@pytest.mark.parametrize("switches, fired", CASES, ids=["honest", "capped", "flat", "flags", "clock", "gap",
                                                         "aggregates", "stopped"])
def test_each_check_fires_on_its_falsification_only(switches: tuple[str, ...], fired: set[str]) -> None:
    begin, end = period(6)
    with logger_sim(*switches) as url:
        exchange, summary = read_logger(url, ["minute", "hour", "state"], begin, end, mn=MN, overtime=2)
    header = {"type": "logger-exchange", "clock": summary["clock"], "st": summary["st"],
              "period": {"begin": begin.isoformat(), "end": end.isoformat()},
              "asked_by_logger_clock": summary.get("asked_by_logger_clock"), "recorded_at": end.isoformat()}
    logger = LoggerData(header, decode([e.record() for e in exchange.entries]))
    caps = {"a21026": 50.0} if "--cap" in switches else {}
    # the portable analyzer at the stack over the last 15 minutes: what the plant truly emits
    now = end.replace(second=0, microsecond=0)
    analyzer: dict[str, dict[datetime, float]] = {}
    for code in ("a21026", "a21002", "a34013"):
        for m in range(2, 17):
            minute = now - timedelta(minutes=m)
            samples = [true_value(code, minute + timedelta(seconds=s), seed=3, caps=caps) for s in (5, 25, 45)]
            analyzer.setdefault(code, {})[minute.astimezone(hj212.LOCAL)] = sum(samples) / len(samples)
    results = {r.id: r for r in run_checks(logger, analyzer, {"a21026": 50.0})}
    assert {k for k, r in results.items() if r.status == FIRED} == fired, {k: r.summary for k, r in results.items()}
    for k in fired:  # each says what it found, with its numbers
        assert results[k].summary and (results[k].numbers or k == "clock")
    if "limit" in fired:
        n = results["limit"].numbers["pollutants"]["a21026"]
        assert n["masked_minutes"] >= 10 and n["logger_over"] == 0 and n["logger_max"] < 50
    if "clock" in fired:
        assert abs(results["clock"].numbers["offset_s"] - 3 * 3600) < 2
        assert results["analyzer"].status != FIRED  # the records were set back by the offset before comparing


@given(st.lists(st.binary(max_size=300), max_size=20))
@settings(max_examples=150, deadline=None)
def test_decoding_a_record_never_fails(chunks: list[bytes]) -> None:
    entries = [{"type": "rx", "at": "2026-12-01T00:00:00+00:00", "hex": c.hex()} for c in chunks]
    out = decode(entries)
    assert isinstance(out["damaged"], int) and isinstance(out["clock"], list)


def test_history_is_the_same_plant_every_time() -> None:
    now = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    a = History(Settings(), now).records("2051", now - timedelta(hours=1), now)
    b = History(Settings(), now).records("2051", now - timedelta(hours=1), now)
    assert a == b and len(a) == 60
    assert hj212.parse(hj212.encode(st="31", cn="2051", mn=MN, cp=a[0])).data_time is not None


def test_endpoint_is_checked() -> None:
    assert endpoint_url(tcp="10.0.0.5:5000") == "socket://10.0.0.5:5000"
    assert endpoint_url(port="COM3") == "COM3"
    for bad in ("10.0.0.5", "host:99999", ":5000"):
        with pytest.raises(LoggerError):
            endpoint_url(tcp=bad)


def _minutes(n: int, flag_of) -> LoggerData:  # type: ignore[no-untyped-def]
    start = datetime(2026, 11, 30, 0, 0, tzinfo=hj212.LOCAL)
    rows = [{"time": (start + timedelta(minutes=i)).isoformat(),
             "values": {"a21026": {"Avg": 30.0 + (i % 7), "Flag": flag_of(i)}}} for i in range(n)]
    return LoggerData({"type": "logger-exchange"}, {"minute": rows})


def test_flags_weigh_share_over_a_day_and_long_stretches() -> None:
    from forms.monitoring import logger_checks
    from kit_app.services.monitoring import check_flags

    d = logger_checks().get("flags")
    # half an hour of calibration in three hours: a routine calibration, not a finding
    assert check_flags(d, _minutes(180, lambda i: "C" if 100 <= i < 130 else "N")).status == "clear"
    # a minute in five flagged for maintenance all day long
    r = check_flags(d, _minutes(1440, lambda i: "M" if i % 5 == 0 else "N"))
    assert r.status == FIRED and r.numbers["pollutants"]["a21026"]["share"] == 0.2
    # five hours of "fault" in one stretch, whatever the share
    r = check_flags(d, _minutes(600, lambda i: "D" if i >= 300 else "N"))
    assert r.status == FIRED and r.numbers["pollutants"]["a21026"]["longest"]["D"]["minutes"] == 300


def test_the_base_data_mns_are_tried_in_turn() -> None:
    wrong = "45010300000000000000B999"
    with logger_sim() as url:
        exchange, summary = read_logger(url, ["hour"], *period(2), candidates=[wrong, MN], overtime=2)
        assert summary["mn"] == MN and "error" not in summary
        asked = [p.mn for p in packets([e.record() for e in exchange.entries], "tx") if p.cn == "1011"]
        assert asked == [wrong, MN]
        _exchange, summary = read_logger(url, ["hour"], *period(2), candidates=[wrong], overtime=2)
    assert "took none of the MNs" in summary["error"] and wrong in summary["error"]


def test_the_demo_analyser_measures_the_loggers_plant() -> None:
    """With --plant, the shipped HJ 212 analyser simulator measures what the logger's plant emits."""
    from devices.items import Reading
    from devices.reader import readings
    from tests.helpers.sim import simulator

    with simulator("hj212", "--plant", "--seed", "1", "--cap", "a21026=50", "--rate", "20", "--count", "10",
                   "--wait", "0.3") as port:
        got = []
        for r in readings(port, "hj212", timeout=5):
            if isinstance(r, Reading) and r.valid:
                got.append(r.get("pollutants")["a21026"]["Rtd"])
            if len(got) == 5:
                break
    assert all(65 < v < 85 for v in got), got  # about 1.5 × the limit the logger keeps under


def test_no_shared_minutes_is_said_not_taken_for_clear() -> None:
    """Two minutes at the stack, before the logger has filed them: nothing is compared, and it says so."""
    logger = _minutes(60, lambda i: "N")
    last = datetime.fromisoformat(logger.records["minute"][-1]["time"])
    analyzer = {"a21026": {last + timedelta(minutes=k): 80.0 for k in (1, 2)}}
    results = {r.id: r for r in run_checks(logger, analyzer, {"a21026": 50.0})}
    assert results["analyzer"].status == "skipped" and results["limit"].status == "skipped"
    assert "measure longer" in results["limit"].summary


@pytest.mark.parametrize("mn, pw", [("4501;CN=3011", "123456"), (MN, "12&34"), (MN, ""), ("M" * 33, "123456")])
def test_what_would_change_the_request_is_refused(mn: str, pw: str) -> None:
    """An MN or password (typed, or from pulled base data) carrying a packet's separators is refused
    before anything is sent."""
    master, slave = os.openpty()
    try:
        with pytest.raises(LoggerError, match="letters or digits"):
            Link(os.ttyname(slave), mn=mn, pw=pw)
    finally:
        os.close(master)
        os.close(slave)


def test_noise_and_damaged_packets_cost_time_not_records() -> None:
    """Line noise and packets damaged on the line: the kit does not answer a damaged packet, the
    logger sends it again, and every minute arrives once; what was damaged stays in the record."""
    with logger_sim("--garbage", "0.2", "--bad-crc", "0.2", "--overtime", "0.3") as url:
        exchange, summary = read_logger(url, ["minute"], *period(1), mn=MN, overtime=2)
    assert "error" not in summary and summary["requests"][0]["complete"] and summary["damaged"] >= 3
    got = decode([e.record() for e in exchange.entries])
    times = [r["time"] for r in got["minute"]]
    assert len(times) >= 58 and len(times) == len(set(times)) and got["damaged"] == summary["damaged"]


def test_a_logger_that_would_never_stop_is_cut_off() -> None:
    """Asked for ten minutes, a (broken or hostile) logger sends without end: the kit stops taking its
    packets past twice what the period holds, keeps what came and says so."""
    import tty

    class Endless(History):
        def records(self, cn: str, begin: datetime, end: datetime) -> list[str]:
            t0 = self.now - timedelta(days=1)
            return [f"DataTime={(t0 + timedelta(minutes=i)).astimezone(hj212.LOCAL):%Y%m%d%H%M%S};a21026-Avg=30.0"
                    for i in range(400)]

    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    line = Line(master, None)
    sim = Logger(Settings(mn=MN, ack=False), line.write, line.read, Endless(Settings(mn=MN)))
    t = threading.Thread(target=lambda: _serve(sim), daemon=True)
    t.start()
    try:
        _exchange, summary = read_logger(os.ttyname(slave), ["minute"], *period(10 / 60), mn=MN, overtime=2)
        [req] = summary["requests"]
        assert req["packets"] == 2 * 11 + 10 + 1 and not req["complete"]
        assert "more records than the period holds" in req["error"]
    finally:
        os.close(slave)
        os.close(master)  # the simulator's next write fails: its thread ends
        t.join(5)
