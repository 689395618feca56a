"""``--follow``: poll the log cheaply and yield each new record exactly once.

Each poll is one conditional GET per watched object (``If-None-Match: <etag>``): S3
answers 304 Not Modified, with no body, while nothing was appended.
https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax

The reporter only ever appends (a conditional PutObject of the old body plus a record), so
a changed object starts with everything already read: the follower keeps, per object, how
many leading lines are settled and a digest of their bytes, and yields only the records
after them. If the prefix differs (someone rewrote the object), it says so on stderr and
yields only records newer than the newest it has yielded from that object, so nothing is
printed twice either way.

Daily layout: the watched object is today's (UTC, from the injected clock). For
:data:`DAY_GRACE` after midnight yesterday's object is polled too, because a record's day
is its *scheduled* time and a retried 23:55 event may append to it after midnight.
Before a day's first record its object does not exist: a 404 (or the 403 S3 gives for a
missing key without ``s3:ListBucket``) counts as "nothing yet".
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from crosstrack.logbook.errors import LogAccessError
from crosstrack.logbook.records import Record, parse_log
from crosstrack.logbook.source import S3Log, decode

DAY_GRACE: Final = timedelta(minutes=30)
DEFAULT_INTERVAL: Final = 30.0  # seconds; the deployed schedule writes every 5 minutes

Warn = Callable[[str], None]


@dataclass
class _Seen:
    """What has been read of one object."""

    etag: str | None = None
    lines: int = 0  # leading lines already settled (their records were yielded)
    size: int = 0  # their bytes
    digest: bytes = b""
    newest: datetime | None = None
    reported: frozenset[str] = frozenset()  # problems already reported
    gone: bool = False  # deleted after it was read (said once)


def _settled_bytes(data: bytes, lines: int) -> int:
    offset = 0
    for _ in range(lines):
        end = data.find(b"\n", offset)
        if end < 0:
            return len(data)
        offset = end + 1
    return offset


class Follower:
    """Polls the watched objects of ``log``; :meth:`poll` returns only new records."""

    def __init__(
        self,
        log: S3Log,
        *,
        clock: Callable[[], datetime],
        warn: Warn,
        grace: timedelta = DAY_GRACE,
    ) -> None:
        self.log = log
        self.clock = clock
        self.warn = warn
        self.grace = grace
        self.requests = 0
        self.not_modified = 0
        self._seen: dict[str, _Seen] = {}

    def watched(self, now: datetime) -> list[str]:
        """The keys to poll at ``now``, oldest first."""
        location = self.log.location
        if location.layout == "single":
            return [location.key]
        today = now.astimezone(UTC)
        keys = [location.key_for(today.date())]
        midnight = today.replace(hour=0, minute=0, second=0, microsecond=0)
        if today - midnight < self.grace:
            keys.insert(0, location.key_for(today.date() - timedelta(days=1)))
        return keys

    def poll(self) -> list[Record]:
        """One round: a conditional GET per watched key; the records not yielded before."""
        new: list[Record] = []
        for key in self.watched(self.clock()):
            new.extend(self._poll_key(key))
        return new

    def _poll_key(self, key: str) -> list[Record]:
        seen = self._seen.setdefault(key, _Seen())
        self.requests += 1
        try:
            fetched = self.log.fetch(key, seen.etag, missing_ok=True)
        except LogAccessError:
            if seen.etag is not None or self.log.location.layout == "single":
                raise
            return []  # a day not written yet, seen without s3:ListBucket
        if fetched.body is None:
            self.not_modified += 0 if fetched.missing else 1
            if fetched.missing and seen.etag is not None and not seen.gone:
                seen.gone = True
                self.warn(f"s3://{self.log.location.bucket}/{key} was deleted; still polling")
            return []
        seen.gone = False
        name = f"s3://{self.log.location.bucket}/{key}"
        data = fetched.body
        result = parse_log(decode(name, data))
        prefix_kept = seen.etag is None or (
            len(data) >= seen.size and hashlib.sha256(data[: seen.size]).digest() == seen.digest
        )
        if prefix_kept:
            fresh = [r for r in result.records if r.line > seen.lines]
        else:
            self.warn(
                f"{name} was rewritten (its first {seen.lines} lines changed); "
                "showing only records newer than the last one shown"
            )
            fresh = [r for r in result.records if seen.newest is None or r.time > seen.newest]
        for problem in result.problems:
            text = problem.describe(name)
            if (problem.line > seen.lines or not prefix_kept) and text not in seen.reported:
                self.warn(text)
                seen.reported = seen.reported | {text}
        seen.etag = fetched.etag
        seen.lines = result.settled_lines
        seen.size = _settled_bytes(data, result.settled_lines)
        seen.digest = hashlib.sha256(data[: seen.size]).digest()
        if fresh:
            newest = max(r.time for r in fresh)
            seen.newest = newest if seen.newest is None else max(seen.newest, newest)
        return fresh

    def run(
        self, *, sleep: Callable[[float], None], interval: float, polls: int | None = None
    ) -> Iterator[list[Record]]:
        """Sleep ``interval`` seconds, poll, yield the new records; forever or ``polls`` times."""
        done = 0
        while polls is None or done < polls:
            sleep(interval)
            yield self.poll()
            done += 1
