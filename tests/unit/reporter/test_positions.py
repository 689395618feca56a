"""The ISS position sources and the fallback chain, against recorded payloads.

Every live answer is served by the local HTTP server of conftest.py; the clock is injected,
so the recorded timestamps are fresh, frozen or from the future as each test needs.
"""

from __future__ import annotations

import json
import math
import socket
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crosstrack.reporter import orbit, positions
from crosstrack.reporter.errors import AllSourcesFailedError, SourceError
from crosstrack.reporter.positions import (
    CELESTRAK_HOLD_OFF,
    CELESTRAK_INTERVAL,
    Position,
    TleSource,
    TleStore,
    build_sources,
    locate,
)

PAYLOADS = Path(__file__).resolve().parents[2] / "data" / "payloads"


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


class LocalServer(Protocol):
    """The ``http_server`` fixture of conftest.py, as these tests use it."""

    hits: Counter[str]

    def url(self, path: str) -> str: ...

    def serve(
        self,
        path: str,
        body: bytes = b"",
        *,
        status: int = 200,
        content_type: str = "application/json",
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
    ) -> str: ...


@dataclass
class Route:
    """One scripted answer."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/json"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def serve(server: LocalServer, path: str, route: Route) -> str:
    """Script ``route`` on ``path``; return its URL."""
    return server.serve(
        path,
        route.body,
        status=route.status,
        content_type=route.content_type,
        delay=route.delay,
        headers=route.headers,
    )


# The recorded answers' timestamps (see tests/data/payloads/README.md).
OPEN_NOTIFY_TIME = datetime.fromtimestamp(1762730400, UTC)  # 2025-11-09 23:20:00
WHERETHEISS_TIME = datetime.fromtimestamp(1762730460, UTC)  # a minute later
NOW = WHERETHEISS_TIME + timedelta(seconds=5)

ON_PATH = "/iss-now.json"
WI_PATH = "/v1/satellites/25544"
GP_PATH = "/NORAD/elements/gp.php"

TIMEOUT = 0.3  # small, so the timeout cases stay fast


def json_route(name: str, status: int = 200) -> Route:
    return Route(payload(name), status=status)


def html_route(name: str, status: int) -> Route:
    return Route(payload(name), status=status, content_type="text/html")


def tle_route(name: str, status: int = 200) -> Route:
    return Route(payload(f"celestrak/{name}"), status=status, content_type="text/plain")


class MutableClock:
    """An injected clock the test moves forward."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def serve_all(server: LocalServer) -> dict[str, str]:
    """Serve a valid answer on every endpoint; return the ``urls`` for build_sources."""
    return {
        "open-notify": serve(server, ON_PATH, json_route("open-notify/success.json")),
        "wheretheiss": serve(server, WI_PATH, json_route("wheretheiss/success.json")),
        "celestrak": serve(server, GP_PATH, tle_route("iss-2025-11-09.tle")),
    }


def chain(
    urls: dict[str, str],
    tmp_path: Path,
    *,
    names: Sequence[str] = ("open-notify", "wheretheiss", "tle"),
    clock: Callable[[], datetime] = lambda: NOW,
    max_age_seconds: int = 600,
    max_tle_age_days: float | None = 14,
) -> list[positions.PositionSource]:
    return build_sources(
        names,
        timeout=TIMEOUT,
        max_age_seconds=max_age_seconds,
        clock=clock,
        cache_dir=tmp_path,
        urls=urls,
        max_tle_age_days=max_tle_age_days,
    )


# ----------------------------------------------------------------- valid answers


def test_open_notify_answer_is_used_first_and_alone(
    http_server: LocalServer, tmp_path: Path
) -> None:
    urls = serve_all(http_server)

    position, failures = locate(chain(urls, tmp_path))

    assert failures == {}
    assert position.source == "open-notify"
    # open-notify sends strings; the Position keeps them as floats with the same value.
    assert position.latitude == pytest.approx(17.0909, abs=0)
    assert position.longitude == pytest.approx(-80.6881, abs=0)
    assert position.time == OPEN_NOTIFY_TIME
    assert position.time.tzinfo is not None
    assert position.altitude_km is None
    assert position.tle_epoch is None
    assert not position.estimate
    # One request to the first source, none to the others (open-notify asks for <= 1/5 s).
    assert http_server.hits == {ON_PATH: 1}


def test_wheretheiss_answer_keeps_altitude_and_velocity(
    http_server: LocalServer, tmp_path: Path
) -> None:
    urls = serve_all(http_server)
    raw = json.loads(payload("wheretheiss/success.json"))

    position, failures = locate(chain(urls, tmp_path, names=["wheretheiss", "tle"]))

    assert failures == {}
    assert position == Position(
        time=WHERETHEISS_TIME,
        latitude=raw["latitude"],
        longitude=raw["longitude"],
        source="wheretheiss",
        altitude_km=raw["altitude"],
        velocity_kmh=raw["velocity"],
    )


def test_tle_source_reports_epoch_age_altitude_and_estimate(
    http_server: LocalServer, tmp_path: Path
) -> None:
    urls = serve_all(http_server)
    epoch = orbit.bundled_tle().epoch

    for offset, estimate in ((timedelta(hours=2), False), (timedelta(days=4), True)):
        when = epoch + offset
        (source,) = chain(urls, tmp_path, names=["tle"], clock=lambda w=when: w)
        position = source.fetch()
        assert position.source == "tle"
        assert position.time == when
        assert position.tle_epoch == epoch
        assert position.tle_age_seconds == offset.total_seconds()
        assert position.estimate is estimate
        assert position.altitude_km is not None
        assert 380 < position.altitude_km < 460  # the ISS flies at ~420 km
        assert position.velocity_kmh is not None
        assert 27_000 < position.velocity_kmh < 28_000


# ------------------------------------------------------- malformed answers fall through

ON_FAILURES = [
    pytest.param(
        html_route("open-notify/not-json.html", 200),
        "response is not JSON (Expecting value: line 1 column 1 (char 0); "
        "starts with '<html>\\n<head><title>502 Bad Gateway</tit')",
        id="non-json",
    ),
    pytest.param(
        json_route("open-notify/wrong-types.json"),
        "field 'timestamp' is a string '1762730400', expected integer Unix seconds",
        id="timestamp-as-string",
    ),
    pytest.param(
        json_route("open-notify/latitude-not-a-string.json"),
        "field 'iss_position.latitude' is null, expected a decimal string of ASCII digits",
        id="latitude-null",
    ),
    pytest.param(
        json_route("open-notify/missing-position.json"),
        "missing field 'iss_position'",
        id="missing-field",
    ),
    pytest.param(
        json_route("open-notify/message-failure.json"),
        "message is a string 'failure', expected 'success'",
        id="message-not-success",
    ),
    pytest.param(
        json_route("open-notify/latitude-out-of-range.json"),
        "latitude 123.0 out of range [-90, 90]",
        id="latitude-out-of-range",
    ),
    pytest.param(
        json_route("open-notify/longitude-out-of-range.json"),
        "longitude -180.6881 out of range [-180, 180]",
        id="longitude-out-of-range",
    ),
    pytest.param(
        json_route("open-notify/future-timestamp.json"),
        "timestamp 2025-11-10T00:21:00Z is 3595 s in the future (max clock skew 60 s)",
        id="future-timestamp",
    ),
    pytest.param(
        json_route("open-notify/frozen-timestamp.json"),
        "timestamp 2025-11-09T23:05:53Z is 912 s old (max 600 s)",
        id="frozen-timestamp",
    ),
    pytest.param(html_route("open-notify/gateway-timeout.html", 500), "HTTP 500", id="http-500"),
    pytest.param(html_route("open-notify/gateway-timeout.html", 504), "HTTP 504", id="http-504"),
]


@pytest.mark.parametrize(("route", "reason"), ON_FAILURES)
def test_bad_open_notify_answer_falls_through_to_wheretheiss(
    http_server: LocalServer, tmp_path: Path, route: Route, reason: str
) -> None:
    urls = serve_all(http_server)
    serve(http_server, ON_PATH, route)
    reported: list[tuple[str, str]] = []

    position, failures = locate(
        chain(urls, tmp_path), on_failure=lambda name, why: reported.append((name, why))
    )

    assert position.source == "wheretheiss"
    assert failures == {"open-notify": reason}
    assert reported == [("open-notify", reason)]
    assert http_server.hits[ON_PATH] == 1  # no retry loop against a failing API


WI_FAILURES = [
    pytest.param(
        json_route("wheretheiss/wrong-types.json"),
        "field 'latitude' is a string '20.040011874206', expected a number",
        id="latitude-as-string",
    ),
    pytest.param(
        json_route("wheretheiss/missing-timestamp.json"),
        "missing field 'timestamp'",
        id="missing-field",
    ),
    pytest.param(
        json_route("wheretheiss/array.json"),
        "response is an array, expected a JSON object",
        id="array",
    ),
    pytest.param(
        json_route("wheretheiss/latitude-out-of-range.json"),
        "latitude -91.5 out of range [-90, 90]",
        id="latitude-out-of-range",
    ),
    pytest.param(
        json_route("wheretheiss/longitude-out-of-range.json"),
        "longitude 281.737762098852 out of range [-180, 180]",
        id="longitude-out-of-range",
    ),
    pytest.param(
        json_route("wheretheiss/miles.json"),
        "units is a string 'miles', expected 'kilometers'",
        id="miles",
    ),
    pytest.param(
        json_route("wheretheiss/future-timestamp.json"),
        "timestamp 2025-11-10T00:22:00Z is 3655 s in the future (max clock skew 60 s)",
        id="future-timestamp",
    ),
    pytest.param(
        json_route("wheretheiss/frozen-timestamp.json"),
        "timestamp 2025-11-09T23:06:53Z is 852 s old (max 600 s)",
        id="frozen-timestamp",
    ),
    pytest.param(json_route("wheretheiss/not-found.json", 404), "HTTP 404", id="http-404"),
    pytest.param(json_route("wheretheiss/not-found.json", 500), "HTTP 500", id="http-500"),
]


@pytest.mark.parametrize(("route", "reason"), WI_FAILURES)
def test_bad_wheretheiss_answer_falls_through_to_tle(
    http_server: LocalServer, tmp_path: Path, route: Route, reason: str
) -> None:
    urls = serve_all(http_server)
    serve(http_server, WI_PATH, route)

    position, failures = locate(chain(urls, tmp_path, names=["wheretheiss", "tle"]))

    assert position.source == "tle"
    assert position.time == NOW
    assert failures == {"wheretheiss": reason}


def test_a_source_that_does_not_answer_in_time_is_skipped(
    http_server: LocalServer, tmp_path: Path
) -> None:
    urls = serve_all(http_server)
    slow = payload("open-notify/success.json")
    serve(http_server, ON_PATH, Route(slow, delay=TIMEOUT * 10))

    position, failures = locate(chain(urls, tmp_path))

    assert position.source == "wheretheiss"
    assert failures["open-notify"].startswith(f"timed out after {TIMEOUT:g} s")


def test_an_unreachable_source_is_skipped(http_server: LocalServer, tmp_path: Path) -> None:
    urls = serve_all(http_server)
    # A port nothing listens on: bind one, note it, close it; connecting is then refused.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    urls["open-notify"] = f"http://127.0.0.1:{port}/iss-now.json"

    position, failures = locate(chain(urls, tmp_path))

    assert position.source == "wheretheiss"
    assert failures["open-notify"].startswith(f"cannot reach {urls['open-notify']}: ")


def test_stale_limit_is_the_configured_one(http_server: LocalServer, tmp_path: Path) -> None:
    urls = serve_all(http_server)  # open-notify's answer is 65 s old at NOW

    position, failures = locate(chain(urls, tmp_path, max_age_seconds=30))

    assert position.source == "wheretheiss"  # 5 s old: fresh enough
    assert failures == {"open-notify": "timestamp 2025-11-09T23:20:00Z is 65 s old (max 30 s)"}


def test_every_source_failing_raises_with_every_reason(
    http_server: LocalServer, tmp_path: Path
) -> None:
    urls = serve_all(http_server)
    serve(http_server, ON_PATH, html_route("open-notify/gateway-timeout.html", 504))
    serve(http_server, WI_PATH, json_route("wheretheiss/not-found.json", 500))
    # Ten years on, with no TLE age limit, SGP4 says the modelled orbit has decayed: even
    # the last resort fails.
    far = NOW + timedelta(days=3650)
    reported: list[str] = []
    sources = chain(urls, tmp_path, clock=lambda: far, max_tle_age_days=None)

    with pytest.raises(AllSourcesFailedError) as caught:
        locate(sources, on_failure=lambda n, _: reported.append(n))

    failures = caught.value.failures
    assert list(failures) == ["open-notify", "wheretheiss", "tle"]
    assert reported == ["open-notify", "wheretheiss", "tle"]
    assert failures["open-notify"] == "HTTP 504"
    assert failures["wheretheiss"] == "HTTP 500"
    assert failures["tle"].startswith("SGP4 error 6")
    assert "decayed" in failures["tle"]
    for name, reason in failures.items():
        assert f"{name}: {reason}" in str(caught.value)


def test_source_errors_name_the_source(http_server: LocalServer, tmp_path: Path) -> None:
    urls = serve_all(http_server)
    serve(http_server, ON_PATH, html_route("open-notify/gateway-timeout.html", 504))
    open_notify = chain(urls, tmp_path, names=["open-notify"])[0]

    with pytest.raises(SourceError, match=r"^open-notify: HTTP 504$"):
        open_notify.fetch()


def test_locate_accepts_any_source_and_strips_a_repeated_name() -> None:
    class Broken:
        name = "custom"

        def fetch(self, deadline: object = None) -> Position:
            raise SourceError("custom: it broke")

    with pytest.raises(AllSourcesFailedError) as caught:
        locate([Broken()])
    assert caught.value.failures == {"custom": "it broke"}


def test_locate_needs_at_least_one_source() -> None:
    with pytest.raises(ValueError, match="no ISS position sources"):
        locate([])


# ----------------------------------------------------------------- build_sources


def test_build_sources_keeps_the_configured_order(tmp_path: Path) -> None:
    sources = build_sources(
        ["tle", "wheretheiss", "open-notify"], timeout=1, max_age_seconds=600, cache_dir=tmp_path
    )
    assert [s.name for s in sources] == ["tle", "wheretheiss", "open-notify"]


@pytest.mark.parametrize(
    ("names", "urls", "message"),
    [
        (["iss-api"], None, "unknown ISS position source 'iss-api'"),
        (["tle"], {"celestrack": "http://127.0.0.1/"}, "unknown URL key"),
        (["tle"], {"celestrak": "file:///etc/passwd"}, "must be http:// or https://"),
    ],
)
def test_build_sources_rejects_bad_configuration(
    names: list[str], urls: dict[str, str] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build_sources(names, timeout=1, max_age_seconds=600, urls=urls)


def test_production_urls_are_the_documented_endpoints() -> None:
    assert positions.DEFAULT_URLS == {
        "open-notify": "http://api.open-notify.org/iss-now.json",
        "wheretheiss": "https://api.wheretheiss.at/v1/satellites/25544",
        "celestrak": "https://celestrak.org/NORAD/elements/gp.php?CATNR=25544&FORMAT=TLE",
    }


# --------------------------------------------------------------------- CelesTrak


def store_for(
    server: LocalServer,
    tmp_path: Path,
    route: Route,
    *,
    bundled: str | None = "iss-2025-10-01.tle",
) -> TleStore:
    """A TleStore fetching ``route``; by default its fallback is the older real ISS TLE,
    so a test can tell the fetched TLE (2025-11-09) from the fallback (2025-10-01)."""
    url = serve(server, GP_PATH, route)
    fallback = orbit.parse_tle(payload(f"celestrak/{bundled}").decode()) if bundled else None
    return TleStore(url=url, timeout=TIMEOUT, cache_dir=tmp_path, bundled=fallback)


FETCHED_EPOCH = datetime(2025, 11, 9, 23, 14, 21, 578784, tzinfo=UTC)
OLDER_EPOCH = orbit.parse_tle(payload("celestrak/iss-2025-10-01.tle").decode()).epoch


def test_celestrak_is_asked_at_most_hourly(http_server: LocalServer, tmp_path: Path) -> None:
    urls = serve_all(http_server)
    clock = MutableClock(NOW)
    (tle,) = chain(urls, tmp_path, names=["tle"], clock=clock)

    for minutes in (0, 1, 30, 59):
        clock.now = NOW + timedelta(minutes=minutes)
        tle.fetch()
    assert http_server.hits[GP_PATH] == 1

    clock.now = NOW + CELESTRAK_INTERVAL
    tle.fetch()
    assert http_server.hits[GP_PATH] == 2


def test_a_fetched_tle_beats_an_older_bundled_one(http_server: LocalServer, tmp_path: Path) -> None:
    store = store_for(http_server, tmp_path, tle_route("iss-2025-11-09.tle"))

    position = TleSource(store=store, clock=lambda: NOW).fetch()

    assert position.tle_epoch == FETCHED_EPOCH
    status = store.status()
    assert status.cached is not None
    assert status.cached.epoch == FETCHED_EPOCH
    assert status.fetched_at == NOW
    assert status.last_error is None


def test_the_bundled_tle_wins_when_it_is_fresher(http_server: LocalServer, tmp_path: Path) -> None:
    store = store_for(http_server, tmp_path, tle_route("iss-2025-10-01.tle"), bundled=None)

    assert store.freshest(NOW) == orbit.bundled_tle()
    assert http_server.hits[GP_PATH] == 1


def test_non_200_backs_off_and_keeps_the_cached_tle(
    http_server: LocalServer, tmp_path: Path
) -> None:
    store = store_for(http_server, tmp_path, tle_route("iss-2025-11-09.tle"))
    assert store.freshest(NOW).epoch == FETCHED_EPOCH

    serve(http_server, GP_PATH, Route(b"Forbidden", status=403, content_type="text/plain"))
    later = NOW + CELESTRAK_INTERVAL
    assert store.freshest(later).epoch == FETCHED_EPOCH  # the cache outlives a refusal
    assert http_server.hits[GP_PATH] == 2
    status = store.status()
    assert status.last_error == "celestrak: HTTP 403"
    assert status.next_fetch_at == later + CELESTRAK_HOLD_OFF

    # CelesTrak's policy: stop asking after a non-200; nothing until the hold-off ends.
    for hours in (1, 6, 23):
        store.freshest(later + timedelta(hours=hours))
    assert http_server.hits[GP_PATH] == 2
    serve(http_server, GP_PATH, tle_route("iss-2025-11-09.tle"))
    store.freshest(later + CELESTRAK_HOLD_OFF)
    assert http_server.hits[GP_PATH] == 3
    assert store.status().last_error is None


def test_non_200_without_a_cache_falls_back_to_the_bundled_tle(
    http_server: LocalServer, tmp_path: Path
) -> None:
    store = store_for(http_server, tmp_path, Route(b"busy", status=503), bundled=None)

    position = TleSource(store=store, clock=lambda: NOW).fetch()

    assert position.tle_epoch == orbit.bundled_tle().epoch
    assert store.status().last_error == "celestrak: HTTP 503"


def test_redirects_are_not_followed(http_server: LocalServer, tmp_path: Path) -> None:
    # CelesTrak answers 301 for outdated URLs and asks clients to stop, not to follow.
    target = serve(http_server, "/elsewhere", tle_route("iss-2025-11-09.tle"))
    store = store_for(http_server, tmp_path, Route(status=301, headers={"Location": target}))

    assert store.freshest(NOW).epoch == OLDER_EPOCH
    assert http_server.hits["/elsewhere"] == 0
    assert store.status().last_error == "celestrak: HTTP 301"


def test_network_errors_back_off_exponentially(http_server: LocalServer, tmp_path: Path) -> None:
    slow = tle_route("iss-2025-11-09.tle")
    slow.delay = TIMEOUT * 10
    store = store_for(http_server, tmp_path, slow)

    assert store.freshest(NOW).epoch == OLDER_EPOCH
    status = store.status()
    assert status.last_error is not None
    assert status.last_error.startswith(f"celestrak: timed out after {TIMEOUT:g} s")
    assert status.failures == 1
    assert status.next_fetch_at == NOW + 2 * CELESTRAK_INTERVAL


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("iss-bad-checksum.tle", "line 2 checksum is 1, but its contents sum to 2"),
        ("vanguard-1.tle", "TLE is for object 5, expected 25544"),
        (
            "iss-one-line.tle",
            "expected two TLE lines (optionally after a name line), got 1 after 'ISS (ZARYA)'",
        ),
        (
            "no-data.txt",
            "expected two TLE lines (optionally after a name line), got 0 after 'No GP data found'",
        ),
    ],
)
def test_an_invalid_tle_is_rejected_and_never_cached(
    http_server: LocalServer, tmp_path: Path, name: str, reason: str
) -> None:
    store = store_for(http_server, tmp_path, tle_route(name))

    assert store.freshest(NOW).epoch == OLDER_EPOCH
    status = store.status()
    assert status.cached is None
    assert status.last_error is not None
    assert status.last_error.startswith(f"celestrak: invalid TLE: {reason}")
    saved = json.loads(store.cache_file.read_text())
    assert saved["tle"] is None
    assert saved["last_error"] == status.last_error


def test_a_cold_start_reuses_the_file_cache(http_server: LocalServer, tmp_path: Path) -> None:
    first = store_for(http_server, tmp_path, tle_route("iss-2025-11-09.tle"))
    first.freshest(NOW)

    # A new execution environment in the same container (same /tmp), 10 minutes later.
    second = store_for(http_server, tmp_path, tle_route("iss-2025-11-09.tle"))
    assert second.freshest(NOW + timedelta(minutes=10)).epoch == FETCHED_EPOCH
    assert http_server.hits[GP_PATH] == 1


def test_the_memory_cache_survives_a_lost_file(http_server: LocalServer, tmp_path: Path) -> None:
    store = store_for(http_server, tmp_path, tle_route("iss-2025-11-09.tle"))
    store.freshest(NOW)
    store.cache_file.unlink()

    assert store.freshest(NOW + timedelta(minutes=10)).epoch == FETCHED_EPOCH
    assert http_server.hits[GP_PATH] == 1


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        json.dumps({"tle": "1 25544U garbage", "next_fetch_at": None}),
        json.dumps({"tle": None, "next_fetch_at": "2099-01-01T00:00:00"}),  # naive time
    ],
)
def test_a_corrupt_cache_file_is_ignored(
    http_server: LocalServer, tmp_path: Path, content: str
) -> None:
    store = store_for(http_server, tmp_path, tle_route("iss-2025-11-09.tle"))
    store.cache_file.write_text(content)

    assert store.freshest(NOW).epoch == FETCHED_EPOCH
    assert http_server.hits[GP_PATH] == 1


def test_an_unwritable_cache_dir_still_works(http_server: LocalServer, tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("")
    url = serve(http_server, GP_PATH, tle_route("iss-2025-11-09.tle"))
    store = TleStore(url=url, timeout=TIMEOUT, cache_dir=blocker / "cache")

    assert store.freshest(NOW).epoch == FETCHED_EPOCH
    assert store.freshest(NOW + timedelta(minutes=5)).epoch == FETCHED_EPOCH
    assert http_server.hits[GP_PATH] == 1


# --------------------------------------------------------------- offline position


def test_offline_position_uses_the_bundled_tle_reproducibly() -> None:
    when = datetime(2025, 11, 10, 6, 0, tzinfo=UTC)

    first = positions.offline_position(when)

    assert first == positions.offline_position(when)
    assert first.source == "tle"
    assert first.time == when
    assert first.tle_epoch == orbit.bundled_tle().epoch
    point = orbit.subpoint(orbit.bundled_tle(), when)
    assert (first.latitude, first.longitude) == (point.latitude, point.longitude)


def test_offline_position_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="naive"):
        positions.offline_position(datetime(2025, 11, 10, 6, 0))


# ------------------------------------------------------------------- properties


@given(
    latitude=st.decimals(min_value=-90, max_value=90, places=4),
    longitude=st.decimals(min_value=-180, max_value=180, places=4),
)
def test_any_in_range_open_notify_answer_is_kept_exactly(
    latitude: Decimal, longitude: Decimal
) -> None:
    body = json.dumps(
        {
            "message": "success",
            "timestamp": 1762730400,
            "iss_position": {"latitude": f"{latitude:.4f}", "longitude": f"{longitude:.4f}"},
        }
    ).encode()

    position = positions.parse_open_notify(body, now=NOW, max_age_seconds=600)

    assert position.latitude == float(f"{latitude:.4f}")
    assert position.longitude == float(f"{longitude:.4f}")


@given(latitude=st.floats(allow_nan=False, allow_infinity=True).filter(lambda v: abs(v) > 90))
def test_any_out_of_range_latitude_is_refused(latitude: float) -> None:
    body = json.dumps(
        {"latitude": latitude, "longitude": 0.0, "timestamp": 1762730460}, allow_nan=True
    ).encode()

    with pytest.raises(SourceError) as caught:
        positions.parse_wheretheiss(body, now=NOW, max_age_seconds=600)

    message = str(caught.value)
    assert message.startswith("wheretheiss: ")
    # JSON has no Infinity: the strict parser refuses it before any range check.
    expected = "not a JSON number" if math.isinf(latitude) else "out of range [-90, 90]"
    assert expected in message
