"""Hostile and broken answers: each is the failure of its own source, and the next answers.

open-notify is plain HTTP, so anyone on the path can send anything every five minutes. Each
case here serves one hostile answer (recorded in tests/data/payloads/, or scripted: a server
dripping one byte every 0.4 s) and asserts the *next* source's position comes back, with a
short reason recorded under the hostile one. Also: a source raising anything at all, failure
messages capped, the invocation's deadline, and the TLE age limit (injected clock).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crosstrack.reporter import orbit, positions
from crosstrack.reporter.deadline import Deadline
from crosstrack.reporter.errors import AllSourcesFailedError
from crosstrack.reporter.positions import (
    MAX_REASON_CHARS,
    Position,
    SourceFailure,
    TleSource,
    TleStore,
    build_sources,
    locate,
)

PAYLOADS = Path(__file__).resolve().parents[2] / "data" / "payloads"
NOW = datetime.fromisoformat("2025-11-09T23:21:05+00:00")  # the recorded answers are fresh
ON_PATH = "/iss-now.json"
WI_PATH = "/v1/satellites/25544"
GP_PATH = "/NORAD/elements/gp.php"
BUNDLED_EPOCH = orbit.bundled_tle().epoch


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def serve_all(server: Any) -> dict[str, str]:
    return {
        "open-notify": server.serve(ON_PATH, payload("open-notify/success.json")),
        "wheretheiss": server.serve(WI_PATH, payload("wheretheiss/success.json")),
        "celestrak": server.serve(
            GP_PATH, payload("celestrak/iss-2025-11-09.tle"), content_type="text/plain"
        ),
    }


def sources(
    urls: dict[str, str],
    tmp_path: Path,
    *,
    names: Sequence[str] = ("open-notify", "wheretheiss", "tle"),
    timeout: float = 0.3,
    clock: Callable[[], datetime] = lambda: NOW,
    max_tle_age_days: float | None = 14,
) -> list[positions.PositionSource]:
    return build_sources(
        names,
        timeout=timeout,
        max_age_seconds=600,
        clock=clock,
        cache_dir=tmp_path,
        urls=urls,
        max_tle_age_days=max_tle_age_days,
    )


# ------------------------------------------------------- recorded hostile payloads

OPEN_NOTIFY_HOSTILE = [
    ("oversized-nesting.json", "response is larger than 16384 bytes"),
    ("deep-nesting.json", "response is not JSON this parser can read (nested too deeply)"),
    ("huge-timestamp.json", "response has a 5000-digit number (at most 19 digits accepted)"),
    (
        "arabic-indic-digits.json",
        "field 'iss_position.latitude' is a string "
        "'\\u0661\\u0667.\\u0660\\u0669\\u0660\\u0669', expected a decimal string of ASCII digits",
    ),
    (
        "nan-latitude.json",
        "field 'iss_position.latitude' is a string 'NaN', "
        "expected a decimal string of ASCII digits",
    ),
]


@pytest.mark.parametrize(
    ("name", "reason"), OPEN_NOTIFY_HOSTILE, ids=[c[0] for c in OPEN_NOTIFY_HOSTILE]
)
def test_hostile_open_notify_answer_ends_in_wheretheiss_record(
    http_server: Any, tmp_path: Path, name: str, reason: str
) -> None:
    urls = serve_all(http_server)
    http_server.serve(ON_PATH, payload(f"open-notify/{name}"))

    position, failures = locate(sources(urls, tmp_path))

    assert position.source == "wheretheiss"
    assert failures == {"open-notify": reason}


WHERETHEISS_HOSTILE = [
    ("nan.json", "response has NaN, which is not a JSON number"),
    ("infinite-altitude.json", "response has Infinity, which is not a JSON number"),
    ("huge-numbers.json", "response has the number 1e999, beyond the range of a double"),
    ("absurd-altitude.json", "altitude 35786 km is not an ISS altitude (expected 150 to 1000 km)"),
    (
        "absurd-velocity.json",
        "velocity 0 km/h is not an ISS velocity (expected 25000 to 30000 km/h)",
    ),
]


@pytest.mark.parametrize(
    ("name", "reason"), WHERETHEISS_HOSTILE, ids=[c[0] for c in WHERETHEISS_HOSTILE]
)
def test_hostile_wheretheiss_answer_ends_in_tle_record(
    http_server: Any, tmp_path: Path, name: str, reason: str
) -> None:
    urls = serve_all(http_server)
    http_server.serve(WI_PATH, payload(f"wheretheiss/{name}"))

    position, failures = locate(sources(urls, tmp_path, names=["wheretheiss", "tle"]))

    assert position.source == "tle"
    assert position.time == NOW
    assert failures == {"wheretheiss": reason}


def test_the_existing_recorded_failures_still_fall_through(
    http_server: Any, tmp_path: Path
) -> None:
    # Every recorded open-notify answer but the good one, each served in turn.
    urls = serve_all(http_server)
    for path in sorted((PAYLOADS / "open-notify").iterdir()):
        if path.name == "success.json":
            continue
        http_server.serve(ON_PATH, path.read_bytes())
        position, failures = locate(sources(urls, tmp_path))
        assert position.source == "wheretheiss", path.name
        assert list(failures) == ["open-notify"], path.name
        assert len(failures["open-notify"]) <= MAX_REASON_CHARS


def test_64_kib_of_brackets_is_refused_by_the_parser_too() -> None:
    # Through HTTP the size cap refuses it first; the parser must cope on its own as well.
    body = payload("open-notify/oversized-nesting.json")
    assert len(body) == 64 * 1024

    with pytest.raises(SourceFailure, match="nested too deeply"):
        positions.parse_open_notify(body, now=NOW, max_age_seconds=600)


@pytest.mark.parametrize(
    "body",
    [
        b'{"latitude": 1' + b"0" * 5000 + b', "longitude": 0, "timestamp": 1762730460}',
        b'{"latitude": -Infinity, "longitude": 0, "timestamp": 1762730460}',
        b'{"latitude": 1e-999999, "longitude": 0, "timestamp": 1' + b"9" * 18 + b"}",
        b'{"latitude": 0, "longitude": 0, "timestamp": 1762730460, "altitude": 1e308}',
        b'\xff\xfe{"latitude": 0}',
        b"\xef\xbb\xbf" + b"[" * 100_000,
    ],
    ids=[
        "5001-digit-int",
        "minus-infinity",
        "timestamp-19-digits",
        "altitude-1e308",
        "bom16",
        "bom8-deep",
    ],
)
def test_no_answer_escapes_as_anything_but_a_source_failure(body: bytes) -> None:
    with pytest.raises(SourceFailure) as caught:
        positions.parse_wheretheiss(body, now=NOW, max_age_seconds=600)
    assert caught.value.source == "wheretheiss"
    assert len(caught.value.reason) <= MAX_REASON_CHARS


# ------------------------------------------------------------- the byte-drip server


def test_byte_drip_server_cannot_hold_a_fetch_past_its_timeout(
    http_server: Any, tmp_path: Path
) -> None:
    # One byte every 0.4 s beats a 1 s per-read timeout for ever; the total bound does not.
    urls = serve_all(http_server)
    http_server.serve(ON_PATH, payload("open-notify/success.json"), drip=0.4)

    started = time.monotonic()
    position, failures = locate(sources(urls, tmp_path, timeout=1.0))
    elapsed = time.monotonic() - started

    assert position.source == "wheretheiss"
    assert failures["open-notify"].startswith("timed out after 1 s (no complete answer from ")
    assert elapsed < 2.0


def test_byte_drip_celestrak_leaves_the_cached_or_bundled_tle(
    http_server: Any, tmp_path: Path
) -> None:
    urls = serve_all(http_server)
    http_server.serve(
        GP_PATH, payload("celestrak/iss-2025-11-09.tle"), content_type="text/plain", drip=0.4
    )

    started = time.monotonic()
    position, failures = locate(sources(urls, tmp_path, names=["tle"], timeout=1.0))

    assert time.monotonic() - started < 2.0
    assert failures == {}
    assert position.tle_epoch == BUNDLED_EPOCH
    (tle,) = sources(urls, tmp_path, names=["tle"])
    assert isinstance(tle, TleSource)
    assert (tle.store.status().last_error or "").startswith("celestrak: timed out after 1 s")


@pytest.mark.parametrize(
    "body",
    [
        b"\x80\x81" * 100,
        b"[" * 16000,
        b"1 25544U " + "\u0661".encode() * 60 + b"\n2 25544 " + b"9" * 60,
    ],
    ids=["binary", "brackets", "non-ascii-digits"],
)
def test_a_garbage_celestrak_answer_is_never_cached(
    http_server: Any, tmp_path: Path, body: bytes
) -> None:
    url = http_server.serve(GP_PATH, body, content_type="text/plain")
    store = TleStore(url=url, timeout=0.5, cache_dir=tmp_path)

    assert store.freshest(NOW) == orbit.bundled_tle()
    status = store.status()
    assert status.cached is None
    assert (status.last_error or "").startswith("celestrak: ")
    assert len(status.last_error or "") <= MAX_REASON_CHARS


# ------------------------------------------------ anything a source raises is its own


class Raises:
    """A source that fails the way a bug or a parser under attack would."""

    def __init__(self, name: str, exc: BaseException) -> None:
        self.name = name
        self.exc = exc

    def fetch(self, deadline: Deadline | None = None) -> Position:
        raise self.exc


class Answers:
    name = "last"

    def fetch(self, deadline: Deadline | None = None) -> Position:
        return Position(time=NOW, latitude=1.0, longitude=2.0, source="last")


@pytest.mark.parametrize(
    "exc",
    [
        RecursionError("maximum recursion depth exceeded"),
        ValueError("Exceeds the limit (4300 digits) for integer string conversion"),
        OverflowError("date value out of range"),
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
        MemoryError(),
        KeyError("latitude"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_any_exception_of_a_source_is_recorded_and_the_next_one_answers(
    exc: Exception,
) -> None:
    position, failures = locate([Raises("first", exc), Answers()])

    assert position.source == "last"
    assert failures["first"].startswith(f"{type(exc).__name__}: ")


def test_failure_messages_are_capped() -> None:
    huge = ValueError("x" * 65536)

    with pytest.raises(AllSourcesFailedError) as caught:
        locate([Raises("a", huge), Raises("b", SourceFailure("b", "y" * 65536))])

    for reason in caught.value.failures.values():
        assert len(reason) <= MAX_REASON_CHARS
        assert reason.endswith("more characters)")
    assert len(str(caught.value)) < 4 * MAX_REASON_CHARS


# ------------------------------------------------------------------ the deadline


def test_hanging_live_sources_leave_time_for_the_tle_source(
    http_server: Any, tmp_path: Path
) -> None:
    # The sources' own timeouts (30 s) are far beyond the deadline (1.5 s from now):
    # open-notify takes what there is, wheretheiss is skipped, the TLE still answers.
    urls = serve_all(http_server)
    http_server.serve(ON_PATH, payload("open-notify/success.json"), delay=60)
    http_server.serve(WI_PATH, payload("wheretheiss/success.json"), delay=60)
    http_server.serve(GP_PATH, b"", delay=60)
    chain = sources(urls, tmp_path, timeout=30.0)

    started = time.monotonic()
    position, failures = locate(chain, deadline=Deadline.after(1.5))
    elapsed = time.monotonic() - started

    assert position.source == "tle"
    assert elapsed < 1.5
    # open-notify had 1.5 s less the offline source's 0.5 s reserve.
    assert re.match(r"timed out after (1|0\.9\d*) s ", failures["open-notify"])
    assert failures["wheretheiss"].startswith("skipped: ")
    assert http_server.hits[WI_PATH] == 0
    assert http_server.hits[GP_PATH] == 0  # no time left to refresh: not a CelesTrak failure
    (tle,) = sources(urls, tmp_path, names=["tle"])
    assert isinstance(tle, TleSource)
    assert tle.store.status().failures == 0


def test_without_a_deadline_each_source_keeps_its_own_timeout(
    http_server: Any, tmp_path: Path
) -> None:
    urls = serve_all(http_server)
    http_server.serve(ON_PATH, payload("open-notify/success.json"), delay=60)

    position, failures = locate(sources(urls, tmp_path, timeout=0.5), deadline=Deadline.none())

    assert position.source == "wheretheiss"
    assert failures["open-notify"].startswith("timed out after 0.5 s")


# ---------------------------------------------------------------- TLE age limit


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_a_tle_older_than_the_limit_is_a_failure_of_the_tle_source(
    http_server: Any, tmp_path: Path
) -> None:
    # CelesTrak is down (503); the bundled TLE is all there is, and 15 days old.
    url = http_server.serve(GP_PATH, b"busy", status=503, content_type="text/plain")
    clock = Clock(BUNDLED_EPOCH + timedelta(days=15))
    (tle,) = sources({"celestrak": url}, tmp_path, names=["tle"], clock=clock)

    with pytest.raises(AllSourcesFailedError) as caught:
        locate([tle])

    assert caught.value.failures == {
        "tle": "TLE epoch 2025-11-09T23:14:21Z is 15.0 days old (MAX_TLE_AGE_DAYS=14); "
        "SGP4 positions from it would be guesses"
    }
    assert http_server.hits[GP_PATH] == 1  # it did try to refresh first

    # Within the limit the same TLE answers, flagged as an estimate (older than 3 days).
    clock.now = BUNDLED_EPOCH + timedelta(days=13)
    position, _ = locate([tle])
    assert position.estimate is True
    assert position.tle_age_seconds == timedelta(days=13).total_seconds()


def test_online_the_tle_source_refreshes_before_judging_the_age(
    http_server: Any, tmp_path: Path
) -> None:
    # The fallback TLE (2025-10-01) is 41 days old at this clock; CelesTrak serves the
    # 2025-11-09 one, 2 days old: refreshed first, it answers.
    older = orbit.parse_tle(payload("celestrak/iss-2025-10-01.tle").decode())
    url = http_server.serve(
        GP_PATH, payload("celestrak/iss-2025-11-09.tle"), content_type="text/plain"
    )
    when = BUNDLED_EPOCH + timedelta(days=2)
    store = TleStore(url=url, timeout=0.5, cache_dir=tmp_path, bundled=older)

    position = TleSource(store=store, clock=lambda: when, max_age_days=14).fetch()

    assert position.tle_epoch == BUNDLED_EPOCH
    assert http_server.hits[GP_PATH] == 1

    # Offline (CelesTrak refusing, nothing cached) the old TLE is refused, not used.
    url = http_server.serve("/down", b"busy", status=503, content_type="text/plain")
    offline = TleStore(url=url, timeout=0.5, cache_dir=tmp_path, bundled=older)
    with pytest.raises(SourceFailure, match=r"days old \(MAX_TLE_AGE_DAYS=14\)"):
        TleSource(store=offline, clock=lambda: when, max_age_days=14).fetch()
