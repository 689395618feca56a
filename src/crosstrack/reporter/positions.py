"""ISS positions: the Position value, the sources that produce one, and the fallback chain.

Three sources, tried in the configured order (``ISS_SOURCES``):

``open-notify``  http://api.open-notify.org/iss-now.json (plain HTTP only; its coordinates
                 are strings with 4 decimals). Known failure modes: 504s and a frozen
                 timestamp, which is why every answer's age is checked.
``wheretheiss``  https://api.wheretheiss.at/v1/satellites/25544 (numbers; altitude in km and
                 velocity in km/h).
``tle``          SGP4 (:mod:`crosstrack.reporter.orbit`) from the freshest TLE available: one
                 fetched from CelesTrak's GP API (kept in memory and in a file, fetched at most
                 hourly, never retried early after a failure: :mod:`crosstrack.reporter.tles`),
                 else the TLE bundled in the package. It answers without the network, so it
                 is the last resort.

A live answer is accepted only if it is HTTP 200, at most 16 KiB, strict JSON of the
documented shape and types (no NaN or Infinity, no number beyond a double or longer than 19
digits, coordinate strings of ASCII digits only), within the coordinate ranges, with an ISS
altitude and velocity (:data:`ALTITUDE_KM`, :data:`VELOCITY_KMH`), and neither from the
future (more than :data:`MAX_CLOCK_SKEW`) nor older than ``max_age_seconds``. A TLE older
than ``max_tle_age_days`` is refused too. Whatever goes wrong while fetching, decoding or
validating an answer (a :class:`SourceError`, or any other exception: a parser's
RecursionError, an OverflowError...) is that source's failure, recorded with a reason of at
most :data:`MAX_REASON_CHARS` characters, and :func:`locate` moves on to the next source.
Each source makes one request per invocation and never retries: open-notify asks for at
most one request per 5 seconds, and the next source is a better answer than a second try.

Time: every request is bounded in total time by its timeout and by the invocation's
:class:`~crosstrack.reporter.deadline.Deadline`, keeping time for the offline source; see
:mod:`crosstrack.reporter.fetch` (urllib, the only HTTP library in the Lambda zip).

(Over 400 lines because the validation of each answer sits next to the source it guards;
HTTP, the deadline and the TLE store live in their own modules.)
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final, NoReturn, Protocol

from crosstrack.reporter import orbit
from crosstrack.reporter.deadline import (
    MIN_REQUEST_SECONDS,
    OFFLINE_RESERVE_SECONDS,
    Deadline,
)
from crosstrack.reporter.errors import (
    MAX_REASON_CHARS,
    AllSourcesFailedError,
    ReporterError,
    SourceError,
    cap_reason,
)
from crosstrack.reporter.fetch import MAX_BODY_BYTES, FetchError, http_get
from crosstrack.reporter.tles import (
    CELESTRAK,
    CELESTRAK_HOLD_OFF,
    CELESTRAK_INTERVAL,
    CELESTRAK_URL,
    TleStatus,
    TleStore,
    newer,
)

OPEN_NOTIFY: Final = "open-notify"
WHERETHEISS: Final = "wheretheiss"
TLE: Final = "tle"

DEFAULT_URLS: Final[Mapping[str, str]] = {
    OPEN_NOTIFY: "http://api.open-notify.org/iss-now.json",
    WHERETHEISS: "https://api.wheretheiss.at/v1/satellites/25544",
    CELESTRAK: CELESTRAK_URL,
}

# A live timestamp this far ahead of our clock is a broken source, not clock drift
# (Lambda's clock is NTP-synchronised).
MAX_CLOCK_SKEW: Final = timedelta(seconds=60)

# Re-exported: what a source accepts, and the TLE store the tle source reads from.
__all__ = [
    "CELESTRAK_HOLD_OFF",
    "CELESTRAK_INTERVAL",
    "MAX_BODY_BYTES",
    "MAX_REASON_CHARS",
    "TleStatus",
    "TleStore",
    "cap_reason",
]

# What an ISS position may claim. The ISS flies at 370-460 km (it is reboosted before drag
# brings it lower) at about 27,600 km/h; any orbit from 150 km (re-entry within days) to
# 1,000 km moves at 26,400-28,200 km/h. Outside these ranges an answer is not the ISS.
ALTITUDE_KM: Final = (150.0, 1000.0)
VELOCITY_KMH: Final = (25_000.0, 30_000.0)

# The longest number an answer needs: Unix seconds and coordinates have < 20 digits.
MAX_INTEGER_DIGITS: Final = 19
MAX_NUMBER_CHARS: Final = 40
# open-notify's coordinate strings, e.g. "-80.6881": ASCII only, because float() also
# takes "NaN", "inf", "1_0", " 1 " and digits of any script (Arabic-Indic "\u0661\u0667").
_DECIMAL = re.compile(r"[+-]?[0-9]{1,3}(?:\.[0-9]{1,15})?", re.ASCII)

DEFAULT_MAX_TLE_AGE_DAYS: Final = 14


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


class PositionSource(Protocol):
    """Something that can say where the ISS is now; :func:`locate` tries them in order."""

    name: str

    def fetch(self, deadline: Deadline | None = None) -> Position:
        """Return a validated position by ``deadline``, or raise saying why not.

        A source that needs no network sets ``offline = True``: :func:`locate` keeps
        time for it after the live ones.
        """
        ...


class SourceFailure(SourceError):
    """A :class:`SourceError` that keeps the source's name and the bare reason apart.

    ``str(exc)`` is ``"<source>: <reason>"``, e.g. ``"open-notify: HTTP 504"``; the reason
    is cut to :data:`MAX_REASON_CHARS`.
    """

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason = cap_reason(reason)
        super().__init__(f"{source}: {reason}")


Clock = Callable[[], datetime]


class ParseAnswer(Protocol):
    """Turns a live source's HTTP body into a validated Position (or SourceFailure)."""

    def __call__(self, body: bytes, *, now: datetime, max_age_seconds: int) -> Position: ...


def utc_now() -> datetime:
    """The current time, timezone-aware UTC (the default clock)."""
    return datetime.now(UTC)


# ---------------------------------------------------------------- validation helpers


class _Invalid(ReporterError):
    """An answer failed validation; the message is the reason (without the source name)."""


_JSON_TYPES: Final = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    type(None): "null",
}


def _describe(value: object) -> str:
    """Name a JSON value's type, with the value itself when it is short and scalar."""
    kind = _JSON_TYPES.get(type(value), type(value).__name__)
    if value is None or isinstance(value, dict | list):
        return kind
    # ascii(): a log line never carries another script's digits or control characters.
    shown = json.dumps(value) if isinstance(value, bool) else ascii(value)
    return f"{kind} {shown}" if len(shown) <= 40 else kind


def _strict_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _Invalid(
            f"response has a {len(text.lstrip('-'))}-digit number "
            f"(at most {MAX_INTEGER_DIGITS} digits accepted)"
        )
    return int(text)


def _strict_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Invalid(f"response has a {len(text)}-character number")
    number = float(text)
    if not math.isfinite(number):
        raise _Invalid(f"response has the number {text}, beyond the range of a double")
    return number


def _no_constant(name: str) -> NoReturn:
    raise _Invalid(f"response has {name}, which is not a JSON number")


def _json_object(body: bytes) -> dict[str, object]:
    # The hooks make the parser strict: JSON has no NaN/Infinity (RFC 8259, section 6),
    # and a 5,000-digit integer would otherwise raise ValueError from int() itself.
    try:
        payload = json.loads(
            body,
            parse_int=_strict_int,
            parse_float=_strict_float,
            parse_constant=_no_constant,
        )
    except RecursionError:
        raise _Invalid("response is not JSON this parser can read (nested too deeply)") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        snippet = body[:40].decode("utf-8", "replace").strip()
        raise _Invalid(f"response is not JSON ({exc}; starts with {snippet!a})") from None
    if not isinstance(payload, dict):
        raise _Invalid(f"response is {_describe(payload)}, expected a JSON object")
    return payload


def _get(obj: Mapping[str, object], key: str, path: str) -> object:
    if key not in obj:
        raise _Invalid(f"missing field '{path}'")
    return obj[key]


def _number(value: object, path: str) -> float:
    # bool is an int subclass in Python, but true/false is no coordinate.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid(f"field '{path}' is {_describe(value)}, expected a number")
    number = float(value)
    if not math.isfinite(number):
        raise _Invalid(f"field '{path}' is {value}, expected a finite number")
    return number


def _decimal_string(value: object, path: str) -> float:
    if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
        raise _Invalid(
            f"field '{path}' is {_describe(value)}, expected a decimal string of ASCII digits"
        )
    return float(value)


def _plausible(altitude_km: float | None, velocity_kmh: float | None) -> None:
    low, high = ALTITUDE_KM
    if altitude_km is not None and not low <= altitude_km <= high:
        raise _Invalid(
            f"altitude {altitude_km:g} km is not an ISS altitude (expected {low:g} to {high:g} km)"
        )
    low, high = VELOCITY_KMH
    if velocity_kmh is not None and not low <= velocity_kmh <= high:
        raise _Invalid(
            f"velocity {velocity_kmh:g} km/h is not an ISS velocity "
            f"(expected {low:g} to {high:g} km/h)"
        )


def _coordinates(latitude: float, longitude: float) -> None:
    if not -90.0 <= latitude <= 90.0:
        raise _Invalid(f"latitude {latitude} out of range [-90, 90]")
    if not -180.0 <= longitude <= 180.0:
        raise _Invalid(f"longitude {longitude} out of range [-180, 180]")


def _timestamp(value: object, path: str, *, now: datetime, max_age_seconds: int) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"field '{path}' is {_describe(value)}, expected integer Unix seconds")
    try:
        when = datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise _Invalid(f"timestamp {value} is not a valid Unix time") from None
    shown = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    age = (now - when).total_seconds()
    if -age > MAX_CLOCK_SKEW.total_seconds():
        raise _Invalid(
            f"timestamp {shown} is {-age:.0f} s in the future "
            f"(max clock skew {MAX_CLOCK_SKEW.total_seconds():.0f} s)"
        )
    if age > max_age_seconds:
        raise _Invalid(f"timestamp {shown} is {age:.0f} s old (max {max_age_seconds} s)")
    return when


def _now(clock: Clock) -> datetime:
    now = clock()
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("the clock returned a naive datetime; it must be timezone-aware")
    return now.astimezone(UTC)


# --------------------------------------------------------------------- live sources


def parse_open_notify(body: bytes, *, now: datetime, max_age_seconds: int) -> Position:
    """Validate an open-notify ``iss-now.json`` answer and turn it into a Position.

    Shape: ``{"message": "success", "timestamp": <int>, "iss_position": {"latitude":
    "<decimal>", "longitude": "<decimal>"}}``. Raises :class:`SourceFailure`.
    """
    try:
        payload = _json_object(body)
        message = _get(payload, "message", "message")
        if message != "success":
            raise _Invalid(f"message is {_describe(message)}, expected 'success'")
        where = _get(payload, "iss_position", "iss_position")
        if not isinstance(where, dict):
            raise _Invalid(f"field 'iss_position' is {_describe(where)}, expected an object")
        latitude = _decimal_string(
            _get(where, "latitude", "iss_position.latitude"), "iss_position.latitude"
        )
        longitude = _decimal_string(
            _get(where, "longitude", "iss_position.longitude"), "iss_position.longitude"
        )
        stamp = _get(payload, "timestamp", "timestamp")
        _coordinates(latitude, longitude)
        when = _timestamp(stamp, "timestamp", now=now, max_age_seconds=max_age_seconds)
    except _Invalid as exc:
        raise SourceFailure(OPEN_NOTIFY, str(exc)) from None
    return Position(time=when, latitude=latitude, longitude=longitude, source=OPEN_NOTIFY)


def parse_wheretheiss(body: bytes, *, now: datetime, max_age_seconds: int) -> Position:
    """Validate a wheretheiss.at ``/v1/satellites/25544`` answer and turn it into a Position.

    Required: numeric ``latitude``, ``longitude`` and integer ``timestamp``; ``altitude``
    and ``velocity`` (numbers) are kept when present; ``id`` must be 25544 and ``units``
    kilometers when present (the miles variant would misstate altitude and velocity).
    Raises :class:`SourceFailure`.
    """
    try:
        payload = _json_object(body)
        if "id" in payload and payload["id"] != orbit.ISS_CATALOG_NUMBER:
            raise _Invalid(f"id is {_describe(payload['id'])}, expected {orbit.ISS_CATALOG_NUMBER}")
        if "units" in payload and payload["units"] != "kilometers":
            raise _Invalid(f"units is {_describe(payload['units'])}, expected 'kilometers'")
        latitude = _number(_get(payload, "latitude", "latitude"), "latitude")
        longitude = _number(_get(payload, "longitude", "longitude"), "longitude")
        stamp = _get(payload, "timestamp", "timestamp")
        altitude = _number(payload["altitude"], "altitude") if "altitude" in payload else None
        velocity = _number(payload["velocity"], "velocity") if "velocity" in payload else None
        _coordinates(latitude, longitude)
        _plausible(altitude, velocity)
        when = _timestamp(stamp, "timestamp", now=now, max_age_seconds=max_age_seconds)
    except _Invalid as exc:
        raise SourceFailure(WHERETHEISS, str(exc)) from None
    return Position(
        time=when,
        latitude=latitude,
        longitude=longitude,
        source=WHERETHEISS,
        altitude_km=altitude,
        velocity_kmh=velocity,
    )


@dataclass
class HttpSource:
    """A live JSON source: one GET per :meth:`fetch`, then ``parse`` validates the body."""

    name: str
    url: str
    parse: ParseAnswer
    timeout: float
    max_age_seconds: int
    clock: Clock = utc_now
    offline: bool = False

    def fetch(self, deadline: Deadline | None = None) -> Position:
        """GET the URL once (no retry) and return the validated position.

        The request takes at most ``timeout`` seconds in all, and never runs past
        ``deadline``; with less than :data:`MIN_REQUEST_SECONDS` left it is not made.
        """
        budget = (deadline or Deadline.none()).budget(self.timeout)
        if budget < MIN_REQUEST_SECONDS:
            raise SourceFailure(
                self.name, f"skipped: {max(budget, 0):.1f} s left before the invocation's deadline"
            )
        try:
            body = http_get(self.url, timeout=budget, accept="application/json")
        except FetchError as exc:
            raise SourceFailure(self.name, str(exc)) from None
        # The age is judged against the clock after the answer arrived: a slow answer
        # must not make an old timestamp look fresh.
        now = _now(self.clock)
        return self.parse(body, now=now, max_age_seconds=self.max_age_seconds)


# ------------------------------------------------------------------ the TLE source


def tle_position(tle: orbit.Tle, when: datetime, *, max_age_days: float | None = None) -> Position:
    """The ISS position at ``when`` propagated from ``tle`` (source ``tle``).

    Raises :class:`SourceFailure` if the TLE's epoch is more than ``max_age_days`` from
    ``when`` (None: no limit), if SGP4 cannot propagate that far, or if the result is not
    an ISS altitude and velocity.
    """
    age = tle.age_at(when)
    if max_age_days is not None and abs(age) > timedelta(days=max_age_days):
        direction = "old" if age > timedelta(0) else "in the future"
        raise SourceFailure(
            TLE,
            f"TLE epoch {tle.epoch:%Y-%m-%dT%H:%M:%SZ} is {abs(age).total_seconds() / 86400:.1f} "
            f"days {direction} (MAX_TLE_AGE_DAYS={max_age_days:g}); SGP4 positions from it "
            "would be guesses",
        )
    try:
        point = orbit.subpoint(tle, when)
        _plausible(point.altitude_km, point.speed_kmh)
    except orbit.PropagationError as exc:
        raise SourceFailure(TLE, str(exc)) from None
    except _Invalid as exc:
        raise SourceFailure(TLE, f"SGP4 from TLE epoch {tle.epoch:%Y-%m-%d}: {exc}") from None
    return Position(
        time=point.time,
        latitude=point.latitude,
        longitude=point.longitude,
        source=TLE,
        altitude_km=point.altitude_km,
        velocity_kmh=point.speed_kmh,
        tle_epoch=point.tle_epoch,
        tle_age_seconds=point.tle_age_seconds,
        estimate=point.estimate,
    )


@dataclass
class TleSource:
    """The offline source: SGP4 at the clock's time from :class:`TleStore`'s freshest TLE.

    A TLE more than ``max_age_days`` from now is refused (None: no limit).
    """

    store: TleStore
    clock: Clock = utc_now
    name: str = TLE
    max_age_days: float | None = DEFAULT_MAX_TLE_AGE_DAYS
    offline: bool = True

    def fetch(self, deadline: Deadline | None = None) -> Position:
        """Refresh the TLE if due and time allows, then propagate it to now.

        Fails when the freshest TLE is too old, or SGP4 cannot propagate it (absurd clock).
        """
        now = _now(self.clock)
        # The refresh may use what is left but this source's own reserve (propagation).
        budget = (deadline or Deadline.none()).earlier(OFFLINE_RESERVE_SECONDS).remaining()
        tle = self.store.freshest(now, budget=budget)
        return tle_position(tle, now, max_age_days=self.max_age_days)


def offline_position(when: datetime, *, cache_dir: Path | None = None) -> Position:
    """The ISS position at ``when`` from a TLE already on this machine; no network.

    With ``cache_dir`` None the bundled TLE is used, so the answer is reproducible (demo,
    benchmarks). With a ``cache_dir``, a newer CelesTrak TLE cached there by the ``tle``
    source (for the default CelesTrak URL) is preferred.
    """
    tle = orbit.bundled_tle()
    if cache_dir is not None:
        tle = newer(TleStore(cache_dir=cache_dir).cached(), tle)
    return tle_position(tle, when)


# ------------------------------------------------------------------- the chain


def build_sources(
    names: Sequence[str],
    *,
    timeout: float,
    max_age_seconds: int,
    clock: Clock = utc_now,
    cache_dir: Path | None = None,
    urls: Mapping[str, str] | None = None,
    max_tle_age_days: float | None = DEFAULT_MAX_TLE_AGE_DAYS,
) -> list[PositionSource]:
    """Build the named sources, in order, ready for :func:`locate`.

    ``timeout`` (seconds) bounds each request in total; ``max_age_seconds`` is how old a
    live answer may be, ``max_tle_age_days`` how old the ``tle`` source's TLE.
    ``cache_dir`` holds the CelesTrak TLE cache (default: the temp dir, Lambda's /tmp).
    ``urls`` overrides endpoints by key (``open-notify``, ``wheretheiss``, ``celestrak``),
    for tests and the local demo.
    Raises ValueError for an unknown source name or URL key.
    """
    endpoints = dict(DEFAULT_URLS)
    unknown_urls = set(urls or {}) - set(DEFAULT_URLS)
    if unknown_urls:
        raise ValueError(
            f"unknown URL key(s) {', '.join(sorted(unknown_urls))}; "
            f"expected some of {', '.join(DEFAULT_URLS)}"
        )
    endpoints.update(urls or {})
    for key, url in endpoints.items():
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"URL for {key} must be http:// or https://, got {url!r}")
    sources: list[PositionSource] = []
    for name in names:
        if name == OPEN_NOTIFY:
            sources.append(
                HttpSource(
                    name, endpoints[name], parse_open_notify, timeout, max_age_seconds, clock
                )
            )
        elif name == WHERETHEISS:
            sources.append(
                HttpSource(
                    name, endpoints[name], parse_wheretheiss, timeout, max_age_seconds, clock
                )
            )
        elif name == TLE:
            store = TleStore(url=endpoints[CELESTRAK], timeout=timeout, cache_dir=cache_dir)
            sources.append(TleSource(store=store, clock=clock, max_age_days=max_tle_age_days))
        else:
            raise ValueError(
                f"unknown ISS position source {name!r}; expected {OPEN_NOTIFY}, "
                f"{WHERETHEISS} or {TLE}"
            )
    return sources


def locate(
    sources: Sequence[PositionSource],
    on_failure: Callable[[str, str], None] | None = None,
    *,
    deadline: Deadline | None = None,
) -> tuple[Position, dict[str, str]]:
    """Ask each source in turn; return the first valid position and the earlier failures.

    The dict maps each source that failed before the answer to its reason (in order).
    Any exception a source raises is its failure (a bug or a hostile answer in one source
    must not cost the others their turn). ``on_failure(name, reason)`` is called as each
    one fails, for logging. ``deadline`` is when positions must be known; a source with an
    offline source after it stops :data:`OFFLINE_RESERVE_SECONDS` earlier, so that one
    still runs. Raises :class:`AllSourcesFailedError` listing every source's reason if none
    answers, and ValueError if ``sources`` is empty.
    """
    if not sources:
        raise ValueError("no ISS position sources configured")
    deadline = deadline or Deadline.none()
    failures: dict[str, str] = {}
    for index, source in enumerate(sources):
        offline_later = any(getattr(s, "offline", False) for s in sources[index + 1 :])
        own = deadline.earlier(OFFLINE_RESERVE_SECONDS) if offline_later else deadline
        try:
            return source.fetch(own), failures
        except Exception as exc:
            reason = _reason(source.name, exc)
            failures[source.name] = reason
            if on_failure is not None:
                on_failure(source.name, reason)
    raise AllSourcesFailedError(failures)


def _reason(name: str, exc: Exception) -> str:
    if isinstance(exc, SourceFailure):
        return exc.reason
    if isinstance(exc, SourceError):
        # A source of someone else's making may prefix its own name; don't say it twice.
        return cap_reason(str(exc).removeprefix(f"{name}: "))
    # Not a failure the source foresaw: name the exception so the log shows what broke.
    return cap_reason(f"{type(exc).__name__}: {exc}")
