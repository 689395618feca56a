"""The map's geometry, pure and stdlib-only: projection, track splitting, the Sun.

* Equirectangular (plate carrée) projection: x = longitude, y = latitude, scaled into a
  pixel box of aspect 2:1 (:func:`map_box`, :func:`to_pixel`).
* The ground track is split into drawable runs: where it crosses the antimeridian (the
  run ends at the map edge and the next starts at the opposite edge, at the interpolated
  latitude), where the kind of source changes, and where two records are so far apart in
  time that a straight line between them would be fiction.
* The subsolar point from the NOAA low-precision solar position formulas (declination
  and equation of time from the fractional year; about 0.1 degree), and the
  day/night terminator it defines.
  https://gml.noaa.gov/grad/solcalc/solareqns.PDF
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

Point = tuple[float, float]  # (longitude, latitude) in degrees

# A third of an orbit (the ISS circles the Earth in about 92 minutes): records further
# apart than this are not joined by a line.
DEFAULT_MAX_GAP: Final = timedelta(minutes=30)


@dataclass(frozen=True)
class MapBox:
    """Where the map is in the image, in pixels from the top-left corner."""

    left: float
    top: float
    width: float
    height: float


def map_box(width: int, height: int, *, top_band: float, margin: float) -> MapBox:
    """The largest 2:1 box inside the image below a title band, centred horizontally."""
    room_w = width - 2 * margin
    room_h = height - top_band - margin
    box_w = min(room_w, 2 * room_h)
    box_h = box_w / 2
    return MapBox((width - box_w) / 2, top_band + (room_h - box_h) / 2, box_w, box_h)


def to_pixel(longitude: float, latitude: float, box: MapBox) -> tuple[float, float]:
    """The pixel (x right, y down, from the image's top-left) of a point on the map."""
    x = box.left + (longitude + 180.0) / 360.0 * box.width
    y = box.top + (90.0 - latitude) / 180.0 * box.height
    return x, y


def _crossing_latitude(a: Point, b: Point) -> tuple[float, float]:
    """Where the segment a->b (the short way round) meets the antimeridian: (edge lon of a, lat)."""
    lon_a, lat_a = a
    lon_b, lat_b = b
    edge = 180.0 if lon_a > 0 else -180.0
    lon_b_unwrapped = lon_b + 360.0 if edge > 0 else lon_b - 360.0
    span = lon_b_unwrapped - lon_a
    t = (edge - lon_a) / span if span else 0.0
    return edge, lat_a + t * (lat_b - lat_a)


def crosses_antimeridian(a: Point, b: Point) -> bool:
    """True when the short way from a to b crosses +-180 (a jump of more than 180 degrees)."""
    return abs(b[0] - a[0]) > 180.0


def split_track(
    points: Sequence[Point],
    kinds: Sequence[str],
    times: Sequence[datetime] | None = None,
    *,
    max_gap: timedelta = DEFAULT_MAX_GAP,
) -> list[tuple[str, list[Point]]]:
    """Runs of ``(kind, points)``, each drawable as one line on the flat map.

    A segment takes the kind of the record it ends at. A run breaks at the antimeridian
    (both sides get the crossing point on their edge), where the kind changes (the new
    run starts at the previous point, so the track stays continuous), and at gaps longer
    than ``max_gap``. Only runs of two or more points are returned (the records
    themselves are drawn as markers).
    """
    if len(points) != len(kinds) or (times is not None and len(times) != len(points)):
        raise ValueError("points, kinds and times must have the same length")
    if not points:
        return []
    runs: list[tuple[str, list[Point]]] = []
    current: list[Point] = [points[0]]
    kind = kinds[0]
    for i in range(1, len(points)):
        a, b = points[i - 1], points[i]
        if times is not None and times[i] - times[i - 1] > max_gap:
            runs.append((kind, current))
            current, kind = [b], kinds[i]
            continue
        if kinds[i] != kind:
            runs.append((kind, current))
            current, kind = [a], kinds[i]
        if crosses_antimeridian(a, b):
            edge, lat = _crossing_latitude(a, b)
            current.append((edge, lat))
            runs.append((kind, current))
            current = [(-edge, lat)]
        current.append(b)
    runs.append((kind, current))
    return [run for run in runs if len(run[1]) > 1]


def subsolar_point(when: datetime) -> Point:
    """(longitude, latitude) where the Sun is overhead at ``when`` (NOAA, ~0.1 degree)."""
    if when.tzinfo is None:
        raise ValueError("subsolar_point needs a timezone-aware time")
    t = when.astimezone(UTC)
    start = datetime(t.year, 1, 1, tzinfo=UTC)
    days_in_year = (datetime(t.year + 1, 1, 1, tzinfo=UTC) - start).days
    hours = t.hour + t.minute / 60 + (t.second + t.microsecond / 1e6) / 3600
    gamma = 2 * math.pi / days_in_year * ((t - start).days + (hours - 12) / 24)  # radians
    eqtime = 229.18 * (
        0.000075
        + 0.001868 * math.cos(gamma)
        - 0.032077 * math.sin(gamma)
        - 0.014615 * math.cos(2 * gamma)
        - 0.040849 * math.sin(2 * gamma)
    )  # minutes
    decl = (
        0.006918
        - 0.399912 * math.cos(gamma)
        + 0.070257 * math.sin(gamma)
        - 0.006758 * math.cos(2 * gamma)
        + 0.000907 * math.sin(2 * gamma)
        - 0.002697 * math.cos(3 * gamma)
        + 0.00148 * math.sin(3 * gamma)
    )  # radians
    # Local solar noon at longitude L happens at 12h - L/15 - eqtime/60 UTC, so the Sun is
    # overhead where that equals the current time.
    longitude = -15.0 * (hours - 12.0 + eqtime / 60.0)
    longitude = (longitude + 180.0) % 360.0 - 180.0
    return longitude, math.degrees(decl)


def is_night(point: Point, sun: Point) -> bool:
    """True when the Sun is below the horizon at ``point`` (a spherical Earth, no refraction)."""
    lon, lat = map(math.radians, point)
    slon, slat = map(math.radians, sun)
    cos_angle = math.sin(lat) * math.sin(slat) + math.cos(lat) * math.cos(slat) * math.cos(
        lon - slon
    )
    return cos_angle < 0


def terminator(sun: Point, steps: int = 361) -> list[Point]:
    """The day/night boundary as latitude for each longitude from -180 to 180."""
    slon, slat = sun
    # At an equinox the terminator is a meridian pair; a tiny tilt keeps tan() finite.
    tan_decl = math.tan(math.radians(slat if abs(slat) > 1e-6 else 1e-6))
    points = []
    for i in range(steps):
        lon = -180.0 + 360.0 * i / (steps - 1)
        lat = math.degrees(math.atan(-math.cos(math.radians(lon - slon)) / tan_decl))
        points.append((lon, lat))
    return points


def night_pole(sun: Point) -> float:
    """The latitude (+90 or -90) on the night side of the terminator curve."""
    return -90.0 if sun[1] >= 0 else 90.0
