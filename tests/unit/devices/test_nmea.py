import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.nmea import NMEAError, parse, sentence

GGA = "$GPGGA,092750.000,5321.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,*76"
RMC = "$GNRMC,001031.00,A,4404.13993,N,12118.86023,W,0.146,,100117,,,A*7B"


def test_gga() -> None:
    f = parse(GGA)
    assert f.valid and f.quality == 1 and f.satellites == 8 and f.hdop == 1.03 and f.altitude == 61.7
    assert f.latitude == pytest.approx(53.3613367) and f.longitude == pytest.approx(-6.50562)


def test_rmc_with_date() -> None:
    f = parse(RMC)
    assert f.valid and f.talker == "GN" and f.time.isoformat() == "2017-01-10T00:10:31+00:00"  # type: ignore[union-attr]


def test_no_fix_is_not_zero_zero() -> None:
    f = parse(sentence("GPGGA,,,,,,0,00,99.99,,,,,,"))
    assert not f.valid and f.latitude is None and f.longitude is None
    v = parse(sentence("GPRMC,120000.00,V,2248.0000,N,10822.0000,E,,,291126,,,N"))
    assert not v.valid and v.latitude is None


def test_guangxi_fix_and_beidou() -> None:
    f = parse(sentence("BDGGA,013000.00,2248.7220,N,10822.2100,E,1,12,0.8,85.3,M,-5.1,M,,"))
    assert f.talker == "BD" and f.latitude == pytest.approx(22.8120333) and f.longitude == pytest.approx(108.3701667)


@pytest.mark.parametrize("bad, words", [
    (GGA[:-2] + "77", "expected 76, got 77"),
    (GGA.split("*")[0], "checksum"),
    ("GPGGA,1*00", "starts with $"),
    (sentence("GPGGA,092750.000,53x1.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,"), "bad latitude"),
    (sentence("GPGGA,1,2"), "at least 10 fields"),
    (sentence("GPXYZ,1,2"), "unsupported sentence"),
])
def test_errors(bad: str, words: str) -> None:
    with pytest.raises(NMEAError) as err:
        parse(bad)
    assert words in str(err.value)


@given(st.text(max_size=120))
def test_fuzz_only_own_error(text: str) -> None:
    for candidate in (text, "$" + text, sentence(text.replace("*", "").replace("\n", ""))):
        try:
            parse(candidate)
        except NMEAError:
            pass


@given(st.floats(min_value=-89.999, max_value=89.999), st.floats(min_value=-179.999, max_value=179.999))
def test_round_trip(lat: float, lon: float) -> None:
    def dm(v: float, w: int) -> str:
        a = abs(v)
        d = int(a)
        return f"{d:0{w}d}{(a - d) * 60:07.4f}"

    s = sentence(f"GPGGA,010203.00,{dm(lat, 2)},{'N' if lat >= 0 else 'S'},{dm(lon, 3)},"
                 f"{'E' if lon >= 0 else 'W'},1,9,0.9,50.0,M,0,M,,")
    f = parse(s)
    assert f.latitude == pytest.approx(lat, abs=1e-5) and f.longitude == pytest.approx(lon, abs=1e-5)


def test_cli_decode(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("kit-app")
    p = subprocess.run([str(exe), "--lang", "en", "nmea", "decode", "--json"],
                       input=(GGA + "\nnot nmea\n" + RMC + "\n").encode(), capture_output=True, timeout=60)
    out = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert p.returncode == 0 and [o["valid"] for o in out] == [True, False, True]


def test_two_digit_years_pivot_at_80() -> None:
    """191194 is 19 November 1994, not 2094; 010179 is 2079; an impossible date is refused by name."""
    f = parse(sentence("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,191194,003.1,W"))
    assert f.time.isoformat() == "1994-11-19T12:35:19+00:00"  # type: ignore[union-attr]
    f = parse(sentence("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,010179,003.1,W"))
    assert f.time.year == 2079  # type: ignore[union-attr]
    with pytest.raises(NMEAError, match="320194"):
        parse(sentence("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,320194,003.1,W"))


def test_gll_positions_and_zda_dates() -> None:
    f = parse(sentence("GPGLL,2248.1234,N,10822.5678,E,014530.00,A,A"))
    assert f.kind == "GLL" and f.valid and f.latitude == pytest.approx(22.8020567) and f.longitude == \
        pytest.approx(108.3761300) and f.time.isoformat() == "01:45:30+00:00"  # type: ignore[union-attr]
    void = parse(sentence("GPGLL,2248.1234,N,10822.5678,E,014530.00,V,N"))
    assert not void.valid and void.latitude is None  # a void GLL is no position, never 0,0
    z = parse(sentence("GPZDA,014530.00,30,11,2026,08,00"))
    assert z.kind == "ZDA" and not z.valid and z.time.isoformat() == "2026-11-30T01:45:30+00:00"  # type: ignore[union-attr]


@pytest.mark.parametrize("cs", ["0x47", "+47", " 47", "4_7", "047", "4", "4G"])
def test_a_checksum_is_exactly_two_hex_digits(cs: str) -> None:
    body = "GPGGA,092750.000,5321.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,"
    good = sentence(body)
    assert parse(good).valid
    with pytest.raises(NMEAError, match="two hex digits"):
        parse(good[:-2] + cs)


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`kit-app nmea decode … | head -1`: no traceback, no 'unexpected error' in the log."""
    src = tmp_path / "track.nmea"
    src.write_text((GGA + "\n") * 20000, encoding="ascii")
    exe = Path(sys.executable).with_name("kit-app")
    p = subprocess.run(f"'{exe}' --lang en nmea decode --json < '{src}' | head -1", shell=True, capture_output=True,
                       timeout=120, env={"PATH": "/usr/bin:/bin", "KIT_DATA_DIR": str(tmp_path / "data")})
    assert p.stdout.count(b"\n") == 1 and json.loads(p.stdout)["valid"]
    assert b"Traceback" not in p.stderr and b"BrokenPipe" not in p.stderr, p.stderr
