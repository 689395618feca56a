"""SGP4 from a TLE to the point below the ISS, checked against skyfield (test-only).

skyfield implements TEME -> ITRS with its own, fuller Earth-orientation model (IAU 2000
nutation, built-in Delta-T/UT1 tables), so agreement with it is an independent check of
crosstrack's GMST rotation and WGS84 conversion.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skyfield.api import EarthSatellite, load, wgs84

from crosstrack.reporter import orbit
from crosstrack.reporter.orbit import ESTIMATE_AFTER, PropagationError, TleError, parse_tle

PAYLOADS = Path(__file__).resolve().parents[2] / "data" / "payloads"
TLE = orbit.bundled_tle()
TIMESCALE = load.timescale()  # built-in tables: no download
SKYFIELD_ISS = EarthSatellite(TLE.line1, TLE.line2, "ISS (ZARYA)", TIMESCALE)


def checksum_ok(line: str) -> bool:
    """The TLE checksum rule, written independently of the code under test."""
    total = 0
    for char in line[:-1]:
        if char in "0123456789":
            total += ord(char) - ord("0")
        elif char == "-":
            total += 1
    return str(total % 10) == line[-1]


def earth_fixed(latitude: float, longitude: float, height_km: float) -> tuple[float, ...]:
    """WGS84 geodetic -> Earth-fixed x, y, z in km (the closed-form direction)."""
    a, f = 6378.137, 1 / 298.257223563
    e2 = f * (2 - f)
    lat, lon = math.radians(latitude), math.radians(longitude)
    n = a / math.sqrt(1 - e2 * math.sin(lat) ** 2)
    return (
        (n + height_km) * math.cos(lat) * math.cos(lon),
        (n + height_km) * math.cos(lat) * math.sin(lon),
        (n * (1 - e2) + height_km) * math.sin(lat),
    )


def distance_to_skyfield_km(when: datetime) -> float:
    ours = orbit.subpoint(TLE, when)
    theirs = wgs84.geographic_position_of(SKYFIELD_ISS.at(TIMESCALE.from_datetime(when)))
    return math.dist(
        earth_fixed(ours.latitude, ours.longitude, ours.altitude_km),
        earth_fixed(theirs.latitude.degrees, theirs.longitude.degrees, theirs.elevation.km),
    )


# ------------------------------------------------------------------- bundled TLE


def test_bundled_tle_is_the_published_iss_element_set() -> None:
    assert TLE.catalog_number == 25544
    assert TLE.name == "ISS (ZARYA)"
    assert TLE.line1.startswith("1 25544U 98067A   25313.96830531 ")
    assert all(checksum_ok(line) for line in (TLE.line1, TLE.line2))
    # The epoch as skyfield reads it from the same lines.
    assert abs(TLE.epoch - SKYFIELD_ISS.epoch.utc_datetime()) < timedelta(milliseconds=1)
    assert TLE.epoch.replace(microsecond=0) == datetime(2025, 11, 9, 23, 14, 21, tzinfo=UTC)


# ------------------------------------------------------------ agreement with skyfield


@pytest.mark.parametrize(
    "offset",
    [timedelta(0), timedelta(minutes=47), timedelta(hours=-6), timedelta(days=1)],
    ids=["epoch", "+47min", "-6h", "+1d"],
)
def test_subpoint_agrees_with_skyfield_within_1_km(offset: timedelta) -> None:
    # Observed: ~0.04 km (the UT1-UTC difference, which crosstrack ignores on purpose).
    assert distance_to_skyfield_km(TLE.epoch + offset) < 1.0


@settings(max_examples=50, deadline=None)
@given(seconds=st.integers(min_value=-3 * 86400, max_value=3 * 86400))
def test_subpoint_agrees_with_skyfield_around_the_epoch(seconds: int) -> None:
    assert distance_to_skyfield_km(TLE.epoch + timedelta(seconds=seconds)) < 1.0


@given(seconds=st.integers(min_value=-3 * 86400, max_value=3 * 86400))
def test_subpoint_stays_on_the_iss_orbit(seconds: int) -> None:
    point = orbit.subpoint(TLE, TLE.epoch + timedelta(seconds=seconds))
    inclination = float(TLE.line2[8:16])
    # Geodetic latitude can exceed the inclination by ~0.2 degrees (Earth's flattening).
    assert abs(point.latitude) <= inclination + 0.25
    assert -180.0 <= point.longitude < 180.0
    assert 380.0 < point.altitude_km < 460.0
    assert 27_000 < point.speed_kmh < 28_000


# ------------------------------------------------------------------- age, estimate


@pytest.mark.parametrize(
    ("offset", "estimate"),
    [
        (timedelta(0), False),
        (timedelta(hours=5), False),
        (ESTIMATE_AFTER - timedelta(minutes=1), False),
        (ESTIMATE_AFTER + timedelta(minutes=1), True),
        (-(ESTIMATE_AFTER + timedelta(minutes=1)), True),
        (timedelta(days=17), True),
    ],
)
def test_age_and_estimate_flag(offset: timedelta, estimate: bool) -> None:
    when = TLE.epoch + offset

    point = orbit.subpoint(TLE, when)

    assert point.time == when
    assert point.tle_epoch == TLE.epoch
    assert point.tle_age_seconds == offset.total_seconds()
    assert point.estimate is estimate


def test_estimate_threshold_is_a_few_days() -> None:
    assert timedelta(days=1) < ESTIMATE_AFTER <= timedelta(days=7)


def test_propagating_absurdly_far_is_an_error_not_a_position() -> None:
    with pytest.raises(PropagationError, match=r"SGP4 error 6 .*decayed"):
        orbit.subpoint(TLE, TLE.epoch + timedelta(days=3650))


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        orbit.subpoint(TLE, TLE.epoch.replace(tzinfo=None))


def test_any_timezone_means_the_same_instant() -> None:
    from zoneinfo import ZoneInfo

    utc = TLE.epoch + timedelta(hours=1)
    local = utc.astimezone(ZoneInfo("Pacific/Auckland"))
    assert orbit.subpoint(TLE, local) == orbit.subpoint(TLE, utc)


# ---------------------------------------------------------------- frames, geodesy


def test_gmst_at_j2000_matches_the_published_value() -> None:
    # GMST at 2000-01-01 12:00 UT1 is 18h 41m 50.54841s = 280.46061837 degrees.
    assert math.degrees(orbit.gmst(2451545.0)) == pytest.approx(280.46061837, abs=1e-8)


def test_gmst_advances_one_sidereal_day_per_23h56m04s() -> None:
    sidereal_day = 0.99726956633  # in solar days
    start = orbit.gmst(2460989.0, 0.25)
    assert orbit.gmst(2460989.0, 0.25 + sidereal_day) == pytest.approx(start, abs=1e-6)


@given(
    latitude=st.floats(min_value=-90, max_value=90),
    longitude=st.floats(min_value=-180, max_value=180, exclude_max=True),
    height=st.floats(min_value=-5, max_value=1000),
)
def test_geodetic_inverts_the_closed_form(latitude: float, longitude: float, height: float) -> None:
    lat, lon, h = orbit.geodetic(*earth_fixed(latitude, longitude, height))

    assert lat == pytest.approx(latitude, abs=1e-9)
    assert h == pytest.approx(height, abs=1e-6)
    if abs(latitude) < 89.9999:  # longitude is undefined at the poles
        assert math.cos(math.radians(lon - longitude)) == pytest.approx(1.0, abs=1e-12)
    assert -180.0 <= lon < 180.0


# --------------------------------------------------------------------- parse_tle


def read(name: str) -> str:
    return (PAYLOADS / "celestrak" / name).read_text()


def test_parse_accepts_celestrak_answers_with_and_without_a_name_line() -> None:
    three = parse_tle(read("iss-2025-11-09.tle"))  # CRLF, padded name line
    two = parse_tle(f"{TLE.line1}\n{TLE.line2}\n")

    assert three == TLE
    assert two.name is None
    assert (two.line1, two.line2, two.epoch) == (TLE.line1, TLE.line2, TLE.epoch)


def test_parse_reads_other_objects_when_asked() -> None:
    vanguard = parse_tle(read("vanguard-1.tle"), catalog_number=None)
    assert vanguard.catalog_number == 5
    assert vanguard.epoch.year == 2000  # two-digit year 00 means 2000, 57-99 mean 19xx


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "got 0"),
        (TLE.line1, "got 1"),
        (f"{TLE.line2}\n{TLE.line1}", "line 1 does not start with '1 <catalog number>'"),
        (f"{TLE.line1}\n{TLE.line2[:-1]}", "line 2 is 68 characters long, expected 69"),
        (f"{TLE.line1[:-1]}x\n{TLE.line2}", "line 1 ends with 'x', not a checksum digit"),
        (
            f"{TLE.line1}\n2 25545{TLE.line2[7:-1]}2",
            "line 1 is for object 25544 but line 2 for object 25545",
        ),
    ],
    ids=["empty", "one-line", "swapped", "short", "no-checksum", "mixed-objects"],
)
def test_parse_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(TleError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_tle(text)


def test_parse_rejects_another_object() -> None:
    with pytest.raises(TleError, match="TLE is for object 5, expected 25544"):
        parse_tle(read("vanguard-1.tle"))


@given(line=st.sampled_from([1, 2]), column=st.integers(min_value=0, max_value=68), data=st.data())
def test_any_single_digit_change_is_caught(line: int, column: int, data: st.DataObject) -> None:
    lines = [TLE.line1, TLE.line2]
    original = lines[line - 1]
    if not original[column].isdigit():
        return  # only digits carry the checksum
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != original[column]]))
    lines[line - 1] = original[:column] + digit + original[column + 1 :]

    with pytest.raises(TleError):
        parse_tle("\n".join(lines))
