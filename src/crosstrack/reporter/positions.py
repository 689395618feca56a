"""ISS positions: the Position value and the sources that produce one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Position:
    """Where the ISS was, when, and how we know.

    ``time`` is timezone-aware UTC. ``source`` names the source that produced it
    (``open-notify``, ``wheretheiss`` or ``tle``). TLE-derived positions carry the TLE
    epoch and age, and ``estimate`` is true when the TLE is old enough for the position to
    be a rough estimate rather than a measurement-grade one.
    """

    time: datetime
    latitude: float
    longitude: float
    source: str
    altitude_km: float | None = None
    velocity_kmh: float | None = None
    tle_epoch: datetime | None = None
    tle_age_seconds: float | None = None
    estimate: bool = False
