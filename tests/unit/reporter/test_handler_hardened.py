"""The handler under hostile answers, a deadline, an old TLE and retried deliveries.

Against the moto server holding both accounts (as test_handler_server.py): role A's keys
play the execution role, the handler assumes role B and writes the bucket in account B.
ISS sources and CelesTrak are served from 127.0.0.1; Lambda's context reports a time left.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crosstrack.cli.invoke import scheduled_event
from crosstrack.reporter import handler, orbit
from crosstrack.reporter.errors import AllSourcesFailedError, DeadlineExceededError

PAYLOADS = Path(__file__).resolve().parents[2] / "data" / "payloads"
SCHEDULE = "arn:aws:scheduler:us-east-1:111111111111:schedule/default/iss-reporter"
BUNDLED_EPOCH = orbit.bundled_tle().epoch


class Context:
    """Lambda's context: a request id and the time left before the function's timeout."""

    def __init__(self, seconds: float = 30.0) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._ends = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._ends - time.monotonic()) * 1000))


def open_notify(when: datetime, lat: str = "10.0000", lon: str = "20.0000") -> bytes:
    return json.dumps(
        {
            "message": "success",
            "timestamp": int(when.timestamp()),
            "iss_position": {"latitude": lat, "longitude": lon},
        }
    ).encode()


def wheretheiss(when: datetime) -> bytes:
    body = json.loads((PAYLOADS / "wheretheiss/success.json").read_bytes())
    body["timestamp"] = int(when.timestamp())
    return json.dumps(body).encode()


@pytest.fixture
def deployed(two_accounts: Any, http_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    two_accounts.use_lambda_env(monkeypatch)
    handler.reset()
    yield two_accounts
    handler.reset()


def start(server: Any, clock: Callable[[], datetime] | None = None, **env: str) -> None:
    """Cold start with every source (and CelesTrak) served by the local server."""
    handler.init(
        {**os.environ, **env},
        urls={
            "open-notify": server.url("/iss-now.json"),
            "wheretheiss": server.url("/v1/satellites/25544"),
            "celestrak": server.url("/gp.php"),
        },
        clock=clock or (lambda: datetime.now(UTC)),
    )


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


# ------------------------------------------------------------------- idempotency


def test_a_retried_scheduler_delivery_with_a_new_execution_id_appends_once(
    deployed: Any, http_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    http_server.serve("/iss-now.json", open_notify(datetime.now(UTC)))
    start(http_server, ISS_SOURCES="open-notify")
    first = {
        "schedule_arn": SCHEDULE,
        "scheduled_time": "2026-11-27T23:05:00Z",
        "execution_id": "d32c5kddcf5bb8c3",
    }
    retry = {**first, "execution_id": "a81f0c2b9e4d7713"}  # Scheduler's next attempt

    one = handler.lambda_handler(first, Context())
    two = handler.lambda_handler(retry, Context())

    assert (one["duplicate"], two["duplicate"]) == (False, True)
    assert one["event_id"] == two["event_id"] == f"{SCHEDULE}@2026-11-27T23:05:00Z"
    assert deployed.read_object().count(b"Latitude: 10.0000") == 1
    assert [line["outcome"] for line in log_lines(capsys)] == ["appended", "duplicate"]

    # The next scheduled time is a new run, whatever its execution id.
    handler.lambda_handler({**first, "scheduled_time": "2026-11-27T23:10:00Z"}, Context())
    assert deployed.read_object().count(b"Latitude: 10.0000") == 2


def test_old_shape_events_still_key_on_the_execution_id(deployed: Any, http_server: Any) -> None:
    http_server.serve("/iss-now.json", open_notify(datetime.now(UTC)))
    start(http_server, ISS_SOURCES="open-notify")
    event = {"execution_id": "c0e5b6f2", "scheduled_time": "2026-11-27T23:05:00Z"}

    handler.lambda_handler(event, Context())
    again = handler.lambda_handler(event, Context())
    other = handler.lambda_handler({**event, "execution_id": "c0e5b6f3"}, Context())

    assert (again["duplicate"], other["duplicate"]) == (True, False)
    assert deployed.read_object().count(b"Latitude: 10.0000") == 2


def test_daily_layout_files_a_retry_after_midnight_under_the_scheduled_day(
    deployed: Any, http_server: Any
) -> None:
    # Scheduled at 23:59:30 on the 27th; delivered (and retried) days later: both land in
    # the 27th's object, and the retry is recognised there.
    http_server.serve("/iss-now.json", open_notify(datetime.now(UTC)))
    start(http_server, ISS_SOURCES="open-notify", LOG_LAYOUT="daily")
    event = {
        "schedule_arn": SCHEDULE,
        "scheduled_time": "2026-11-27T23:59:30Z",
        "execution_id": "e1",
    }

    first = handler.lambda_handler(event, Context())
    retry = handler.lambda_handler({**event, "execution_id": "e2"}, Context())

    assert first["key"] == retry["key"] == "iss_position/2026/11/27.txt"
    assert retry["duplicate"] is True


def test_cli_scheduled_event_has_the_schedule_input_shape() -> None:
    event = scheduled_event(datetime(2026, 11, 27, 23, 5, 0, 123456, tzinfo=UTC))

    assert set(event) == {"schedule_arn", "scheduled_time", "execution_id"}
    assert event["scheduled_time"] == "2026-11-27T23:05:00Z"
    key, when = handler.parse_event(event)
    assert key == f"{event['schedule_arn']}@2026-11-27T23:05:00Z"
    assert when == datetime(2026, 11, 27, 23, 5, tzinfo=UTC)


# ------------------------------------------------------------ hostile answers


@pytest.mark.parametrize(
    "name", ["deep-nesting.json", "huge-timestamp.json", "arabic-indic-digits.json"]
)
def test_a_hostile_open_notify_answer_ends_in_a_wheretheiss_record(
    deployed: Any, http_server: Any, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    http_server.serve("/iss-now.json", (PAYLOADS / "open-notify" / name).read_bytes())
    http_server.serve("/v1/satellites/25544", wheretheiss(datetime.now(UTC)))
    start(http_server, ISS_SOURCES="open-notify,wheretheiss,tle")

    result = handler.lambda_handler(scheduled_event(), Context())

    assert result["source"] == "wheretheiss"
    assert b"Latitude: 20.0400" in deployed.read_object()
    (line,) = log_lines(capsys)
    assert line["outcome"] == "appended"
    assert list(line["source_failures"]) == ["open-notify"]
    assert len(json.dumps(line)) < 2000  # no payload in the log line


# ------------------------------------------------------------------- deadline


def test_hanging_live_sources_still_end_in_a_tle_record_before_the_deadline(
    deployed: Any, http_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # HTTP_TIMEOUT_SECONDS=30 and every live source (and CelesTrak) hangs; Lambda has 6 s.
    for path in ("/iss-now.json", "/v1/satellites/25544", "/gp.php"):
        http_server.serve(path, b"{}", delay=120)
    when = BUNDLED_EPOCH + timedelta(days=1)  # the wall clock the sources see
    start(http_server, HTTP_TIMEOUT_SECONDS="30", clock=lambda: when)

    started = time.monotonic()
    result = handler.lambda_handler(scheduled_event(), Context(seconds=6))
    elapsed = time.monotonic() - started

    assert elapsed < 6 - 0.5  # the margin for the log line is left
    assert result["source"] == "tle"
    (line,) = log_lines(capsys)
    assert line["outcome"] == "appended"
    assert line["budget_ms"] <= 5000
    assert line["source_failures"]["open-notify"].startswith("timed out after ")
    assert line["source_failures"]["wheretheiss"].startswith("skipped: ")
    assert deployed.read_object().count(b"Time: ") == 1


def test_a_deadline_too_close_to_write_is_one_timeout_line(
    deployed: Any, http_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    start(http_server, ISS_SOURCES="tle")

    started = time.monotonic()
    with pytest.raises(DeadlineExceededError, match="not enough to start"):
        handler.lambda_handler(scheduled_event(), Context(seconds=1.5))

    assert time.monotonic() - started < 0.5
    (line,) = log_lines(capsys)
    assert (line["outcome"], line["error"]) == ("timeout", "DeadlineExceededError")
    assert "nothing was written" in line["reason"]
    s3 = deployed.admin_b().client("s3", endpoint_url=deployed.endpoint)
    assert s3.list_objects_v2(Bucket=deployed.bucket).get("KeyCount") == 0


def test_a_context_without_remaining_time_runs_without_a_deadline(
    deployed: Any, http_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    class Bare:
        aws_request_id = "r-1"

    http_server.serve("/iss-now.json", open_notify(datetime.now(UTC)))
    start(http_server, ISS_SOURCES="open-notify")

    assert handler.lambda_handler({}, Bare())["source"] == "open-notify"
    (line,) = log_lines(capsys)
    assert "budget_ms" not in line


# ------------------------------------------------------------------ TLE age


def test_a_stale_tle_is_a_failure_of_the_tle_source_and_nothing_is_written(
    deployed: Any, http_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # CelesTrak refuses (503): the bundled TLE is 20 days old at the injected clock.
    http_server.serve("/gp.php", b"busy", status=503, content_type="text/plain")
    when = BUNDLED_EPOCH + timedelta(days=20)
    start(http_server, ISS_SOURCES="tle", clock=lambda: when)

    with pytest.raises(AllSourcesFailedError):
        handler.lambda_handler(scheduled_event(), Context())

    (line,) = log_lines(capsys)
    assert line["outcome"] == "error"
    assert line["source_failures"]["tle"].startswith(
        "TLE epoch 2025-11-09T23:14:21Z is 20.0 days old (MAX_TLE_AGE_DAYS=14)"
    )
    s3 = deployed.admin_b().client("s3", endpoint_url=deployed.endpoint)
    assert s3.list_objects_v2(Bucket=deployed.bucket).get("KeyCount") == 0

    # A larger limit accepts it, and the result and the log line say it is an estimate.
    handler.reset()
    start(http_server, ISS_SOURCES="tle", MAX_TLE_AGE_DAYS="30", clock=lambda: when)
    result = handler.lambda_handler(scheduled_event(), Context())
    assert result["estimate"] is True
    assert "(estimate from an old TLE)" in result["body"]
    (line,) = log_lines(capsys)
    assert (line["outcome"], line["estimate"]) == ("appended", True)


def test_a_scheduled_time_in_the_future_does_not_choose_the_day(
    deployed: Any, http_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # No delivery arrives before its scheduled time: a far-future one would file the record
    # under a day nobody reads (9999/12/31). The day comes from the position; the key stays.
    now = datetime.now(UTC)
    http_server.serve("/iss-now.json", open_notify(now))
    start(http_server, ISS_SOURCES="open-notify", LOG_LAYOUT="daily")
    event = {
        "schedule_arn": SCHEDULE,
        "scheduled_time": "9999-12-31T23:00:00Z",
        "execution_id": "e",
    }

    first = handler.lambda_handler(event, Context())
    retry = handler.lambda_handler({**event, "execution_id": "f"}, Context())

    assert first["key"] == retry["key"] == f"iss_position/{now:%Y/%m/%d}.txt"
    assert retry["duplicate"] is True
    lines = log_lines(capsys)
    assert "scheduled_time" in lines[0]["warning"]
