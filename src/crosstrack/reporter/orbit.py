"""Where the ISS is, computed offline: SGP4 from a TLE, then the point on Earth below it.

The chain is the textbook one (Vallado et al., "Revisiting Spacetrack Report #3", AIAA
2006-6753): SGP4 gives the position in TEME, the "true equator, mean equinox" frame it was
fitted in; rotating TEME about the pole by Greenwich mean sidereal time (IAU-82) gives the
Earth-fixed position; Earth-fixed to geodetic latitude/longitude/height is done on the WGS84
ellipsoid. Polar motion (~10 m) and UT1-UTC (< 0.9 s, i.e. < 0.42 km of Earth rotation at
the equator) are ignored: both are far below SGP4's own error, and including them would need
Earth-orientation tables that a Lambda cannot download on every cold start. The result agrees
with skyfield's full model to tens of metres at the TLE epoch (tests/unit/reporter/test_orbit.py).

SGP4 never refuses an old TLE: it happily propagates one from last year. So every point
produced here carries the TLE's epoch and age, and is flagged as an ``estimate`` once the
TLE is older than :data:`ESTIMATE_AFTER`.

The bundled TLE (``data/iss.tle``) is a real element set published for the ISS (catalog
number 25544), epoch 2025-11-09 23:14:21.58 UTC, element set 999, revolution 53777; it is
the fallback when CelesTrak cannot be reached and nothing fresher is cached.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any, Final

from sgp4.api import SGP4_ERRORS, Satrec, jday

from crosstrack.reporter.errors import ReporterError

ISS_CATALOG_NUMBER: Final = 25544

# A TLE older than this gives positions flagged as estimates. Why 3 days: CelesTrak
# publishes a new ISS element set several times a day, so a TLE this old means refreshing
# has been failing for days (or only the bundled TLE is left). SGP4's error for the ISS
# starts around 1 km at epoch and grows by roughly a few km per day, faster when drag is
# high or after an unannounced reboost (126 km has been seen at 17.7 days); at 3 days the
# error is typically ~5-10 km, still a fair dot on a map, beyond that it is a guess.
ESTIMATE_AFTER: Final = timedelta(days=3)

BUNDLED_TLE_RESOURCE: Final = "data/iss.tle"

# WGS84 ellipsoid (NIMA TR8350.2): semi-major axis in km and flattening.
WGS84_A_KM: Final = 6378.137
WGS84_F: Final = 1 / 298.257223563
_E2: Final = WGS84_F * (2 - WGS84_F)  # first eccentricity squared

_TLE_LINE_LENGTH: Final = 69
_J2000: Final = 2451545.0  # Julian date of 2000-01-01 12:00 (TT; UT1 is close enough here)

# Line 1: "1 NNNNNC ..." and line 2: "2 NNNNN ..."; the catalog number may be Alpha-5
# (a letter then four digits) for objects past 99999.
_LINE = re.compile(r"^(?P<line>[12]) (?P<catnr>[0-9A-Z][0-9]{4})")


# Also ValueError and RuntimeError, as before they joined crosstrack's one error base: the
# TLE cache reader counts an invalid cached TLE among the ValueErrors of a damaged file.
class TleError(ReporterError, ValueError):
    """A TLE text is not a valid two-line element set (of the expected object)."""


class PropagationError(ReporterError, RuntimeError):
    """SGP4 could not propagate the TLE to the requested time (e.g. a decayed orbit)."""


@dataclass(frozen=True)
class Tle:
    """A validated two-line element set; build it with :func:`parse_tle`."""

    line1: str
    line2: str
    catalog_number: int
    epoch: datetime
    name: str | None = None
    _satrec: Any = field(default=None, repr=False, compare=False)

    @property
    def text(self) -> str:
        """The TLE as CelesTrak serves it: optional name line, then the two lines."""
        lines = [self.name] if self.name else []
        return "\n".join([*lines, self.line1, self.line2]) + "\n"

    def age_at(self, when: datetime) -> timedelta:
        """How old this TLE is at ``when`` (negative when ``when`` precedes the epoch)."""
        return _utc(when) - self.epoch


@dataclass(frozen=True)
class SubPoint:
    """The ISS at one moment: the point on the WGS84 ellipsoid below it, and how we know.

    ``latitude`` is geodetic, in [-90, 90]; ``longitude`` is in [-180, 180); both degrees.
    ``altitude_km`` is the height above the ellipsoid. ``speed_kmh`` is the speed in the
    inertial (TEME) frame, the figure wheretheiss.at reports as velocity.
    ``tle_age_seconds`` is ``time - tle_epoch`` (negative when propagating backwards), and
    ``estimate`` is true when its magnitude exceeds :data:`ESTIMATE_AFTER`.
    """

    time: datetime
    latitude: float
    longitude: float
    altitude_km: float
    speed_kmh: float
    tle_epoch: datetime
    tle_age_seconds: float
    estimate: bool


def tle_checksum(line: str) -> int:
    """The modulo-10 checksum of a TLE line's first 68 columns (digits, '-' counts 1)."""
    return sum(int(c) if c.isdigit() else 1 if c == "-" else 0 for c in line[:68]) % 10


def parse_tle(text: str, *, catalog_number: int | None = ISS_CATALOG_NUMBER) -> Tle:
    """Validate and parse a TLE (two lines, optionally after a name line).

    Checks each line's length, line number, checksum, that both lines name the same object
    and, unless ``catalog_number`` is None, that it is that object; then that SGP4 accepts
    the elements. Raises :class:`TleError` saying exactly what is wrong.
    """
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    name: str | None = None
    if lines and not _LINE.match(lines[0]):
        name = lines.pop(0).strip()
    if len(lines) != 2:
        after = f" after {name[:40]!r}" if name else ""
        raise TleError(
            f"expected two TLE lines (optionally after a name line), got {len(lines)}{after}"
        )
    catnrs = []
    for number, line in enumerate(lines, start=1):
        if len(line) != _TLE_LINE_LENGTH:
            raise TleError(f"line {number} is {len(line)} characters long, expected 69")
        match = _LINE.match(line)
        if match is None or match["line"] != str(number):
            raise TleError(f"line {number} does not start with '{number} <catalog number>'")
        if not line[68].isdigit():
            raise TleError(f"line {number} ends with {line[68]!r}, not a checksum digit")
        expected = tle_checksum(line)
        if int(line[68]) != expected:
            raise TleError(
                f"line {number} checksum is {line[68]}, but its contents sum to {expected}"
            )
        catnrs.append(_catalog_number(match["catnr"]))
    if catnrs[0] != catnrs[1]:
        raise TleError(f"line 1 is for object {catnrs[0]} but line 2 for object {catnrs[1]}")
    if catalog_number is not None and catnrs[0] != catalog_number:
        raise TleError(f"TLE is for object {catnrs[0]}, expected {catalog_number}")
    satrec = Satrec.twoline2rv(lines[0], lines[1])
    if satrec.error:
        raise TleError(f"SGP4 rejects the elements: {SGP4_ERRORS.get(satrec.error, satrec.error)}")
    return Tle(
        line1=lines[0],
        line2=lines[1],
        catalog_number=catnrs[0],
        epoch=_epoch(lines[0]),
        name=name,
        _satrec=satrec,
    )


@cache
def bundled_tle() -> Tle:
    """The ISS TLE shipped in the package (see the module docstring for which one)."""
    text = resources.files("crosstrack.reporter").joinpath(BUNDLED_TLE_RESOURCE).read_text()
    return parse_tle(text)


def subpoint(tle: Tle, when: datetime) -> SubPoint:
    """Propagate ``tle`` to ``when`` (timezone-aware) and return the point below the ISS.

    Raises :class:`PropagationError` when SGP4 reports an error (for the ISS that means a
    time so far from the epoch that the modelled orbit has decayed).
    """
    when = _utc(when)
    jd, fr = _julian(when)
    satrec = tle._satrec if tle._satrec is not None else Satrec.twoline2rv(tle.line1, tle.line2)
    error, r, v = satrec.sgp4(jd, fr)
    if error:
        raise PropagationError(
            f"SGP4 error {error} at {when:%Y-%m-%dT%H:%M:%SZ} "
            f"(TLE epoch {tle.epoch:%Y-%m-%dT%H:%M:%SZ}): {SGP4_ERRORS.get(error, 'unknown')}"
        )
    x, y, z = teme_to_earth_fixed(r, gmst(jd, fr))
    latitude, longitude, altitude = geodetic(x, y, z)
    age = tle.age_at(when)
    return SubPoint(
        time=when,
        latitude=latitude,
        longitude=longitude,
        altitude_km=altitude,
        speed_kmh=math.sqrt(sum(c * c for c in v)) * 3600.0,
        tle_epoch=tle.epoch,
        tle_age_seconds=age.total_seconds(),
        estimate=abs(age) > ESTIMATE_AFTER,
    )


def gmst(jd: float, fr: float = 0.0) -> float:
    """Greenwich mean sidereal time (IAU-82, radians in [0, 2pi)) at Julian date jd + fr.

    The time is taken as UT1; passing UTC is off by under a second (see module docstring).
    SGP4's TEME frame is defined against this very angle, which is why the 1982 formula,
    not a newer Earth-rotation model, is the right one here.
    """
    t = ((jd - _J2000) + fr) / 36525.0  # Julian centuries since J2000
    seconds = 67310.54841 + (876600.0 * 3600.0 + 8640184.812866) * t
    seconds += 0.093104 * t * t - 6.2e-6 * t * t * t
    return math.radians(seconds / 240.0) % math.tau  # 240 s of time = 1 degree


def teme_to_earth_fixed(r: tuple[float, float, float], theta: float) -> tuple[float, float, float]:
    """Rotate a TEME vector into the Earth-fixed frame, given GMST ``theta`` (radians)."""
    cos_t, sin_t = math.cos(theta), math.sin(theta)
    x, y, z = r
    return (cos_t * x + sin_t * y, -sin_t * x + cos_t * y, z)


def geodetic(x: float, y: float, z: float) -> tuple[float, float, float]:
    """Earth-fixed x, y, z (km) -> WGS84 geodetic latitude, longitude (deg), height (km).

    Longitude is normalised to [-180, 180). Latitude is found by fixed-point iteration,
    which converges to well under a millimetre in a handful of steps at orbital heights.
    """
    p = math.hypot(x, y)
    longitude = math.degrees(math.atan2(y, x))
    longitude = (longitude + 180.0) % 360.0 - 180.0
    lat = math.atan2(z, p * (1.0 - _E2))
    for _ in range(10):
        sin_lat = math.sin(lat)
        n = WGS84_A_KM / math.sqrt(1.0 - _E2 * sin_lat * sin_lat)
        new_lat = math.atan2(z + _E2 * n * sin_lat, p)
        converged = abs(new_lat - lat) < 1e-12
        lat = new_lat
        if converged:
            break
    sin_lat, cos_lat = math.sin(lat), math.cos(lat)
    n = WGS84_A_KM / math.sqrt(1.0 - _E2 * sin_lat * sin_lat)
    # This form of the height stays well-conditioned at every latitude, poles included.
    height = p * cos_lat + z * sin_lat - WGS84_A_KM * WGS84_A_KM / n
    return math.degrees(lat), longitude, height


def _catalog_number(field_text: str) -> int:
    # Alpha-5: the leading letter stands for 10..33, skipping I and O (Space Force spec).
    if field_text[0].isdigit():
        return int(field_text)
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    if field_text[0] not in alphabet:
        raise TleError(f"catalog number {field_text!r} is not valid Alpha-5")
    return (alphabet.index(field_text[0]) + 10) * 10000 + int(field_text[1:])


def _epoch(line1: str) -> datetime:
    # Columns 19-32: two-digit year (57-99 mean 19xx) and fractional day of year (1 = Jan 1).
    try:
        year = int(line1[18:20])
        day = float(line1[20:32])
    except ValueError:
        raise TleError(f"epoch {line1[18:32].strip()!r} is not YYDDD.DDDDDDDD") from None
    if not 1.0 <= day < 367.0:
        raise TleError(f"epoch day of year {day} is out of range")
    year += 1900 if year >= 57 else 2000
    return datetime(year, 1, 1, tzinfo=UTC) + timedelta(days=day - 1.0)


def _julian(when: datetime) -> tuple[float, float]:
    jd, fr = jday(when.year, when.month, when.day, when.hour, when.minute, 0.0)
    return jd, fr + (when.second + when.microsecond / 1e6) / 86400.0


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"naive datetime {when.isoformat()}: pass a timezone-aware time")
    return when.astimezone(UTC)
