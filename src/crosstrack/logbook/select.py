"""Which records to show: ``--since``/``--until`` (ISO 8601 UTC or a duration) and ``--last``."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from crosstrack.logbook.errors import LogbookInputError
from crosstrack.logbook.records import Record

Clock = Callable[[], datetime]

_DURATION: Final = re.compile(r"^(\d+)([smhdw])$")
_UNITS: Final = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_when(text: str, *, flag: str, now: datetime) -> datetime:
    """``90m``/``6h``/``2d`` back from ``now``, or an ISO 8601 time (UTC when no offset)."""
    value = text.strip()
    match = _DURATION.match(value.lower())
    if match:
        amount = int(match[1])
        if amount > 100_000:
            raise LogbookInputError(f"{flag} {text!r}: duration too large")
        return now - timedelta(**{_UNITS[match[2]]: amount})
    iso = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        raise LogbookInputError(
            f"{flag} {text!r} is neither a duration (90m, 6h, 2d) nor an ISO 8601 time "
            "(2026-11-27T12:00:00Z, 2026-11-27)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # documented: times without an offset are UTC
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+05:00 is before year 1 in UTC
        raise LogbookInputError(f"{flag} {text!r} is out of range in UTC") from None


@dataclass(frozen=True)
class Selection:
    """Records at or after ``since``, at or before ``until``, then the ``last`` N of them."""

    since: datetime | None = None
    until: datetime | None = None
    last: int | None = None

    @classmethod
    def from_flags(
        cls, since: str | None, until: str | None, last: int | None, *, now: datetime
    ) -> Selection:
        start = parse_when(since, flag="--since", now=now) if since else None
        end = parse_when(until, flag="--until", now=now) if until else None
        if start is not None and end is not None and start > end:
            raise LogbookInputError(
                f"--since ({start:%Y-%m-%dT%H:%M:%SZ}) is after --until ({end:%Y-%m-%dT%H:%M:%SZ})"
            )
        if last is not None and last < 1:
            raise LogbookInputError(f"--last {last}: give a positive number of records")
        return cls(start, end, last)

    def admits(self, record: Record) -> bool:
        """Within ``since``/``until`` (``last`` is applied to the whole list)."""
        if self.since is not None and record.time < self.since:
            return False
        return self.until is None or record.time <= self.until

    def apply(self, records: Iterable[Record]) -> list[Record]:
        kept = [r for r in records if self.admits(r)]
        return kept[-self.last :] if self.last is not None else kept


def in_time_order(records: Sequence[Record]) -> list[Record]:
    """Sorted by time, stable (the log is in append order; a retried event can land late)."""
    return sorted(records, key=lambda r: r.time)
