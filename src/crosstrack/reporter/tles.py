"""The freshest ISS TLE: CelesTrak's (cached in memory and in a file) or the bundled one.

CelesTrak's usage policy (https://celestrak.org/usage-policy.php): poll no more than once an
hour; on any non-200 answer (301 included: never follow it) stop querying and tell a human.
An unattended Lambda cannot wait for a human, so after a non-200 it holds off for
:data:`CELESTRAK_HOLD_OFF` and reports the answer in :meth:`TleStore.status` ``.last_error``;
the cached or bundled TLE keeps positions coming meanwhile. After a network error or an
unusable TLE the wait doubles from 2 h up to :data:`CELESTRAK_HOLD_OFF`. After a successful
fetch the next one waits :data:`CELESTRAK_INTERVAL`. Whatever an answer provokes, it is
recorded as CelesTrak's failure and never cached.

Imports: standard library and sgp4 (through :mod:`crosstrack.reporter.orbit`) only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from crosstrack.reporter import orbit
from crosstrack.reporter.deadline import MIN_REQUEST_SECONDS
from crosstrack.reporter.errors import cap_reason
from crosstrack.reporter.fetch import FetchError, http_get

CELESTRAK: Final = "celestrak"  # not a position source: where the tle source gets its TLE
CELESTRAK_URL: Final = "https://celestrak.org/NORAD/elements/gp.php?CATNR=25544&FORMAT=TLE"

CELESTRAK_INTERVAL: Final = timedelta(hours=1)
CELESTRAK_HOLD_OFF: Final = timedelta(hours=24)


@dataclass(frozen=True)
class TleStatus:
    """What the TLE store knows about CelesTrak; handy for logs and the doctor."""

    cached: orbit.Tle | None
    fetched_at: datetime | None
    next_fetch_at: datetime | None
    failures: int
    last_error: str | None


class TleStore:
    """The freshest ISS TLE: CelesTrak's (kept in memory and in a file) or the bundled one.

    :meth:`freshest` asks CelesTrak only when the policy allows (see
    :data:`CELESTRAK_INTERVAL` and :data:`CELESTRAK_HOLD_OFF`); the schedule is kept in the
    cache file too, so a cold start within the hour does not ask again. A fetched TLE is
    validated (two lines, checksums, catalog number 25544, accepted by SGP4) before it is
    cached; a failed fetch never replaces a good cached TLE. Thread-safe.
    """

    def __init__(
        self,
        *,
        url: str = CELESTRAK_URL,
        timeout: float = 3.0,
        cache_dir: Path | None = None,
        bundled: orbit.Tle | None = None,
    ) -> None:
        self.url = url
        self.timeout = timeout
        directory = Path(cache_dir) if cache_dir is not None else Path(tempfile.gettempdir())
        # One file per URL, so a test or demo server never poisons the real cache.
        digest = hashlib.sha256(url.encode()).hexdigest()[:12]
        self.cache_file = directory / f"crosstrack-celestrak-{digest}.json"
        self._bundled = bundled
        self._lock = threading.Lock()
        self._status: TleStatus | None = None  # loaded from the file on first use

    @property
    def bundled(self) -> orbit.Tle:
        """The TLE to fall back on (the package's own unless one was given)."""
        return self._bundled if self._bundled is not None else orbit.bundled_tle()

    def status(self) -> TleStatus:
        """The cached TLE and fetch schedule, as memory (or else the cache file) has them."""
        with self._lock:
            return self._load()

    def cached(self) -> orbit.Tle | None:
        """The CelesTrak TLE in memory or in the cache file, without any network access."""
        return self.status().cached

    def freshest(self, now: datetime, *, budget: float | None = None) -> orbit.Tle:
        """Fetch from CelesTrak if the policy allows, then return the newest TLE known.

        ``budget`` (seconds) bounds the fetch below the store's own timeout; with less than
        :data:`MIN_REQUEST_SECONDS` the fetch waits for a later invocation (it is not a
        failure of CelesTrak's, so it does not back off).
        """
        timeout = self.timeout if budget is None else min(self.timeout, budget)
        with self._lock:
            status = self._load()
            due = status.next_fetch_at is None or now >= status.next_fetch_at
            if due and timeout >= MIN_REQUEST_SECONDS:
                status = self._fetch(status, now, timeout)
                self._status = status
                self._save(status)
            return newer(status.cached, self.bundled)

    def _fetch(self, status: TleStatus, now: datetime, timeout: float) -> TleStatus:
        try:
            body = http_get(self.url, timeout=timeout, accept="text/plain", follow_redirects=False)
            text = body.decode("ascii")
            tle = orbit.parse_tle(text)
        except FetchError as exc:
            # A non-200 answer is CelesTrak telling us to stop: hold off for the full period.
            hold = exc.status is not None
            return self._failed(status, now, f"{CELESTRAK}: {exc}", hold_off=hold)
        except UnicodeDecodeError:
            return self._failed(status, now, f"{CELESTRAK}: answer is not ASCII text")
        except orbit.TleError as exc:
            return self._failed(status, now, f"{CELESTRAK}: invalid TLE: {exc}")
        except Exception as exc:
            # Whatever else an answer provokes, the cached or bundled TLE still serves.
            return self._failed(status, now, f"{CELESTRAK}: {type(exc).__name__}: {exc}")
        return TleStatus(
            cached=tle,
            fetched_at=now,
            next_fetch_at=now + CELESTRAK_INTERVAL,
            failures=0,
            last_error=None,
        )

    @staticmethod
    def _failed(
        status: TleStatus, now: datetime, reason: str, *, hold_off: bool = False
    ) -> TleStatus:
        failures = status.failures + 1
        if hold_off:
            wait = CELESTRAK_HOLD_OFF
        else:
            wait = min(CELESTRAK_INTERVAL * 2**failures, CELESTRAK_HOLD_OFF)
        return TleStatus(
            cached=status.cached,
            fetched_at=status.fetched_at,
            next_fetch_at=now + wait,
            failures=failures,
            last_error=cap_reason(reason),
        )

    def _load(self) -> TleStatus:
        if self._status is None:
            self._status = self._read_file()
        return self._status

    def _read_file(self) -> TleStatus:
        empty = TleStatus(None, None, None, 0, None)
        try:
            data = json.loads(self.cache_file.read_text(encoding="utf-8"))
            tle = orbit.parse_tle(data["tle"]) if data.get("tle") else None
            return TleStatus(
                cached=tle,
                fetched_at=_parse_time(data.get("fetched_at")),
                next_fetch_at=_parse_time(data.get("next_fetch_at")),
                failures=int(data.get("failures", 0)),
                last_error=data.get("last_error"),
            )
        except FileNotFoundError:
            return empty
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            # A corrupt or foreign cache file is ignored (and replaced on the next save);
            # re-validating the TLE in it means a damaged file can never feed SGP4.
            return empty

    def _save(self, status: TleStatus) -> None:
        data = {
            "url": self.url,
            "tle": status.cached.text if status.cached else None,
            "fetched_at": _format_time(status.fetched_at),
            "next_fetch_at": _format_time(status.next_fetch_at),
            "failures": status.failures,
            "last_error": status.last_error,
        }
        # Write-then-rename, so a concurrent reader sees the old file or the new, never half.
        tmp: str | None = None
        try:
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.cache_file.parent, prefix=".crosstrack-")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
            os.replace(tmp, self.cache_file)
        except OSError:
            # An unwritable cache directory costs at most an extra fetch per cold start;
            # the in-memory state still enforces the schedule within this process.
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


def newer(cached: orbit.Tle | None, bundled: orbit.Tle) -> orbit.Tle:
    """The cached TLE if it is at least as new as the bundled one, else the bundled one."""
    return cached if cached is not None and cached.epoch >= bundled.epoch else bundled


def _format_time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_time(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(value)
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(value)
    return parsed
