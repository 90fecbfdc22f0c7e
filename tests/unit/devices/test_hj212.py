import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices import hj212
from devices.hj212 import HJ212Error, Reassembler, StreamDecoder, answer, crc16, crc16_fast, encode, frame, parse

# The standard's own example (set real-time data interval).
STANDARD = "##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\r\n"
UPLOAD = (
    "QN=20261129093000123;ST=32;CN=2011;PW=123456;MN=88888880000001;Flag=5;"
    "CP=&&DataTime=20261129093000;w01018-Rtd=48.5,w01018-Flag=N;w21003-Rtd=3.21,w21003-Flag=N;"
    "w00000-Rtd=12.7,w00000-Flag=N&&"
)


def test_the_standards_example() -> None:
    p = parse(STANDARD)
    assert (p.qn, p.st, p.cn, p.pw, p.mn, p.flag) == ("20160801085857223", "32", "1062", "100000",
                                                      "010000A8900016F000169DC0", 5)
    assert p.cp == {"RtdInterval": "30"} and p.length == 101 and p.crc == "1C80"
    assert p.version == "2017" and p.needs_answer


def test_crc_is_not_modbus_and_table_matches() -> None:
    data = STANDARD[6:-6].encode()
    assert crc16(data) == crc16_fast(data) == 0x1C80
    # CRC-16/MODBUS of the same bytes differs
    reg = 0xFFFF
    for b in data:
        reg ^= b
        for _i in range(8):
            reg = (reg >> 1) ^ 0xA001 if reg & 1 else reg >> 1
    assert reg != 0x1C80


def test_upload_with_pollutants_names_units_and_time() -> None:
    p = parse(frame(UPLOAD))
    assert p.data_time is not None and p.data_time.isoformat() == "2026-11-29T09:30:00+08:00"
    assert p.pollutants["w01018"] == {"name": "化学需氧量", "name_en": "COD", "unit": "mg/L", "Rtd": 48.5, "Flag": "N"}
    assert p.pollutants["w21003"]["Rtd"] == 3.21
    assert answer(p) is not None and b"CN=9014" in answer(p)  # type: ignore[operator]


def test_tolerances() -> None:
    # 2005 style: no QN, no Flag, numeric codes, lower-case CRC
    data = "ST=32;CN=2011;PW=123456;MN=12345678901234;CP=&&DataTime=20261129093000;011-Rtd=50.1;060-Rtd=2.2;999-Rtd=7&&"
    raw = frame(data)
    raw = raw[:-6] + raw[-6:-2].lower() + b"\r\n"
    p = parse(raw)
    assert p.version == "2005" and p.qn is None and p.flag is None and not p.needs_answer
    assert set(p.pollutants) == {"w01018", "w21003", "999"} and p.pollutants["999"]["name"] is None
    assert "unknown code 999" in p.warnings
    # PNO before PNUM, 17-digit DataTime, a long MN
    q = parse(frame("QN=20261129093000123;ST=31;CN=2051;PW=1;MN=" + "A" * 40 +
                    ";Flag=7;PNO=1;PNUM=2;CP=&&DataTime=20261129093000123;a21026-Avg=12.5&&"))
    assert (q.pno, q.pnum, q.split) == (1, 2, True)


def test_long_data_segment_up_to_9999() -> None:
    cp = ";".join(f"a{i:05d}-Rtd={i}.5" for i in range(500))
    raw = encode(st="31", cn="2011", mn="X1", cp=cp)
    assert len(raw) - 12 > 1024
    assert len(parse(raw).pollutants) == 500
    with pytest.raises(HJ212Error):
        frame("X" * 10000)


@pytest.mark.parametrize("bad, words", [
    (STANDARD.replace("##0101", "##0100"), "length field says 100"),
    (STANDARD.replace("1C80", "1C81"), "expected 1C80, got 1C81"),
    (STANDARD.replace("##0101", "##01x1"), "length field"),
    ("0101QN=1", "does not start with ##"),
    (frame("QN=20261129093000123;ST=32;CN=2011;PW=1;MN=1;RtdInterval=30").decode(), "CP=&&"),
    (frame("ST=3x;CN=2011;CP=&&a=1&&").decode(), "bad field ST=3x"),
    (frame("ST=32;CN=2011;CP=&&DataTime=2026;a=1&&").decode(), "bad DataTime"),
])
def test_errors_name_what_is_wrong(bad: str, words: str) -> None:
    with pytest.raises(HJ212Error) as err:
        parse(bad)
    assert words in str(err.value)


def test_reassembly_in_any_order() -> None:
    base = "QN=20261129093000123;ST=31;CN=2011;PW=1;MN=M1;Flag=7;PNUM=3;PNO={n};CP=&&{cp}&&"
    parts = [parse(frame(base.format(n=n, cp=cp))) for n, cp in
             ((2, "a21002-Rtd=30"), (1, "DataTime=20261129093000;a21026-Rtd=12"), (3, "a34013-Rtd=5"))]
    r = Reassembler()
    assert r.feed(parts[0]) is None and r.feed(parts[1]) is None
    whole = r.feed(parts[2])
    assert whole is not None and set(whole.pollutants) == {"a21002", "a21026", "a34013"}
    assert whole.data_time is not None


def test_stream_with_garbage_split_and_bad_crc() -> None:
    good = frame(UPLOAD)
    bad = STANDARD.replace("1C80", "0000").encode()
    stream = b"\x00\xffnoise" + good[:20] + good[20:] + b"junk##zz" + bad + good
    d = StreamDecoder()
    got = []
    for i in range(0, len(stream), 7):
        got += d.feed(stream[i:i + 7])
    kinds = [type(x).__name__ for x in got]
    assert kinds == ["Packet", "HJ212Error", "Packet"] and d.skipped > 0


@given(st.binary(max_size=300))
def test_fuzz_parse_raises_only_its_own_error(data: bytes) -> None:
    for candidate in (data, b"##" + data, b"##%04d" % len(data) + data + b"0000\r\n"):
        try:
            parse(candidate)
        except HJ212Error:
            pass


@given(st.binary(max_size=400))
def test_fuzz_stream_decoder(data: bytes) -> None:
    d = StreamDecoder()
    for x in d.feed(data):
        assert isinstance(x, (hj212.Packet, HJ212Error))


@given(
    st.sampled_from(["21", "22", "31", "32"]),
    st.sampled_from(["2011", "2051", "2061", "2031"]),
    st.text(alphabet="0123456789ABCDEF", min_size=1, max_size=30),
    st.dictionaries(st.sampled_from(["a21026", "a21002", "w01018", "w21003", "a34013"]),
                    st.floats(min_value=0, max_value=99999, allow_nan=False).map(lambda f: round(f, 3)),
                    max_size=5),
    st.integers(min_value=0, max_value=15),
)
def test_encode_parse_round_trip(stc: str, cn: str, mn: str, values: dict[str, float], flag: int) -> None:
    cp = ";".join(f"{k}-Rtd={v}" for k, v in values.items())
    p = parse(encode(st=stc, cn=cn, mn=mn, qn="20261129093000123", flag=flag, cp=cp))
    assert (p.st, p.cn, p.mn, p.flag) == (stc, cn, mn, flag)
    assert {k: v["Rtd"] for k, v in p.pollutants.items()} == values


def test_cli_decode_never_stops_on_a_bad_line(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("kit-app")
    lines = STANDARD.replace("1C80", "1C81") + "\n" + "garbage\n" + STANDARD + frame(UPLOAD).decode()
    p = subprocess.run([str(exe), "--lang", "en", "hj212", "decode", "--json"], input=lines.encode(),
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    out = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert [o["valid"] for o in out] == [False, False, True, True]
    assert "expected 1C80, got 1C81" in out[0]["error"]
    assert out[3]["pollutants"]["w01018"]["Rtd"] == 48.5


@pytest.mark.parametrize("crc", ["0x00", "+880", " 880", "8_80", "88G0"])
def test_a_crc_is_exactly_four_hex_digits(crc: str) -> None:
    """int(text, 16) takes "0x00", "+880", " 880" and "8_80": a CRC field must be four hex digits."""
    good = frame("QN=20261130101500000;ST=31;CN=2011;PW=123456;MN=GXQX0001;Flag=4;CP=&&w01018-Rtd=86.3&&")
    line = good.rstrip(b"\r\n")
    parse(line)
    with pytest.raises(HJ212Error, match="four hex digits"):
        parse(line[:-4] + crc.encode())


def test_times_are_timestamps_codes_are_named_and_an_odd_st_is_kept() -> None:
    """SampleTime (17 digits) is a time, never 2.0231008123340e+16; the 2017 appendix codes seen in real packets
    carry names and units; ST=321 is kept, with a warning; a SampleTime that is no time is kept raw, warned."""
    p = parse(frame("QN=20231008123340000;ST=321;CN=2011;PW=123456;MN=GXQX0001;Flag=4;CP=&&DataTime=20231008123340;"
                    "w01018-SampleTime=20231008123340123,w01018-Rtd=20.1;a05024-Rtd=81.2;a01007-Rtd=2.4;"
                    "a01008-Rtd=135;w01003-Rtd=3.2;w01019-Rtd=4.1;w01008-Rtd=640;a25003-Rtd=0.8;"
                    "a34004-SampleTime=2023x&&"))
    assert p.pollutants["w01018"]["SampleTime"] == "2023-10-08T12:33:40.123000+08:00"
    assert p.st == "321" and any("ST=321" in w for w in p.warnings)
    assert any("a34004-SampleTime=2023x" in w for w in p.warnings) and p.pollutants["a34004"]["SampleTime"] == "2023x"
    named = {c: (p.pollutants[c]["name"], p.pollutants[c]["unit"]) for c in
             ("a05024", "a01007", "a01008", "w01003", "w01019", "w01008", "a25003")}
    assert named == {"a05024": ("臭氧", "µg/m³"), "a01007": ("风速", "m/s"), "a01008": ("风向", "°"),
                     "w01003": ("浊度", "NTU"), "w01019": ("高锰酸盐指数", "mg/L"), "w01008": ("全盐量", "mg/L"),
                     "a25003": ("甲苯", "mg/m³")}
    assert not any(w.startswith("unknown code") for w in p.warnings)
