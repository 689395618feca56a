"""Records written by the reporter's own formatting code, so parsing is checked against it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crosstrack.reporter.ledger import format_jsonl_record, format_text_record
from crosstrack.reporter.positions import Position, offline_position

START = datetime(2025, 11, 10, 6, 0, tzinfo=UTC)  # hours after the bundled TLE's epoch


def positions(count: int, start: datetime = START, step_minutes: int = 5) -> list[Position]:
    """The ISS every ``step_minutes`` from the bundled TLE (the reporter's offline source)."""
    return [offline_position(start + timedelta(minutes=step_minutes * i)) for i in range(count)]


def live(position: Position) -> Position:
    """The same point as if open-notify had answered it (4 decimals, no TLE fields)."""
    return Position(
        time=position.time,
        latitude=round(position.latitude, 4),
        longitude=round(position.longitude, 4),
        source="open-notify",
    )


def text_records(items: list[Position]) -> str:
    return "".join(format_text_record(p) for p in items)


def jsonl_records(items: list[Position]) -> str:
    return "".join(format_jsonl_record(p, f"event-{i}") for i, p in enumerate(items))
