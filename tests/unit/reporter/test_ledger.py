"""The S3 log: formats, creation, appends, idempotency, corruption, permissions, conflicts.

S3 is moto in-process (``mock_aws``); error paths S3 reaches only under races or missing
permissions are scripted with botocore's Stubber, and interleavings with a client wrapper
that lets a competing writer in between our read and our write.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber
from moto import mock_aws

from crosstrack.reporter.errors import (
    DeadlineExceededError,
    LedgerError,
    LogAccessDeniedError,
    LogConflictError,
    LogCorruptError,
)
from crosstrack.reporter.idempotency import RING_CAPACITY, RING_METADATA_KEY
from crosstrack.reporter.ledger import (
    HEADER,
    Ledger,
    format_jsonl_record,
    format_text_record,
)
from crosstrack.reporter.positions import Position

BUCKET = "iss-reporting-test"
KEY = "iss_position.txt"
T0 = datetime(2026, 11, 27, 17, 19, 45, tzinfo=UTC)

# The post's sample output: what the original Lambda left in the object.
ORIGINAL_LOG = (
    b"ISS Location Logs\n===================\n\n"
    b"Time: 2025-12-06 17:19:45\nLatitude: -50.5587\nLongitude: 122.1887\n\n"
    b"Time: 2025-12-06 17:29:07\nLatitude: -32.9030\nLongitude: 163.3656\n\n"
)


def pos(minutes: float = 0, lat: float = -50.5587, lon: float = 122.1887, **kw: Any) -> Position:
    return Position(
        time=T0 + timedelta(minutes=minutes),
        latitude=lat,
        longitude=lon,
        source=kw.pop("source", "open-notify"),
        **kw,
    )


@pytest.fixture(scope="module")
def _s3_module() -> Iterator[Any]:
    # One in-process S3 per module (starting moto per test costs more than the tests).
    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1")


@pytest.fixture
def s3(_s3_module: Any) -> Iterator[Any]:
    """An empty bucket for each test."""
    _s3_module.create_bucket(Bucket=BUCKET)
    yield _s3_module
    for page in _s3_module.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            _s3_module.delete_object(Bucket=BUCKET, Key=item["Key"])
    _s3_module.delete_bucket(Bucket=BUCKET)


class NoSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def ledger(s3: Any, **kw: Any) -> Ledger:
    kw.setdefault("sleep", NoSleep())
    return Ledger(s3, BUCKET, kw.pop("key", KEY), **kw)


def body(s3: Any, key: str = KEY) -> bytes:
    data: bytes = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return data


# --- record formats --------------------------------------------------------------------


def test_text_record_is_the_originals_format_in_utc_with_four_decimals() -> None:
    plus_two = timezone(timedelta(hours=2))
    position = Position(
        time=datetime(2025, 12, 6, 19, 19, 45, 987654, tzinfo=plus_two),
        latitude=-50.55874,
        longitude=122.18876,
        source="wheretheiss",
    )
    assert format_text_record(position) == (
        "Time: 2025-12-06 17:19:45\nLatitude: -50.5587\nLongitude: 122.1888\n\n"
    )


def test_text_record_never_prints_negative_zero() -> None:
    assert "Latitude: 0.0000\nLongitude: 0.0000\n" in format_text_record(
        pos(lat=-0.00001, lon=-0.00004)
    )


@pytest.mark.parametrize(
    ("lat", "lon"), [(90.5, 0.0), (0.0, -180.01), (float("nan"), 0.0), (0.0, float("inf"))]
)
def test_out_of_range_coordinates_are_refused(lat: float, lon: float) -> None:
    with pytest.raises(ValueError, match="not a finite number in"):
        format_text_record(pos(lat=lat, lon=lon))
    with pytest.raises(ValueError, match="not a finite number in"):
        format_jsonl_record(pos(lat=lat, lon=lon), None)


def test_naive_time_is_refused() -> None:
    naive = Position(time=datetime(2026, 1, 1), latitude=0, longitude=0, source="tle")
    with pytest.raises(ValueError, match="must be timezone-aware"):
        format_text_record(naive)


def test_jsonl_record_carries_full_provenance() -> None:
    epoch = datetime(2025, 11, 9, 23, 14, 22, tzinfo=UTC)
    position = pos(
        source="tle",
        altitude_km=417.5,
        velocity_kmh=27580.25,
        tle_epoch=epoch,
        tle_age_seconds=1_500_000.0,
        estimate=True,
    )
    line = format_jsonl_record(position, "sched-exec-1")
    assert line.endswith("}\n")
    assert line.count("\n") == 1
    assert json.loads(line) == {
        "time": "2026-11-27T17:19:45Z",
        "latitude": -50.5587,
        "longitude": 122.1887,
        "source": "tle",
        "altitude_km": 417.5,
        "velocity_kmh": 27580.25,
        "tle_epoch": "2025-11-09T23:14:22Z",
        "tle_age_seconds": 1_500_000.0,
        "estimate": True,
        "event_id": "sched-exec-1",
    }


# --- creating and appending ------------------------------------------------------------


def test_first_run_creates_the_object_with_header_and_content_type(s3: Any) -> None:
    result = ledger(s3).append(pos(), event_id="evt-1")

    expected = HEADER + "Time: 2026-11-27 17:19:45\nLatitude: -50.5587\nLongitude: 122.1887\n\n"
    assert body(s3) == expected.encode()
    head = s3.head_object(Bucket=BUCKET, Key=KEY)
    assert head["ContentType"] == "text/plain; charset=utf-8"
    assert result.created
    assert not result.duplicate
    assert result.attempts == 1
    assert result.etag == head["ETag"]
    assert (result.bytes_read, result.bytes_written) == (0, len(expected))
    assert result.record == expected[len(HEADER) :]


def test_appends_are_byte_exact(s3: Any) -> None:
    book = ledger(s3)
    book.append(pos(0))
    second = book.append(pos(10, lat=51.5, lon=-0.1278))

    assert (
        body(s3)
        == (
            HEADER
            + "Time: 2026-11-27 17:19:45\nLatitude: -50.5587\nLongitude: 122.1887\n\n"
            + "Time: 2026-11-27 17:29:45\nLatitude: 51.5000\nLongitude: -0.1278\n\n"
        ).encode()
    )
    assert not second.created
    assert second.bytes_read == len(HEADER) + len(format_text_record(pos(0)))


def test_jsonl_log_has_no_header_and_one_object_per_line(s3: Any) -> None:
    book = ledger(s3, key="iss_position.jsonl", log_format="jsonl")
    book.append(pos(0), event_id="a")
    book.append(pos(5), event_id=None)

    data = body(s3, "iss_position.jsonl")
    assert data == (format_jsonl_record(pos(0), "a") + format_jsonl_record(pos(5), None)).encode()
    assert s3.head_object(Bucket=BUCKET, Key="iss_position.jsonl")["ContentType"] == (
        "application/x-ndjson; charset=utf-8"
    )


@pytest.mark.parametrize(
    ("existing", "separator"),
    [
        (ORIGINAL_LOG, b""),  # the post's sample output
        # The post's code listing (a record without its trailing blank line).
        (ORIGINAL_LOG[:-1], b"\n"),
        (b"ISS Location Logs\n===================\n", b"\n"),  # a bare two-line header
        (b"ISS Location Logs\n===================\n\nTime: x", b"\n\n"),  # no final newline
    ],
)
def test_an_object_written_by_the_original_is_appended_to(
    s3: Any, existing: bytes, separator: bytes
) -> None:
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=existing)  # no ContentType, like the original
    result = ledger(s3).append(pos(), event_id="e")

    record = b"Time: 2026-11-27 17:19:45\nLatitude: -50.5587\nLongitude: 122.1887\n\n"
    assert body(s3) == existing + separator + record
    assert not result.created


def test_an_empty_object_is_started_with_the_header(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"")
    ledger(s3).append(pos())
    assert body(s3).startswith(HEADER.encode() + b"Time: ")


# --- idempotency -----------------------------------------------------------------------


def test_a_replayed_event_is_not_appended_twice(s3: Any) -> None:
    book = ledger(s3)
    first = book.append(pos(0), event_id="sched-1")
    etag = s3.head_object(Bucket=BUCKET, Key=KEY)["ETag"]
    replay = book.append(pos(3), event_id="sched-1")

    assert replay.duplicate
    assert not first.duplicate
    assert replay.bytes_written == 0
    assert replay.etag == etag
    assert s3.head_object(Bucket=BUCKET, Key=KEY)["ETag"] == etag  # not even rewritten
    assert body(s3).count(b"Time: ") == 1


def test_events_without_id_always_append(s3: Any) -> None:
    book = ledger(s3)
    for _ in range(3):
        assert not book.append(pos(0), event_id=None).duplicate
    assert body(s3).count(b"Time: 2026-11-27 17:19:45") == 3


def test_the_idempotency_ring_covers_a_day_and_fits_s3s_metadata_limit(s3: Any) -> None:
    book = ledger(s3)
    for i in range(RING_CAPACITY + 1):
        book.append(pos(i * 5), event_id=f"evt-{i}")
    metadata = s3.head_object(Bucket=BUCKET, Key=KEY)["Metadata"]
    assert sum(len(k.encode()) + len(v.encode()) for k, v in metadata.items()) <= 2048

    # The newest RING_CAPACITY (a day of 5-minute events) are remembered...
    assert book.append(pos(0), event_id="evt-1").duplicate
    assert book.append(pos(0), event_id=f"evt-{RING_CAPACITY}").duplicate
    # ...the oldest has dropped out of the ring.
    assert not book.append(pos(0), event_id="evt-0").duplicate


def test_other_user_metadata_is_kept_and_the_ring_shrinks_to_fit(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=ORIGINAL_LOG, Metadata={"owner": "x" * 1000})
    book = ledger(s3)
    for i in range(RING_CAPACITY):
        book.append(pos(i), event_id=f"evt-{i}")
    metadata = s3.head_object(Bucket=BUCKET, Key=KEY)["Metadata"]
    assert metadata["owner"] == "x" * 1000
    assert sum(len(k.encode()) + len(v.encode()) for k, v in metadata.items()) <= 2048
    assert book.append(pos(0), event_id=f"evt-{RING_CAPACITY - 1}").duplicate


def test_an_unreadable_ring_is_treated_as_empty_not_as_corruption(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=ORIGINAL_LOG, Metadata={RING_METADATA_KEY: "%%"})
    result = ledger(s3).append(pos(), event_id="e")
    assert not result.duplicate
    ring = s3.head_object(Bucket=BUCKET, Key=KEY)["Metadata"][RING_METADATA_KEY]
    assert len(base64.b64decode(ring)) == 5


# --- corrupt objects are never overwritten ---------------------------------------------


@pytest.mark.parametrize(
    ("key", "log_format", "content", "reason"),
    [
        (KEY, "text", b"ISS Location Logs\n===================\n\n\xff\xfe", "not valid UTF-8"),
        (KEY, "text", b"\xef\xbb\xbfISS Location Logs\n", "does not start with the log header"),
        (KEY, "text", b"<html>some other file</html>", "does not start with the log header"),
        (KEY, "text", b"ISS Location Logs\n-------------------\n\n", "does not start with"),
        (KEY, "jsonl", ORIGINAL_LOG, "is a text-format log but LOG_FORMAT is jsonl"),
        (KEY, "jsonl", b'{"time": 1}\n{"time": 2', "is not a JSON Lines log"),
        (KEY, "jsonl", b"time,latitude\n1,2\n", "is not a JSON Lines log"),
    ],
)
def test_corrupt_object_fails_naming_it_and_is_left_byte_identical(
    s3: Any, key: str, log_format: str, content: bytes, reason: str
) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=content)
    etag = s3.head_object(Bucket=BUCKET, Key=key)["ETag"]

    with pytest.raises(LogCorruptError) as caught:
        ledger(s3, key=key, log_format=log_format).append(pos(), event_id="e")

    assert f"s3://{BUCKET}/{key}" in str(caught.value)
    assert reason in str(caught.value)
    assert body(s3, key) == content
    assert s3.head_object(Bucket=BUCKET, Key=key)["ETag"] == etag


# --- permissions and other S3 errors ----------------------------------------------------


@pytest.fixture
def stubber(s3: Any) -> Iterator[Stubber]:
    """Scripted S3 answers on the test's client, for errors moto does not produce."""
    stub = Stubber(s3)
    stub.activate()
    yield stub
    stub.deactivate()


def test_403_on_read_is_a_permission_error_never_a_missing_object(
    s3: Any, stubber: Stubber
) -> None:
    # Without s3:ListBucket, S3 answers a GetObject on a *missing* key with 403: creating
    # the object here would overwrite a log the role just cannot read.
    stubber.add_client_error("get_object", "AccessDenied", "Access Denied", 403)
    with pytest.raises(LogAccessDeniedError, match=r"s3:GetObject was denied \(403 AccessDenied"):
        ledger(s3).append(pos())
    stubber.assert_no_pending_responses()  # and no PutObject was attempted (Stubber refuses)


def test_403_on_write_is_a_permission_error(s3: Any, stubber: Stubber) -> None:
    stubber.add_client_error("get_object", "NoSuchKey", "The specified key does not exist.", 404)
    stubber.add_client_error("put_object", "AccessDenied", "Access Denied", 403)
    with pytest.raises(LogAccessDeniedError, match=r"s3:PutObject was denied"):
        ledger(s3).append(pos())


WHERE = f"s3://{BUCKET}/{KEY}"


@pytest.mark.parametrize(
    ("read_error", "write_error", "kind", "message"),
    [
        (
            ("AccessDenied", "Access Denied", 403),
            None,
            LogAccessDeniedError,
            f"{WHERE}: s3:GetObject was denied (403 AccessDenied: Access Denied). The role needs "
            "s3:GetObject on this key (and kms:Decrypt if the bucket uses SSE-KMS), the bucket "
            "policy must not deny it; without s3:ListBucket S3 also answers 403 for a key that "
            "does not exist",
        ),
        (
            ("InternalError", "We encountered an internal error", 500),
            None,
            LedgerError,
            f"{WHERE}: reading the log failed (500 InternalError: We encountered an internal "
            "error)",
        ),
        (
            None,
            ("Forbidden", "", 403),
            LogAccessDeniedError,
            f"{WHERE}: s3:PutObject was denied (403 Forbidden: no message). The role needs "
            "s3:PutObject on this key (and kms:GenerateDataKey if the bucket uses SSE-KMS); the "
            "bucket policy must not deny it",
        ),
        (
            None,
            ("SlowDown", "Please reduce your request rate.", 503),
            LedgerError,
            f"{WHERE}: writing the log failed (503 SlowDown: Please reduce your request rate.)",
        ),
    ],
)
def test_s3_errors_become_ledger_errors_with_the_exact_reason(
    s3: Any,
    stubber: Stubber,
    read_error: tuple[str, str, int] | None,
    write_error: tuple[str, str, int] | None,
    kind: type[LedgerError],
    message: str,
) -> None:
    if read_error is None:
        stubber.add_client_error(
            "get_object", "NoSuchKey", "The specified key does not exist.", 404
        )
    else:
        stubber.add_client_error("get_object", *read_error)
    if write_error is not None:
        stubber.add_client_error("put_object", *write_error)
    with pytest.raises(LedgerError) as caught:
        ledger(s3).append(pos())
    assert type(caught.value) is kind
    assert str(caught.value) == message
    stubber.assert_no_pending_responses()


class Unreachable:
    """An S3 client whose ``failing`` call never reaches S3 (the other goes through)."""

    def __init__(self, s3: Any, failing: str) -> None:
        self._s3 = s3
        self._failing = failing

    def _call(self, name: str, **kw: Any) -> Any:
        if name == self._failing:
            raise EndpointConnectionError(endpoint_url="https://s3.example.test")
        return getattr(self._s3, name)(**kw)

    def get_object(self, **kw: Any) -> Any:
        return self._call("get_object", **kw)

    def put_object(self, **kw: Any) -> Any:
        return self._call("put_object", **kw)


@pytest.mark.parametrize(
    ("failing", "doing"), [("get_object", "reading"), ("put_object", "writing")]
)
def test_an_unreachable_s3_is_a_ledger_error_and_nothing_is_written(
    s3: Any, failing: str, doing: str
) -> None:
    book = Ledger(Unreachable(s3, failing), BUCKET, KEY, sleep=NoSleep())
    with pytest.raises(LedgerError) as caught:
        book.append(pos())
    assert type(caught.value) is LedgerError
    assert str(caught.value) == (
        f"{WHERE}: {doing} the log failed: Could not connect to the endpoint URL: "
        '"https://s3.example.test"'
    )
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_an_object_deleted_between_read_and_write_is_created_again(
    s3: Any, stubber: Stubber
) -> None:
    # 404 NoSuchKey on an If-Match put: the object went away after our read. Re-read
    # (404 now) and create it, rather than failing the invocation.
    content = (HEADER + format_text_record(pos(0))).encode()
    stubber.add_response("get_object", {"Body": _Body(content), "ETag": '"etag-1"', "Metadata": {}})
    stubber.add_client_error("put_object", "NoSuchKey", "The specified key does not exist.", 404)
    stubber.add_client_error("get_object", "NoSuchKey", "The specified key does not exist.", 404)
    stubber.add_response(
        "put_object",
        {"ETag": '"fresh"', "VersionId": "v2"},
        {
            "Bucket": BUCKET,
            "Key": KEY,
            "Body": (HEADER + format_text_record(pos(5))).encode(),
            "ContentType": "text/plain; charset=utf-8",
            "Metadata": {},
            "IfNoneMatch": "*",
        },
    )

    result = ledger(s3).append(pos(5))

    assert (result.attempts, result.created, result.etag, result.version_id) == (
        2,
        True,
        '"fresh"',
        "v2",
    )
    stubber.assert_no_pending_responses()


def test_missing_bucket_is_not_taken_for_a_missing_object(s3: Any) -> None:
    with pytest.raises(LedgerError, match=r"NoSuchBucket") as caught:
        Ledger(s3, "no-such-bucket-here", KEY).append(pos())
    assert not isinstance(caught.value, LogAccessDeniedError)


# --- conflicts ---------------------------------------------------------------------------


class Interleaved:
    """An S3 client that lets a competing writer in between our read and our write."""

    def __init__(self, s3: Any, competitors: int) -> None:
        self._s3 = s3
        self.competitors = competitors

    def get_object(self, **kw: Any) -> Any:
        return self._s3.get_object(**kw)

    def put_object(self, **kw: Any) -> Any:
        if self.competitors:
            self.competitors -= 1
            other = Ledger(self._s3, BUCKET, KEY, sleep=NoSleep())
            other.append(pos(100 + self.competitors, lat=float(self.competitors % 80)))
        return self._s3.put_object(**kw)


def test_a_concurrent_write_makes_us_reread_and_retry_with_jittered_backoff(s3: Any) -> None:
    ledger(s3).append(pos(0))  # the object exists
    sleep = NoSleep()
    book = Ledger(Interleaved(s3, competitors=2), BUCKET, KEY, sleep=sleep, rand=lambda: 0.5)

    result = book.append(pos(1, lat=42.0))

    assert result.attempts == 3
    assert sleep.delays == [0.025, 0.05]  # rand * base * 2**n
    text = body(s3).decode()
    assert text.count("Time: ") == 4  # ours, both competitors', and the first: nothing lost
    assert text.endswith("Latitude: 42.0000\nLongitude: 122.1887\n\n")


def test_a_concurrent_create_makes_us_append_instead(s3: Any) -> None:
    result = Ledger(Interleaved(s3, competitors=1), BUCKET, KEY, sleep=NoSleep()).append(pos())
    assert result.attempts == 2
    assert not result.created
    assert body(s3).startswith(HEADER.encode())
    assert body(s3).count(HEADER.encode()) == 1
    assert body(s3).count(b"Time: ") == 2


def test_409_conditional_request_conflict_is_retried(s3: Any, stubber: Stubber) -> None:
    content = (HEADER + format_text_record(pos(0))).encode()
    read = {"Body": _Body(content), "ETag": '"etag-1"', "Metadata": {}}
    stubber.add_response("get_object", read, {"Bucket": BUCKET, "Key": KEY})
    stubber.add_client_error(
        "put_object", "ConditionalRequestConflict", "A conflicting operation is in progress", 409
    )
    stubber.add_response("get_object", read, {"Bucket": BUCKET, "Key": KEY})
    stubber.add_response(
        "put_object",
        {"ETag": '"new"'},
        {
            "Bucket": BUCKET,
            "Key": KEY,
            "Body": content + format_text_record(pos(5)).encode(),
            "ContentType": "text/plain; charset=utf-8",
            "Metadata": {},
            "IfMatch": '"etag-1"',
        },
    )

    result = ledger(s3).append(pos(5))

    assert result.attempts == 2
    assert result.etag == '"new"'
    stubber.assert_no_pending_responses()


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self) -> bytes:
        return self._data


def test_retries_are_bounded_and_end_in_a_conflict_error(s3: Any) -> None:
    ledger(s3).append(pos(0))
    sleep = NoSleep()
    book = Ledger(
        Interleaved(s3, competitors=100), BUCKET, KEY, max_attempts=5, sleep=sleep, rand=lambda: 1.0
    )
    with pytest.raises(LogConflictError, match=r"changed the object 5 times in a row"):
        book.append(pos(1, lat=42.0))
    assert sleep.delays == [0.05, 0.1, 0.2, 0.4]  # full jitter upper bounds, capped at 1 s
    assert b"Latitude: 42.0000" not in body(s3)


def test_contention_stops_retrying_when_a_round_no_longer_fits_the_deadline(s3: Any) -> None:
    # 2.0 s left, a round may take 0.8 s: after two lost rounds the third cannot fit.
    ledger(s3).append(pos(0))
    before = body(s3)
    clock = {"left": 2.0}
    sleep = NoSleep()

    def spend(seconds: float) -> None:
        sleep(seconds)
        clock["left"] -= 0.6  # a round's read and write, plus the pause

    book = Ledger(
        Interleaved(s3, competitors=100),
        BUCKET,
        KEY,
        sleep=spend,
        rand=lambda: 1.0,
        time_left=lambda: clock["left"],
        round_seconds=0.8,
    )
    with pytest.raises(DeadlineExceededError, match=r"changed the object 3 time\(s\)"):
        book.append(pos(1, lat=42.0))
    assert len(sleep.delays) == 2
    assert b"Latitude: 42.0000" not in body(s3)
    assert body(s3).startswith(before)  # the competitors' records are all still there


# --- daily layout --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("object_key", "expected"),
    [
        ("iss_position.txt", "iss_position/2026/11/27.txt"),
        ("logs/iss_position.txt", "logs/iss_position/2026/11/27.txt"),
        ("logs.v2/iss", "logs.v2/iss/2026/11/27"),
        ("iss.position.jsonl", "iss.position/2026/11/27.jsonl"),
    ],
)
def test_daily_keys(s3: Any, object_key: str, expected: str) -> None:
    book = Ledger(s3, BUCKET, object_key, layout="daily")
    assert book.key_for(datetime(2026, 11, 27, 23, 59, tzinfo=UTC)) == expected
    # The date is the UTC date: 01:30 at UTC+3 is still the 26th in UTC... and vice versa.
    assert book.key_for(datetime(2026, 11, 28, 1, 30, tzinfo=timezone(timedelta(hours=3)))) == (
        expected
    )
    assert Ledger(s3, BUCKET, object_key).key_for(T0) == object_key


def test_daily_layout_uses_the_event_time_and_keeps_bytes_per_invocation_flat(s3: Any) -> None:
    book = ledger(s3, layout="daily")
    for i in range(20):
        book.append(pos(i * 5), event_id=f"d1-{i}")  # 17:19 .. 18:54 on the 27th
    # An event scheduled at 23:59:59 whose position came at 00:00:02 belongs to the 27th.
    late = Position(
        time=datetime(2026, 11, 28, 0, 0, 2, tzinfo=UTC), latitude=1, longitude=2, source="tle"
    )
    scheduled = datetime(2026, 11, 27, 23, 59, 59, tzinfo=UTC)
    assert book.append(late, event_id="d1-late", event_time=scheduled).key == (
        "iss_position/2026/11/27.txt"
    )
    first_of_day_2 = book.append(late, event_id="d2-0")

    assert first_of_day_2.key == "iss_position/2026/11/28.txt"
    assert first_of_day_2.created
    assert first_of_day_2.bytes_read == 0
    assert body(s3, "iss_position/2026/11/27.txt").count(b"Time: ") == 21
