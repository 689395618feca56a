"""The log's record formats: the text header and records, JSON Lines records, content types.

See :mod:`crosstrack.reporter.ledger` for the formats' description (design.md, "Log object").

Imports: standard library only (this ships in the Lambda zip).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

from crosstrack.reporter.positions import Position

HEADER: Final = "ISS Location Logs\n===================\n\n"
# What identifies a log: the two header lines. The blank line after them is not required
# (an object holding only the two lines is still the original's bare header).
HEADER_LINES: Final = HEADER[:-1]

CONTENT_TYPES: Final[Mapping[str, str]] = {
    "text": "text/plain; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
}


def as_utc(moment: datetime, what: str) -> datetime:
    """``moment`` in UTC; a naive one is a ValueError naming ``what``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def _coordinate(value: float, what: str, limit: float) -> float:
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise ValueError(f"{what} {value!r} is not a finite number in [-{limit:g}, {limit:g}]")
    return value


def _four_decimals(value: float) -> str:
    text = f"{value:.4f}"
    # A tiny negative value rounds to "-0.0000"; open-notify never prints a signed zero.
    return "0.0000" if text == "-0.0000" else text


def format_text_record(position: Position) -> str:
    """The original's record: ``Time:``/``Latitude:``/``Longitude:`` lines and a blank line."""
    moment = as_utc(position.time, "position time")
    latitude = _coordinate(position.latitude, "latitude", 90)
    longitude = _coordinate(position.longitude, "longitude", 180)
    return (
        f"Time: {moment:%Y-%m-%d %H:%M:%S}\n"
        f"Latitude: {_four_decimals(latitude)}\n"
        f"Longitude: {_four_decimals(longitude)}\n\n"
    )


def _iso(moment: datetime | None, what: str) -> str | None:
    if moment is None:
        return None
    return as_utc(moment, what).isoformat().replace("+00:00", "Z")


def format_jsonl_record(position: Position, event_id: str | None) -> str:
    """One JSON object and a newline, carrying everything known about the position."""
    record = {
        "time": _iso(position.time, "position time"),
        "latitude": _coordinate(position.latitude, "latitude", 90),
        "longitude": _coordinate(position.longitude, "longitude", 180),
        "source": position.source,
        "altitude_km": position.altitude_km,
        "velocity_kmh": position.velocity_kmh,
        "tle_epoch": _iso(position.tle_epoch, "TLE epoch"),
        "tle_age_seconds": position.tle_age_seconds,
        "estimate": position.estimate,
        "event_id": event_id,
    }
    return json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n"
